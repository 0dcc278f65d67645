#!/usr/bin/env bash
# CPU per live PersonaPlex link per 20 ms frame (both directions, release build) beside bare libopus on the same
# frames, plus the link's latencies, against the model-free sphn peer on loopback.
#   bash scripts/bench-link.sh [SECONDS]          # default 30
#   ROUTER=path/to/router bash scripts/bench-link.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-30}
bash scripts/setup.sh --with-peers
ROUTER=${ROUTER:-.build/release/router}
[ "$ROUTER" != .build/release/router ] || swift build -c release --product router >/dev/null
out=$(mktemp -d)
.venv/bin/python -u Tests/peers/personaplex_peer.py --host 127.0.0.1 --port 0 > "$out/peer.log" 2>&1 &
peer=$!
trap 'kill $peer 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 100); do grep -q '^READY' "$out/peer.log" && break; sleep 0.1; done
port=$(sed -n 's/^READY port=//p' "$out/peer.log")
[ -n "$port" ] || { echo "bench-link: the peer did not start:"; cat "$out/peer.log"; exit 1; }
"$ROUTER" bench-link --url "ws://127.0.0.1:$port/api/chat" --seconds "$SECONDS_TO_RUN" "${@:2}"
