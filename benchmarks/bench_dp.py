"""Differential privacy: the error of the published figures, and the time of one release.

At ε = 0.5, 1 and 2, over 200 releases of the embedded register (``data/register``; a
synthetic one of similar size if it is missing), the mean absolute error (MAE) and the 95th
percentile (P95) of the absolute error of the published cells (no ``_T`` code) and margins
(a ``_T`` code, and the one-figure tables), and the mean signed error (bias) of suoja's
figures, for

* **independent**: plain independent noise on every published cell, the same mechanism
  and the same noise scales, nothing else (figures may be negative, margins disagree);
* **suoja**: suoja's post-processed tables (consistent, non-negative integers).

The error is against the true counts. Both columns use the same noise draws. The noise of
the 200 releases is drawn by numpy with the mechanism's distribution (seeded, so that the
figures can be reproduced; ``tests/test_dp_mechanism.py`` checks that it has OpenDP's
scale); the time of one release is measured on the production path (OpenDP's sampler).
It also checks, table by table, how often the post-processed error stays within the 95 %
bound stated in ``datapackage.json``.

    .venv/bin/python benchmarks/bench_dp.py [--releases 200] [--policy policies/dp.toml]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from suoja.policy import read_policy
from suoja.protect.dp import parse_dp_settings
from suoja.protect.dp.engine import dp_protect_release, plan_release, release_figures
from suoja.protect.dp.mechanism import add_noise
from suoja.tables.catalogue import read_catalogue

ROOT = Path(__file__).resolve().parent.parent
EPSILONS = (0.5, 1.0, 2.0)
YEAR = 2025


def _frames() -> tuple[dict, str]:
    register = ROOT / "data" / "register"
    if (register / "persons.csv").exists():
        from suoja.register import read_register

        return dict(read_register(register).frames), "embedded register (data/register)"
    from suoja.synth._scale import scaled_register

    return scaled_register(4300, seed=0), "synthetic register of 4 300 persons"


def _is_margin(keys: list[str]) -> np.ndarray:
    return np.array([k == "_T" or "=_T" in k for k in keys])


def run(epsilon: float, releases: int, policy_path: Path, frames: dict) -> dict:
    """Errors of both methods at one ε."""
    catalogue = read_catalogue()
    policy = read_policy(policy_path)
    raw = dict(policy.dp)
    raw["epsilon"] = epsilon
    raw["yearly_epsilon_cap"] = max(epsilon, raw.get("yearly_epsilon_cap", epsilon))
    settings = parse_dp_settings(raw)
    plan = plan_release(frames, YEAR, catalogue, settings)
    truth = plan.originals()
    counted = plan.counted()
    margin = {t.spec.id: _is_margin(t.cells["key"].to_list()) for t in plan.tables}
    rng = np.random.default_rng(20250101)
    errors: dict[tuple[str, str], list[np.ndarray]] = {}
    within: dict[str, list[np.ndarray]] = {t.spec.id: [] for t in plan.tables}
    for _ in range(releases):
        noisy = add_noise(counted, plan.budget, rng)
        published = release_figures(plan, noisy)
        for tid, true in truth.items():
            for method, figures in (("independent", noisy[tid]), ("suoja", published[tid])):
                err = figures - true
                errors.setdefault((method, "cells"), []).append(err[~margin[tid]])
                errors.setdefault((method, "margins"), []).append(err[margin[tid]])
            within[tid].append(np.abs(published[tid] - true) <= plan.budget.bounds[tid])
    out: dict = {"epsilon": epsilon, "bounds": plan.budget.bounds,
                 "within": {t: (float(np.mean(v)), float(np.mean(v, axis=0).min()))
                            for t, v in within.items()}}
    for (method, kind), parts in errors.items():
        signed = np.concatenate(parts)
        err = np.abs(signed)
        out[(method, kind)] = (float(err.mean()), float(np.percentile(err, 95)), err.size,
                               float(signed.mean()))
    return out


def time_release(frames: dict, policy_path: Path, repeats: int = 5) -> float:
    """Median wall time of one DP release on the production path (OpenDP noise)."""
    catalogue = read_catalogue()
    policy = read_policy(policy_path)
    settings = parse_dp_settings(policy.dp)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        dp_protect_release(frames, YEAR, catalogue, policy, settings)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=200)
    parser.add_argument("--policy", type=Path, default=ROOT / "policies" / "dp.toml")
    args = parser.parse_args(argv)
    frames, source = _frames()
    print(f"Differential privacy on the {source}, year {YEAR}, policy {args.policy.name}, "
          f"{args.releases} releases per ε\n")
    header = (f"{'ε':>4}  {'figures':<8} {'n':>7}  {'independent MAE':>15} {'P95':>6}  "
              f"{'suoja MAE':>9} {'P95':>6}  {'MAE lower':>9}  {'suoja bias':>10}")
    print(header)
    print("-" * len(header))
    verdicts = []
    results = []
    for epsilon in EPSILONS:
        result = run(epsilon, args.releases, args.policy, frames)
        results.append(result)
        for kind in ("cells", "margins"):
            ind, ours = result[("independent", kind)], result[("suoja", kind)]
            gain = 1 - ours[0] / ind[0]
            print(f"{epsilon:>4g}  {kind:<8} {ind[2]:>7}  {ind[0]:>15.1f} {ind[1]:>6.0f}  "
                  f"{ours[0]:>9.1f} {ours[1]:>6.0f}  {gain:>9.0%}  {ours[3]:>+10.1f}")
            if kind == "margins":
                verdicts.append(gain >= 0.20)
    print("\nPost-processed figures within the stated 95% bound at ε = 1 (all the table's "
          "figures; its worst figure):")
    mid = results[EPSILONS.index(1.0)]
    for table, (share, worst) in mid["within"].items():
        print(f"  {table:<32} ±{mid['bounds'][table]:>5.0f}  {share:6.1%}  {worst:6.1%}")
    seconds = time_release(frames, args.policy)
    print(f"\nOne DP release (OpenDP noise, post-processing, log): {seconds:.2f} s "
          f"(median of 5)")
    ok = all(verdicts) and seconds < 5
    print(f"Targets: margins MAE at least 20% lower than independent noise at every ε: "
          f"{'met' if all(verdicts) else 'NOT met'}; one release under 5 s: "
          f"{'met' if seconds < 5 else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
