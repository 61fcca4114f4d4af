#!/usr/bin/env python3
"""Writes a synthetic three-layer OCI image layout for the pull benchmark. Deterministic.

  layer 1: 16,000 small files (512 B to 4.5 KiB) in 160 directories: 51 MiB of tar, 30 gzipped
  layer 2: 500 medium files (96 to 224 KiB) in 10 directories: 78 MiB of tar, 58 gzipped
  layer 3: 5 big files of 16 MiB: 80 MiB of tar, 59 gzipped

File contents are 1 KiB blocks, each either random bytes (55 %) or text cut from lines of
generated pseudo-words (45 %), so gzip (level 6) shrinks the 209 MiB of tar to 147 MiB:
the layers are neither incompressible nor trivially small on the wire.

Usage: make_pull_image.py OUT_DIR [SCALE]   (SCALE 0.1 makes a 20 MiB image for a quick try)
"""

import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures"))
import make_images as mi  # noqa: E402

IMAGE_NAME = "berth-bench/big"
TAG = "latest"
BLOCK = 1024
RANDOM_SHARE = 0.55


def text_corpus(rng, size):
    """Lines of pseudo-words: compressible, but not one repeated string."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(800)]
    out = bytearray()
    while len(out) < size:
        out += (" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))) + "\n").encode()
    return bytes(out[:size])


def content(rng, corpus, size):
    out = bytearray()
    while len(out) < size:
        n = min(BLOCK, size - len(out))
        if rng.random() < RANDOM_SHARE:
            out += rng.randbytes(n)
        else:
            at = rng.randrange(len(corpus) - n)
            out += corpus[at : at + n]
    return bytes(out)


def layer(entries):
    tar = mi.tar_bytes(entries)
    return tar, mi.gzip_bytes(tar)


def main():
    out = sys.argv[1]
    scale = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
    rng = random.Random(14)
    corpus = text_corpus(rng, 256 * 1024)

    small = [mi.d("usr"), mi.d("usr/share"), mi.d("usr/share/small")]
    dirs = 160
    for n in range(dirs):
        small.append(mi.d(f"usr/share/small/d{n:03}"))
    for n in range(int(16000 * scale)):
        data = content(rng, corpus, rng.randint(512, 4608))
        small.append(mi.f(f"usr/share/small/d{n % dirs:03}/f{n:05}.txt", data))

    medium = [mi.d("usr"), mi.d("usr/lib"), mi.d("usr/lib/medium")]
    for n in range(10):
        medium.append(mi.d(f"usr/lib/medium/m{n}"))
    for n in range(int(500 * scale)):
        size = rng.randint(96, 224) * 1024
        medium.append(mi.f(f"usr/lib/medium/m{n % 10}/lib{n:03}.so", content(rng, corpus, size)))

    big = [mi.d("opt"), mi.d("opt/big")]
    for n in range(5):
        big.append(mi.f(f"opt/big/blob{n}.bin", content(rng, corpus, int(16 * scale * (1 << 20)))))

    layers = [layer(small), layer(medium), layer(big)]
    history = [
        {"created": mi.CREATED_1, "created_by": "ADD small files /usr/share/small # berth bench"},
        {"created": mi.CREATED_1, "created_by": "ADD medium files /usr/lib/medium # berth bench"},
        {"created": mi.CREATED_2, "created_by": "ADD big files /opt/big # berth bench"},
    ]
    config = mi.image_config([mi.sha256(tar) for tar, _ in layers], history)
    files = mi.oci_layout([(gz, mi.MT_LAYER_GZIP) for _, gz in layers], config, IMAGE_NAME, TAG)
    mi.write_tree(out, files)
    mib = 1 << 20
    sizes = ", ".join(f"{len(tar) / mib:.0f} -> {len(gz) / mib:.0f}" for tar, gz in layers)
    total_tar = sum(len(tar) for tar, _ in layers) / mib
    total_gz = sum(len(gz) for _, gz in layers) / mib
    print(f"{out}: 3 layers, tar MiB -> gzip MiB: {sizes}; total {total_tar:.0f} -> {total_gz:.0f}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
