#!/usr/bin/env bash
# Installs the real parts some tests drive, where a fresh machine lacks them:
#   - Debian packages: prometheus (+ promtool) for the Prometheus endpoint test, chromium and
#     librsvg2-bin (rsvg-convert) to look at the plots, qemu-system-arm for the Cortex-M run,
#     fonts-dejavu-core so rendered text has glyphs, golang-go for `go tool pprof` (it opens the
#     allocation-site profiles);
#   - rustup pieces: rust-src (macOS and embedded type-checks) and the thumbv7m-none-eabi
#     standard library (the QEMU firmware);
#   - cargo-fuzz, for the nightly toolchain's bounded fuzz run (`scripts/fuzz.sh 5` in .ci/run;
#     `cargo install` takes under a minute here).
# Each step that cannot be done says so in one line and the script goes on: the tests that need
# the missing part skip with that reason on a developer machine and fail under CI=true.
#
# Usage: scripts/install-test-deps.sh        (as root, or with sudo available)
set -uo pipefail

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v chromium >/dev/null || need+=(chromium)
command -v rsvg-convert >/dev/null || need+=(librsvg2-bin)
command -v qemu-system-arm >/dev/null || need+=(qemu-system-arm)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
command -v go >/dev/null || need+=(golang-go)

if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
    echo "install-test-deps: apt-get install ${need[*]}" >&2
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
        --no-install-recommends "${need[@]}" >/dev/null; }; then
        echo "install-test-deps: could not install ${need[*]} with apt-get (not Debian, offline, or not root); the tests that need them skip locally and fail under CI=true" >&2
    fi
else
    echo "install-test-deps: Debian packages already present" >&2
fi

rustup component add rust-src >/dev/null 2>&1 \
    || echo "install-test-deps: rust-src unavailable (offline, or no rustup); the type-check scripts skip" >&2
rustup target add thumbv7m-none-eabi >/dev/null 2>&1 \
    || echo "install-test-deps: the thumbv7m-none-eabi target is unavailable; the QEMU firmware test skips" >&2
if cargo +nightly --version >/dev/null 2>&1; then
    if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
        echo "install-test-deps: cargo install cargo-fuzz" >&2
        cargo install --locked cargo-fuzz >/dev/null 2>&1 \
            || echo "install-test-deps: could not install cargo-fuzz (offline?); the fuzz step skips, saying so" >&2
    fi
else
    echo "install-test-deps: no nightly toolchain (rustup toolchain install nightly); the fuzz step skips, saying so" >&2
fi
exit 0
