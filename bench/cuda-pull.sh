#!/usr/bin/env bash
# A multi-GB CUDA base from a loopback registry to unpacked layers: `cog pull` (each layer unpacked as soon as it
# has arrived, while the others download) against `skopeo copy` + `umoci unpack` (download, then unpack), in one
# run, alternating which goes first. Holds the build lock (/tmp/swift-build.lock) throughout, so no Swift build of
# another engineer shares the machine with the measurement.
#
#   bench/cuda-pull.sh [SIZE_MIB] [ROUNDS]     default 3072 MiB of generated libraries, 1 round each way
#
# The stand-in image (scripts/make-cuda-base-image.sh with SIZE_MIB: the OS, CUDA runtime and entrypoint layers,
# then three layers of SIZE_MIB/3 each) is made once under $COG_BENCH_DIR (default /var/tmp/cog-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-3072}
rounds=${2:-1}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/cuda-pull
mkdir -p "$work"
image=$work/nvidia-cuda-$size
./scripts/make-cuda-base-image.sh "$image" "$size"  # before the lock: making it is not measured

exec 9>/tmp/swift-build.lock
echo "waiting for the build lock..." >&2
flock 9
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build
cog=${COG_BIN:-$(pwd)/.build/release/cog}

registry_dir=$work/registry
rm -rf "$registry_dir"
registry=$(./scripts/test-registry.sh start "$registry_dir")
cleanup() {
  ./scripts/test-registry.sh stop "$registry_dir" || true
  rm -rf "$registry_dir" "$work/peer" "$work/cog-cache"
}
trap cleanup EXIT
./scripts/make-cuda-base-image.sh push "$image" "$registry" "nvidia/cuda:bench"
ref=$registry/nvidia/cuda:bench
compressed=$(du -sm "$image/blobs" | cut -f1)

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
peer() {
  rm -rf "$work/peer"
  mkdir -p "$work/peer"
  local start middle; start=$(now)
  skopeo copy --quiet --src-tls-verify=false "docker://$ref" "oci:$work/peer/layout:bench"
  middle=$(now)
  umoci unpack --image "$work/peer/layout:bench" "$work/peer/bundle" >/dev/null
  echo "$(calc "$(now) - $start") $(calc "$middle - $start")"
}
ours() {
  rm -rf "$work/cog-cache"
  local start; start=$(now)
  COG_CACHE_DIR=$work/cog-cache "$cog" pull "$ref" --progress quiet >/dev/null
  calc "$(now) - $start"
}

peer_total=0
cog_total=0
for round in $(seq 1 "$rounds"); do
  sync
  if [ $((round % 2)) = 1 ]; then p=$(peer); sync; c=$(ours); else c=$(ours); sync; p=$(peer); fi
  copy=${p#* }
  p=${p% *}
  printf 'round %d: skopeo copy + umoci unpack %.2f s (copy %.2f s), cog pull %.2f s\n' "$round" "$p" "$copy" "$c"
  peer_total=$(calc "$peer_total + $p")
  cog_total=$(calc "$cog_total + $c")
done
unpacked=$(du -sm "$work/cog-cache/layers" 2>/dev/null | cut -f1 || echo "?")
layers=$(python3 -c 'import json, sys
index = json.load(open(sys.argv[1] + "/index.json"))
digest = index["manifests"][0]["digest"].split(":")[1]
print(len(json.load(open(sys.argv[1] + "/blobs/sha256/" + digest))["layers"]))' "$image")
printf 'image: %s MiB compressed, %s MiB unpacked, %s layers\n' "$compressed" "$unpacked" "$layers"
printf 'mean: skopeo copy + umoci unpack %.2f s, cog pull %.2f s, ratio cog/peer %.2f\n' \
  "$(calc "$peer_total / $rounds")" "$(calc "$cog_total / $rounds")" "$(calc "$cog_total / $peer_total")"
