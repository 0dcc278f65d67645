# Sourced by the measuring scripts: installs the test peers, builds the release router unless ROUTER names one, and
# starts the model-free sphn PersonaPlex peer on loopback. Sets ROUTER, out (a temp folder, removed on exit), peer
# (its pid; killed on exit) and port. Usage: source scripts/peer-env.sh NAME   (NAME prefixes error messages)
bash scripts/setup.sh --with-peers
ROUTER=${ROUTER:-.build/release/router}   # set ROUTER to reuse a binary built elsewhere
[ "$ROUTER" != .build/release/router ] || swift build -c release --product router >/dev/null
out=$(mktemp -d)
.venv/bin/python -u Tests/peers/personaplex_peer.py --host 127.0.0.1 --port 0 > "$out/peer.log" 2>&1 &
peer=$!
trap 'kill $peer 2>/dev/null || true; rm -rf "$out"' EXIT
for _ in $(seq 100); do grep -q '^READY' "$out/peer.log" && break; sleep 0.1; done
port=$(sed -n 's/^READY port=//p' "$out/peer.log")
[ -n "$port" ] || { echo "$1: the peer did not start:"; cat "$out/peer.log"; exit 1; }
