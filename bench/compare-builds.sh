#!/usr/bin/env bash
# Cold builds of examples/hello (empty COG_CACHE_DIR, same base in one loopback registry) with two cog binaries,
# alternating which goes first, in one run: the cost of a change such as the sandbox's confinement.
#
#   bench/compare-builds.sh BEFORE_COG AFTER_COG [ROUNDS]      (e.g. BEFORE_COG built from the previous commit)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ $# -ge 2 ] || { echo "usage: $0 BEFORE_COG AFTER_COG [ROUNDS]" >&2; exit 1; }
before=$(realpath "$1") after=$(realpath "$2") rounds=${3:-3}
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/compare
rm -rf "$work"; mkdir -p "$work"
base=/var/cache/cog-test/python-3.11-slim
scripts/make-base-image.sh "$base" >/dev/null 2>&1
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT  # absolute: we cd away
scripts/make-base-image.sh push "$base" "$addr" >/dev/null
cp -r examples/hello "$work/model"
cd "$work/model"

declare -A times=([before]="" [after]="")
build() {  # NAME BINARY: one cold build, prints its seconds
  rm -rf "$work/cache-$1"
  local start end
  start=$(date +%s.%N)
  COG_REGISTRY_MIRRORS=docker.io=$addr COG_CACHE_DIR="$work/cache-$1" "$2" build --progress quiet >/dev/null 2>"$work/$1.err" \
    || { tail -20 "$work/$1.err" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.2f}')"
}
for round in $(seq 1 "$rounds"); do
  order="before after"; [ $((round % 2)) -eq 0 ] && order="after before"
  for name in $order; do
    binary=$before; [ "$name" = after ] && binary=$after
    seconds=$(build "$name" "$binary")
    times[$name]+="$seconds "
    echo "round $round $name ${seconds}s"
  done
done
python3 - "${times[before]}" "${times[after]}" <<'EOF'
import statistics, sys
before, after = ([float(x) for x in arg.split()] for arg in sys.argv[1:3])
b, a = statistics.median(before), statistics.median(after)
print(f"cold build of examples/hello, median of {len(before)}: before {b:.2f} s, after {a:.2f} s, after/before {a / b:.3f}")
EOF
