#!/usr/bin/env bash
# Builds the Lua health-check runner (tools/lua) into the cache; prints the binary's path.
exec bash "$(dirname "${BASH_SOURCE[0]}")/../build-helper.sh" lua github.com/yuin/gopher-lua
