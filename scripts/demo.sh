#!/usr/bin/env bash
# The main job on the bundled example, as far as it is built today.
set -euo pipefail
cd "$(dirname "$0")/.."
cog=.build/debug/cog
example=examples/hello
out=${COG_DEMO_OUT:-/tmp/cog-demo}

echo "== cog --version"; $cog --version
echo "== what cog.yaml says"; cat "$example/cog.yaml"
echo "== the project's files as one deterministic layer, in an OCI blob store"
rm -rf "$out"
$cog layer "$example" --store "$out/blobs"
echo "== commands not built yet say so:"
$cog build -f "$example/cog.yaml" || true
