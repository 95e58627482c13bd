#!/usr/bin/env bash
# Installs the real servers and clients the test suite runs against.
# proftpd-core, vsftpd and pure-ftpd all conflict with Debian's virtual "ftp-server" package, so only
# ProFTPD is installed; vsftpd and pure-ftpd are unpacked from their Debian packages into .cache/debian
# (nothing is started as a service, nothing outside the repository is touched for them).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

APT_PACKAGES=(proftpd-core proftpd-mod-proxy proftpd-mod-crypto openssh-server lftp curl openssl python3 procps haproxy
  perl libio-socket-ssl-perl # Net::FTP (perl-modules, with IO::Socket::SSL for FTPS): the client of mod_proxy's own suite (test/conformance)
  libwrap0 libsodium23 libcap2 libpam-modules
  libnet-ssh2-perl # Perl's Net::SSH2 (libssh2): the SSH client of mod_proxy's own suite (test/conformance)
  build-essential # make and a C compiler: node-gyp builds ssh2's crypto and ftpx's native/tcp-cork (python3 is above)
  chromium) # chromium: the admin status page test (playwright-core drives /usr/bin/chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

UNPACKED=.cache/debian
if [ ! -x "$UNPACKED/root/usr/sbin/vsftpd" ] || [ ! -x "$UNPACKED/root/usr/sbin/pure-ftpd" ]; then
  echo "install-test-deps: unpacking vsftpd and pure-ftpd into $UNPACKED"
  mkdir -p "$UNPACKED/debs"
  chmod 777 "$UNPACKED/debs" # apt-get download runs as _apt when it can
  (cd "$UNPACKED/debs" && apt-get download -qq vsftpd pure-ftpd pure-ftpd-common 2>/dev/null ||
    ($SUDO apt-get update -qq && apt-get download -qq vsftpd pure-ftpd pure-ftpd-common))
  for deb in "$UNPACKED"/debs/*.deb; do dpkg-deb -x "$deb" "$UNPACKED/root"; done
fi

# DynamoDB Local, AWS's own DynamoDB emulator, for test/integration/dynamodb-local (dynalite serves the
# rest). It runs on Java; its jar ships in the npm package amplify-dynamodb-simulator (the npm registry
# is the only source these machines reach). Only the package's emulator/ folder is kept: installing
# the package would pull ~280 dependencies the tests do not need.
if ! command -v java >/dev/null 2>&1 && ! [ -x "${JAVA_HOME:-/nonexistent}/bin/java" ]; then
  echo "install-test-deps: apt-get install openjdk-17-jre-headless"
  # Slim Debian images drop /usr/share/man, and the JRE's postinst fails without man1 there.
  $SUDO mkdir -p /usr/share/man/man1
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi

DYNAMODB_LOCAL=.cache/dynamodb-local
DYNAMODB_LOCAL_PACKAGE=amplify-dynamodb-simulator@2.9.30 # emulator/ holds DynamoDB Local 1.25.1
DYNAMODB_LOCAL_JAR_SHA256=454305e9bc3e6ebcca5b62569869e31563b8d7e346474e94557b2600702146c7
if [ "$(cat "$DYNAMODB_LOCAL/.package" 2>/dev/null)" != "$DYNAMODB_LOCAL_PACKAGE" ] ||
  [ ! -f "$DYNAMODB_LOCAL/DynamoDBLocal.jar" ] || [ ! -d "$DYNAMODB_LOCAL/DynamoDBLocal_lib" ]; then
  echo "install-test-deps: fetching DynamoDB Local ($DYNAMODB_LOCAL_PACKAGE) into $DYNAMODB_LOCAL"
  mkdir -p .cache
  # Unpacked next to its destination, then renamed into place: an interrupted run leaves no half copy.
  staging=$(mktemp -d .cache/dynamodb-local.XXXXXX)
  (
    trap 'rm -rf "$staging"' EXIT
    npm pack --silent --pack-destination "$staging" "$DYNAMODB_LOCAL_PACKAGE" >/dev/null
    tar -xzf "$staging"/amplify-dynamodb-simulator-*.tgz -C "$staging" package/emulator
    echo "$DYNAMODB_LOCAL_JAR_SHA256  $staging/package/emulator/DynamoDBLocal.jar" | sha256sum --check --quiet
    echo "$DYNAMODB_LOCAL_PACKAGE" >"$staging/package/emulator/.package"
    rm -rf "$DYNAMODB_LOCAL"
    mv "$staging/package/emulator" "$DYNAMODB_LOCAL"
  )
fi

# Node 22, which the Node 22 function suites and the local stack's functions run on.
bash scripts/fetch-node22.sh >/dev/null

# The container image test (test/integration/stack/container-image.test.ts): rootful podman with runc
# (crun fails on these hosts' hybrid cgroups; settings in scripts/podman/containers.conf), and the
# base images made here with mmdebstrap, as no registry is reached. The image build in the test runs
# offline (--network none), so the npm packages of package-lock.json are fetched into
# .cache/image-npm now, again only when the lock file changes.
CONTAINER_PACKAGES=(podman runc mmdebstrap)
missing=()
for pkg in "${CONTAINER_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-test-deps: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
$SUDO bash scripts/container-base-images.sh >/dev/null
IMAGE_NPM_CACHE=.cache/image-npm
lock_sha="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat "$IMAGE_NPM_CACHE/.package-lock.sha256" 2>/dev/null)" != "$lock_sha" ]; then
  echo "install-test-deps: fetching package-lock.json's packages into $IMAGE_NPM_CACHE"
  staging=$(mktemp -d)
  cache_dir="$PWD/$IMAGE_NPM_CACHE"
  cp package.json package-lock.json "$staging/"
  (cd "$staging" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error --cache "$cache_dir" >/dev/null)
  rm -rf "$staging"
  echo "$lock_sha" >"$IMAGE_NPM_CACHE/.package-lock.sha256"
fi
