"""Pooling: small categories of a dimension join ``_O`` (Muut maat / Other countries).

A category is pooled when it has fewer than threshold units in the population's reference
table (the largest one with that dimension), and then in every table of that population,
so that it is never shown in one table and pooled in its sibling. Categories with no units
are pooled too: listing them apart would name the countries that do have clients. When ``_O`` itself stays under the threshold, more
categories join it, smallest first. Codes for unknown values (``_U``) are never pooled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from suoja.catalogue import Catalogue, TableSpec
from suoja.codelists import OTHER, TOTAL, UNKNOWN, label
from suoja.tables import VALUE, Cube

LOG_COLUMNS = {"table": pl.String, "cell": pl.String, "original": pl.Int64,
               "published": pl.String, "rule": pl.String, "reason": pl.String}


@dataclass(frozen=True)
class Pooled:
    """The cube with pooled codes recoded to ``_O``, and the log of what was pooled."""

    cube: Cube
    pooled: dict[str, tuple[str, ...]]
    log: pl.DataFrame


def _counts(cube: Cube, spec: TableSpec, dim: str) -> dict[str, int]:
    sliced = cube.finest.filter(*[pl.col(d) == c for d, c in spec.where.items()]) \
        if spec.where else cube.finest
    summed = sliced.group_by(dim).agg(pl.col(VALUE).sum())
    return dict(zip(summed[dim].to_list(), summed[VALUE].to_list(), strict=True))


def choose_pool(counts: dict[str, dict[str, int]], poolable: tuple[str, ...],
                threshold: int) -> tuple[set[str], dict[str, str]]:
    """The codes to pool, given each table's counts per code, and why each was pooled.

    The reference is the table with the largest total (the first such in catalogue order):
    a code with fewer than ``threshold`` units there is pooled in every table. A code
    shown in the reference but small in a sibling table stays shown there and is hidden
    by primary suppression. Then, while ``_O`` of any table holds 1..threshold-1 units,
    the smallest shown code (in that table) joins it.

    >>> sorted(choose_pool({"t": {"A": 9, "B": 3, "C": 2}}, ("A", "B", "C"), 5)[0])
    ['B', 'C']
    >>> sorted(choose_pool({"t": {"A": 9, "B": 3}}, ("A", "B"), 5)[0])
    ['A', 'B']
    """
    totals = {t: sum(c.values()) for t, c in counts.items()}
    reference = max(counts, key=lambda t: (totals[t], -list(counts).index(t)))
    why = {code: f"small:{reference}" for code in poolable
           if counts[reference].get(code, 0) < threshold}
    while True:
        short = [t for t, c in counts.items()
                 if 0 < sum(c.get(code, 0) for code in why) < threshold]
        liftable = [(t, [c for c in poolable if c not in why and counts[t].get(c, 0) > 0])
                    for t in short]
        liftable = [(t, candidates) for t, candidates in liftable if candidates]
        if not liftable:  # _O is fine, or nothing can lift it: primary suppression hides it
            return set(why), why
        name, candidates = liftable[0]
        smallest = min(candidates, key=lambda code: (counts[name][code], poolable.index(code)))
        why[smallest] = "lift:" + name


def _reason(why: str, table: str, counted: str, threshold: int, other_label: str) -> str:
    """Why a code is pooled; ``counted`` is its count with the unit ("1 person")."""
    kind, _, other = why.partition(":")
    pooled = f"{other_label} ({OTHER})"
    if kind == "small" and other == table:
        return f"{counted}, below the threshold of {threshold}: counted in {pooled} instead"
    if kind == "small":
        return (f"{counted} here; fewer than {threshold} in {other}, so pooled into "
                f"{pooled} in every table of this population (never shown in one table and "
                "pooled in another)")
    return (f"{counted}, pooled into {pooled} so that {pooled} in {other} reaches the "
            f"threshold of {threshold}")


def pool(cube: Cube, catalogue: Catalogue, dims: tuple[str, ...], threshold: int) -> Pooled:
    """Pool the small categories of ``dims`` in one population's cube."""
    specs = catalogue.tables_of(cube.population)
    logs: list[dict[str, object]] = []
    pooled: dict[str, tuple[str, ...]] = {}
    finest, domains = cube.finest, dict(cube.domains)
    population = catalogue.populations[cube.population]
    for dim in (d for d in dims if d in cube.dimensions):
        free = [s for s in specs if dim in s.dimensions]
        if not free:
            continue
        keep = set(catalogue.dimensions[dim].cube_only) | {UNKNOWN}
        poolable = tuple(c for c in cube.domains[dim] if c not in keep)
        counts = {s.id: _counts(cube, s, dim) for s in free}
        codes, why = choose_pool(counts, poolable, threshold)
        other_label = label(catalogue.dimensions[dim].codelist, OTHER, "en")
        pooled[dim] = tuple(c for c in poolable if c in codes)
        for spec in free:
            for code in pooled[dim]:
                n = counts[spec.id].get(code, 0)
                if n:
                    key = ";".join(f"{d}={code if d == dim else TOTAL}" for d in spec.dimensions)
                    logs.append({"table": spec.id, "cell": key, "original": n, "published": OTHER,
                                 "rule": "pooled",
                                 "reason": _reason(why[code], spec.id, population.count(n),
                                                    threshold, other_label)})
        finest = finest.with_columns(
            pl.when(pl.col(dim).is_in(list(codes))).then(pl.lit(OTHER)).otherwise(pl.col(dim))
            .alias(dim))
        domains[dim] = tuple(c for c in cube.domains[dim] if c not in codes) + (OTHER,)
    dims_all = list(cube.dimensions)
    if pooled and dims_all:
        finest = finest.group_by(dims_all).agg(pl.col(VALUE).sum()).sort(dims_all)
    log = pl.DataFrame(logs, schema=LOG_COLUMNS)
    return Pooled(replace(cube, finest=finest, domains=domains), pooled, log)
