#!/usr/bin/env bash
# zlib against libdeflate on one core, 1 MiB blocks of the layer benchmark's tree (the first SIZE_MIB of its
# tar), at LEVEL, and gzip -6's size for reference. Usage: bench/deflate.sh [SIZE_MIB] [LEVEL]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-256}; level=${2:-6}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}
tree="$work/tree-1024"
mkdir -p "$work"
[ -d "$tree" ] || python3 bench/make-tree.py "$tree.tmp" 1024 && { [ -d "$tree" ] || mv "$tree.tmp" "$tree"; }
gcc -O2 -o "$work/deflate-blocks" bench/deflate-blocks.c -ldeflate -lz
{ tar -C "$tree" --sort=name -cf - . || true; } | head -c $((size << 20)) > "$work/sample.tar"  # tar stops on SIGPIPE
"$work/deflate-blocks" "$work/sample.tar" "$level"
echo "gzip -$level      $(gzip -"$level" -c "$work/sample.tar" | wc -c) bytes"
