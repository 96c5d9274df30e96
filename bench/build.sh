#!/usr/bin/env bash
# A cold build and a rebuild after a one-file change of examples/hello: cog against
# buildah bud --isolation chroot --storage-driver overlay on the Dockerfile `cog debug` prints, same base
# (a loopback registry holding the debootstrapped python:3.11-slim), in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${COG_BENCH_DIR:-/var/tmp/cog-bench}/build
command -v buildah >/dev/null || { echo "buildah is not installed (apt-get install buildah)" >&2; exit 1; }
if [ -z "${COG_BIN:-}" ]; then swift build -c release --product cog >/dev/null; fi  # COG_BIN: measure another build of cog
cog=${COG_BIN:-$root/.build/release/cog}
# buildah leaves overlay mounts behind when interrupted: unmount them before cleaning up.
grep -o "$work/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
rm -rf "$work" /var/tmp/buildah-cache; mkdir -p "$work"
base=$(scripts/make-base-image.sh /var/cache/cog-test/python-3.11-slim >/dev/null 2>&1; echo /var/cache/cog-test/python-3.11-slim)
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT  # absolute: the script cds away
scripts/make-base-image.sh push "$base" "$addr" >/dev/null
cp -r examples/hello "$work/model"
cd "$work/model"

# buildah's input: the plan as a Dockerfile, FROM the loopback registry, the host CA for pip (as cog's sandbox
# provides it), and the cog_build context holding the generated requirements.txt.
COG_REGISTRY_MIRRORS=docker.io=$addr "$cog" debug 2>/dev/null \
  | sed "s|^FROM python:3.11-slim|FROM $addr/library/python:3.11-slim\nENV PIP_CERT=/run/ca.crt SSL_CERT_FILE=/run/ca.crt|" \
  | grep -v "^LABEL" | sed "s/,sharing=locked//g" > "$work/Dockerfile"  # buildah 1.28 deadlocks on two locked cache mounts in one RUN
mkdir -p "$work/cog_build"; printf 'pyfiglet==1.0.2\n' > "$work/cog_build/requirements.txt"
buildah_build() {
  buildah --root "$work/buildah/root" --runroot "$work/buildah/run" --storage-driver overlay bud --isolation chroot --layers \
    --tls-verify=false --volume /etc/ssl/certs/ca-certificates.crt:/run/ca.crt:ro --build-context cog_build="$work/cog_build" \
    -f "$work/Dockerfile" -t bench-hello . >/dev/null 2>"$work/buildah.err" || { tail -20 "$work/buildah.err" >&2; exit 1; }
}
cog_build() { COG_REGISTRY_MIRRORS=docker.io=$addr COG_CACHE_DIR="$work/cog-cache" "$cog" build --progress quiet >/dev/null; }
export -f buildah_build cog_build
export work addr cog
measure() { local name=$1; shift; /usr/bin/time -f "%e %M" -o "$work/time" bash -c "$1"; read -r s m < "$work/time"; echo "$name $s $m"; }

results=()
results+=("$(measure buildah-cold buildah_build)")
results+=("$(measure cog-cold cog_build)")
echo "# edited" >> predict.py
results+=("$(measure buildah-rebuild buildah_build)")
results+=("$(measure cog-rebuild cog_build)")
printf '%-18s %8s %12s\n' run seconds peak-RSS-MiB
declare -A t
for r in "${results[@]}"; do read -r n s m <<<"$r"; t[$n]=$s; printf '%-18s %8s %12s\n' "$n" "$s" "$((m / 1024))"; done
python3 -c "import sys; c,b,cr,br=map(float,sys.argv[1:]); print(f'cold build cog/buildah: {c/b:.2f}x (goal <= 0.7)   rebuild after a code change: {cr/br:.2f}x (cog includes the OpenAPI schema; goal <= 2)')" \
  "${t[cog-cold]}" "${t[buildah-cold]}" "${t[cog-rebuild]}" "${t[buildah-rebuild]}"
