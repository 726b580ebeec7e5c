#!/usr/bin/env bash
# Type-checks memprobe-core (the no_std counting core) for microcontroller targets from any
# host: thumbv7em-none-eabihf (Cortex-M4F/M7F) and riscv32imac-unknown-none-elf, both without
# 64-bit atomics, where the counters are 32 bits wide (see memprobe-core/src/word.rs).
#
# How: core and alloc are rebuilt from source for each target (`-Zbuild-std`, hence rust-src and
# RUSTC_BOOTSTRAP=1 on a stable toolchain), so no prebuilt target needs to be installed;
# `cargo check` stops before linking. thumbv6m-none-eabi is not checked: it has no atomic
# read-modify-write at all, and memprobe-core refuses it with a compile_error! naming why.
#
# The firmware that runs under QEMU (embedded/qemu-cortex-m) is built and run by
# memprobe-core/tests/qemu.rs, not here.
#
# Usage: scripts/check-embedded.sh [extra cargo args...]
set -euo pipefail

targets=(thumbv7em-none-eabihf riscv32imac-unknown-none-elf)
cd "$(dirname "$0")/.."

if ! rustup component add rust-src >/dev/null 2>&1; then
    echo "check-embedded: skipped: the rust-src component is not available (offline, or no rustup);" >&2
    echo "check-embedded: install it with \`rustup component add rust-src\` and run this again." >&2
    exit 0
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/check-embedded"
for target in "${targets[@]}"; do
    echo "check-embedded: cargo check -p memprobe-core --target $target" >&2
    RUSTC_BOOTSTRAP=1 cargo check -Zbuild-std=core,alloc --target "$target" \
        -p memprobe-core "$@"
done
echo "check-embedded: ok" >&2
