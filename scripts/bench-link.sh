#!/usr/bin/env bash
# CPU per live PersonaPlex link per 20 ms frame (both directions, release build) beside bare libopus on the same
# frames, plus the link's latencies, against the model-free sphn peer on loopback.
#   bash scripts/bench-link.sh [SECONDS]          # default 30
#   BENCH=path/to/router-bench bash scripts/bench-link.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-30}
BENCH=${BENCH:-.build/release/router-bench}   # the benchmarks live in their own binary, not in the shipped router
[ "$BENCH" != .build/release/router-bench ] || swift build -c release --product router-bench >/dev/null
source scripts/peer-env.sh bench-link
"$BENCH" link --url "ws://127.0.0.1:$port/api/chat" --seconds "$SECONDS_TO_RUN" "${@:2}"
