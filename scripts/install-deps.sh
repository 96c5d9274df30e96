#!/usr/bin/env bash
# Installs what building and testing cog needs on a fresh Debian 12 machine (run as root).
# Idempotent: packages already present are left alone.
set -euo pipefail

packages=(
  # C libraries the Swift targets link against
  zlib1g-dev libdeflate-dev libarchive-dev libssl-dev libcurl4-openssl-dev libyaml-dev libzstd-dev pkg-config
  # independent validators and peers used by the tests and benchmarks
  skopeo umoci oci-image-tool libarchive-tools pigz
  # the loopback registry and the base-image maker
  docker-registry apache2-utils debootstrap python3 python3-venv python3-cryptography procps openssl
  # the rootless runner: subordinate id mapping
  uidmap
  # the sandbox's own network (outbound only, no host loopback)
  slirp4netns
  # GPU tests: the stand-in driver (gcc), the stand-in python-build-standalone release compiled from CPython's
  # source (scripts/make-python-build.sh) with the libraries its modules need, made relocatable with patchelf
  gcc make libc6-dev curl patchelf libssl-dev libffi-dev libsqlite3-dev libbz2-dev liblzma-dev uuid-dev
  libncurses-dev libreadline-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# slirp4netns opens /dev/net/tun as the building user; udev normally makes it 0666, some VM images leave it 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then chmod 0666 /dev/net/tun; fi
# Debian starts docker-registry as a service on :5000 when it is installed; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
