#!/usr/bin/env bash
# Runs the XCTest suites (already built by `make test`), prints "N skipped", and ends with one plain summary line:
# "N passed, N failed". Fails when a test failed, when nothing ran, or when a RouterCLITests test was
# skipped (those drive the built `router` binary and must never pass by not running).
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
swift test --skip-build --disable-swift-testing "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE "^Test Case '.*' passed" "$log")
failed=$(grep -cE "^Test Case '.*' failed" "$log")
skipped=$(grep -cE "^Test Case '.*' skipped" "$log")
cli_skipped=$(grep -E "^Test Case '.*' skipped" "$log" | grep -cE "^Test Case '(RouterCLITests\.)?(CorpusTests|CommandTests|HelpTests|RunLifecycleTests)\.")
rm -f "$log"
if [ "$cli_skipped" -ne 0 ]; then
  echo "error: $cli_skipped RouterCLITests test(s) skipped; they must run (is the router binary built? swift build --build-tests)"
fi
echo "$skipped skipped"
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ] || [ "$cli_skipped" -ne 0 ]; then exit 1; fi
