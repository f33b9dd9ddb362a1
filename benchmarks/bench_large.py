"""suoja beside tau-ARGUS on the two tables of issue 13 (not a test): one table of figures.

(a) 5 regions > 100 municipalities x 8 ages x sex (2 862 cells, about 490 of 1 to 4);
(b) 10 regions > 340 municipalities x 12 ages x 10 citizenships (50 193 cells, about a
quarter of the inner cells 1 to 4). Random counts with fixed seeds
(``benchmarks/_large_tables.py``).

For every pattern it prints primaries, secondaries, hidden total, protect and audit
seconds and two checks: suoja's own audit (the full one on (a), the linear one on (b))
and an independent rank check that shares no code with suoja (numpy/scipy only, built
straight from the table: a hidden cell is exactly computable when its row, over the
hidden inner cells, lies in the row space of the published cells; tested with random
vectors of the null space of the published rows, found by LSQR).

tau-ARGUS runs through pytauargus (``pip install pytauargus``; this script installs it
when it is missing) with FREQ(5,0): MOD and OPT, each in a child process stopped after
``--tau-limit`` seconds.

With ``--bound`` it also proves the least number of secondaries on table (a) under the
same rules (``suoja.protect.suppress.secondary_bound``: cut generation with capacity
cuts, Fischetti and Salazar-Gonzalez, solved by HiGHS; minutes): a pattern with that many
is optimal, and every tool's count can be read against it.

    python benchmarks/bench_large.py                  # both tables
    python benchmarks/bench_large.py --quick          # table (a) only
    python benchmarks/bench_large.py --quick --no-tau --bound
"""

from __future__ import annotations

import argparse
import importlib
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.linalg import lsqr

sys.path.insert(0, str(Path(__file__).parent))
from _large_tables import table_a, table_b

from suoja.protect import SuppressionRules, protect
from suoja.protect.audit import audit
from suoja.protect.audit_linear import audit_linear

SAME = SuppressionRules(threshold=5, singleton_protection=False, interval="exact")
FULL = SuppressionRules(threshold=5, singleton_protection=True, interval="threshold")
ROWS: list[tuple] = []


def ensure_pytauargus() -> bool:
    """Import pytauargus, installing it with pip first when it is missing."""
    try:
        importlib.import_module("pytauargus")
        return True
    except ImportError:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "pytauargus"],
                              check=False)
        return done.returncode == 0


# --- the independent check: numpy/scipy only, nothing from suoja -------------------------

def _incidence(cells: pl.DataFrame, dims: list[str], parents: dict[str, dict[str, str]]):
    """Cells x inner cells (0/1) and the row of each inner cell, from the codes alone."""
    leaf = pl.all_horizontal([pl.col(d) != "_T" for d in dims])
    for d in dims:
        leaf = leaf & ~pl.col(d).is_in(list(set(parents.get(d, {}).values())))
    cells = cells.with_row_index("row")
    inner = cells.filter(leaf).select("row", *dims).with_row_index("var")
    pairs = inner.select("var", *dims)
    for d in dims:
        up = [pl.col(d).alias(f"{d}__c")]
        parent = parents.get(d, {})
        mapping = pairs.select("var", d).with_columns(*up)
        extra = [mapping.with_columns(pl.lit("_T").alias(f"{d}__c"))]
        if parent:
            extra.append(mapping.with_columns(pl.col(d).replace_strict(parent, default="_T")
                                              .alias(f"{d}__c")))
        mapping = pl.concat([mapping, *extra]).unique()
        pairs = pairs.join(mapping.drop(d), on="var").drop(d).rename({f"{d}__c": d})
    linked = pairs.join(cells.select("row", *dims), on=dims)
    matrix = sp.csr_matrix((np.ones(linked.height), (linked["row"].to_numpy(),
                                                     linked["var"].to_numpy())),
                           shape=(cells.height, inner.height))
    return matrix, inner["row"].to_numpy()


