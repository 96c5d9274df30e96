#!/usr/bin/env python3
"""Copies every step-cache entry (tags cog-step-*) of one repository to another of the same registry, with the
first layer's diffID in each entry's config replaced by another digest: a poisoned cache, whose blobs are real
but whose word for their content is false.  poison-cache.py REGISTRY FROM_REPO TO_REPO [--without-whole]
(--without-whole: leave out the entries of whole builds, those whose config carries Cog's metadata)"""
import hashlib, json, sys, urllib.request

registry, source, target = sys.argv[1:4]
without_whole = "--without-whole" in sys.argv[4:]
base = f"http://{registry}/v2"
manifest_type = "application/vnd.oci.image.manifest.v1+json"


def request(method, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    with urllib.request.urlopen(req) as reply:
        return reply.read(), reply.headers


tags = json.loads(request("GET", f"{base}/{source}/tags/list")[0])["tags"]
count = 0
for tag in tags:
    if not tag.startswith("cog-step-"):
        continue
    manifest = json.loads(request("GET", f"{base}/{source}/manifests/{tag}", headers={"Accept": manifest_type})[0])
    config = json.loads(request("GET", f"{base}/{source}/blobs/{manifest['config']['digest']}")[0])
    labels = (config.get("config") or {}).get("Labels") or {}
    if without_whole and any(name.startswith("dev.cog.step-cache.fact.") for name in labels):
        continue
    config["rootfs"]["diff_ids"][0] = "sha256:" + hashlib.sha256(b"not this layer").hexdigest()
    body = json.dumps(config).encode()
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    _, headers = request("POST", f"{base}/{target}/blobs/uploads/")
    location = headers["Location"]
    location = location if location.startswith("http") else f"http://{registry}{location}"
    separator = "&" if "?" in location else "?"
    request("PUT", f"{location}{separator}digest={digest}", data=body,
            headers={"Content-Type": "application/octet-stream"})
    for layer in manifest["layers"]:
        request("POST", f"{base}/{target}/blobs/uploads/?mount={layer['digest']}&from={source}")
    manifest["config"]["digest"], manifest["config"]["size"] = digest, len(body)
    request("PUT", f"{base}/{target}/manifests/{tag}", data=json.dumps(manifest).encode(),
            headers={"Content-Type": manifest_type})
    count += 1
print(count)
