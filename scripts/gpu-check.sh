#!/usr/bin/env bash
# GPUs end to end, for a machine with an NVIDIA GPU, its driver and the network (Docker Hub and PyPI); the
# tests use a stand-in GPU instead (Tests/cogTests/GPUPredictTests.swift), so this is not part of `make test`.
#
#   scripts/gpu-check.sh [WORKDIR]        as root; default WORKDIR /var/tmp/cog-gpu-check
#
# For two bases — python:3.11-slim (--use-cuda-base-image=false: CUDA comes with torch's wheels) and the
# nvidia/cuda image Cog's tables pick for torch 2.5.1 (Python provisioned with uv) — it builds a `gpu: true`
# model with torch from PyPI (its CUDA 12.4 wheels), pushes it to a loopback registry, and runs `cog predict`
# as root, as a user with a subordinate id range (cog-gpu-check, made here) and as nobody (after `cog pull`);
# each prediction prints torch.cuda.is_available(), the device name and the sum of a 4×4 matmul on the GPU
# (3920.0). GPUs come from the CDI specs in /etc/cdi and /var/run/cdi when there are any (nvidia-ctk cdi
# generate), else from the driver itself. Ends with "gpu-check: N passed, N failed".
#
# If torch says "CUDA unknown error": /dev/nvidia-uvm is missing; load it with `nvidia-modprobe -c0 -u`.
set -uo pipefail
cd "$(dirname "$0")/.."
work=${1:-/var/tmp/cog-gpu-check}
[ "$(id -u)" = 0 ] || { echo "gpu-check: run as root (it makes a test user and switches to it)" >&2; exit 2; }
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "gpu-check: nvidia-smi not found; the driver may be missing" >&2
ls /dev/nvidia-uvm >/dev/null 2>&1 || echo "gpu-check: /dev/nvidia-uvm is missing: run nvidia-modprobe -c0 -u first" >&2

./scripts/install-deps.sh
swift build --product cog >/dev/null || exit 1
mkdir -p "$work/bin"
cp .build/debug/cog "$work/bin/" && cp -r .build/debug/*.resources "$work/bin/" 2>/dev/null
chmod -R a+rX "$work"
cog=$work/bin/cog

registry_dir=$work/registry
registry=$(./scripts/test-registry.sh start "$registry_dir") || exit 1
trap './scripts/test-registry.sh stop "$registry_dir"' EXIT

user=cog-gpu-check
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  usermod --add-subuids 500000-565535 --add-subgids 500000-565535 "$user"
fi

mkdir -p "$work/model"
cat >"$work/model/cog.yaml" <<'EOF'
build:
  gpu: true
  python_version: "3.11"
  python_packages:
    - "torch==2.5.1"
predict: "predict.py:Predictor"
EOF
cat >"$work/model/predict.py" <<'EOF'
import torch
from cog import BasePredictor


class Predictor(BasePredictor):
    def predict(self) -> str:
        if not torch.cuda.is_available():
            return "torch.cuda.is_available()=False"
        a = torch.arange(16.0, device="cuda").reshape(4, 4)
        total = (a @ a).sum().item()
        return f"torch.cuda.is_available()=True device={torch.cuda.get_device_name(0)} matmul_sum={total}"
EOF
chmod -R a+rX "$work/model"

passed=0
failed=0
check() {  # check NAME OUTPUT
  if printf '%s\n' "$2" | grep -q "torch.cuda.is_available()=True .*matmul_sum=3920.0"; then
    echo "PASS $1: $(printf '%s\n' "$2" | grep 'torch.cuda' | tail -n 1)"
    passed=$((passed + 1))
  else
    echo "FAIL $1:"
    printf '%s\n' "$2" | tail -n 20
    failed=$((failed + 1))
  fi
}

for base in python cuda; do
  flags=()
  [ "$base" = python ] && flags=(--use-cuda-base-image=false)
  target=$registry/gpu-check/$base:latest
  echo "== $base base: build as root"
  (cd "$work/model" && COG_CACHE_DIR=$work/cache-root "$cog" build -t "$target" "${flags[@]}" --progress plain) \
    || { failed=$((failed + 1)); continue; }
  check "$base base, root" "$(cd "$work/model" && COG_CACHE_DIR=$work/cache-root "$cog" predict "$target" 2>&1)"
  (cd "$work/model" && COG_CACHE_DIR=$work/cache-root "$cog" push "$target" "${flags[@]}" --progress quiet) \
    || { failed=$((failed + 1)); continue; }
  for who in "$user" nobody; do
    home=$work/home-$who
    mkdir -p "$home"
    chown -R "$who:" "$home" 2>/dev/null || chown -R "$who" "$home"
    as=(setpriv --reuid="$(id -u "$who")" --regid="$(id -g "$who")" --clear-groups env HOME="$home" COG_CACHE_DIR="$home/cache")
    (cd "$home" && "${as[@]}" "$cog" pull "$target" >/dev/null) || { failed=$((failed + 1)); continue; }
    check "$base base, $who" "$(cd "$home" && "${as[@]}" "$cog" predict "$target" 2>&1)"
  done
done
echo "gpu-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
