#!/usr/bin/env bash
# build.sh - build the KPA differential-test harness (harness.go) from knative.dev/serving's own
# source at the version Tide follows, taken from the Go module proxy. Prints the binary's path;
# cached, rebuilt only when the version or a file of this directory changes.
#
# The proxy serves knative.dev/serving itself but not the knative.dev/pkg and knative.dev/networking
# pseudo-versions its go.mod pins, so the harness is not built against the whole module: it compiles
# upstream's files for the decider unchanged (pkg/autoscaler/scaling/autoscaler.go and metrics.go,
# pkg/autoscaler/aggregation/bucketing.go, aggregation/max), and takes from the files they import
# only the declarations they use (DeciderSpec, ScaleResult, … from scaling/multiscaler.go; the
# metric names; MetricClient and ErrNoData; EndpointsCounter), extracted with go/ast by ./extract,
# also unchanged. Its other dependencies are the versions upstream's go.mod names.
#
# Env:
#   UPSTREAM_KPA_HOME  cache dir (default ~/.cache/tide-upstream-kpa)
#   SERVING_VERSION    default v0.51.0
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${UPSTREAM_KPA_HOME:-$HOME/.cache/tide-upstream-kpa}
SERVING_VERSION=${SERVING_VERSION:-v0.51.0}
export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "go not found" >&2; exit 1; }
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
HASH=$(cat "$HERE/harness.go" "$HERE/build.sh" "$HERE/extract/main.go" | sha256sum | cut -c1-12)
OUT=$HOME_DIR/$SERVING_VERSION/kpa-harness-$HASH
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi
MOD=$HOME_DIR/$SERVING_VERSION/src
rm -rf "$MOD"
mkdir -p "$MOD"
SRC=$(cd "$MOD" && GOFLAGS= go mod download -json "knative.dev/serving@$SERVING_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$SRC/pkg/autoscaler/scaling" ] || { echo "knative.dev/serving@$SERVING_VERSION: no source from the module proxy" >&2; exit 1; }
cd "$MOD"
K=knative/serving/pkg
mkdir -p $K/autoscaler/aggregation/max $K/autoscaler/scaling $K/apis/autoscaling $K/autoscaler/metrics $K/resources
cp "$SRC/pkg/autoscaler/aggregation/bucketing.go" $K/autoscaler/aggregation/
cp "$SRC/pkg/autoscaler/aggregation/max/timewindow.go" "$SRC/pkg/autoscaler/aggregation/max/window.go" $K/autoscaler/aggregation/max/
cp "$SRC/pkg/autoscaler/scaling/autoscaler.go" "$SRC/pkg/autoscaler/scaling/metrics.go" $K/autoscaler/scaling/
(cd "$HERE/extract" && GOFLAGS= go build -o "$MOD/extract.bin" main.go)
x() { "$MOD/extract.bin" "$@"; }
x "$SRC/pkg/autoscaler/scaling/multiscaler.go" scaling DeciderSpec ScaleResult invalidSR UniScaler tickInterval > $K/autoscaler/scaling/multiscaler_decls.go
x "$SRC/pkg/apis/autoscaling/register.go" autoscaling Concurrency RPS > $K/apis/autoscaling/register_decls.go
x "$SRC/pkg/autoscaler/metrics/collector.go" metrics MetricClient ErrNoData > $K/autoscaler/metrics/collector_decls.go
x "$SRC/pkg/resources/endpoints.go" resources EndpointsCounter > $K/resources/endpoints_decls.go
rm extract.bin
cp "$HERE/harness.go" main.go
# upstream's import paths, onto the copies here
find . -name '*.go' -exec sed -i 's#"knative.dev/serving/pkg/#"tide.local/upstream-kpa/knative/serving/pkg/#' {} +
ver() { awk -v m="$1" '$1 == m { print $2; exit }' "$SRC/go.mod"; }
{
  printf 'module tide.local/upstream-kpa\n\ngo 1.26\n\nrequire (\n'
  for m in go.uber.org/zap go.opentelemetry.io/otel go.opentelemetry.io/otel/metric k8s.io/apimachinery github.com/davecgh/go-spew; do
    printf '\t%s %s\n' "$m" "$(ver $m)"
  done
  printf ')\n'
} > go.mod
GOFLAGS=-mod=mod go mod tidy >&2
GOFLAGS=-mod=mod go build -o "$OUT.tmp" . >&2
mv "$OUT.tmp" "$OUT"
echo "$OUT"
