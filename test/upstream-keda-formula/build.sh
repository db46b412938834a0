#!/usr/bin/env bash
# build.sh - build the KEDA formula differential-test harness (harness.go) against expr-lang at the
# version KEDA pins, from the Go module proxy. Prints the binary's path; cached, rebuilt only when
# the version, harness.go or this script changes.
#
# Env:
#   UPSTREAM_KEDA_FORMULA_HOME  cache dir (default ~/.cache/tide-upstream-keda-formula)
#   EXPR_VERSION                default v1.17.8 (kedacore/keda go.mod)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${UPSTREAM_KEDA_FORMULA_HOME:-$HOME/.cache/tide-upstream-keda-formula}
EXPR_VERSION=${EXPR_VERSION:-v1.17.8}
export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "go not found" >&2; exit 1; }
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOFLAGS="$(go env GOFLAGS) -mod=mod"
HASH=$(cat "$HERE/harness.go" "$HERE/build.sh" | sha256sum | cut -c1-12)
OUT=$HOME_DIR/$EXPR_VERSION/formula-harness-$HASH
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
MOD=$HOME_DIR/$EXPR_VERSION/src
mkdir -p "$MOD"
cd "$MOD"
printf 'module tide.local/upstream-keda-formula\n\ngo 1.24\n\nrequire github.com/expr-lang/expr %s\n' "$EXPR_VERSION" > go.mod
cp "$HERE/harness.go" main.go
go mod tidy >&2
go build -o "$OUT.tmp" . >&2
mv "$OUT.tmp" "$OUT"
echo "$OUT"
