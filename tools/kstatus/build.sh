#!/usr/bin/env bash
# Builds the kstatus helper (tools/kstatus) into the cache; prints the binary's path.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../build-helper.sh" kstatus sigs.k8s.io/cli-utils
