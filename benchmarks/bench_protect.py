"""Figures for the protection engine (not a test): time, suppressions and the audit.

Three problems: a simulated release of linked tables (~1 000 cells of one population), a
random 2-D table of 200 x 20 with margins, and a random 3-D table with two-level
hierarchies in every dimension (about 50 000 cells). If pytauargus (tau-ARGUS with HiGHS)
is installed, it protects the same 2-D and 3-D tables and its figures are printed beside
ours, with our audit of its pattern.

    python benchmarks/bench_protect.py               # everything
    python benchmarks/bench_protect.py --quick       # skip the 50 000-cell table
    python benchmarks/bench_protect.py --singletons  # add the independent singleton audit
"""

from __future__ import annotations

import argparse
import itertools
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from suoja.protect import SuppressionRules, build_model, protect
from suoja.protect.audit import audit, audit_singletons
from suoja.protect.cube import Dimension
from suoja.protect.generic import complete_table


def _cells_of(finest: pl.DataFrame, table: str, dims: list[Dimension],
              others: dict[str, str]) -> pl.DataFrame:
    """Every cell of one table: ``dims`` broken down, ``others`` held at one code."""
    rows = finest
    for name, code in others.items():
        if code != "_T":
            rows = rows.filter(pl.col(name) == code)
    cells = complete_table(rows.rename({"value": "n"}), dims, "n").rename({"n": "value"})
    keys = [pl.lit(f"{d.name}=") + pl.col(d.name) for d in dims]
    keys += [pl.lit(f"{name}={code}") for name, code in others.items() if code != "_T"]
    return cells.with_columns(
        pl.lit(table).alias("table"),
        pl.concat_str(keys, separator=";").alias("key"),
        *[pl.lit(code).alias(name) for name, code in others.items()],
    )


def release_problem(seed: int = 1):
    """~400 persons, five dimensions, 16 linked tables (slices of in_finland included)."""
    rng = np.random.default_rng(seed)
    domains = {
        "sex": ["F", "M", "U"],
        "age_group": ["Y_LT18", "Y18T29", "Y30T39", "Y40T49", "Y50T59", "Y_GE60", "_U"],
        "citizenship": [f"C{i:03d}" for i in range(250)],
        "in_finland": ["Y", "N"],
        "residence_status": [f"R{i}" for i in range(9)],
    }
    n = 400
    weights = rng.zipf(1.6, size=250).astype(float)
    persons = pl.DataFrame({
        "sex": rng.choice(domains["sex"], n, p=[0.55, 0.43, 0.02]),
        "age_group": rng.choice(domains["age_group"], n, p=[.08, .3, .3, .17, .1, .03, .02]),
        "citizenship": rng.choice(domains["citizenship"], n, p=weights / weights.sum()),
        "in_finland": rng.choice(domains["in_finland"], n, p=[0.8, 0.2]),
        "residence_status": rng.choice(domains["residence_status"], n,
                                       p=[.3, .05, .25, .1, .1, .05, .05, .05, .05]),
    })
    finest = persons.group_by(list(domains)).len("value")
    finest = finest.with_columns(pl.col("value").cast(pl.Int64))
    dims = {d: Dimension.build(d, codes, None) for d, codes in domains.items()}
    specs = [
        ("sex", []), ("age", []), ("sex_age", []), ("citizenship", []), ("where", []),
        ("residence", []), ("sex_residence", []), ("age_residence", []),
        ("fin_sex", ["Y"]), ("fin_age", ["Y"]), ("fin_residence", ["Y"]),
        ("fin_sex_age", ["Y"]), ("fin_citizenship", ["Y"]), ("where_sex", []),
        ("where_age", []), ("fin_sex_residence", ["Y"]),
    ]
    wanted = {"sex": ["sex"], "age": ["age_group"], "citizenship": ["citizenship"],
              "where": ["in_finland"], "residence": ["residence_status"]}
    frames = []
    for table, slice_code in specs:
        parts = table.removeprefix("fin_").split("_")
        names = [wanted[p][0] for p in parts]
        others = {d: "_T" for d in domains if d not in names}
        if slice_code:
            others["in_finland"] = slice_code[0]
        frames.append(_cells_of(finest, table, [dims[d] for d in names], others))
    cells = pl.concat(frames, how="diagonal").select("table", "key", *domains, "value")
    return cells, domains, finest, None


