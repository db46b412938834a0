#!/usr/bin/env bash
# image-rootfs.sh - run the controller image's entrypoint without a container engine.
#
# No Docker engine on these machines, so the image is not built. Instead this script lays out what
# the Dockerfile puts in the image, in a fresh directory tree, and runs its ENTRYPOINT there the way
# the Deployment (deploy/kubernetes/40-deployment.yaml) runs the container:
#   /nodejs/bin/node         Node 24 (the distroless image's path) + the shared libraries it links
#   /app                     package.json, bin/, src/ and `npm ci --omit=dev --ignore-scripts` node_modules
#   /tmp, /var/lib/tide      writable (the Deployment's emptyDirs), everything else read-only
#   /etc/tide                the metrics mapping (the ConfigMap volume), read-only
#   /var/run/secrets/kubernetes.io/serviceaccount  token, ca.crt, namespace (in-cluster config)
# in a private mount namespace: the tree is bind-mounted read-only (readOnlyRootFilesystem), chrooted,
# and the process runs as uid/gid 65532 (no other groups, no_new_privs). Needs root (unshare -m).
#
# usage: image-rootfs.sh ROOTFS APPDIR SA_DIR MAPPING_FILE -- ENTRYPOINT-ARGS...
#   (ROOTFS: an empty directory; APPDIR: the assembled /app; the process's output goes to stdout)
set -euo pipefail
R=$1; APP=$2; SA=$3; MAPPING=$4; shift 4
[ "$1" = "--" ] && shift
NODE=${NODE_BIN:-$(command -v node)}

mkdir -p "$R"/{nodejs/bin,app,tmp,proc,dev,etc/tide,var/lib/tide,var/run/secrets/kubernetes.io/serviceaccount,lib64,lib/x86_64-linux-gnu}
cp "$NODE" "$R/nodejs/bin/node"
# the C runtime Node links (the distroless base image has glibc and libstdc++)
ldd "$NODE" | awk '/=>/ {print $3} $1 ~ /^\// {print $1}' | while read -r lib; do
  [ -f "$lib" ] || continue
  mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"
done

exec unshare -m --propagation private -- bash -c '
  set -e
  R=$1; APP=$2; SA=$3; MAPPING=$4; shift 4
  mount --bind "$R" "$R"
  mount --bind "$APP" "$R/app"
  mount --bind "$SA" "$R/var/run/secrets/kubernetes.io/serviceaccount"
  touch "$R/etc/tide/tide-metrics.yaml"; mount --bind "$MAPPING" "$R/etc/tide/tide-metrics.yaml"
  mount -o remount,bind,ro "$R"
  mount -o remount,bind,ro "$R/app"
  mount -o remount,bind,ro "$R/var/run/secrets/kubernetes.io/serviceaccount"
  mount -o remount,bind,ro "$R/etc/tide/tide-metrics.yaml"
  mount -t tmpfs -o size=64m,mode=1777 tmpfs "$R/tmp"
  mount -t tmpfs -o size=64m,mode=0777 tmpfs "$R/var/lib/tide"
  mount -t proc proc "$R/proc"
  mount --rbind /dev "$R/dev"
  # chroot(8) changes to the new / and cannot start elsewhere: the entrypoint script is given as
  # /app/bin/tide.js, which is what WORKDIR /app + "bin/tide.js" names
  exec setpriv --no-new-privs -- chroot --userspec=65532:65532 --groups=65532 "$R" /nodejs/bin/node "$@"
' image-rootfs "$R" "$APP" "$SA" "$MAPPING" "$@"
