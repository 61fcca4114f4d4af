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
--shuffle runs each round's subjects in a new random order (seeded, so a run can be
repeated): a subject that always follows the same one pays that one's aftermath (its
namespaces' teardown, its writeback) in every run.
--bytes N adds a throughput column: N bytes moved per run, in MB/s (10^6) at the median.
--delta 'A - B' prints A's median minus B's in ms (and the median of the run-by-run
differences, which the interleaving pairs up); --delta 'A - B <= 10' also checks a target.
--ratio 'A / B' prints A's median over B's; --ratio 'A / B >= 10' also checks a target.
"""

import argparse
import math
import os
import random
import re
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


def parse_comparison(text, op, bound_op):
    """'A - B' or 'A - B <= 10' (op '-', bound_op '<='): (A, B, bound or None). The
    spaces around the operators keep names such as berth-none whole."""
    m = re.fullmatch(
        rf"\s*(\S+)\s+{re.escape(op)}\s+(\S+)(?:\s+{re.escape(bound_op)}\s+([0-9.]+))?\s*", text
    )
    if not m:
        raise SystemExit(f"timing.py: expected 'A {op} B' or 'A {op} B {bound_op} N', got {text!r}")
    bound = float(m.group(3)) if m.group(3) else None
    return m.group(1), m.group(2), bound


def verdict(ok):
    return "met" if ok else "MISSED"


def print_delta(samples, text):
    a, b, most = parse_comparison(text, "-", "<=")
    if a not in samples or b not in samples:
        print(f"{a} - {b}: not measured")
        return
    delta = statistics.median(samples[a]) - statistics.median(samples[b])
    paired = statistics.median(x - y for x, y in zip(samples[a], samples[b]))
    line = f"{a} - {b}: {delta:+.1f} ms (median of run-by-run differences {paired:+.1f} ms)"
    if most is not None:
        line += f"; target <= {most:g} ms: {verdict(delta <= most)}"
    print(line)


def print_ratio(samples, text):
    a, b, least = parse_comparison(text, "/", ">=")
    if a not in samples or b not in samples:
        print(f"{a} / {b}: not measured")
        return
    ratio = statistics.median(samples[a]) / statistics.median(samples[b])
    line = f"{a} / {b}: {ratio:.2f}x (medians)"
    if least is not None:
        line += f"; target >= {least:g}x: {verdict(ratio >= least)}"
    print(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--baseline")
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--shuffle", action="store_true")
    ap.add_argument("--title", default="")
    ap.add_argument("--bytes", type=int, default=0)
    ap.add_argument("--subject", action="append", default=[])
    ap.add_argument("--prepare", action="append", default=[])
    ap.add_argument("--skip", action="append", default=[])
    ap.add_argument("--delta", action="append", default=[])
    ap.add_argument("--ratio", action="append", default=[])
    args = ap.parse_args()

    subjects = [split_named(s) for s in args.subject]
    prepares = dict(split_named(p) for p in args.prepare)
    skipped = [split_named(s) for s in args.skip]
    samples = {name: [] for name, _ in subjects}

    for w in range(args.warmup):
        for name, template in subjects:
            timed(name, template, prepares.get(name), f"w{w}", args.sync)
    order = random.Random(0)
    for i in range(args.runs):
        this_round = list(subjects)
        if args.shuffle:
            order.shuffle(this_round)
        for name, template in this_round:
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
    for text in args.delta:
        print_delta(samples, text)
    for text in args.ratio:
        print_ratio(samples, text)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