def flat_2d(rows: int = 200, cols: int = 20, seed: int = 1):
    """A random 2-D table with margins; about a third of its cells are 1 to 4."""
    rng = np.random.default_rng(seed)
    counts = rng.choice([0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 30], size=(rows, cols))
    domains = {"r": [f"r{i:03d}" for i in range(rows)], "c": [f"c{j:02d}" for j in range(cols)]}
    return _array_problem(counts, domains, {})


def hierarchical_3d(seed: int = 7):
    """40 x 30 x 24 leaves under 8, 6 and 4 parents: 49 x 37 x 29 = 52 577 cells."""
    rng = np.random.default_rng(seed)
    spec = [("a", 8, 5), ("b", 6, 5), ("c", 4, 6)]
    domains, hierarchies = {}, {}
    for name, groups, per in spec:
        leaves = [f"{name}{g}{k:02d}" for g in range(groups) for k in range(per)]
        domains[name] = leaves
        hierarchies[name] = {leaf: leaf[:2] for leaf in leaves}
    shape = tuple(len(domains[n]) for n, _, _ in spec)
    counts = rng.poisson(8, size=shape) * (rng.random(shape) > 0.2)
    return _array_problem(counts, domains, hierarchies)


def _array_problem(counts: np.ndarray, domains: dict, hierarchies: dict):
    names = list(domains)
    index = np.argwhere(counts > 0)
    finest = pl.DataFrame({n: [domains[n][i] for i in index[:, k]] for k, n in enumerate(names)}
                          | {"value": counts[counts > 0].astype(np.int64)})
    dims = [Dimension.build(n, domains[n], hierarchies.get(n)) for n in names]
    cells = _cells_of(finest, "t", dims, {}).select("table", "key", *names, "value")
    return cells, domains, finest, hierarchies or None


def _figures(result: pl.DataFrame) -> dict[str, int]:
    hidden = result.filter(pl.col("status") != "published")
    return {
        "cells": result.height,
        "primary": int((result["status"] == "primary").sum()),
        "secondary": int((result["status"] == "secondary").sum()),
        "hidden_total": int(hidden["value"].sum()),
    }


def run_ours(name: str, problem, rules: SuppressionRules, singletons: bool,
             target: float | None = None) -> pl.DataFrame:
    cells, domains, finest, hierarchies = problem
    start = time.perf_counter()
    model = build_model(cells, domains, finest, hierarchies)
    built = time.perf_counter() - start
    result = protect(model, rules=rules)
    took = time.perf_counter() - start
    print(f"\n== {name}: {cells.height} cells, {model.n_vars} variables after merging "
          f"(model {built:.1f} s)")
    figures = _figures(result)
    print(f"suoja {rules.method:<9} protect {took:7.1f} s  primary {figures['primary']:6d}  "
          f"secondary {figures['secondary']:6d}  hidden total {figures['hidden_total']}")
    audited = report_audit("suoja", result, domains, hierarchies, rules, singletons)
    if target is not None:
        verdict = "met" if took + audited < target else "MISSED"
        print(f"suoja protect + audit {took + audited:7.1f} s  (target under {target:.0f} s: "
              f"{verdict})")
    return result


def report_audit(who: str, result: pl.DataFrame, domains, hierarchies, rules,
                 singletons) -> float:
    """Audit a protected table; print and return the seconds the (ordinary) audit took."""
    start = time.perf_counter()
    found = audit(result.drop("value"), domains, hierarchies, rules)
    took = time.perf_counter() - start
    bad = found.filter(~pl.col("ok"))
    inner = int(found["finding"].str.contains("at least").sum())
    note = f" ({inner} by the quick inner ranges)" if inner else ""
    print(f"{who:<15} audit   {took:7.1f} s  {found.height} hidden cells, "
          f"{bad.height} exposed{note}")
    if singletons:
        start = time.perf_counter()
        ones = result.filter((pl.col("status") != "published") & (pl.col("value") == 1))
        attacked = audit_singletons(result.drop("value"), ones, domains, hierarchies, rules)
        print(f"{who:<15} singleton audit {time.perf_counter() - start:5.1f} s  "
              f"{ones.height} singletons, {attacked.height} cells they could compute")
    return took


