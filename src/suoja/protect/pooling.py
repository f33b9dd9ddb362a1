"""Pooling: small categories of a dimension join ``_O`` (Muut maat / Other countries).

Each table pools its own small categories, as the seed review does chart by chart: a
category with fewer than threshold units in a table is counted in that table's ``_O``.
Categories with no units are pooled too: listing them apart would name the countries
that do have clients. Codes for unknown values (``_U``) are never pooled.

Per-table pooling needs the tables' slices of the population to nest (every table's
``where`` contains the next wider one's, as "exploited in Finland" lies inside "all new
clients"): then a table's pooled set contains the wider table's, and each table's ``_O``
is a sum of cube leaves (``suoja.tables.cubes.other_hierarchy``). Where the slices do not
nest, a category is pooled when it is small in the population's reference table (the
widest slice) and then in every table of the population. Both rules are public (the
methods note states them), so they are exactly what the joint model and the audit assume.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import polars as pl

from suoja.codelists import OTHER, TOTAL, UNKNOWN, label
from suoja.tables.catalogue import Catalogue, TableSpec
from suoja.tables.cubes import VALUE, Cube, other_hierarchy

LOG_COLUMNS = {"table": pl.String, "cell": pl.String, "original": pl.Int64,
               "published": pl.String, "rule": pl.String, "reason": pl.String}


@dataclass(frozen=True)
class Pooled:
    """The cube with pooled codes recoded to ``_O``, and the log of what was pooled.

    ``pooled`` holds the codes pooled in every table (recoded to ``_O`` in the cube); the
    codes a single table pools beyond them are in ``cube.table_pooled``.
    """

    cube: Cube
    pooled: dict[str, tuple[str, ...]]
    log: pl.DataFrame


def _counts(cube: Cube, spec: TableSpec, dim: str) -> dict[str, int]:
    sliced = cube.finest.filter(*[pl.col(d) == c for d, c in spec.where.items()]) \
        if spec.where else cube.finest
    summed = sliced.group_by(dim).agg(pl.col(VALUE).sum())
    return dict(zip(summed[dim].to_list(), summed[VALUE].to_list(), strict=True))


def choose_pool(counts: dict[str, dict[str, int]], poolable: tuple[str, ...],
                threshold: int, reference: str | None = None) -> tuple[set[str], dict[str, str]]:
    """The codes to pool, given each table's counts per code, and why each was pooled.

    A code with fewer than ``threshold`` units in the reference table is pooled in every
    table of the population; every other code is shown. The rule is public (the methods
    note states it), so it is exactly what an outsider may assume: a pooled code is below
    the threshold in the reference table, a shown one is not. ``_O`` is never topped up
    with larger codes (that would break the rule); when it is small, primary suppression
    hides it. The reference is ``reference``, or the first table given.

    >>> sorted(choose_pool({"t": {"A": 9, "B": 3, "C": 2}}, ("A", "B", "C"), 5)[0])
    ['B', 'C']
    >>> sorted(choose_pool({"t": {"A": 9, "B": 3}}, ("A", "B"), 5)[0])
    ['B']
    """
    reference = reference or next(iter(counts))
    why = {code: f"small:{reference}" for code in poolable
           if counts[reference].get(code, 0) < threshold}
    return set(why), why


def reference_table(specs: list[TableSpec]) -> TableSpec:
    """The reference table of a pooled dimension: the one with the fewest ``where`` codes
    (the widest slice of the population), the first such in catalogue order."""
    return min(specs, key=lambda s: len(s.where))


def per_table(specs: list[TableSpec]) -> bool:
    """Whether the tables of one pooled dimension pool each on their own: their slices nest
    (sorted from the widest, each ``where`` holds the one before). A rule of the catalogue,
    not of the data, so that an outsider knows which rule a release follows.

    >>> from suoja.tables.catalogue import TableSpec
    >>> def spec(where): return TableSpec("t", "p", ("c",), where, {}, {})
    >>> per_table([spec({}), spec({"f": "Y"})]), per_table([spec({"f": "Y"}), spec({"s": "M"})])
    (True, False)
    """
    ordered = sorted(specs, key=lambda s: len(s.where))
    return all(set(a.where.items()) <= set(b.where.items())
               for a, b in itertools.pairwise(ordered))


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
    """Pool the small categories of ``dims`` in one population's cube.

    Codes pooled in every table are recoded to ``_O`` in the cube; the codes only some
    tables pool are kept in the cube and listed per table in ``Cube.table_pooled``.

    Raises:
        ValueError: Per-table pooled sets that do not nest (cannot happen when the
            slices nest and the counts are true).
    """
    specs = catalogue.tables_of(cube.population)
    logs: list[dict[str, object]] = []
    pooled: dict[str, tuple[str, ...]] = {}
    extra: dict[str, dict[str, tuple[str, ...]]] = {}
    finest, domains = cube.finest, dict(cube.domains)
    population = catalogue.populations[cube.population]
    for dim in (d for d in dims if d in cube.dimensions):
        free = [s for s in specs if dim in s.dimensions]
        if not free:
            continue
        keep = set(catalogue.dimensions[dim].cube_only) | {UNKNOWN}
        poolable = tuple(c for c in cube.domains[dim] if c not in keep)
        counts = {s.id: _counts(cube, s, dim) for s in free}
        reference = reference_table(free).id
        codes, why = choose_pool(counts, poolable, threshold, reference)
        split = per_table(free)
        own = {s.id: {c for c in poolable if counts[s.id].get(c, 0) < threshold} if split
               else codes for s in free}
        other_label = label(catalogue.dimensions[dim].codelist, OTHER, "en")
        pooled[dim] = tuple(c for c in poolable if c in codes)
        for spec in free:
            more = tuple(c for c in poolable if c in own[spec.id] and c not in codes)
            if more:
                extra.setdefault(spec.id, {})[dim] = more
            for code in (c for c in poolable if c in own[spec.id]):
                n = counts[spec.id].get(code, 0)
                if n:
                    key = ";".join(f"{d}={code if d == dim else TOTAL}" for d in spec.dimensions)
                    reason = f"small:{spec.id}" if split else why[code]
                    logs.append({"table": spec.id, "cell": key, "original": n, "published": OTHER,
                                 "rule": "pooled",
                                 "reason": _reason(reason, spec.id, population.count(n),
                                                    threshold, other_label)})
        finest = finest.with_columns(
            pl.when(pl.col(dim).is_in(list(codes))).then(pl.lit(OTHER)).otherwise(pl.col(dim))
            .alias(dim))
        domains[dim] = tuple(c for c in cube.domains[dim] if c not in codes) + (OTHER,)
    dims_all = list(cube.dimensions)
    if pooled and dims_all:
        finest = finest.group_by(dims_all).agg(pl.col(VALUE).sum()).sort(dims_all)
    log = pl.DataFrame(logs, schema=LOG_COLUMNS)
    result = replace(cube, finest=finest, domains=domains, table_pooled=extra)
    other_hierarchy(result.table_pooled)  # raises when the pooled sets do not nest
    return Pooled(result, pooled, log)