def independent_check(result: pl.DataFrame, dims: list[str], parents, rounds: int = 3) -> int:
    """Hidden cells an outsider can compute exactly (by the random null-space test)."""
    hidden = (result["status"] != "published").to_numpy()
    matrix, inner_row = _incidence(result.select(*dims), dims, parents)
    free = hidden[inner_row]  # hidden inner cells are the unknowns
    sub = matrix[:, np.flatnonzero(free)].tocsr()
    published = sub[np.flatnonzero(~hidden)]
    published = published[np.flatnonzero(np.diff(published.indptr) > 0)]
    rows = sub[np.flatnonzero(hidden)]
    rng = np.random.default_rng(2024)
    moved = np.zeros(rows.shape[0], dtype=bool)
    for _ in range(rounds):
        w = rng.standard_normal(sub.shape[1])
        u = lsqr(published.T, w, atol=1e-14, btol=1e-14, iter_lim=50_000)[0]
        y = w - published.T @ u  # in the null space of the published rows
        scale = np.abs(y).max()
        moved |= np.abs(rows @ y) > 1e-6 * scale
    return int((~moved).sum())


# --- running the tools -------------------------------------------------------------------

def _figures(result: pl.DataFrame) -> tuple[int, int, int]:
    hidden = result.filter(pl.col("status") != "published")
    return (int((result["status"] == "primary").sum()),
            int((result["status"] == "secondary").sum()), int(hidden["value"].sum()))


def _audit(result: pl.DataFrame, problem, rules: SuppressionRules) -> tuple[float, str]:
    cells, domains, _finest, hierarchies = problem
    public = result.select("table", "key", *domains, "published")
    start = time.perf_counter()
    if cells.height > 10_000:
        found = audit_linear(public, domains, hierarchies)
        kind = "linear"
    else:
        found = audit(public, domains, hierarchies, rules)
        kind = "full"
    took = time.perf_counter() - start
    return took, f"{kind}: {int((~found['ok']).sum())} exposed"


def _record(tool: str, table: str, policy: str, result: pl.DataFrame | None, took: float,
            problem, rules: SuppressionRules, note: str = "") -> None:
    if result is None:
        ROWS.append((tool, table, policy, None, None, None, took, None, note, ""))
        _print_row(ROWS[-1])
        return
    primary, secondary, total = _figures(result)
    audit_took, audited = _audit(result, problem, rules)
    start = time.perf_counter()
    determined = independent_check(result, list(problem[1]), problem[3] or {})
    check = f"{determined} computable ({time.perf_counter() - start:.1f} s)"
    ROWS.append((tool, table, policy, primary, secondary, total, took, audit_took,
                 audited, check))
    _print_row(ROWS[-1])


def run_suoja(name: str, problem, rules: SuppressionRules, method: str, policy: str) -> None:
    cells, domains, finest, hierarchies = problem
    rules = SuppressionRules(**{**rules.__dict__, "method": method})
    start = time.perf_counter()
    result = protect(cells, domains, finest, hierarchies, rules)
    took = time.perf_counter() - start
    _record(f"suoja {method}", name, policy, result, took, problem, rules)


def _tau_child(problem, method: str, folder: str, out: str) -> None:
    import pytauargus

    _, domains, finest, hierarchies = problem
    names = list(domains)
    records = np.repeat(np.arange(finest.height), finest["value"].to_numpy())
    micro = finest.select(names)[records].with_columns(pl.lit(1).alias("one"))
    os.chdir(folder)  # tau-ARGUS leaves scratch files in the working folder
    hrc = {}
    for dim, parents in (hierarchies or {}).items():
        by_parent: dict[str, list[str]] = {}
        for leaf, parent in parents.items():
            by_parent.setdefault(parent, []).append(leaf)
        lines = [line for parent, leaves in by_parent.items()
                 for line in [parent, *[f"@{leaf}" for leaf in leaves]]]
        Path(folder, f"{dim}.hrc").write_text("\n".join(lines) + "\n", encoding="utf-8")
        hrc[dim] = str(Path(folder, f"{dim}.hrc"))
    res = pytauargus.protect(micro, tables=[names], response="one",
                             safety_rules="FREQ(5,0)", suppress=method, hrc=hrc or None,
                             totcode="_T", workdir=str(Path(folder) / "work"))
    pl.from_pandas(res.tables[0].dataframe()).write_parquet(out)


