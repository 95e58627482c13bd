# syntax=docker/dockerfile:1
# The edge worker's image (ECS Fargate, arm64 or amd64): build with the dev tools, run with only the
# production dependencies as an unprivileged user. Built by `cdk deploy` (infra/lib/edge-service.ts)
# or by hand: docker build -t ftpx .

FROM node:22-bookworm-slim AS build
# ssh2's optional native crypto, cpu-features and ftpx's native/tcp-cork build with node-gyp.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock file lists only the Linux x64 builds of some dev tools (see
# scripts/test.sh); every version is still pinned by it. --ignore-scripts: nothing to compile yet.
RUN npm install --no-audit --no-fund --ignore-scripts
COPY . .
# patches/ (ssh2's channel window) are applied here: the install above ran no scripts.
RUN npm rebuild ssh2 cpu-features \
 && bash scripts/build-native.sh && test -f native/tcp-cork/build/Release/tcp_cork.node \
 && npx patch-package --error-on-fail --error-on-warn \
 && npx tsc -p tsconfig.json \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
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
