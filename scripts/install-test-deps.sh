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
  libwrap0 libsodium23 libcap2 libpam-modules)
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
