#!/usr/bin/env bash
# Capture time for a step that writes ten files on top of a ~1 GiB base (the Debian test rootfs plus the
# benchmark tree under /opt/data): the overlay method (only the upper dir is read) against a full-tree
# snapshot comparison (every path is stat'ed before and after), in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
bench=${COG_BENCH_DIR:-/var/tmp/cog-bench}
work=$bench/capture
[ -d "$bench/tree-$size" ] || python3 bench/make-tree.py "$bench/tree-$size" "$size" >/dev/null
swift build -c release --product cog >/dev/null
base=$(scripts/make-base-image.sh /var/cache/cog-test/python-3.11-slim >/dev/null 2>&1; echo /var/cache/cog-test/python-3.11-slim)
rm -rf "$work"; mkdir -p "$work/debian" "$work/data/opt" "$work/full"
for blob in $(python3 -c "import json,sys;i=json.load(open('$base/index.json'))['manifests'][0]['digest'].split(':')[1];m=json.load(open('$base/blobs/sha256/'+i));print(' '.join(l['digest'].split(':')[1] for l in m['layers']))"); do
  bsdtar -xpf "$base/blobs/sha256/$blob" -C "$work/debian"
done
cp -al "$bench/tree-$size" "$work/data/opt/data"          # hard links: no data copied
cp -a "$work/debian/." "$work/full/"; cp -al "$bench/tree-$size" "$work/full/opt/data"
echo "base: $(find "$work/full" | wc -l) paths, $(du -sh "$work/full" | cut -f1)"
.build/release/cog capture-bench --lower "$work/data" --lower "$work/debian" --rootfs "$work/full" --work "$work/scratch"
