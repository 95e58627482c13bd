#!/usr/bin/env bash
# Builds ftpx's native addon, native/tcp-cork (TCP_CORK on data connections, which Node lacks, and the
# splice(2) relay of plain data connections), with
# node-gyp; `npm install` runs this (package.json's "install" script). It uses the headers of the
# running Node when they are installed beside it (Debian's and NodeSource's packages, the official
# tarballs), so nothing is downloaded. A failed build is not an error: ftpx then closes data
# connections without TCP_CORK, relays them in JS, and says so in its log at start (docs/operating.md).
set -uo pipefail
cd "$(dirname "$0")/.."
args=(rebuild --directory=native/tcp-cork)
prefix=$(dirname "$(dirname "$(node -p process.execPath)")")
if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node_api.h" ]; then
  args+=("--nodedir=$prefix")
fi
# npm names its bundled node-gyp in npm_config_node_gyp while it runs a lifecycle script.
gyp=${npm_config_node_gyp:-$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js}
if node "$gyp" "${args[@]}" >native/tcp-cork/build.log 2>&1; then
  echo "ftpx: built native/tcp-cork (TCP_CORK and the splice relay for data connections)"
else
  echo "ftpx: native/tcp-cork did not build (see native/tcp-cork/build.log); data connections close without TCP_CORK and are relayed in JS" >&2
fi
exit 0