def run_tau(name: str, problem, method: str, limit: float) -> None:
    cells, domains, _, _ = problem
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "result.parquet")
        child = multiprocessing.get_context("spawn").Process(
            target=_tau_child, args=(problem, method, folder, out))
        start = time.perf_counter()
        child.start()
        child.join(limit)
        took = time.perf_counter() - start
        if child.is_alive():
            child.kill()
            child.join()
            _record(f"tau-ARGUS {method}", name, "same", None, took, problem, SAME,
                    f"stopped after {limit:.0f} s")
            return
        if not Path(out).exists():  # a crash or an error inside tau-ARGUS
            _record(f"tau-ARGUS {method}", name, "same", None, took, problem, SAME,
                    f"failed (exit {child.exitcode})")
            return
        table = pl.read_parquet(out)
    status = table.select(*[pl.col(n).cast(pl.String) for n in domains], "status")
    joined = cells.join(status, on=list(domains), how="left").with_columns(
        pl.when(pl.col("status") == "U").then(pl.lit("primary"))
        .when(pl.col("status").is_in(["M", "D"])).then(pl.lit("secondary"))
        .otherwise(pl.lit("published")).alias("status"))
    joined = joined.with_columns(
        pl.when(pl.col("status") == "published").then(pl.col("value")).alias("published"))
    _record(f"tau-ARGUS {method}", name, "same", joined, took, problem, SAME)


HEADER = ("tool", "table", "rules", "primary", "secondary", "hidden total", "protect s",
          "audit s", "suoja audit", "independent check")


def _print_row(row: tuple) -> None:
    cells = ["-" if v is None else f"{v:.1f}" if isinstance(v, float) else str(v)
             for v in row]
    print(" | ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="table (a) only")
    parser.add_argument("--tau-limit", type=float, default=300.0,
                        help="seconds each tau-ARGUS run may take (default 300)")
    parser.add_argument("--no-tau", action="store_true", help="skip tau-ARGUS")
    parser.add_argument("--bound", action="store_true",
                        help="prove the least number of secondaries on table (a), same rules")
    args = parser.parse_args()
    tau = not args.no_tau and ensure_pytauargus()
    print(" | ".join(HEADER), flush=True)
    a = table_a()
    run_suoja("a (2 862)", a, SAME, "gauss", "same")
    run_suoja("a (2 862)", a, SAME, "heuristic", "same")
    run_suoja("a (2 862)", a, FULL, "gauss", "full")
    run_suoja("a (2 862)", a, FULL, "heuristic", "full")
    if tau:
        run_tau("a (2 862)", a, "MOD(1,1)", args.tau_limit)
        run_tau("a (2 862)", a, "OPT(1,5)", args.tau_limit)
    if args.bound:
        from suoja.protect.suppress import secondary_bound

        start = time.perf_counter()
        least = secondary_bound(a[0], a[1], a[2], a[3], SAME, solves=200_000)
        print(f"\ntable (a), same rules: no safe pattern has fewer than {least.value:g} "
              f"secondary cells ({'proven optimal' if least.proven else least.reason}; "
              f"{least.rounds} master solves, {least.cuts} capacity cuts, "
              f"{time.perf_counter() - start:.0f} s)", flush=True)
    if not args.quick:
        b = table_b()
        run_suoja("b (50 193)", b, SAME, "gauss", "same")
        run_suoja("b (50 193)", b, FULL, "gauss", "full")
        if tau:
            run_tau("b (50 193)", b, "MOD(1,1)", args.tau_limit)
            run_tau("b (50 193)", b, "OPT(1,5)", args.tau_limit)
    print("\nsame = threshold 5, zeros published, no singleton protection, exact interval "
          "(FREQ(5,0) for tau-ARGUS); full = suoja's shipped policy (singletons, interval "
          "'threshold'). The linear audit checks exact disclosure only.")


if __name__ == "__main__":
    main()
