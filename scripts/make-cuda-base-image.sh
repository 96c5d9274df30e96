#!/usr/bin/env bash
# Builds a stand-in for an NVIDIA CUDA image (nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04 and its kin) without
# Docker, as an OCI layout whose image is named `cuda`, and pushes it to a loopback registry.
#
#   make-cuda-base-image.sh OUTDIR [LARGE_MIB]       build once; no-op if OUTDIR/index.json exists
#   make-cuda-base-image.sh push OUTDIR REGISTRY_ADDR REPO:TAG    e.g. nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04
#
# Shaped like NVIDIA's: several layers (the OS; the CUDA runtime under /usr/local/cuda-12.4 with libcudart from
# PyPI's nvidia-cuda-runtime-cu12 wheel, /usr/local/cuda linked to it, ld.so.conf.d entries for
# /usr/local/nvidia/lib64; NVIDIA's entrypoint script, licence file and a cuDNN version header), no Python,
# NVIDIA's environment (PATH with /usr/local/cuda/bin, LD_LIBRARY_PATH with /usr/local/nvidia/lib64,
# NVIDIA_VISIBLE_DEVICES, NVIDIA_DRIVER_CAPABILITIES, CUDA_VERSION, NVIDIA_REQUIRE_CUDA, NV_CUDNN_VERSION…) and
# labels. With LARGE_MIB, three more layers holding that many MiB of generated library-like files in all
# (bench/make-tree.py), for benchmarks of a multi-GB base.
#
# How it differs from the real image (Docker Hub and Ubuntu's mirrors are out of reach here): the OS is Debian
# bookworm (debootstrap minbase + ca-certificates), not Ubuntu 22.04, so apt steps install Debian's packages;
# of CUDA only libcudart is real (no cuBLAS, cuDNN, nvcc or the stubs), which a model that loads torch's own
# CUDA wheels does not notice.
#
# DEBIAN_MIRROR overrides http://deb.debian.org/debian; PIP_INDEX_URL overrides https://pypi.org/simple.
# Needs root, debootstrap, umoci, oci-image-tool, skopeo, python3 and curl.
set -euo pipefail

