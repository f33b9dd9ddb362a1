"""Benchmark (issue 13): least loss on registers suoja has never seen, per method.

For each size and seed, ``suoja synth`` makes a register; its 2024 release is published
with the shipped policy, then its 2025 release (2024 known) once per method. For each
2025 release it prints the secondary suppressions, the persons in every hidden cell, the
cost by the policy, the proven least cost of the whole release
(``suoja.protect.joint_bound``: no pattern the audit passes costs less) and the time of
``suoja publish``. It exits 1 when a publish fails, when the optimal method is not at its
proven least cost, or when the shipped method is above the stated margin
(``suoja.protect.loss.STATED_MARGIN``). Run:

    .venv/bin/python benchmarks/bench_unseen.py                      # the sizes below
    .venv/bin/python benchmarks/bench_unseen.py --registers 250:1 600:4
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from suoja.pipeline import publish
from suoja.policy import read_policy
from suoja.protect.loss import STATED_MARGIN, release_bound
from suoja.synth import scaled_register, write_register

POLICY = Path(__file__).resolve().parents[1] / "policies" / "default.toml"
REGISTERS = ["40:1", "250:1", "250:2", "250:3", "600:4", "1500:5", "3000:2"]


def _policy(folder: Path, method: str) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    shipped = read_policy(POLICY).method
    path = folder / f"{method}.toml"
    path.write_text(text.replace(f'method = "{shipped}"', f'method = "{method}"'),
                    encoding="utf-8")
    assert read_policy(path).method == method
    return path


def run(persons: int, seed: int, methods: list[str], folder: Path) -> list[dict]:
    register = folder / "register"
    write_register(scaled_register(persons, seed=seed), register)
    publish(2024, register, folder / "base")
    rows = []
    for method in methods:
        out = folder / method
        shutil.copytree(folder / "base" / "2024", out / "2024")
        started = time.perf_counter()
        result = publish(2025, register, out, policy_path=_policy(folder, method))
        seconds = time.perf_counter() - started
        log = result.release.restricted.log
        secondary = log.filter(pl.col("rule") == "secondary")
        hidden = log.filter(pl.col("rule").is_in(["primary", "secondary"]))
        cost, least, proven = release_bound(result.release.restricted.extra["bound"])
        rows.append({"register": f"{persons}:{seed}", "method": method,
                     "secondary": secondary.height, "persons": int(hidden["original"].sum()),
                     "cost": cost, "least": least, "proven": proven, "seconds": seconds})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registers", nargs="+", default=REGISTERS,
                        help="persons:seed of each register")
    parser.add_argument("--methods", nargs="+", default=["heuristic", "optimal"],
                        choices=["heuristic", "optimal", "gauss"])
    args = parser.parse_args()
    shipped = read_policy(POLICY).method
    print("register   | method    | secondary | persons hidden | cost | least cost | "
          "gap     | publish s")
    failed = False
    for spec in args.registers:
        persons, seed = (int(part) for part in spec.split(":"))
        with tempfile.TemporaryDirectory() as tmp:
            try:
                rows = run(persons, seed, args.methods, Path(tmp))
            except Exception as error:  # a failed publish is a finding, reported and counted
                print(f"{spec:<10} | publish failed: {type(error).__name__}: {error}")
                failed = True
                continue
        for r in rows:
            gap = 0.0 if r["cost"] <= r["least"] + 1e-9 else (r["cost"] - r["least"]) / r["cost"]
            least = f"{r['least']:g}" + ("" if r["proven"] else "*")
            print(f"{r['register']:<10} | {r['method']:<9} | {r['secondary']:>9} | "
                  f"{r['persons']:>14} | {r['cost']:>4g} | {least:>10} | "
                  f"{100 * gap:>5.1f} % | {r['seconds']:>9.1f}")
            if r["method"] == "optimal" and (gap > 0 or not r["proven"]):
                failed = True
            if r["method"] == shipped and gap > STATED_MARGIN:
                failed = True
    print(f"least cost: proven lower bound of the whole release (* not proven: a work limit); "
          f"stated margin for the shipped method ({shipped}): {100 * STATED_MARGIN:.0f} %")
    if failed:
        print("a publish failed, the optimal method is not at its least cost, or the shipped "
              "method is above the margin")
        sys.exit(1)


if __name__ == "__main__":
    main()
