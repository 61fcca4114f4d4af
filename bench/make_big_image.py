#!/usr/bin/env python3
"""Writes a synthetic one-layer docker-save archive for the import benchmark:
~5,000 small files in 50 directories plus a few MB of larger files. Deterministic.

Usage: make_big_image.py OUT.tar [SMALL_FILES] [BIG_MB]
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
import make_images as mi  # noqa: E402


def main():
    out = sys.argv[1]
    small = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    big_mb = int(sys.argv[3]) if len(sys.argv) > 3 else 8
    rng = random.Random(5000)
    entries = [mi.d("data"), mi.d("data/big")]
    dirs = 50
    for d in range(dirs):
        entries.append(mi.d(f"data/d{d:02}"))
    for n in range(small):
        size = rng.randint(100, 4000)
        entries.append(mi.f(f"data/d{n % dirs:02}/f{n:05}.txt", rng.randbytes(size)))
    for n in range(big_mb):
        entries.append(mi.f(f"data/big/blob{n}.bin", rng.randbytes(1 << 20)))
    layer = mi.tar_bytes(entries)
    history = [{"created": mi.CREATED_1, "created_by": "ADD synthetic files /data # berth bench"}]
    config = mi.image_config([mi.sha256(layer)], history)
    with open(out, "wb") as fh:
        fh.write(mi.docker_save([layer], config, ["berth-bench/big:latest"]))
    print(f"{out}: {small} small files, {big_mb} MiB in big files", file=sys.stderr)


if __name__ == "__main__":
    main()
