#!/usr/bin/env python3
"""Summarise `cotrain eval --out FILE.json` results: success with its Wilson 95% interval, DP's score, and how the
failures fail (near misses, near misses ending pushed off, trials that never pass 0.4, median success step). With
two or more files of the same initial conditions (same --env, --seed, --trials and env overrides), each file after
the first is also compared with the first trial by trial: an exact McNemar test on the discordant pairs, the test
for matched trials (the intervals of two rates ignore the pairing and are wider).

    /usr/bin/python3 tools/eval_summary.py base.json other.json ...
"""
import json
import math
import statistics
import sys


def wilson(k, n, z=1.959964):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return max(0.0, c - h), min(1.0, c + h)


def mcnemar_exact(b, c):
    """Two-sided exact p-value of b successes-only-in-one against c only-in-the-other (binomial, p = 1/2)."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def describe(path, r):
    eps = r["episodes"]
    n = len(eps)
    k = sum(e["success"] for e in eps)
    lo, hi = wilson(k, n)
    near = [e for e in eps if not e["success"] and e["max_coverage"] >= 0.8]
    off = [e for e in near if e["final_coverage"] < 0.1]
    never = sum(e["max_coverage"] < 0.4 for e in eps)
    steps = [e["steps"] for e in eps if e["success"]]
    median = statistics.median(steps) if steps else float("nan")
    print(f"{path}: {k}/{n} = {k / n:.3f} [{lo:.3f}, {hi:.3f}], DP score {r['dp_score']:.3f}, mean max coverage "
          f"{r['mean_max_coverage']:.3f}; near misses {len(near)} ({len(off)} pushed off), never > 0.4: {never}, "
          f"median success step {median:g}")


def key(r):
    return json.dumps(r["env"], sort_keys=True), r["seed"], r["trials"]


def main(paths):
    results = []
    for p in paths:
        with open(p) as f:
            results.append(json.load(f))
    for p, r in zip(paths, results):
        describe(p, r)
    base = results[0]
    for p, r in zip(paths[1:], results[1:]):
        if key(r) != key(base):
            print(f"{p}: other initial conditions than {paths[0]}; not paired")
            continue
        a = {e["episode"]: e["success"] for e in base["episodes"]}
        b = {e["episode"]: e["success"] for e in r["episodes"]}
        only_base = sum(a[i] and not b[i] for i in a)
        only_other = sum(b[i] and not a[i] for i in a)
        print(f"{p} vs {paths[0]}: {only_other} trials succeed only here, {only_base} only there; exact McNemar "
              f"p = {mcnemar_exact(only_base, only_other):.3g}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
