#!/usr/bin/env python3
"""Learning curves of issue 17 ("Policies that succeed"): success rate (Wilson 95%) and DP's score of the small CPU
policies against optimizer steps and 2-core CPU-minutes, from docs/results/issue17/runs.csv (every row a run of
docs/RESULTS.md, evaluated on 200 matched trials of the easier variant). Writes docs/results/issue17/curves.png.

    /usr/bin/python3 tools/plots/issue17_curves.py      (needs python3-matplotlib)
"""
import csv
import math
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "..", "docs", "results", "issue17")


def wilson(k, n, z=1.959964):
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def main():
    with open(os.path.join(DIR, "runs.csv")) as f:
        rows = list(csv.DictReader(f))
    fig, axes = plt.subplots(1, 3, figsize=(15, 5.6))
    groups = {}
    for r in rows:
        groups.setdefault(r["recipe"], []).append(r)
    markers = "osD^v<>ph"
    for i, (recipe, rs) in enumerate(groups.items()):
        rs.sort(key=lambda r: float(r["steps"]))
        for ax, x_key in ((axes[0], "steps"), (axes[1], "cpu_minutes")):
            if any(r[x_key] == "" for r in rs):
                continue  # a step time not measured alone: no CPU-minute figure
            xs = [float(r[x_key]) for r in rs]
            ys = [int(r["successes"]) / int(r["trials"]) for r in rs]
            lo = [y - wilson(int(r["successes"]), int(r["trials"]))[0] for r, y in zip(rs, ys)]
            hi = [wilson(int(r["successes"]), int(r["trials"]))[1] - y for r, y in zip(rs, ys)]
            ax.errorbar(xs, ys, yerr=[lo, hi], marker=markers[i % len(markers)], capsize=3, label=recipe)
        if all(r["cpu_minutes"] != "" for r in rs):
            axes[2].plot([float(r["cpu_minutes"]) for r in rs], [float(r["dp_score"]) for r in rs],
                         marker=markers[i % len(markers)], label=recipe)
    axes[0].set_xlabel("optimizer steps")
    axes[1].set_xlabel("CPU-minutes on 2 cores (steps x the step time measured alone)")
    axes[2].set_xlabel("CPU-minutes on 2 cores")
    for ax in axes[:2]:
        ax.set_ylabel("success rate (Wilson 95%), 200 trials")
        ax.axhline(0.5, color="grey", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, 0.6)
    axes[1].axvline(15, color="grey", linestyle=":", linewidth=0.8)
    axes[2].set_ylabel("DP's score")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=3)  # below the panels: the points fill them
    fig.suptitle("small CPU policies, 50 demos of the easier Push-T variant (docs/RESULTS.md)")
    fig.tight_layout(rect=(0, 0.17, 1, 1))
    fig.savefig(os.path.join(DIR, "curves.png"), dpi=90)


if __name__ == "__main__":
    main()
