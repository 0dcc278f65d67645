SHELL := /bin/bash
# The two entry points on a fresh Debian machine are `make run` and `make test`; both install what they need.
SWIFT ?= swift
PIPELINE ?= pipelines/personaplex.yaml
ROUTER := .build/release/router
BENCH := .build/release/router-bench

.PHONY: setup build run check test format bench bench-link bench-bridge soak fuzz fuzz-smoke clean

setup:
	SWIFT=$(SWIFT) bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product router

## Run a pipeline (default: the Discord bridge, which is the demo without DISCORD_TOKEN).
## Example: make run PIPELINE=pipelines/file-roundtrip.yaml
run: build
	$(ROUTER) run $(PIPELINE)

check: build
	$(ROUTER) check pipelines/*.yaml

## Format check, unit/loopback/interop tests and a 30 s smoke run of every fuzz target (installs apt packages and the
## Python test peers). The fuzz smoke runs after the test build (it re-instruments our own targets in .build; the
## linked test binaries are unaffected) and before the tests, so the tests' summary line closes the output.
test:
	SWIFT=$(SWIFT) bash scripts/setup.sh --with-peers
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Fuzz/Sources
	$(SWIFT) build --build-tests
	SWIFT=$(SWIFT) bash scripts/fuzz-smoke.sh
	bash scripts/run-tests.sh

## Reformat the code with the repository's .swift-format.
format:
	$(SWIFT) format --in-place --recursive --parallel Sources Tests Fuzz/Sources

## Release benchmarks (router-bench, a separate binary): per-node cost beside the bare library calls, allocations per
## frame, check time (of the release router beside it).
bench: build
	$(SWIFT) build -c release --product router-bench
	$(BENCH) nodes $(foreach p,$(wildcard pipelines/*.yaml),--pipelines $(p))

## CPU per live PersonaPlex link frame beside bare libopus, and link latencies, against the sphn peer (30 s).
bench-link: build
	bash scripts/bench-link.sh 30

## The shipped router bridging simulated calls (release): CPU per call-frame beside the library floor, tick
## durations and latencies for CALLS calls (default 1), then mouth-to-ear through the bridge.
CALLS ?= 1
bench-bridge: build
	$(SWIFT) build -c release --product bridge-bench
	.build/release/bridge-bench cpu --calls $(CALLS) --seconds 20
	.build/release/bridge-bench mouth-to-ear --takes 5

## 10 minutes of real-time audio through PersonaPlexLink against the sphn peer (reader errors must stay 0).
soak:
	bash scripts/soak-personaplex.sh 600

## Every fuzz target for FUZZ_SECONDS each (default 600; debug + ASan, or FUZZ_FLAGS=--release for long campaigns),
## then one table: target, executions, exec/s, coverage, corpus, findings. Example: make fuzz FUZZ_SECONDS=60
FUZZ_SECONDS ?= 600
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) bash scripts/fuzz.sh $(FUZZ_FLAGS)

## 30 s of every fuzz target from the committed seeds; fails on any crash, timeout or out-of-memory (CI).
fuzz-smoke: setup
	SWIFT=$(SWIFT) bash scripts/fuzz-smoke.sh

clean:
	rm -rf .build .venv
