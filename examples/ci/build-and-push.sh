#!/bin/sh
# The two commands a CI job needs: log in to the registry, then build and push with the shared step cache.
# Both recipes in this folder run this script; Tests/cogTests/CIRecipeTests.swift runs it too.
#   IMAGE           where the model goes (r8.im/OWNER/NAME, or any registry)
#   CACHE           a repository for the step cache (any registry the job can push to)
#   REGISTRY_TOKEN  the token for IMAGE's registry (for r8.im: the CLI token from replicate.com/account)
#   REGISTRY_USER   the user name, for registries other than r8.im
set -eu
: "${IMAGE:?set IMAGE to where the model goes, e.g. r8.im/owner/model}"
: "${CACHE:?set CACHE to a repository for the step cache, e.g. ghcr.io/owner/model-cache}"
registry=${IMAGE%%/*}
if [ -n "${REGISTRY_TOKEN:-}" ]; then
    printf '%s\n' "$REGISTRY_TOKEN" | cog login "$registry" ${REGISTRY_USER:+--username "$REGISTRY_USER"} --token-stdin
fi
cog push "$IMAGE" --cache-from "$CACHE" --cache-to "$CACHE" --progress plain
