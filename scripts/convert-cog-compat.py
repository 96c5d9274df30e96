#!/usr/bin/env python3
"""Convert Cog's compatibility matrices into this project's data tables.

Usage:
    scripts/convert-cog-compat.py CUDA_JSON TORCH_JSON TF_JSON [--out-dir DIR]

CUDA_JSON, TORCH_JSON and TF_JSON are Cog's pkg/config/cuda_compatibility.json,
pkg/config/torch_compatibility.json and pkg/config/tf_compatibility.json.
Writes cuda-images.json, torch.json and tensorflow.json into DIR
(default: Sources/cog/Data next to this script's parent folder).

The conversion applies the same normalisation Cog applies when it loads the
tables (pkg/config/compatibility.go, init / UnmarshalJSON):
  * torch rows whose CUDA matches no nvidia/cuda image are dropped;
  * TensorFlow CUDA is reduced to major.minor, cuDNN to the major version.
Everything else (torch local-version modifiers, index URLs with their
trailing slash) is kept exactly as Cog has it.
"""

import argparse
import json
import os
import sys


def parse_version(s):
    """Cog's version.NewVersion: up to 3 numeric parts, '+modifier' ignored.

    Returns (major, minor, patch-or-None)."""
    number = s.split("+", 1)[0]
    parts = number.split(".")
    if not 1 <= len(parts) <= 3:
        raise ValueError("bad version %r" % s)
    nums = [int(p) for p in parts]
    major = nums[0]
    minor = nums[1] if len(nums) >= 2 else 0
    patch = nums[2] if len(nums) == 3 else None
    return major, minor, patch


def version_matches(a, b):
    """Cog's version.Matches: equal major and minor; patch only if both have one."""
    va, vb = parse_version(a), parse_version(b)
    if va[0] != vb[0] or va[1] != vb[1]:
        return False
    if va[2] is not None and vb[2] is not None and va[2] != vb[2]:
        return False
    return True


def sort_key(s):
    """Numeric sort key for dotted versions ('12.10' > '12.9')."""
    major, minor, patch = parse_version(s)
    return (major, minor, -1 if patch is None else patch)


def load(path):
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list):
        sys.exit("%s: expected a JSON array" % path)
    return data


def convert_cuda(rows):
    out = []
    for r in rows:
        if not r.get("IsDevel", False):
            # Our schema has no IsDevel column; every image must be a devel image.
            sys.exit("cuda: non-devel image %r; schema cannot represent it" % r.get("Tag"))
        for k in ("Tag", "CUDA", "CuDNN", "Ubuntu"):
            if not isinstance(r.get(k), str) or not r[k]:
                sys.exit("cuda: row %r lacks %s" % (r, k))
        parse_version(r["CUDA"])
        out.append({
            "tag": r["Tag"],
            "cuda": r["CUDA"],
            "cudnn": r["CuDNN"],
            "ubuntu": r["Ubuntu"],
        })
    out.sort(key=lambda x: (sort_key(x["cuda"]), sort_key(x["ubuntu"]), x["cudnn"], x["tag"]))
    return out


def convert_torch(rows, image_cudas):
    out = []
    for r in rows:
        if r.get("FindLinks"):
            # Our schema has no find-links column (all of Cog's rows have "").
            sys.exit("torch: row %r uses FindLinks; schema cannot represent it" % r.get("Torch"))
        cuda = r.get("CUDA")
        if cuda is not None and not any(version_matches(cuda, c) for c in image_cudas):
            print("torch: dropping %s (CUDA %s has no nvidia/cuda image)" % (r["Torch"], cuda),
                  file=sys.stderr)
            continue
        out.append({
            "torch": r["Torch"],
            "cuda": cuda,
            "indexURL": r.get("ExtraIndexURL", ""),
            "torchvision": r.get("Torchvision", ""),
            "torchaudio": r.get("Torchaudio", ""),
            "pythons": list(r.get("Pythons") or []),
        })

    def key(x):
        cuda = (-1,) if x["cuda"] is None else sort_key(x["cuda"])
        return (sort_key(x["torch"]), cuda, x["indexURL"], x["torch"])

    out.sort(key=key)
    return out


def convert_tf(rows):
    out = []
    for r in rows:
        cuda = parse_version(r["CUDA"])
        cudnn = parse_version(r["CuDNN"])
        out.append({
            "tensorflow": r["TF"],
            "cpuPackage": r["TFCPUPackage"],
            "gpuPackage": r["TFGPUPackage"],
            "cuda": "%d.%d" % (cuda[0], cuda[1]),
            "cudnn": "%d" % cudnn[0],
            "pythons": list(r.get("Pythons") or []),
        })
    out.sort(key=lambda x: (sort_key(x["tensorflow"]), sort_key(x["cuda"])))
    return out


def write(path, rows):
    # One object per line: compact, and diffs stay one line per changed row.
    body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n" + body + "\n]\n")
    print("wrote %s (%d rows)" % (path, len(rows)), file=sys.stderr)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(os.path.dirname(here), "Sources", "cog", "Data")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cuda_json")
    p.add_argument("torch_json")
    p.add_argument("tf_json")
    p.add_argument("--out-dir", default=default_out)
    a = p.parse_args()

    images = convert_cuda(load(a.cuda_json))
    torch = convert_torch(load(a.torch_json), [i["cuda"] for i in images])
    tf = convert_tf(load(a.tf_json))

    os.makedirs(a.out_dir, exist_ok=True)
    write(os.path.join(a.out_dir, "cuda-images.json"), images)
    write(os.path.join(a.out_dir, "torch.json"), torch)
    write(os.path.join(a.out_dir, "tensorflow.json"), tf)


if __name__ == "__main__":
    main()
