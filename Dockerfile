# drawbridge operator image.
#
# The image runs one JavaScript bundle, dist/drawbridge.js, built in the first stage by
# scripts/build.ts (esbuild) from src/cli/image.ts and its production dependencies. Most of the
# operator's memory is code: the bundle is loaded without Node's TypeScript stripper and without
# node_modules' thousands of module files (docs/adr/0017-bundled-operator-image.md). The runtime
# stage holds the bundle and nothing else of the repository: no node_modules, no sources.
#
# Base image: the official Node.js image, pinned to an exact release (the same Node.js version as
# the repository's toolchain, node_modules/node). Bump it deliberately, together with that
# devDependency; test/unit/packaging/dockerfile.test.ts rejects floating tags.
#
# Build:  docker build -t ghcr.io/drawbridge-dev/drawbridge:0.1.0 \
#           --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

# --- build: the bundle -------------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Every dependency exactly as locked (esbuild is a devDependency; its binary is a platform
# package, so no install script is needed and none runs).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts/build.ts ./scripts/
# .dockerignore keeps *.test.ts out of the build context, so tests never reach the bundle.
COPY src/ ./src/
# The base image's node, not node_modules/.bin's (the node devDependency is not set up without
# its install script).
RUN node scripts/build.ts /src/dist

# --- runtime ----------------------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="drawbridge" \
      org.opencontainers.image.description="Just-in-time network access to Azure VMs, as a Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/drawbridge-dev/drawbridge" \
      org.opencontainers.image.url="https://github.com/drawbridge-dev/drawbridge" \
      org.opencontainers.image.documentation="https://github.com/drawbridge-dev/drawbridge/blob/main/docs/install.md" \
      org.opencontainers.image.vendor="drawbridge" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-bookworm-slim"
# The operator never runs npm; leaving it out shrinks what an attacker could use.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
WORKDIR /app
# dist/ carries its own package.json (ES modules), the source maps and THIRD-PARTY-LICENSES.txt.
COPY --from=build /src/dist/ ./dist/
COPY crds/ ./crds/
# Read-only root filesystem: nothing is written outside /tmp (an emptyDir in the chart).
# NODE_OPTIONS and MALLOC_ARENA_MAX: the operator's heap settings (src/runtime/node-options.ts says why).
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=2" \
    MALLOC_ARENA_MAX=2
# Numeric non-root user and group, so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "dist/drawbridge.js"]
CMD ["run"]
