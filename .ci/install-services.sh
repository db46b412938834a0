#!/usr/bin/env bash
# Debian packages the tests use as real peers (brokers, Prometheus, nginx for benchmarks).
# Idempotent: skips apt when everything is already installed. Services are NOT left running:
# test/support/services.ts starts private instances on free 127.0.0.1 ports in temp dirs.
set -euo pipefail
pkgs=(
  python3-venv
  redis-server        # redis / redis-streams sources
  rabbitmq-server     # rabbitmq source (AMQP + management plugin)
  prometheus          # prometheus source, HPA External/Object metrics via PromQL
  nats-server         # nats-jetstream source (2.9 has JetStream + monitoring endpoint)
  postgresql          # postgresql source (initdb/pg_ctl/postgres under /usr/lib/postgresql/*/bin)
  chromium            # headless browser for the dashboard e2e tests (/usr/bin/chromium, driven by playwright-core)
  nginx               # reverse proxy the proxy benchmark compares with (bench/proxy.ts)
)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Keep maintainer scripts from starting system-wide daemons (no systemd in CI containers,
  # and a system redis/rabbitmq on default ports is not what the tests use).
  created_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The management plugin is enabled per instance by test/support/services.ts (enabled_plugins file).
