#!/usr/bin/env python3
"""Writes a deterministic tree of about SIZE_MIB MiB: text, structured binary and random files of mixed sizes.

    make-tree.py ROOT [SIZE_MIB] [SEED]     another SEED gives other contents
"""
import os, random, sys

root, size_mib = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1024
rng = random.Random(20261126 + (int(sys.argv[3]) if len(sys.argv) > 3 else 0))
words = [''.join(rng.choice('abcdefghijklmnopqrstuvwxyz_') for _ in range(rng.randint(2, 12))) for _ in range(5000)]
target, written, n = size_mib << 20, 0, 0
os.makedirs(root, exist_ok=True)
while written < target:
    kind = rng.random()
    size = min(int(rng.lognormvariate(10, 2)) + 1, 32 << 20, target - written)
    d = os.path.join(root, f"pkg{n % 97:02d}", f"mod{n % 13}")
    os.makedirs(d, exist_ok=True)
    if kind < 0.5:  # source-like text
        line = lambda: ' '.join(rng.choice(words) for _ in range(rng.randint(3, 12))) + '\n'
        chunk = ''.join(line() for _ in range(2000)).encode()
        name = f"f{n}.py"
    elif kind < 0.8:  # shared-library-like: structured, partly compressible
        chunk = bytes((i * 7 + rng.randint(0, 3)) % 256 if i % 5 else rng.randint(0, 255) for i in range(1 << 16))
        name = f"f{n}.so"
    else:  # already-compressed data
        chunk = rng.randbytes(1 << 16)
        name = f"f{n}.bin"
    with open(os.path.join(d, name), 'wb') as f:
        left = size
        while left > 0:
            f.write(chunk[:left]); left -= len(chunk)
    written += size
    n += 1
print(f"{n} files, {written >> 20} MiB in {root}")
