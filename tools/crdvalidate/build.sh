#!/usr/bin/env bash
# Builds the offline CRD validator (tools/crdvalidate) into the cache; prints the binary's path.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../build-helper.sh" crdvalidate k8s.io/apiextensions-apiserver
