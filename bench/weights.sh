#!/usr/bin/env bash
# Managed weights: `cog weights import` of a model folder (one SIZE_MIB MiB .safetensors of random bytes and 300
# small JSON files, some with non-ASCII names) to a loopback registry, against `skopeo copy` pushing the same
# .safetensors as one uncompressed layer from an OCI layout to the same kind of registry; then `cog weights pull`
# into an emptied store. Prints wall times, the ratio (cog / skopeo) and cog's own peak memory (VmHWM, from
# /usr/bin/time -v: cog starts no child process in these commands). Usage: SIZE_MIB=1024 bench/weights.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
size=${SIZE_MIB:-1024}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/weights
command -v skopeo >/dev/null || { echo "skopeo is not installed (apt-get install skopeo)" >&2; exit 1; }
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi
cog=$(realpath "${COG_BIN:-$root/.build/release/cog}")
rm -rf "$work"; mkdir -p "$work/model/w/tokenizer" "$work/layout/blobs/sha256"
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT

head -c "$((size << 20))" /dev/urandom > "$work/model/w/model.safetensors"
for i in $(seq 1 300); do printf '{"id": %d, "name": "données-%d"}\n' "$i" "$i" > "$work/model/w/tokenizer/vocab-$i.json"; done
cat > "$work/model/cog.yaml" <<'YAML'
build:
  python_version: "3.11"
predict: "predict.py:Predictor"
model: bench/weights
weights:
  - name: model
    target: /src/weights
    source:
      uri: file://./w
YAML

# The peer: the same file as one uncompressed layer in an OCI layout, pushed by skopeo.
python3 - "$work" <<'PY'
import hashlib, json, os, sys, tarfile
work = sys.argv[1]
blobs = os.path.join(work, "layout", "blobs", "sha256")
def put(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}
layer_path = os.path.join(work, "layer.tar")
with tarfile.open(layer_path, "w", format=tarfile.PAX_FORMAT) as tar:
    tar.add(os.path.join(work, "model", "w", "model.safetensors"), arcname="model.safetensors")
h = hashlib.sha256()
with open(layer_path, "rb") as f:
    for chunk in iter(lambda: f.read(1 << 20), b""): h.update(chunk)
layer = {"digest": "sha256:" + h.hexdigest(), "size": os.path.getsize(layer_path)}
os.rename(layer_path, os.path.join(blobs, h.hexdigest()))
config = put(json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]}}).encode())
manifest = put(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(mediaType="application/vnd.oci.image.config.v1+json", **config),
    "layers": [dict(mediaType="application/vnd.oci.image.layer.v1.tar", **layer)]}).encode())
json.dump({"schemaVersion": 2, "manifests": [dict(mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"org.opencontainers.image.ref.name": "v1"}, **manifest)]}, open(os.path.join(work, "layout", "index.json"), "w"))
open(os.path.join(work, "layout", "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
PY

measure() {  # LABEL COMMAND…: wall seconds and peak memory (MiB) of one run
    local log="$work/$1.time"; shift
    /usr/bin/time -v "$@" >"$log.out" 2>"$log" || { tail -20 "$log" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$log")
}
export COG_CACHE_DIR="$work/cache" COG_MODEL_REGISTRY="$addr"
cd "$work/model"
measure skopeo skopeo copy --quiet --dest-tls-verify=false "oci:$work/layout:v1" "docker://$addr/bench/peer:v1"
peer_wall=$wall peer_rss=$rss
measure import "$cog" weights import
import_wall=$wall import_rss=$rss
rm -rf "$work/cache/weights/files"
measure pull "$cog" weights pull
pull_wall=$wall pull_rss=$rss
printf 'weights: %s MiB .safetensors + 300 small files\n' "$size"
printf 'skopeo copy (one layer)      %6.2f s  %5s MiB peak\n' "$peer_wall" "$peer_rss"
printf 'cog weights import           %6.2f s  %5s MiB peak  (%.2fx skopeo)\n' "$import_wall" "$import_rss" \
    "$(echo "$import_wall / $peer_wall" | bc -l)"
printf 'cog weights pull (cold)      %6.2f s  %5s MiB peak\n' "$pull_wall" "$pull_rss"
