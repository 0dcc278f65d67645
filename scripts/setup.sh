#!/usr/bin/env bash
# Installs everything the router and its tests need on a fresh Debian machine.
# Idempotent: packages already present are skipped, so it is cheap on a second run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolchain is not an apt package on Debian: say exactly what is missing instead of failing later in `make`.
swift_bin=${SWIFT:-swift}
if ! command -v "$swift_bin" >/dev/null 2>&1; then
  echo "setup: '$swift_bin' is not on the PATH. Install a Swift 6.x toolchain for Linux (https://www.swift.org/install/linux/," >&2
  echo "       e.g. with swiftly: 'swiftly install 6.1'), put its usr/bin on the PATH, and run this again." >&2
  exit 1
fi
swift_version=$("$swift_bin" --version 2>/dev/null | grep -oE 'Swift version [0-9]+\.[0-9]+' | head -1 | grep -oE '[0-9]+\.[0-9]+' || true)
if [ "${swift_version%%.*}" != "6" ]; then
  echo "setup: found '$swift_bin' version '${swift_version:-unknown}', but this package needs a Swift 6.x toolchain" >&2
  echo "       (https://www.swift.org/install/linux/). Put Swift 6.x first on the PATH and run this again." >&2
  exit 1
fi

APT_PACKAGES=(pkg-config libopus-dev libogg-dev libsodium-dev libssl-dev libyaml-dev libspeexdsp-dev libsqlite3-dev opus-tools sox)
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
