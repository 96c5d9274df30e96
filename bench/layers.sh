#!/usr/bin/env bash
# Layer writing throughput: cog (tar + both digests + parallel gzip) against tar | gzip -6 and tar | pigz -6,
# on the same ~1 GiB tree in one run. Usage: bench/layers.sh [SIZE_MIB]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}
tree="$work/tree-$size"
mkdir -p "$work"
[ -d "$tree" ] || python3 bench/make-tree.py "$tree.tmp" "$size" && { [ -d "$tree" ] || mv "$tree.tmp" "$tree"; }
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build of cog
cog=${COG_BIN:-.build/release/cog}
out="$work/out"; rm -rf "$out"; mkdir -p "$out"
tar -C "$tree" --sort=name -cf - . | wc -c > "$work/tar-bytes"   # warms the page cache
bytes=$(cat "$work/tar-bytes")

measure() { # name, command: prints "name seconds maxrss_kib"
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$*" >/dev/null
  read -r secs rss < "$work/time"
  echo "$name $secs $rss"
}
results=()
results+=("$(measure 'tar|gzip-6' "tar -C '$tree' --sort=name -cf - . | gzip -6 > '$out/gzip.tgz'")")
results+=("$(measure 'tar|pigz-6' "tar -C '$tree' --sort=name -cf - . | pigz -6 > '$out/pigz.tgz'")")
results+=("$(measure 'tar|pigz-6+digests' "tar -C '$tree' --sort=name -cf - . | tee >(sha256sum > '$out/diffid') | pigz -6 | tee >(sha256sum > '$out/digest') > '$out/pigz2.tgz'")")
results+=("$(measure 'cog-layer' "'$cog' layer '$tree' --store '$out/store'")")

printf '%-20s %8s %10s %12s\n' tool seconds MB/s peak-RSS-MiB
declare -A speed
for r in "${results[@]}"; do
  read -r name secs rss <<<"$r"
  mbs=$(python3 -c "print(f'{$bytes/1e6/$secs:.1f}')")
  speed[$name]=$mbs
  printf '%-20s %8s %10s %12s\n' "$name" "$secs" "$mbs" "$((rss / 1024))"
done
python3 - "${speed[cog-layer]}" "${speed[tar|gzip-6]}" "${speed[tar|pigz-6]}" "${speed[tar|pigz-6+digests]}" <<'PY'
import sys
cog, gz, pigz, pigzd = map(float, sys.argv[1:])
print(f"cog / gzip-6: {cog/gz:.2f}x (goal >= 2.0)   cog / pigz-6: {cog/pigz:.2f}x (goal >= 0.9)   cog / pigz+digests: {cog/pigzd:.2f}x")
PY
ls -l "$out"/*.tgz "$out"/store/sha256/* | awk '{print $5, $9}'
