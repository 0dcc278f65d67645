#!/usr/bin/env bash
# CI smoke run of every fuzz target (issue 12): builds them (debug, fuzzer+address sanitizers) and runs each for
# FUZZ_SMOKE_SECONDS (default 30) from the committed seeds only, failing on any crash, timeout, out-of-memory or
# leak. Findings are kept under Fuzz/findings/TARGET/ for the regression test.
set -uo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
FUZZ_WORK=$work bash scripts/fuzz.sh --seconds "${FUZZ_SMOKE_SECONDS:-30}" "$@"
