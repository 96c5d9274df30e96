#!/usr/bin/env bash
# Push and pull against the same loopback registry: cog against skopeo copy, in one run.
# An image with one 1 GiB layer and ten small ones; cold push (empty registry), repeated push (every blob
# present), and a pull. Usage: bench/registry.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/registry
image="$work/image-$size"
mkdir -p "$work"
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build of cog
cog=${COG_BIN:-$(pwd)/.build/release/cog}

if [ ! -f "$image/index.json" ]; then
  echo "making the test image (once)..." >&2
  rm -rf "$image.tmp" "$work/layers"; mkdir -p "$work/layers"
  umoci init --layout "$image.tmp" >/dev/null
  umoci new --image "$image.tmp:bench" >/dev/null
  mkdir -p "$work/layers/big"
  head -c $((size << 20)) /dev/urandom > "$work/layers/big/blob.bin"
  tar -C "$work/layers/big" -cf "$work/layers/big.tar" .
  umoci raw add-layer --image "$image.tmp:bench" "$work/layers/big.tar" >/dev/null
  for i in $(seq 1 10); do
    mkdir -p "$work/layers/s$i"; head -c $((i * 4096)) /dev/urandom > "$work/layers/s$i/f$i"
    tar -C "$work/layers/s$i" -cf "$work/layers/s$i.tar" .
    umoci raw add-layer --image "$image.tmp:bench" "$work/layers/s$i.tar" >/dev/null
  done
  umoci gc --layout "$image.tmp"; chmod -R a+rX "$image.tmp"; mv "$image.tmp" "$image"; rm -rf "$work/layers"
fi

measure() { # name command...: prints "name seconds maxrss_kib"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
  read -r secs rss < "$work/time"; echo "$name $secs $rss"
}
stop_all() { for d in "$work"/reg-*; do scripts/test-registry.sh stop "$d" >/dev/null 2>&1 || true; done; }
trap stop_all EXIT
rm -rf "$work"/reg-* "$work"/pull-* "$work/cache"
a=$(scripts/test-registry.sh start "$work/reg-skopeo"); b=$(scripts/test-registry.sh start "$work/reg-cog")
results=()
results+=("$(measure skopeo-push-cold skopeo copy --dest-tls-verify=false "oci:$image:bench" "docker://$a/bench/img:v1")")
results+=("$(measure cog-push-cold "$cog" push --oci-layout "$image" "$b/bench/img:v1" --progress quiet)")
results+=("$(measure skopeo-push-again skopeo copy --dest-tls-verify=false "oci:$image:bench" "docker://$a/bench/img:v1")")
results+=("$(measure cog-push-again "$cog" push --oci-layout "$image" "$b/bench/img:v1" --progress quiet)")
results+=("$(measure skopeo-pull skopeo copy --src-tls-verify=false "docker://$a/bench/img:v1" "oci:$work/pull-skopeo:v1")")
results+=("$(measure cog-pull env COG_CACHE_DIR="$work/cache" "$cog" pull "$b/bench/img:v1" --oci-out "$work/pull-cog" --progress quiet)")

printf '%-20s %8s %12s\n' run seconds peak-RSS-MiB
declare -A t
for r in "${results[@]}"; do read -r n s m <<<"$r"; t[$n]=$s; printf '%-20s %8s %12s\n' "$n" "$s" "$((m / 1024))"; done
python3 - "${t[cog-push-cold]}" "${t[skopeo-push-cold]}" "${t[cog-push-again]}" "${t[skopeo-push-again]}" "${t[cog-pull]}" "${t[skopeo-pull]}" <<'PY'
import sys
c, s, ca, sa, cp, sp = map(float, sys.argv[1:])
r = lambda a, b: a / b if b else float('inf')
print(f"cold push cog/skopeo: {r(c,s):.2f}x (goal <= 0.8)   repeated push: {r(ca,sa):.2f}x (goal <= 1.0)   pull: {r(cp,sp):.2f}x (goal <= 0.8)")
PY
