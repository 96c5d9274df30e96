#!/usr/bin/env bash
# An edit to predict.py followed by a prediction, two ways, RUNS times each (default 5), in one run:
#   live:    cog predict                                 (all but the project built, the project mounted at /src)
#   rebuild: cog build -t x && cog predict x             (a new code layer, pip freeze and schema layer first)
# Same base (a loopback registry holding the debootstrapped python:3.11-slim), every other step cached by a warm-up.
# Prints each run's seconds, the medians and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/live-predict
runs=${RUNS:-5}
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build
cog=${COG_BIN:-$root/.build/release/cog}
rm -rf "$work"; mkdir -p "$work/model"
base=$(scripts/make-base-image.sh /var/cache/cog-test/python-3.11-slim >/dev/null 2>&1; echo /var/cache/cog-test/python-3.11-slim)
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT  # absolute: the script cds away
scripts/make-base-image.sh push "$base" "$addr" >/dev/null
export COG_REGISTRY_MIRRORS=docker.io=$addr COG_CACHE_DIR=$work/cache
cd "$work/model"
printf 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n' > cog.yaml
predictor() {
  printf 'from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self, s: str) -> str:\n        return "%s " + s\n' "$1" > predict.py
}
check() { [ "$1" = "$2" ] || { echo "expected '$2', the model answered '$1' (log: $work/cog.log)" >&2; exit 1; }; }
predictor warm
"$cog" build -t bench-live >/dev/null 2>"$work/cog.log"   # every step but the project's cached from here on
"$cog" predict -i s=x >/dev/null 2>>"$work/cog.log"
seconds() { python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.2f}")' "$1" "$(date +%s.%N)"; }
live=(); rebuild=()
for i in $(seq 1 "$runs"); do
  predictor "live$i"; start=$(date +%s.%N)
  out=$("$cog" predict -i s=x 2>>"$work/cog.log"); live+=("$(seconds "$start")"); check "$out" "live$i x"
  predictor "rebuild$i"; start=$(date +%s.%N)
  "$cog" build -t bench-live >/dev/null 2>>"$work/cog.log"
  out=$("$cog" predict bench-live -i s=x 2>>"$work/cog.log"); rebuild+=("$(seconds "$start")"); check "$out" "rebuild$i x"
done
echo "live (cog predict):                        ${live[*]}"
echo "rebuild (cog build -t x && cog predict x): ${rebuild[*]}"
python3 -c '
import statistics, sys
live, rebuild = (list(map(float, part.split())) for part in sys.argv[1:])
l, r = statistics.median(live), statistics.median(rebuild)
print(f"median seconds: live {l:.2f}  rebuild {r:.2f}  rebuild/live {r / l:.2f}x")' "${live[*]}" "${rebuild[*]}"
