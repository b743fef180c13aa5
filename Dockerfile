# drawbridge operator image.
#
# No build step: Node.js 24 runs the TypeScript sources by type stripping. (Node refuses to strip
# types under node_modules; ours live in src/, so that does not apply.)
#
# Base image: the official Node.js image, pinned to an exact release (the same Node.js version as
# the repository's toolchain, node_modules/node). Bump it deliberately, together with that
# devDependency; test/unit/packaging/dockerfile.test.ts rejects floating tags.
#
# Build:  docker build -t ghcr.io/drawbridge-dev/drawbridge:0.1.0 \
#           --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

# --- production dependencies ------------------------------------------------------------------
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only, exactly as locked; no install scripts run.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

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
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin/ ./bin/
COPY crds/ ./crds/
# .dockerignore keeps *.test.ts out of the build context, so tests never reach the image.
COPY src/ ./src/
# Read-only root filesystem: nothing is written outside /tmp (an emptyDir in the chart).
# NODE_OPTIONS: the operator's heap settings (src/runtime/node-options.ts says why).
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=2"
# Numeric non-root user and group, so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "bin/drawbridge.js"]
CMD ["run"]
