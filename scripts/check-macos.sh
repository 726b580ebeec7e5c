#!/usr/bin/env bash
# Type-checks memprobe for macOS (aarch64-apple-darwin) from any host, so the mach/libc code in
# memprobe/src/snapshot/sys/macos.rs is compiled on every change even without a Mac.
#
# How: the standard library is rebuilt from source for the target (`-Zbuild-std`, hence rust-src
# and RUSTC_BOOTSTRAP=1 on a stable toolchain); `cargo check` stops before linking, so no Apple
# SDK or linker is needed.
#
# The `jemalloc` feature is left off (`--no-default-features`): tikv-jemalloc-sys compiles
# jemalloc's C sources in its build script, which needs a C cross-compiler for Darwin that a
# Linux host does not have. Nothing in the snapshot code depends on that feature.
#
# Usage: scripts/check-macos.sh [extra cargo args...]
set -euo pipefail

target=aarch64-apple-darwin
cd "$(dirname "$0")/.."

if ! rustup component add rust-src >/dev/null 2>&1; then
    echo "check-macos: skipped: the rust-src component is not available (offline, or no rustup);" >&2
    echo "check-macos: install it with \`rustup component add rust-src\` and run this again." >&2
    exit 0
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/check-macos"
echo "check-macos: cargo check -p memprobe --target $target (no jemalloc)" >&2
RUSTC_BOOTSTRAP=1 cargo check -Zbuild-std=std,panic_abort --target "$target" \
    -p memprobe --no-default-features "$@"
echo "check-macos: ok" >&2
