#!/usr/bin/env bash
# Builds a stand-in for python:3.11-slim (Debian bookworm + Debian's python3/pip) without
# Docker, as an OCI image layout tagged 3.11-slim, and pushes it to a loopback registry.
#
#   make-base-image.sh OUTDIR                             build once; no-op if OUTDIR/index.json exists
#   make-base-image.sh push OUTDIR REGISTRY_ADDR [REPO:TAG]   default REPO:TAG library/python:3.11-slim
#
# DEBIAN_MIRROR overrides http://deb.debian.org/debian (it stays in the image's sources.list).
# Needs root, debootstrap, umoci, oci-image-tool, skopeo and http://deb.debian.org.
set -euo pipefail

TAG=3.11-slim
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

die() { echo "make-base-image: $*" >&2; exit 1; }
log() { echo "make-base-image: $*" >&2; }
need() { for c in "$@"; do command -v "$c" >/dev/null || die "$c not found (see scripts/install-deps.sh)"; done; }

build() {
  local out=${1%/}
  if [ -f "$out/index.json" ]; then log "$out already built"; return; fi
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  need debootstrap umoci oci-image-tool tar
  mkdir -p "$(dirname "$out")"

  # Work next to OUTDIR so the final mv is a same-filesystem rename: OUTDIR appears whole or
  # not at all, and concurrent builds (parallel tests) never share a half-written layout.
  local work; work=$(mktemp -d "$out.work.XXXXXX")
  # --one-file-system: an interrupted debootstrap can leave /proc or /sys mounted in the rootfs.
  trap 'rm -rf --one-file-system "$work"' EXIT
  trap 'exit 130' INT TERM
  local rootfs=$work/rootfs layout=$work/layout start=$SECONDS

  log "debootstrap bookworm into $rootfs (a few minutes)"
  debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  log "debootstrap took $((SECONDS - start))s"

  # Make it behave like the official image: `python`/`pip` on PATH, and pip allowed to
  # install into the system interpreter (PEP 668 marker removed, as python:3.11-slim has none).
  ln -sf /usr/bin/python3 "$rootfs/usr/local/bin/python"
  ln -sf /usr/bin/pip3 "$rootfs/usr/local/bin/pip"
  rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/tmp/*
  # debootstrap copies the host's resolv.conf and hostname and creates device nodes; an image
  # carries none of these (the runtime provides them), and device nodes break rootless unpacking.
  : >"$rootfs/etc/resolv.conf"; chmod 644 "$rootfs/etc/resolv.conf"
  rm -f "$rootfs/etc/hostname"
  rm -rf "${rootfs:?}"/dev/*

  # Entries named like Docker's layers ("usr/bin/...", not "./usr/bin/..."), in a stable order.
  (cd "$rootfs" && shopt -s dotglob && LC_ALL=C tar --numeric-owner --sort=name -cf "$work/layer.tar" -- *)

  umoci init --layout "$layout"
  umoci new --image "$layout:$TAG"
  umoci raw add-layer --image "$layout:$TAG" \
    --history.created_by "debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm" \
    "$work/layer.tar"
  umoci config --image "$layout:$TAG" --no-history \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env LANG=C.UTF-8 --config.env PYTHON_VERSION=3.11 \
    --config.cmd python3 --architecture amd64 --os linux
  umoci gc --layout "$layout"
  # umoci writes blobs 0600; the rootless tests read the cache as other users.
  chmod -R a+rX "$layout"

  oci-image-tool validate --type image --ref name="$TAG" "$layout" >&2
  umoci stat --image "$layout:$TAG" >/dev/null
  if ! mv -T "$layout" "$out" 2>/dev/null; then
    [ -f "$out/index.json" ] || die "cannot move the image to $out (remove it and retry)"
    log "$out was built concurrently; keeping that one"
  fi
  rm -rf "$work"
  trap - EXIT INT TERM
  log "built $out ($(du -sh "$out" | cut -f1) compressed) in $((SECONDS - start))s"
}

push() {
  [ $# -ge 2 ] || usage
  local out=${1%/} addr=$2 ref=${3:-library/python:$TAG}
  need skopeo
  [ -f "$out/index.json" ] || die "$out is not built yet (run: $0 $out)"
  # Registry credentials, when needed, come from REGISTRY_CREDS=user:pass.
  skopeo copy --quiet --dest-tls-verify=false ${REGISTRY_CREDS:+--dest-creds "$REGISTRY_CREDS"} \
    "oci:$out:$TAG" "docker://$addr/$ref" >&2
  log "pushed $out to $addr/$ref"
}

usage() { die "usage: $0 OUTDIR | $0 push OUTDIR REGISTRY_ADDR [REPO:TAG]"; }

case ${1:-} in
  ""|-h|--help) usage ;;
  push) shift; push "$@" ;;
  *) [ $# -eq 1 ] || usage; build "$1" ;;
esac
