#!/usr/bin/env bash
# Fails (exit 1, printing each cycle) when two files of one crate import each other, directly or
# through a chain of `use crate::`/`use super::`/`crate::x::` references. See check-cycles.py.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec python3 "$here/check-cycles.py" "${1:-$here/..}"
