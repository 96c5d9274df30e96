#!/usr/bin/env bash
# The main job on the bundled example, without Docker: a loopback registry holding a Debian-based
# python:3.11-slim (debootstrap), then cog build --oci-out, cog push, and cog predict.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cog="$root/.build/debug/cog"
work=${COG_DEMO_DIR:-/tmp/cog-demo}
base=${COG_TEST_BASE_LAYOUT:-/var/cache/cog-test/python-3.11-slim}
mkdir -p "$work"

echo "== base image: Debian bookworm + python3 as python:3.11-slim (cached at $base)"
scripts/make-base-image.sh "$base" >&2
echo "== loopback registry"
addr=$(scripts/test-registry.sh start "$work/registry")
trap '"$root/scripts/test-registry.sh" stop "$work/registry" >/dev/null 2>&1 || true' EXIT  # absolute: the script cds away
scripts/make-base-image.sh push "$base" "$addr" >/dev/null
# Pulls of docker.io/library/python go to the loopback registry.
export COG_REGISTRY_MIRRORS="docker.io=$addr"
export COG_CACHE_DIR="${COG_CACHE_DIR:-$work/cache}"

cd examples/hello
echo "== cog build --oci-out $work/hello-oci"
"$cog" build --oci-out "$work/hello-oci" --progress plain
echo "== cog push $addr/demo/hello"
"$cog" push "$addr/demo/hello:latest" --progress plain
echo "== cog predict -i name=daemonless -i excitement=3"
"$cog" predict "$addr/demo/hello:latest" -i name=daemonless -i excitement=3
