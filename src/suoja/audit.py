"""The audit of a written release, from ``open/`` alone.

An outsider who has every published figure and knows the catalogue (which tables count
which population, by which dimensions) tries to recover every hidden cell. For each hidden
cell this computes the range of values consistent with everything published (non-negative
integers), and fails the release if a cell is exact or narrower than the policy allows.
It does not look at the register, at the suppression log or at how cells were chosen.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from suoja.catalogue import Catalogue
from suoja.codelists import TOTAL
from suoja.policy import Policy
from suoja.tables import cell_key, implicit_cells, is_implicit


def read_open_table(folder: Path, table_id: str, dims: tuple[str, ...]) -> pl.DataFrame:
    """One published CSV with codes kept as text."""
    schema = {"year": pl.Int64, **{d: pl.String for d in dims}, "value": pl.Int64,
              "status": pl.String}
    return pl.read_csv(folder / f"{table_id}.csv", schema=schema)


def published_cells(folder: Path, catalogue: Catalogue,
                    population: str) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The population's published cells in cube coordinates, and each dimension's codes."""
    dims = catalogue.populations[population].dimensions
    parts = []
    seen: dict[str, list[str]] = {d: [] for d in dims}
    for spec in catalogue.tables_of(population):
        table = read_open_table(folder, spec.id, spec.dimensions)
        for dim in spec.dimensions:
            seen[dim] += [c for c in table[dim].unique(maintain_order=True).to_list()
                          if c != TOTAL and c not in seen[dim]]
        coords = [pl.col(d) if d in spec.dimensions else pl.lit(spec.where.get(d, TOTAL)).alias(d)
                  for d in dims]
        parts.append(table.select(pl.lit(spec.id).alias("table"), cell_key(spec).alias("key"),
                                  *coords, pl.col("value").alias("published")))
    domains = {}
    for dim in dims:
        extra = list(catalogue.dimensions[dim].cube_only)
        domains[dim] = (seen[dim] or list(catalogue.dimensions[dim].codes)) + extra
    cells = pl.concat(parts)
    implicit = implicit_cells(cells, catalogue, population, domains, "published")
    return pl.concat([cells, implicit.with_columns(pl.lit(None, pl.Int64).alias("published"))]), \
        domains


def published_only(cells: pl.DataFrame) -> pl.DataFrame:
    """What an outsider sees of a protected cells frame: no true values, ``published`` only."""
    return cells.drop("value", "status", "reason", "protects_table", "protects_key", strict=False)


def _single_counts(cells: pl.DataFrame) -> pl.DataFrame:
    """A hidden count published alone: nothing bounds it from above."""
    return cells.filter(pl.col("published").is_null()).select(
        "table", "key", pl.lit(0, pl.Int64).alias("lo"), pl.lit(None, pl.Int64).alias("hi"),
        pl.lit(False).alias("exact"), pl.lit(True).alias("ok"),
        pl.lit("published alone: no other figure bounds it").alias("finding"))


def judge_implicit(found: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """An implicit cell (no table shows it) is disclosed only when it is known to be small.

    Its value is public by design when both figures it is the difference of are published;
    that is a disclosure only if the outsider can tell it holds 1..min_count-1 units.
    """
    small = policy.min_count - 1
    known_small = (pl.col("lo") >= 1) & (pl.col("hi") <= small) & pl.col("hi").is_not_null()
    if policy.interval == "exact":
        known_small = known_small & pl.col("exact")
    implicit = is_implicit(pl.col("table"))
    return found.with_columns(
        pl.when(implicit).then(~known_small).otherwise(pl.col("ok")).alias("ok"),
        pl.when(implicit & ~known_small).then(pl.lit("implicit cell: not known to be small"))
        .otherwise(pl.col("finding")).alias("finding"),
    )


def audit_open(folder: Path, catalogue: Catalogue, policy: Policy) -> pl.DataFrame:
    """For every hidden cell of ``open/``: ``table``, ``key``, ``lo``, ``hi``, ``ok``, ..."""
    from suoja.protect.audit import audit

    results = []
    for population in catalogue.populations:
        if not catalogue.tables_of(population):
            continue
        cells, domains = published_cells(folder, catalogue, population)
        if cells["published"].null_count() == 0:
            continue
        if not catalogue.populations[population].dimensions:
            results.append(_single_counts(cells))
        else:
            found = audit(cells, domains, rules=policy.suppression_rules())
            results.append(judge_implicit(found, policy))
    if not results:
        return pl.DataFrame(schema={"table": pl.String, "key": pl.String, "lo": pl.Int64,
                                    "hi": pl.Int64, "exact": pl.Boolean, "ok": pl.Boolean,
                                    "finding": pl.String})
    return pl.concat(results, how="diagonal_relaxed")
