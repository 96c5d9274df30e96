#!/usr/bin/env bash
# The registry step cache: machine A builds a small model with apt and pip steps and pushes it with --cache-to;
# machine B (an empty COG_CACHE_DIR) builds the same model with --cache-from and --oci-out, and is timed against
# `skopeo copy docker://… oci:…` of the pushed image from the same loopback registry. Prints both times, the
# ratio (goal <= 1.3) and whether B's image is the one A pushed.
# Downloads about 100 MB from Debian and PyPI on machine A's build (not timed). Usage: bench/cache.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/cache
command -v skopeo >/dev/null || { echo "skopeo is not installed (apt-get install skopeo)" >&2; exit 1; }
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build of cog
cog=$(realpath "${COG_BIN:-$root/.build/release/cog}")
rm -rf "$work"; mkdir -p "$work/model"
base=/var/cache/cog-test/python-3.11-slim
scripts/make-base-image.sh "$base" >/dev/null
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT
scripts/make-base-image.sh push "$base" "$addr" >/dev/null

cat > "$work/model/cog.yaml" <<'EOF'
build:
  python_version: "3.11"
  system_packages: ["libgomp1", "cowsay"]
  python_packages: ["numpy==2.1.3", "scipy==1.14.1", "pillow==11.0.0"]
  run:
    - date +%s.%N > /built-at
predict: "predict.py:Predictor"
EOF
cat > "$work/model/predict.py" <<'EOF'
from cog import BasePredictor, Input


class Predictor(BasePredictor):
    def predict(self, n: int = Input(description="Size", default=3, ge=1)) -> int:
        return n * 2
EOF
image="$addr/bench/model:v1"
cache="$addr/bench/cache"
timed() { local start; start=$(date +%s.%N); "$@"; python3 -c "import sys,time; print(f'{time.time()-float(sys.argv[1]):.2f}')" "$start"; }

# MARK: machine A: build, push, export every step
(cd "$work/model" && COG_REGISTRY_MIRRORS=docker.io=$addr COG_CACHE_DIR="$work/cache-a" \
  "$cog" push "$image" --cache-to "$cache" --progress plain >"$work/a.out" 2>"$work/a.err") \
  || { tail -30 "$work/a.err" >&2; exit 1; }
pushed=$(tail -1 "$work/a.out"); pushed=${pushed##*@}

# MARK: machine B: every step from the registry cache, against skopeo copying the image (alternating, median)
machine_b() {
  rm -rf "$work/cache-b" "$work/b-out"
  (cd "$work/model" && COG_REGISTRY_MIRRORS=docker.io=$addr COG_CACHE_DIR="$work/cache-b" \
    "$cog" build --cache-from "$cache" --oci-out "$work/b-out" --progress plain >"$work/b.out" 2>"$work/b.err") \
    || { tail -30 "$work/b.err" >&2; exit 1; }
}
copy() { rm -rf "$work/skopeo-out"; skopeo copy -q --src-tls-verify=false "docker://$image" "oci:$work/skopeo-out:v1" >/dev/null; }
# For reference: the same image pulled and unpacked by cog (what a build needs before its metadata step).
pull() { rm -rf "$work/cache-p"; COG_CACHE_DIR="$work/cache-p" "$cog" pull "$image" --progress quiet >/dev/null 2>"$work/pull.err"; }
rounds=${ROUNDS:-3}
cog_times=(); skopeo_times=(); pull_times=()
for _ in $(seq "$rounds"); do
  cog_times+=("$(timed machine_b)"); skopeo_times+=("$(timed copy)"); pull_times+=("$(timed pull)")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cog_time=$(median "${cog_times[@]}"); skopeo_time=$(median "${skopeo_times[@]}"); pull_time=$(median "${pull_times[@]}")
built=$(tail -1 "$work/b.out")
ran=$(grep -c "ran in" "$work/b.err" || true)
imported=$(grep -c "imported from the registry cache" "$work/b.err" || true)
size=$(du -sb "$work/skopeo-out" | cut -f1)
layers=$(python3 -c "import json,sys; d=sys.argv[1]; i=json.load(open(d+'/index.json')); m=json.load(open(d+'/blobs/sha256/'+i['manifests'][0]['digest'][7:])); print(len(m['layers']))" "$work/skopeo-out")
printf 'image: %s MB in %s layers; median of %s alternating rounds\n' "$((size / 1000000))" "$layers" "$rounds"
printf '%-48s %6s s  (%s)\n' "cog build --cache-from --oci-out (empty cache)" "$cog_time" "${cog_times[*]}" \
  "skopeo copy docker:// oci:" "$skopeo_time" "${skopeo_times[*]}" \
  "cog pull (download + unpack; reference)" "$pull_time" "${pull_times[*]}"
echo "machine B: $imported steps imported, $ran run; image $([ "$built" = "$pushed" ] && echo "identical to" || echo "DIFFERENT from") the pushed one ($pushed)"
python3 -c "import sys; c,s,p=map(float,sys.argv[1:]); print(f'cog --cache-from / skopeo copy: {c/s:.2f}x (goal <= 1.3); / cog pull: {c/p:.2f}x')" "$cog_time" "$skopeo_time" "$pull_time"
