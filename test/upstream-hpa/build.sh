#!/usr/bin/env bash
# build.sh - build the upstream HPA differential-test harness.
#
# Copies the non-test Go files of k8s.io/kubernetes/pkg/controller/podautoscaler (unmodified,
# straight out of the Go module cache) into a build module next to harness_test.go, and
# compiles that package's test binary. Nothing of upstream's code is committed to Tide.
#
# Prints the path of the binary on stdout. Cached: rebuilt only when the Kubernetes version or
# harness_test.go changes.
#
# Env:
#   UPSTREAM_HPA_HOME  cache dir (default ~/.cache/tide-upstream-hpa)
#   K8S_VERSION        default 1.37.2 (staging modules pinned to v0.<minor>.<patch>)
#   GOMODCACHE/GOCACHE honoured as usual (shared with test/k8s/plane/build.sh)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOME_DIR=${UPSTREAM_HPA_HOME:-$HOME/.cache/tide-upstream-hpa}
K8S_VERSION=${K8S_VERSION:-1.37.2}
MINOR=${K8S_VERSION#*.}
STAGING_VERSION=0.$MINOR

export PATH=/usr/local/go/bin:$PATH
command -v go >/dev/null || { echo "go not found (install Go >= 1.26)" >&2; exit 1; }
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
export GOFLAGS="$(go env GOFLAGS) -mod=mod"

log() { printf '[upstream-hpa %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

HASH=$(cat "$HERE/harness_test.go" "$HERE/build.sh" | sha256sum | cut -c1-12)
OUT=$HOME_DIR/$K8S_VERSION/hpa-harness-$HASH
if [ -x "$OUT" ]; then echo "$OUT"; exit 0; fi

MOD=$HOME_DIR/$K8S_VERSION/src
mkdir -p "$MOD"
cd "$MOD"
if ! grep -q "k8s.io/kubernetes v$K8S_VERSION" go.mod 2>/dev/null; then
  log "preparing build module for k8s.io/kubernetes v$K8S_VERSION"
  printf 'module tide.local/upstream-hpa\n\ngo 1.26.0\n' > go.mod
  rm -f go.sum
  # reuse the test plane's go.sum when it is there (same versions, no extra look-ups)
  TB_SUM=${K8S_TESTBED_HOME:-$HOME/.cache/tide-k8s-testbed}/src/k8s-$K8S_VERSION/go.sum
  [ -f "$TB_SUM" ] && cp "$TB_SUM" go.sum
  gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [ -f "$gomod" ] || { echo "could not download k8s.io/kubernetes@v$K8S_VERSION" >&2; exit 1; }
  {
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$gomod" | grep -oE '^[[:space:]]*k8s\.io/[A-Za-z0-9._-]+' |
      while read -r m; do printf '\t%s => %s v%s\n' "$m" "$m" "$STAGING_VERSION"; done
    echo ")"
  } >> go.mod
  go get "k8s.io/kubernetes@v$K8S_VERSION"
fi
SRC_PKG=$(go list -m -f '{{.Dir}}' k8s.io/kubernetes)/pkg/controller/podautoscaler
rm -rf podautoscaler
mkdir podautoscaler
for f in "$SRC_PKG"/*.go; do
  case "$f" in *_test.go) continue ;; esac
  cp "$f" podautoscaler/
done
chmod -R u+w podautoscaler
cp "$HERE/harness_test.go" podautoscaler/
log "building harness (k8s.io/kubernetes v$K8S_VERSION podautoscaler, $(ls podautoscaler | wc -l) files)"
t0=$SECONDS
go test -c -trimpath -o "$OUT.tmp" ./podautoscaler
mv "$OUT.tmp" "$OUT"
log "built in $((SECONDS - t0))s: $OUT"
echo "$OUT"
