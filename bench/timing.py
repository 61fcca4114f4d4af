#!/usr/bin/env python3
"""Times commands interleaved (a, b, a, b, ...) so they share the machine's noise, and
prints median and p90 per subject plus the ratio to a baseline.

  timing.py --runs 30 --warmup 3 --baseline runc \
      --subject 'berth=/path/berth --root /r run --rm img true' \
      --subject 'runc=runc --root /s run --bundle /b bench-{i}' \
      --skip 'crun=refused: ...'

A subject's command is split like a shell would (shlex) but run without a shell. `{i}`
becomes a unique run label (w0, w1 for warm-ups, then 0, 1, ...). A standalone `&&` token
separates commands that run one after the other inside the timed section.
--prepare 'NAME=command' runs, untimed, before each run of NAME; --sync runs sync(2)
before every timed command, so writeback of the previous run is not billed to the next.
--bytes N adds a throughput column: N bytes moved per run, in MB/s (10^6) at the median.
"""

import argparse
import math
import os
import shlex
import statistics
import subprocess
import sys
import time


def split_named(text):
    name, sep, rest = text.partition("=")
    if not sep or not name:
        raise SystemExit(f"timing.py: expected NAME=VALUE, got {text!r}")
    return name, rest


def commands(template, label):
    argv = [tok.replace("{i}", label) for tok in shlex.split(template)]
    out, cur = [], []
    for tok in argv:
        if tok == "&&":
            out.append(cur)
            cur = []
        else:
            cur.append(tok)
    out.append(cur)
    return [c for c in out if c]


def run_checked(name, argv):
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise SystemExit(f"timing.py: {name}: {shlex.join(argv)} failed ({proc.returncode}): {err}")


def timed(name, template, prepare, label, sync):
    if prepare:
        for argv in commands(prepare, label):
            run_checked(name, argv)
    if sync:
        os.sync()
    start = time.perf_counter()
    for argv in commands(template, label):
        run_checked(name, argv)
    return (time.perf_counter() - start) * 1000.0


def p90(values):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--baseline")
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--title", default="")
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--subject", action="append", default=[])
    ap.add_argument("--prepare", action="append", default=[])
    ap.add_argument("--skip", action="append", default=[])
    args = ap.parse_args()

    subjects = [split_named(s) for s in args.subject]
    prepares = dict(split_named(p) for p in args.prepare)
    skipped = [split_named(s) for s in args.skip]
    samples = {name: [] for name, _ in subjects}

    for w in range(args.warmup):
        for name, template in subjects:
            timed(name, template, prepares.get(name), f"w{w}", args.sync)
    for i in range(args.runs):
        for name, template in subjects:
            samples[name].append(timed(name, template, prepares.get(name), str(i), args.sync))

    base = None
    if args.baseline in samples:
        base = statistics.median(samples[args.baseline])

    if args.title:
        print(args.title)
    rate_col = f" {'MB/s':>8}" if args.bytes else ""
    header = f"{'subject':<12} {'runs':>5} {'median ms':>10} {'p90 ms':>9} {'median ratio':>13}{rate_col}"
    print(header)
    print("-" * len(header))
    for name, _ in subjects:
        values = samples[name]
        median = statistics.median(values)
        ratio = f"{median / base:.2f}x" if base else "-"
        rate = f" {args.bytes / 1e6 / (median / 1000.0):>8.0f}" if args.bytes else ""
        print(f"{name:<12} {len(values):>5} {median:>10.1f} {p90(values):>9.1f} {ratio:>13}{rate}")
    for name, reason in skipped:
        print(f"{name:<12} {'-':>5} {'-':>10} {'-':>9} {'-':>13}  ({reason})")
    if args.baseline:
        print(f"(ratio = subject median / {args.baseline} median)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
