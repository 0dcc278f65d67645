#!/usr/bin/env bash
# Installs everything the router and its tests need on a fresh Debian machine.
# Idempotent: packages already present are skipped, so it is cheap on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(pkg-config libopus-dev libogg-dev libsodium-dev libssl-dev libyaml-dev libspeexdsp-dev opus-tools sox)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--with-peers" ]; then
  # Independent test peers (PersonaPlex model-free server on sphn, DAVE members davey and dave.py).
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/pip install -q --disable-pip-version-check -r Tests/peers/requirements.txt
fi
