#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module proxy into a cache outside the repo,
# and reuses them when present. Prints the cache directory as its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
kube_version="$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
etcd_version="$(awk '$1=="go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
cache_root="${DRAWBRIDGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/drawbridge}"
out="$cache_root/controlplane/${kube_version}-etcd${etcd_version}"
if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "build.sh: Go is needed to build the control plane" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
# One build at a time (npm test and `cluster up` may start together); the loser reuses the result.
exec 9>"$out.lock"
flock 9
if [[ -x "$out/kube-apiserver" && -x "$out/kubectl" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi
mkdir -p "$out.partial"
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
minor="$(echo "$kube_version" | cut -d. -f2)"
kube_ldflags="-s -w \
 -X k8s.io/component-base/version.gitVersion=${kube_version} \
 -X k8s.io/component-base/version.gitMajor=1 \
 -X k8s.io/component-base/version.gitMinor=${minor} \
 -X k8s.io/component-base/version.gitTreeState=clean \
 -X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z \
 -X k8s.io/client-go/pkg/version.gitVersion=${kube_version} \
 -X k8s.io/client-go/pkg/version.gitMajor=1 \
 -X k8s.io/client-go/pkg/version.gitMinor=${minor}"
start=$(date +%s)
echo "building kube-apiserver ${kube_version}, kubectl and etcd ${etcd_version} into $out (first time only)" >&2
go build -trimpath -ldflags "$kube_ldflags" -o "$out.partial/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "$kube_ldflags" -o "$out.partial/kubectl" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$out.partial/etcd" go.etcd.io/etcd/server/v3
rm -rf "$out"
mv "$out.partial" "$out"
echo "built in $(( $(date +%s) - start ))s" >&2
echo "$out"
