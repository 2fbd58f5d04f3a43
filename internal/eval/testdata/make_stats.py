#!/usr/bin/env python3
"""Generate stats_scipy.json: SciPy's p-values for the A/B statistics.

Run once with SciPy installed (Debian python3-scipy 1.10):

    python3 make_stats.py > stats_scipy.json

* welch: scipy.stats.ttest_ind(a, b, equal_var=False, alternative=alt)
* mannwhitneyu: scipy.stats.mannwhitneyu(a, b, alternative=alt) with its
  defaults (method="auto", use_continuity=True): exact and asymptotic cases,
  with and without ties
* ztest: the pooled two-proportion z statistic, p from scipy.stats.norm
* sample_size / mde: the normal-approximation formulas with
  scipy.stats.norm.ppf quantiles
"""
import json
import math
import sys

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(2024)
ALTS = ["two-sided", "less", "greater"]


def r(xs, decimals=None):
    xs = [float(x) for x in xs]
    return [round(x, decimals) for x in xs] if decimals is not None else xs


def main():
    out = {"scipy_version": scipy.__version__, "welch": [], "mannwhitneyu": [], "ztest": [],
           "sample_size_proportions": [], "sample_size_means": [], "mde_means": []}
    for i in range(12):
        n1, n2 = int(rng.integers(2, 40)), int(rng.integers(2, 60))
        a = r(rng.normal(10, rng.uniform(0.5, 4), n1))
        b = r(rng.normal(10 + rng.uniform(-2, 2), rng.uniform(0.5, 4), n2))
        for alt in ALTS:
            res = stats.ttest_ind(a, b, equal_var=False, alternative=alt)
            out["welch"].append({"a": a, "b": b, "alternative": alt,
                                 "statistic": float(res.statistic), "p_value": float(res.pvalue)})
    shapes = [(3, 5, None), (5, 8, None), (8, 20, None), (4, 30, None), (12, 15, None), (30, 25, None),
              (6, 7, 0), (10, 12, 0), (40, 35, 1), (7, 3, None), (1, 9, None), (200, 180, 0)]
    for n1, n2, decimals in shapes:
        a = r(rng.normal(0, 1, n1), decimals)
        b = r(rng.normal(0.5, 1, n2), decimals)
        for alt in ALTS:
            res = stats.mannwhitneyu(a, b, alternative=alt)
            out["mannwhitneyu"].append({"a": a, "b": b, "alternative": alt,
                                        "statistic": float(res.statistic), "p_value": float(res.pvalue)})
    for x1, n1, x2, n2 in [(120, 1000, 150, 1000), (45, 500, 30, 480), (5, 40, 9, 38),
                           (1012, 20000, 1100, 20100), (0, 50, 3, 50), (300, 310, 290, 305)]:
        p1, p2, p = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
        z = (p1 - p2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
        for alt in ALTS:
            pv = {"two-sided": 2 * stats.norm.sf(abs(z)), "less": stats.norm.cdf(z), "greater": stats.norm.sf(z)}[alt]
            out["ztest"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "alternative": alt,
                                 "statistic": z, "p_value": float(min(pv, 1.0))})
    for p1, p2, alpha, power in [(0.10, 0.12, 0.05, 0.8), (0.3, 0.25, 0.01, 0.9), (0.02, 0.025, 0.05, 0.8),
                                 (0.5, 0.55, 0.1, 0.95)]:
        za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
        pbar = (p1 + p2) / 2
        n = (za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p2 - p1) ** 2
        out["sample_size_proportions"].append({"p1": p1, "p2": p2, "alpha": alpha, "power": power,
                                               "n_exact": n, "n": math.ceil(n)})
    for delta, sd, alpha, power in [(1.0, 5.0, 0.05, 0.8), (0.2, 1.0, 0.01, 0.9), (3, 10, 0.1, 0.5)]:
        za, zb = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
        n = 2 * sd ** 2 * (za + zb) ** 2 / delta ** 2
        out["sample_size_means"].append({"delta": delta, "sd": sd, "alpha": alpha, "power": power,
                                         "n_exact": n, "n": math.ceil(n)})
        out["mde_means"].append({"n": 400, "sd": sd, "alpha": alpha, "power": power,
                                 "mde": (za + zb) * sd * math.sqrt(2 / 400)})
    json.dump(out, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
