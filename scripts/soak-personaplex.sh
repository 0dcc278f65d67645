#!/usr/bin/env bash
# Soak: the shipped personaplex-file pipeline against the model-free sphn peer for N seconds (default 600) of
# real-time audio, looped input. Prints the router's metrics and link latencies, then the peer's session STATS;
# fails unless the peer decoded our stream without a single reader error and nothing arrived before the handshake.
#   make soak            # 10 minutes
#   bash scripts/soak-personaplex.sh 60
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
source scripts/peer-env.sh soak
echo "soak: ${SECONDS_TO_RUN}s against the sphn peer on 127.0.0.1:$port"
# The router's exit status is checked below, after the peer's STATS are printed (set -e would skip them).
set +e
PERSONAPLEX_URL="ws://127.0.0.1:$port/api/chat" LOOP=true OUTPUT_WAV="$out/reply.wav" CAPTIONS_FILE="$out/captions.txt" \
  "$ROUTER" run pipelines/personaplex-file.yaml --max-duration "$SECONDS_TO_RUN" --metrics --log-level info 2> "$out/router.log"
router_status=$?
set -e
grep -v '^\[info\]' "$out/router.log" || true
echo "router: exit $router_status; $(grep -o 'link stopped: .*' "$out/router.log" || echo 'no link summary')"
for _ in $(seq 50); do grep -q '^STATS' "$out/peer.log" && break; sleep 0.1; done
stats=$(grep '^STATS' "$out/peer.log" | tail -1 || true)
echo "peer: ${stats:-no STATS line}"
link=$(grep -o 'link stopped: [0-9]* pages ([0-9]* bytes)' "$out/router.log" | tail -1 || true)
STATS="$stats" LINK="$link" ROUTER_STATUS=$router_status python3 -c '
import json, os, re, sys
stats, link = os.environ["STATS"], os.environ["LINK"]
if not stats.startswith("STATS "):
    print("soak: FAIL — the peer reported no session"); sys.exit(1)
s = json.loads(stats[6:])
m = re.match(r"link stopped: (\d+) pages \((\d+) bytes\)", link)
pages, sent = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
expected = (pages - 2) * 480 // 1920
bytes_ok = sent == s["bytes_received"]
frames_ok = abs(s["frames_decoded"] - expected) <= 2
ok = (s["reader_errors"] == 0 and s["early_messages"] == 0 and s["live"] and bytes_ok and frames_ok
      and os.environ["ROUTER_STATUS"] == "0")
print("soak: %s — router exit %s; bytes written %d, read by the peer %d (%s); pages %d -> %d frames expected, "
      "%d decoded by sphn (%s); reader errors %d, early messages %d" % (
    "PASS" if ok else "FAIL", os.environ["ROUTER_STATUS"], sent, s["bytes_received"], "match" if bytes_ok else "MISMATCH",
    pages, expected, s["frames_decoded"], "ok" if frames_ok else "OFF", s["reader_errors"], s["early_messages"]))
sys.exit(0 if ok else 1)'
