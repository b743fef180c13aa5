#!/usr/bin/env bash
# Builds the pinned Helm from the Go module proxy into a cache outside the repo and reuses it when
# present. Prints the path of the helm binary as its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helm_version="$(awk '$1=="require" && $2=="helm.sh/helm/v3" {print $3; exit} $1=="helm.sh/helm/v3" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
client_go="$(awk '$1=="k8s.io/client-go" && $2 ~ /^v/ {print $2; exit}' "$here/go.mod")"
cache_root="${DRAWBRIDGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/drawbridge}"
out="$cache_root/helm/${helm_version}"
if [[ -x "$out/helm" ]]; then
  echo "$out/helm"
  exit 0
fi
mkdir -p "$out"
# Parallel test workers may all arrive on a cold cache: one builds, the others wait for it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$out/.build.lock"
  flock 9
  if [[ -x "$out/helm" ]]; then
    echo "$out/helm"
    exit 0
  fi
fi
cd "$here"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
# Helm's own release build derives the default Kubernetes version (.Capabilities.KubeVersion and
# the deprecation lint) from client-go v0.X.Y -> 1.X; without it helm assumes Kubernetes 1.20.
k8s_minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-s -w \
 -X helm.sh/helm/v3/internal/version.version=${helm_version} \
 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${k8s_minor} \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor}"
start=$(date +%s)
echo "building helm ${helm_version} into $out (first time only)" >&2
# Build to a temporary name and rename, so a concurrent or interrupted build never leaves a
# half-written binary where the cache check above would trust it.
tmp="$out/helm.partial.$$"
go build -trimpath -ldflags "$ldflags" -o "$tmp" helm.sh/helm/v3/cmd/helm
mv -f "$tmp" "$out/helm"
echo "built in $(( $(date +%s) - start ))s" >&2
echo "$out/helm"
