#!/usr/bin/env bash
# Debian packages the tests use as real peers (brokers, Prometheus, nginx for benchmarks).
# Idempotent: skips apt when everything is already installed.
set -euo pipefail
pkgs=(python3-venv)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
