#!/usr/bin/env bash
# An ML-sized model (about 3 GB of CUDA wheels and the scientific stack: nvidia-cublas-cu12, nvidia-cudnn-cu12,
# numpy, scipy; no torch) built and pushed cold by cog and by buildah (bud --isolation chroot, then buildah push),
# each to a loopback registry of its own, from the same base; then a second model sharing all but one requirement
# (pillow instead of scipy), pushed to another repository after the first. Prints the times, the bytes each
# registry received for the second model, the ratios, and cog's own peak memory (VmHWM of the cog process,
# sampled every 0.1 s; pip runs in other processes and is not counted).
# Downloads about 3 GB from PyPI (each tool has its own pip cache). Usage: bench/ml.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/ml
command -v buildah >/dev/null || { echo "buildah is not installed (apt-get install buildah)" >&2; exit 1; }
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build of cog
cog=$(realpath "${COG_BIN:-$root/.build/release/cog}")  # absolute: commands run in the model dirs
grep -o "$work/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$work" /var/tmp/buildah-cache /var/tmp/buildah-cache-*; mkdir -p "$work"
base=/var/cache/cog-test/python-3.11-slim
scripts/make-base-image.sh "$base" >/dev/null
cog_registry=$(scripts/test-registry.sh start "$work/registry-cog")
buildah_registry=$(scripts/test-registry.sh start "$work/registry-buildah")
trap '"$root/scripts/test-registry.sh" stop "$work/registry-cog" >/dev/null 2>&1 || true; "$root/scripts/test-registry.sh" stop "$work/registry-buildah" >/dev/null 2>&1 || true' EXIT
scripts/make-base-image.sh push "$base" "$cog_registry" >/dev/null
scripts/make-base-image.sh push "$base" "$buildah_registry" >/dev/null

shared="nvidia-cublas-cu12==12.4.5.8 nvidia-cudnn-cu12==9.1.0.70 numpy==2.1.3"
model() { # name, extra requirement
  mkdir -p "$work/$1"
  { printf 'build:\n  python_version: "3.11"\n  python_packages:\n'
    for r in $shared $2; do printf '    - "%s"\n' "$r"; done
    printf 'predict: "predict.py:Predictor"\n'; } > "$work/$1/cog.yaml"
  cat > "$work/$1/predict.py" <<'EOF'
import numpy as np
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(description="Size", default=3, ge=1)) -> float:
        return float(np.ones(n).sum())
EOF
  mkdir -p "$work/$1/cog_build"; for r in $shared $2; do echo "$r"; done > "$work/$1/cog_build/requirements.txt"
  # buildah's input: the plan as a Dockerfile, FROM its registry, the host CA for pip (as cog's sandbox provides it).
  (cd "$work/$1" && COG_REGISTRY_MIRRORS=docker.io=$buildah_registry "$cog" debug 2>/dev/null) \
    | sed "s|^FROM python:3.11-slim|FROM $buildah_registry/library/python:3.11-slim\nENV PIP_CERT=/run/ca.crt SSL_CERT_FILE=/run/ca.crt|" \
    | grep -v "^LABEL" | sed "s/,sharing=locked//g" > "$work/$1/Dockerfile"
}
model one scipy==1.14.1
model two pillow==11.0.0

