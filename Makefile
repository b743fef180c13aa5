# The two entry points of the README. Each installs what it needs on a fresh clone: the npm
# dependencies from the lock file (Node.js 24 arrives as a devDependency) and, on first use, the
# control-plane binaries built from the Go module proxy into ~/.cache/drawbridge.
SHELL := /bin/bash
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: demo test install lint bench build

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

install: node_modules/.install-stamp

demo: install
	npm run -s demo

test: install
	npm run -s lint
	npm test

# The operator image's bundle (dist/), as the Dockerfile builds it; the benchmark builds it itself.
build: install
	npm run -s build

bench: install
	npm run -s bench -- $(BENCH_ARGS)
