#!/usr/bin/env bash
# Builds the libFuzzer targets (Fuzz/Sources, issue 12) and runs each for a fixed time, then prints one table:
# target, executions, exec/s, coverage (libFuzzer's final cov/ft), corpus size, findings.
#
#   scripts/fuzz.sh [--seconds N] [--release] [--build-only] [--seeds] [--jobs N] [TARGET...]
#
# Default: debug build with fuzzer+address sanitizers, 600 s per target, every target. --release builds with
# `-sanitize=fuzzer` only (much faster; the long campaigns). Findings (crash-*, timeout-*, oom-*, leak-*) are saved
# under Fuzz/findings/TARGET/ and make the script fail; each becomes a regression test under Tests/ and a fix.
# New corpus entries go to Fuzz/work/TARGET (not committed; FUZZ_WORK moves it); the committed seeds are
# Fuzz/corpus/TARGET.
# Replay a finding: SWIFT_BACKTRACE=enable=no .build/debug/fuzz-ogg Fuzz/findings/fuzz-ogg/crash-...
set -uo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(fuzz-yaml fuzz-ogg fuzz-wav fuzz-mls fuzz-dave-gateway fuzz-dave-frame fuzz-personaplex
             fuzz-discord-gateway fuzz-voice-gateway fuzz-rtp)
seconds=${FUZZ_SECONDS:-600}
config=debug
sanitize=fuzzer,address
build_only=0
make_seeds=0
jobs=1
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --release) config=release; sanitize=fuzzer; shift ;;
    --build-only) build_only=1; shift ;;
    --seeds) make_seeds=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
SWIFT=${SWIFT:-swift}
export ROUTER_FUZZ_SANITIZE=$sanitize
# Release campaigns build in a scratch path of their own, so they never hold the lock on .build that debug builds
# and tests need (the first release build compiles every dependency once).
scratch=${FUZZ_SCRATCH:-$([ "$config" = release ] && echo .build-fuzz-release || echo .build)}

# One product at a time: `swift build` without --product would also link `router` against instrumented libraries.
build() {
  local product=$1
  if ! "$SWIFT" build -c "$config" --scratch-path "$scratch" --product "$product" >"Fuzz/work/build-$product.log" 2>&1; then
    cat "Fuzz/work/build-$product.log" >&2
    echo "fuzz: building $product failed" >&2
    exit 2
  fi
}
mkdir -p Fuzz/work Fuzz/findings
start=$(date +%s)
for t in "${targets[@]}"; do build "$t"; done
if [ "$make_seeds" = 1 ]; then
  build make-fuzz-seeds
  # Its keys live until exit by design: no leak report.
  ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$scratch/$config/make-fuzz-seeds" Fuzz/corpus
fi
echo "fuzz: built ${#targets[@]} target(s) ($config, -sanitize=$sanitize) in $(( $(date +%s) - start )) s"
[ "$build_only" = 1 ] && exit 0

# Swift's backtracer can take minutes on a crash; libFuzzer prints its own stack. Leak checks stay on.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:symbolize=1}
# -jobs spawns worker processes (their logs fuzz-N.log land in Fuzz/work); 1 runs in this process.
parallel=()
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")
rows=()
failed=0
for t in "${targets[@]}"; do
  findings="Fuzz/findings/$t"
  work="${FUZZ_WORK:-Fuzz/work}/$t"
  mkdir -p "$findings" "$work"
  log="Fuzz/work/$t.log"
  before=$(find "$findings" -type f | wc -l)
  echo "fuzz: $t for ${seconds}s (log $log)"
  "$scratch/$config/$t" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
    -max_len=8192 "${parallel[@]}" -artifact_prefix="$findings/" "$work" "Fuzz/corpus/$t" >"$log" 2>&1
  status=$?
  after=$(find "$findings" -type f | wc -l)
  new=$(( after - before ))
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
  done_line=$(grep -E '^#[0-9]+.*(DONE|cov:)' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
  corpus=$(sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p' <<<"$done_line")
  if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
    failed=1
    echo "fuzz: $t FAILED (exit $status, $new new finding(s) in $findings/)"; tail -40 "$log"
  fi
  rows+=("$(printf '%-18s %12s %8s %7s %7s %12s %8s' "$t" "$execs" "$rate" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$new")")
done
echo
printf '%-18s %12s %8s %7s %7s %12s %8s\n' target executions exec/s cov ft corpus findings
for r in "${rows[@]}"; do echo "$r"; done
echo "($config, -sanitize=$sanitize, ${seconds}s per target, $(nproc) cores)"
exit $failed