cog_push() { # model, repository: cog build + push (one command, pushing while it builds), peak VmHWM sampled
  env -C "$work/$1" COG_REGISTRY_MIRRORS=docker.io=$cog_registry COG_CACHE_DIR="$work/cog-cache" \
    "$cog" push "$cog_registry/$2" --progress plain >"$work/$1.cog.out" 2>&1 &
  local pid=$! peak=0 hwm  # env execs cog: the same process
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
    sleep 0.1
  done
  wait "$pid" || { tail -30 "$work/$1.cog.out" >&2; exit 1; }
  echo "$peak" > "$work/$1.cog.peak"
}
buildah=(buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay)
buildah_bud() { # model
  (cd "$work/$1" && "${buildah[@]}" bud --isolation chroot --layers --tls-verify=false \
    --volume /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro --build-context cog_build="$work/$1/cog_build" \
    -f "$work/$1/Dockerfile" -t "bench-$1" . >>"$work/$1.buildah.out" 2>&1) || { tail -30 "$work/$1.buildah.out" >&2; exit 1; }
}
cog_build() { # model: a local build, no push
  env -C "$work/$1" COG_REGISTRY_MIRRORS=docker.io=$cog_registry COG_CACHE_DIR="$work/cog-cache" \
    "$cog" build -t "bench-$1" --progress plain >>"$work/$1.cog.out" 2>&1 || { tail -30 "$work/$1.cog.out" >&2; exit 1; }
}
buildah_push() { # model, repository: buildah bud then buildah push
  local b=("${buildah[@]}")
  buildah_bud "$1"
  "${b[@]}" push --tls-verify=false "bench-$1" "docker://$buildah_registry/$2" >>"$work/$1.buildah.out" 2>&1 \
    || { tail -30 "$work/$1.buildah.out" >&2; exit 1; }
}
stored() { du -sb "$work/$1/data" | cut -f1; }
timed() { local start; start=$(date +%s.%N); "$@"; python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.1f}')" "$start"; }

cog_before=$(stored registry-cog); buildah_before=$(stored registry-buildah)
cog_cold=$(timed cog_push one ml/one:v1)
buildah_cold=$(timed buildah_push one ml/one:v1)
cog_first=$(( $(stored registry-cog) - cog_before )); buildah_first=$(( $(stored registry-buildah) - buildah_before ))
cog_second_time=$(timed cog_push two ml/two:v1)
buildah_second_time=$(timed buildah_push two ml/two:v1)
cog_second=$(( $(stored registry-cog) - cog_before - cog_first )); buildah_second=$(( $(stored registry-buildah) - buildah_before - buildah_first ))
# A code edit on the ML model: cog writes the code layer and the schema (read from the source, numpy and scipy not
# imported); buildah re-runs the COPY and what follows it.
echo "# edited" >> "$work/one/predict.py"
cog_rebuild=$(timed cog_build one)
buildah_rebuild=$(timed buildah_bud one)

echo "model one: $(grep -E '^[0-9]+ blobs' "$work/one.cog.out" || true)"
echo "model two: $(grep -E '^[0-9]+ blobs' "$work/two.cog.out" || true)"
grep -E "package layer" "$work/one.cog.out" | head -3 || true
python3 - "$cog_cold" "$buildah_cold" "$cog_first" "$buildah_first" "$cog_second_time" "$buildah_second_time" \
  "$cog_second" "$buildah_second" "$(cat "$work/one.cog.peak")" "$(cat "$work/two.cog.peak")" \
  "$cog_rebuild" "$buildah_rebuild" <<'PY'
import sys
cc, bc, c1, b1, ct2, bt2, c2, b2, p1, p2, cr, br = map(float, sys.argv[1:])
mb = lambda n: f"{n / 1e6:,.1f} MB"
print(f"{'':34}{'cog':>14}{'buildah':>14}{'ratio':>9}")
print(f"{'cold build + push, model one (s)':34}{cc:>14.1f}{bc:>14.1f}{cc / bc:>8.2f}x   (goal <= 0.6)")
print(f"{'registry received, model one':34}{mb(c1):>14}{mb(b1):>14}{c1 / b1:>8.2f}x")
print(f"{'build + push, model two (s)':34}{ct2:>14.1f}{bt2:>14.1f}{ct2 / bt2:>8.2f}x")
print(f"{'registry received, model two':34}{mb(c2):>14}{mb(b2):>14}{c2 / b2:>8.2f}x")
print(f"{'rebuild after a code edit (s)':34}{cr:>14.2f}{br:>14.2f}{cr / br:>8.2f}x   (goal <= 1.0)")
print(f"second push / first push, bytes: cog {c2 / c1:.1%} (goal < 5%), buildah {b2 / b1:.1%}")
print(f"cog's own peak memory (VmHWM): model one {p1 / 1024:.0f} MiB, model two {p2 / 1024:.0f} MiB (goal < 150)")
PY