CUDA=12.4
CUDA_FULL=12.4.1
CUDART=12.4.127
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
INDEX=${PIP_INDEX_URL:-https://pypi.org/simple}
HERE=$(cd "$(dirname "$0")" && pwd)

die() { echo "make-cuda-base-image: $*" >&2; exit 1; }
log() { echo "make-cuda-base-image: $*" >&2; }
need() { for c in "$@"; do command -v "$c" >/dev/null || die "$c not found (see scripts/install-deps.sh)"; done; }

# Downloads the manylinux x86_64 wheel of $1==$2 from the PyPI simple index into $3, checking its SHA-256.
wheel() {
  python3 - "$INDEX" "$1" "$2" "$3" <<'EOF'
import hashlib, re, sys, urllib.parse, urllib.request
index, name, version, out = sys.argv[1:]
page = urllib.request.urlopen(f"{index.rstrip('/')}/{name}/", timeout=60).read().decode()
wanted = name.replace("-", "_") + "-" + version + "-"
for href in re.findall(r'href="([^"]+)"', page):
    url, _, fragment = href.partition("#")
    file = urllib.parse.unquote(url.rsplit("/", 1)[-1])
    if file.startswith(wanted) and "manylinux" in file and file.endswith("x86_64.whl"):
        break
else:
    sys.exit(f"no manylinux x86_64 wheel of {name} {version} at {index}")
data = urllib.request.urlopen(urllib.parse.urljoin(f"{index.rstrip('/')}/{name}/", url), timeout=300).read()
if fragment.startswith("sha256=") and hashlib.sha256(data).hexdigest() != fragment[7:]:
    sys.exit(f"{file}: SHA-256 mismatch")
open(out, "wb").write(data)
EOF
}

# A tar of the directory $1 at $2, named as Docker's layers are, in a stable order.
layer_tar() { (cd "$1" && shopt -s dotglob && LC_ALL=C tar --numeric-owner --owner=0 --group=0 --sort=name -cf "$2" -- *); }

build() {
  local out=${1%/} large=${2:-0}
  if [ -f "$out/index.json" ]; then log "$out already built"; return; fi
  [ "$(id -u)" = 0 ] || die "debootstrap needs root"
  need debootstrap umoci oci-image-tool tar python3
  mkdir -p "$(dirname "$out")"
  work=$(mktemp -d "$out.work.XXXXXX")  # global: the EXIT trap runs after build() has returned
  trap 'rm -rf --one-file-system "$work"' EXIT
  trap 'exit 130' INT TERM
  local layout=$work/layout start=$SECONDS

  # MARK: the OS layer (Ubuntu's in the real image)
  local os=$work/os
  log "debootstrap bookworm (minbase, no Python) into $os"
  debootstrap --variant=minbase --include=ca-certificates bookworm "$os" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  [ ! -e "$os/usr/bin/python3" ] || die "the OS layer has Python; NVIDIA's images have none"
  rm -rf "$os"/var/lib/apt/lists/* "$os"/var/cache/apt/*.bin "$os"/var/cache/apt/archives/*.deb "$os"/tmp/*
  : >"$os/etc/resolv.conf"; rm -f "$os/etc/hostname"; rm -rf "${os:?}"/dev/*

  # MARK: the CUDA runtime layer
  local cuda=$work/cuda lib=usr/local/cuda-$CUDA/targets/x86_64-linux/lib
  mkdir -p "$cuda/$lib" "$cuda/usr/local/cuda-$CUDA/bin" "$cuda/etc/ld.so.conf.d"
  log "nvidia-cuda-runtime-cu12 $CUDART from $INDEX"
  wheel nvidia-cuda-runtime-cu12 "$CUDART" "$work/cudart.whl"
  python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open(sys.argv[2], "wb").write(z.read("nvidia/cuda_runtime/lib/libcudart.so.12"))' \
    "$work/cudart.whl" "$cuda/$lib/libcudart.so.$CUDART"
  ln -s "libcudart.so.$CUDART" "$cuda/$lib/libcudart.so.12"
  ln -s targets/x86_64-linux/lib "$cuda/usr/local/cuda-$CUDA/lib64"
  ln -s "cuda-$CUDA" "$cuda/usr/local/cuda"
  ln -s "cuda-$CUDA" "$cuda/usr/local/cuda-12"
  printf '/usr/local/nvidia/lib\n/usr/local/nvidia/lib64\n' >"$cuda/etc/ld.so.conf.d/nvidia.conf"
  printf '/usr/local/cuda/targets/x86_64-linux/lib\n' >"$cuda/etc/ld.so.conf.d/000_cuda.conf"

  # MARK: NVIDIA's entrypoint, licence and cuDNN layer
  local extra=$work/extra
  mkdir -p "$extra/opt/nvidia" "$extra/usr/include/x86_64-linux-gnu"
  printf '#!/bin/bash\n# Stand-in for NVIDIA'"'"'s entrypoint: prints the banner, then runs the command.\necho "== CUDA =="\necho "CUDA Version %s (stand-in)"\nexec "$@"\n' "$CUDA_FULL" \
    >"$extra/opt/nvidia/nvidia_entrypoint.sh"
  chmod 755 "$extra/opt/nvidia/nvidia_entrypoint.sh"
  echo "Stand-in for NVIDIA's container licence (test image, no NVIDIA software but libcudart)." >"$extra/NGC-DL-CONTAINER-LICENSE"
  printf '#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n' \
    >"$extra/usr/include/x86_64-linux-gnu/cudnn_version_v9.h"

  umoci init --layout "$layout"
  umoci new --image "$layout:cuda"
  local part
  for part in os cuda extra; do
    layer_tar "$work/$part" "$work/$part.tar"
    umoci raw add-layer --image "$layout:cuda" --history.created_by "stand-in: $part" "$work/$part.tar"
    rm -rf "${work:?}/$part" "$work/$part.tar"
  done
  if [ "$large" -gt 0 ]; then
    # As NVIDIA's devel images: the bulk in a few large layers (libraries, cuDNN, the toolkit).
    local name seed=1
    for name in libraries cudnn devel; do
      log "a layer of $((large / 3)) MiB of generated files ($name)"
      python3 "$HERE/../bench/make-tree.py" "$work/large/usr/local/cuda-$CUDA/$name" "$((large / 3))" "$seed" >&2
      layer_tar "$work/large" "$work/large.tar"
      rm -rf "$work/large"
      umoci raw add-layer --image "$layout:cuda" --history.created_by "stand-in: $((large / 3)) MiB ($name)" "$work/large.tar"
      rm -f "$work/large.tar"
      seed=$((seed + 1))
    done
  fi
  # NVIDIA's environment and labels (docker inspect nvidia/cuda:12.4.1-cudnn-devel-ubuntu22.04).
  local env=(
    PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    NVARCH=x86_64
    "NVIDIA_REQUIRE_CUDA=cuda>=$CUDA brand=tesla,driver>=470,driver<471 brand=nvidia,driver>=535,driver<536"
    NV_CUDA_CUDART_VERSION=$CUDART-1
    CUDA_VERSION=$CUDA_FULL
    LD_LIBRARY_PATH=/usr/local/nvidia/lib:/usr/local/nvidia/lib64
    NVIDIA_VISIBLE_DEVICES=all
    NVIDIA_DRIVER_CAPABILITIES=compute,utility
    NV_CUDNN_VERSION=9.1.0.70-1
    NV_CUDNN_PACKAGE_NAME=libcudnn9-cuda-12
    LIBRARY_PATH=/usr/local/cuda/lib64/stubs
  )
  local args=()
  for e in "${env[@]}"; do args+=(--config.env "$e"); done
  umoci config --image "$layout:cuda" --no-history "${args[@]}" \
    --config.label "maintainer=NVIDIA CORPORATION <cudatools@nvidia.com>" \
    --config.label "com.nvidia.cudnn.version=9.1.0.70-1" \
    --config.label "org.opencontainers.image.ref.name=ubuntu" \
    --config.label "org.opencontainers.image.version=22.04" \
    --config.entrypoint /opt/nvidia/nvidia_entrypoint.sh \
    --architecture amd64 --os linux
  umoci gc --layout "$layout"
  chmod -R a+rX "$layout"
  oci-image-tool validate --type image --ref name=cuda "$layout" >&2
  if ! mv -T "$layout" "$out" 2>/dev/null; then
    [ -f "$out/index.json" ] || die "cannot move the image to $out (remove it and retry)"
    log "$out was built concurrently; keeping that one"
  fi
  rm -rf "$work"
  trap - EXIT INT TERM
  log "built $out ($(du -sh "$out" | cut -f1) compressed) in $((SECONDS - start))s"
}

push() {
  [ $# -eq 3 ] || usage
  local out=${1%/} addr=$2 ref=$3
  need skopeo
  [ -f "$out/index.json" ] || die "$out is not built yet (run: $0 $out)"
  skopeo copy --quiet --dest-tls-verify=false "oci:$out:cuda" "docker://$addr/$ref" >&2
  log "pushed $out to $addr/$ref"
}

usage() { die "usage: $0 OUTDIR [LARGE_MIB] | $0 push OUTDIR REGISTRY_ADDR REPO:TAG"; }

case ${1:-} in
  ""|-h|--help) usage ;;
  push) shift; push "$@" ;;
  *) [ $# -le 2 ] || usage; build "$@" ;;
esac
