#!/usr/bin/env bash
# Builds one of the small Go helpers in tools/<name>/ (crdvalidate, kstatus, lua) from the Go module
# proxy into ~/.cache/drawbridge/<name>/<pinned version>-<source hash> and reuses it when present.
# The hash covers go.mod, go.sum and the sources, so an edited helper is rebuilt, never stale.
# Usage: build-helper.sh <name> <module whose version names the build>. Prints the binary's path.
set -euo pipefail
name="$1"
module="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/$name" && pwd)"
version="$(awk -v m="$module" '$1==m && $2 ~ /^v/ {print $2; exit} $1=="require" && $2==m {print $3; exit}' "$here/go.mod")"
[[ -n "$version" ]] || { echo "build-helper.sh: $module is not pinned in $here/go.mod" >&2; exit 1; }
hash="$(cd "$here" && cat go.mod go.sum ./*.go | sha256sum | cut -c1-12)"
cache_root="${DRAWBRIDGE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/drawbridge}"
out="$cache_root/$name/${version}-${hash}"
if [[ -x "$out/$name" ]]; then
  echo "$out/$name"
  exit 0
fi
command -v go >/dev/null || { echo "build-helper.sh: Go is needed to build $name" >&2; exit 1; }
mkdir -p "$out"
# Test workers may arrive together on a cold cache: one builds, the others wait and reuse it.
exec 9>"$out/.build.lock"
flock 9
if [[ -x "$out/$name" ]]; then
  echo "$out/$name"
  exit 0
fi
cd "$here"
# -mod=readonly: go.sum is the pin; a build never edits it. -trimpath and no VCS stamp: the same
# sources give the same binary on every machine.
export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"
start=$(date +%s)
echo "building $name ($module $version) into $out (first time only)" >&2
tmp="$out/$name.partial.$$"
go build -trimpath -ldflags "-s -w" -o "$tmp" .
mv "$tmp" "$out/$name"
echo "built $name in $(( $(date +%s) - start ))s" >&2
echo "$out/$name"
