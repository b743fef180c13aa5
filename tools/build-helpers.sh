#!/usr/bin/env bash
# Builds every small Go helper the tests and CLI use (each cached under ~/.cache/drawbridge/<name>/
# and locked, so concurrent callers build once). Prints each binary's path.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for helper in crdvalidate kstatus lua; do
  bash "$here/$helper/build.sh"
done
