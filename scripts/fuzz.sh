#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for SECONDS each (default 600: the documented full run;
# CI runs `scripts/fuzz.sh 5`). Built with debug assertions (`-a`), so an arithmetic overflow is a
# crash, as it is in a debug build of a user's program.
#
#   scripts/fuzz.sh [SECONDS]
#
# New inputs go to fuzz/corpus.full/<target> (not committed); the committed, small corpus in
# fuzz/corpus/<target> seeds every run. With FUZZ_MERGE=1 the inputs that add coverage are merged
# into the committed corpus afterwards. A crash leaves its input in fuzz/artifacts/<target>/:
# copy it to fuzz/regressions/<target>/ once fixed, where the normal test suite feeds it.
#
# FUZZ_TARGETS="jsonl cgroup" runs only the named targets.
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Without them the script
# fails with how to get them, or, with FUZZ_SKIP_UNAVAILABLE=1 (CI), says SKIPPED and exits 0.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-600}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "usage: scripts/fuzz.sh [SECONDS per target, default 600]" >&2
    exit 2
fi

missing=""
cargo +nightly --version >/dev/null 2>&1 || missing="the nightly toolchain (rustup toolchain install nightly)"
if [ -z "$missing" ] && ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    missing="cargo-fuzz (cargo install cargo-fuzz)"
fi
if [ -n "$missing" ]; then
    if [ "${FUZZ_SKIP_UNAVAILABLE:-0}" = 1 ]; then
        echo "fuzz: SKIPPED: $missing is not installed; the proptest tests in memprobe/tests/readers.rs and memprobe-daemon/tests/readers.rs cover the same parsers"
        exit 0
    fi
    echo "fuzz: needs $missing" >&2
    exit 2
fi

# FUZZ_TARGETS="a b" runs only those (e.g. to split the targets over two shells).
targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list)}"
cargo +nightly fuzz build -a >/dev/null
mkdir -p artifacts/logs
summary=()
crashed=0
for t in $targets; do
    mkdir -p "corpus.full/$t" "corpus/$t"
    log="artifacts/logs/$t.log"
    status=ok
    if ! cargo +nightly fuzz run -a "$t" "corpus.full/$t" "corpus/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$log" 2>&1; then
        status="CRASH (see $log and fuzz/artifacts/$t/)"
        crashed=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    summary+=("$(printf '%-18s %12s execs  %5ss  %s' "$t" "${execs:-?}" "$seconds" "$status")")
    echo "fuzz: ${summary[-1]}"
    if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$status" = ok ]; then
        cargo +nightly fuzz run -a "$t" "corpus/$t" "corpus.full/$t" -- -merge=1 >>"$log" 2>&1
    fi
done
echo "fuzz: summary ($seconds s per target)"
printf '  %s\n' "${summary[@]}"
exit "$crashed"
