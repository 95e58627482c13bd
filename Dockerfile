# syntax=docker/dockerfile:1
# The edge worker's image (ECS Fargate, arm64 or amd64): build with the dev tools, run with only the
# production dependencies as an unprivileged user. Built by `cdk deploy` (infra/lib/edge-service.ts)
# or by hand: docker build -t ftpx .
#
# The base images are build arguments only for machines that reach no registry: there
# scripts/container-base-images.sh makes equivalents (Debian bookworm, Node 22, user node 1000)
# with mmdebstrap, and test/integration/stack/container-image.test.ts builds with them, offline
# (NPM_CONFIG_OFFLINE=true and an npm cache given as a build volume). A deployment keeps the defaults.
ARG BASE_IMAGE=node:22-bookworm-slim
ARG BUILD_IMAGE=node:22-bookworm-slim

FROM ${BUILD_IMAGE} AS build
# ssh2's optional native crypto, cpu-features and ftpx's native/tcp-cork (TCP_CORK, splice relay) build with node-gyp (a build
# base may have the tools).
RUN if ! command -v python3 >/dev/null || ! command -v make >/dev/null || ! command -v g++ >/dev/null; then \
      apt-get update \
      && apt-get install -y --no-install-recommends python3 make g++ \
      && rm -rf /var/lib/apt/lists/*; \
    fi
ARG NPM_CONFIG_OFFLINE=false
WORKDIR /src
COPY package.json package-lock.json ./
COPY patches ./patches
# npm install, not npm ci: the lock file lists only the Linux x64 builds of some dev tools (see
# scripts/test.sh); every version is still pinned by it. --ignore-scripts, then the native builds
# and patches/ (ssh2's channel window) by name: this layer is redone only when the dependencies change.
RUN npm install --no-audit --no-fund --ignore-scripts \
 && npm rebuild ssh2 cpu-features \
 && npx patch-package --error-on-fail --error-on-warn
COPY . .
# Only the edge worker and what it imports (tsconfig.image.json): tests and tools are not in the context.
RUN bash scripts/build-native.sh && test -f native/tcp-cork/build/Release/tcp_cork.node \
 && node -e "process.exit(typeof require('./native/tcp-cork/build/Release/tcp_cork.node').spliceStart === 'function' ? 0 : 1)" \
 && npx tsc -p tsconfig.image.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./package.json
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --from=build --chown=root:root /src/native/tcp-cork/build/Release/tcp_cork.node ./native/tcp-cork/build/Release/tcp_cork.node
COPY --from=build --chown=root:root /src/examples ./examples
COPY --chown=root:root scripts/container-entrypoint.sh /usr/local/bin/ftpx-entrypoint
COPY --chown=root:root scripts/ssh-host-key-from-seed.mjs ./scripts/ssh-host-key-from-seed.mjs
# The code is root's and read-only to the worker; the worker writes only /tmp (its config, its
# secrets' files, dataDir).
USER node
# FTP, implicit FTPS, SFTP, the admin endpoint (/healthz, /readyz); passive ports are configured.
EXPOSE 21 990 22 9000
ENTRYPOINT ["/usr/local/bin/ftpx-entrypoint"]
CMD ["serve", "--config", "/app/examples/ftpx.yaml"]