def _write_hrc(folder: Path, name: str, hierarchy: dict[str, str]) -> str:
    by_parent: dict[str, list[str]] = {}
    for leaf, parent in hierarchy.items():
        by_parent.setdefault(parent, []).append(leaf)
    lines = list(itertools.chain.from_iterable(
        [parent, *[f"@{leaf}" for leaf in leaves]] for parent, leaves in by_parent.items()))
    path = folder / f"{name}.hrc"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def run_tauargus(name: str, problem, rules: SuppressionRules, methods: list[str]) -> None:
    """tau-ARGUS (pytauargus) on the same table: FREQ(threshold, 0), then each method."""
    try:
        import pytauargus
    except ImportError as e:
        print(f"tau-ARGUS: not run ({e}); pip install pytauargus to compare")
        return
    _, domains, finest, hierarchies = problem
    names = list(domains)
    records = np.repeat(np.arange(finest.height), finest["value"].to_numpy())
    micro = finest.select(names)[records].with_columns(pl.lit(1).alias("one"))
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # tau-ARGUS leaves scratch files (BT.dat) in the working folder
        try:
            hrc = {n: _write_hrc(Path(folder), n, h) for n, h in (hierarchies or {}).items()}
            for method in methods:
                start = time.perf_counter()
                try:
                    res = pytauargus.protect(
                        micro, tables=[names], response="one",
                        safety_rules=f"FREQ({rules.threshold},0)", suppress=f"{method}(1)",
                        hrc=hrc or None, totcode="_T", workdir=str(Path(folder) / method))
                    table = pl.from_pandas(res.tables[0].dataframe())
                except Exception as e:  # report and carry on: this is only a comparison
                    print(f"tau-ARGUS {method}: failed ({type(e).__name__}: {e})")
                    continue
                _report_tau(method, time.perf_counter() - start, table, problem, rules)
        finally:
            os.chdir(here)


def _report_tau(method: str, took: float, table: pl.DataFrame, problem, rules) -> None:
    cells, domains, _, hierarchies = problem
    joined = _tau_result(table, cells, list(domains))
    figures = _figures(joined)
    print(f"tau-ARGUS {method:<5} protect {took:7.1f} s  primary {figures['primary']:6d}  "
          f"secondary {figures['secondary']:6d}  hidden total {figures['hidden_total']}")
    report_audit(f"tau-ARGUS {method}", joined, domains, hierarchies, rules, singletons=False)


def _tau_result(table: pl.DataFrame, cells: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Our cells with tau-ARGUS's statuses (U primary, M or D secondary)."""
    status = table.select(*[pl.col(n).cast(pl.String) for n in names], "status")
    joined = cells.join(status, on=names, how="left").with_columns(
        pl.when(pl.col("status") == "U").then(pl.lit("primary"))
        .when(pl.col("status").is_in(["M", "D"])).then(pl.lit("secondary"))
        .otherwise(pl.lit("published")).alias("status"))
    return joined.with_columns(
        pl.when(pl.col("status") == "published").then(pl.col("value")).alias("published"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 50 000-cell table")
    parser.add_argument("--singletons", action="store_true",
                        help="also run the (slow) independent singleton audit")
    args = parser.parse_args()
    rules = SuppressionRules(interval="exact")  # as tau-ARGUS: no range rule
    run_ours("simulated release (linked tables)", release_problem(), rules, args.singletons)
    run_ours("simulated release, optimal method", release_problem(),
             SuppressionRules(method="optimal", interval="exact"), args.singletons)
    flat = flat_2d()
    run_ours("2-D 200 x 20", flat, rules, singletons=False)
    run_tauargus("2-D 200 x 20", flat, rules, ["MOD", "OPT"])
    if not args.quick:
        cube = hierarchical_3d()
        run_ours("3-D hierarchical", cube, rules, singletons=False, target=60.0)
        run_tauargus("3-D hierarchical", cube, rules, ["MOD"])


if __name__ == "__main__":
    main()
