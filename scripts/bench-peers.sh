#!/usr/bin/env bash
# memprobe against its peers, one command, one run (BENCHMARKS.md, "Peers"):
#   1. counting allocators (bench-peers: one binary per allocator, rounds interleaved and rotated),
#   2. snapshot readers (the same driver, interleaved in one process),
#   3. the daemon against psrecord and a bare statm loop on one sleeping target
#      (memprobe-daemon's `overhead` bench; psrecord is installed from PyPI when missing),
#   4. the compile cost of `#[memprobe]` (bench-peers/compile-cost.sh).
# Prints the machine's details and markdown tables; also written to target/bench-peers.md.
#
# Environment: PEERS_ROUNDS (default 21), PEERS_OPS, PEERS_ENTRIES, PEERS_RECORDS, PEERS_REPS,
# PEERS_READS (see bench-peers/src/bin/peers.rs), PEERS_COMPILE_ROUNDS (default 5),
# MEMPROBE_BENCH_SECS / MEMPROBE_BENCH_RSS_SECS / MEMPROBE_BENCH_ROUNDS (the daemon: seconds per
# run, seconds of the RSS run, rounds of the three-way runs; default 10 / 60 / 3).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# One target directory with the workspace: bench-peers' dependencies are mostly the workspace's.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
out="$CARGO_TARGET_DIR/bench-peers.md"
mkdir -p "$CARGO_TARGET_DIR"

main() {
  echo "## bench-peers run, $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) logical CPUs"
  echo "- memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r)"
  echo "- $(rustc -V); psrecord $(pip show psrecord 2>/dev/null | awk '/^Version/ { print $2 }')"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

  echo "building bench-peers..." >&2
  cargo build -q --release --manifest-path bench-peers/Cargo.toml --bins
  "$CARGO_TARGET_DIR/release/peers"

  echo
  echo "### Daemon, psrecord and a bare statm loop on one sleeping target"
  echo
  echo '```text'
  cargo bench -q -p memprobe-daemon --bench overhead 2>/dev/null
  echo '```'

  bash bench-peers/compile-cost.sh "${PEERS_COMPILE_ROUNDS:-5}"

  echo
  echo "- load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if ! command -v psrecord >/dev/null 2>&1; then
  echo "installing psrecord from PyPI..." >&2
  python3 -m pip install --quiet psrecord >&2 ||
    echo "psrecord could not be installed: the daemon section runs without it" >&2
fi
main | tee "$out"
echo "written to $out" >&2
