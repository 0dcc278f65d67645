#!/usr/bin/env bash
# Soak: the shipped personaplex-file pipeline against the model-free sphn peer for N seconds (default 600) of
# real-time audio, looped input. Prints the router's metrics and link latencies, then the peer's session STATS;
# fails unless the peer decoded our stream without a single reader error and nothing arrived before the handshake.
#   make soak            # 10 minutes
#   bash scripts/soak-personaplex.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
bash scripts/setup.sh --with-peers
ROUTER=${ROUTER:-.build/release/router}   # set ROUTER to reuse a binary built elsewhere
[ "$ROUTER" != .build/release/router ] || swift build -c release --product router >/dev/null
out=$(mktemp -d)
.venv/bin/python -u Tests/peers/personaplex_peer.py --host 127.0.0.1 --port 0 > "$out/peer.log" 2>&1 &
peer=$!
trap 'kill $peer 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^READY' "$out/peer.log" && break; sleep 0.1; done
port=$(sed -n 's/^READY port=//p' "$out/peer.log")
echo "soak: ${SECONDS_TO_RUN}s against the sphn peer on 127.0.0.1:$port"
PERSONAPLEX_URL="ws://127.0.0.1:$port/api/chat" LOOP=true OUTPUT_WAV="$out/reply.wav" CAPTIONS_FILE="$out/captions.txt" \
  "$ROUTER" run pipelines/personaplex-file.yaml --max-duration "$SECONDS_TO_RUN" --metrics --log-level warning
for _ in $(seq 50); do grep -q '^STATS' "$out/peer.log" && break; sleep 0.1; done
stats=$(grep '^STATS' "$out/peer.log" | tail -1)
echo "peer: $stats"
echo "$stats" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read()[6:])
ok = s["reader_errors"] == 0 and s["early_messages"] == 0 and s["live"]
print("soak: %s — %d frames decoded by sphn, %d bytes, reader errors %d, early messages %d" % (
    "PASS" if ok else "FAIL", s["frames_decoded"], s["bytes_received"], s["reader_errors"], s["early_messages"]))
sys.exit(0 if ok else 1)'
