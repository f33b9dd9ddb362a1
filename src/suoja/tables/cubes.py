"""Every table of the catalogue, computed with Polars from the register's populations.

Per population, one lazy pass over the register gives the finest cross-classification
(the *cube*) that its tables need; each table is a margin of that cube (or of one slice
of it), with ``_T`` totals for every dimension and every combination, and every category
of its code lists present, zeros included.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from suoja.codelists import OTHER, TOTAL
from suoja.tables.catalogue import Catalogue, TableSpec
from suoja.tables.populations import POPULATIONS, scope

VALUE = "value"


@dataclass(frozen=True)
class Cube:
    """The finest cross-classification of one population: non-zero combinations only.

    ``table_pooled`` lists, per table id and dimension, the codes of ``domains`` that the
    table counts in its own ``_O`` (``suoja.protect.pooling``: each table pools its own
    small categories); tables not listed show every code of ``domains``.
    """

    population: str
    dimensions: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]
    finest: pl.DataFrame
    table_pooled: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def hierarchies(self) -> dict[str, dict[str, str]]:
        """``child -> parent`` codes per dimension that make each table's own ``_O`` a sum
        of leaves (``other_hierarchy``); pass them with ``cells_frame``'s cells to the
        protection engine and the audit."""
        return other_hierarchy(self.table_pooled)[0]


OTHER_OF = "~"
"""Joins ``_O`` and a table id into the code of that table's own ``_O`` (``_O~table``)."""


def other_hierarchy(table_pooled: Mapping[str, Mapping[str, tuple[str, ...] | frozenset[str]]],
                    ) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, str]]]:
    """The codes that make each table's own ``_O`` a sum of cube leaves.

    Args:
        table_pooled: Per table id and dimension, the codes that table pools beyond the
            ``_O`` of the cube (``Cube.table_pooled``).

    Returns:
        Per dimension a ``child -> parent`` hierarchy (``_O`` and the codes a table pools
        are children of ``_O~table``; a table that pools more has the smaller table's
        ``_O~`` as a child), and per table id and dimension the code of its own ``_O``.

    Raises:
        ValueError: Two tables pool sets of which neither holds the other (no hierarchy
            has both sums; ``suoja.protect.pooling.per_table`` rules this out).

    >>> parents, alias = other_hierarchy({"f": {"c": ("A",)}, "g": {"c": ("A", "B")}})
    >>> parents
    {'c': {'_O': '_O~f', 'A': '_O~f', '_O~f': '_O~g', 'B': '_O~g'}}
    >>> alias
    {'f': {'c': '_O~f'}, 'g': {'c': '_O~g'}}
    """
    by_dim: dict[str, dict[frozenset[str], list[str]]] = {}
    for table, dims in sorted(table_pooled.items()):
        for dim, codes in dims.items():
            by_dim.setdefault(dim, {}).setdefault(frozenset(codes), []).append(table)
    parents: dict[str, dict[str, str]] = {}
    alias: dict[str, dict[str, str]] = {}
    for dim, sets in by_dim.items():
        chain = sorted(sets, key=lambda codes: (len(codes), sorted(codes)))
        for smaller, larger in itertools.pairwise(chain):
            if not smaller <= larger:
                raise ValueError(f"tables {sets[smaller][0]} and {sets[larger][0]} pool "
                                 f"{dim} codes of which neither holds the other")
        parents[dim], below, seen = {}, OTHER, frozenset()
        for codes in chain:
            name = f"{OTHER}{OTHER_OF}{sets[codes][0]}"
            parents[dim][below] = name
            parents[dim].update(dict.fromkeys(sorted(codes - seen), name))
            for table in sets[codes]:
                alias.setdefault(table, {})[dim] = name
            below, seen = name, codes
    return parents, alias


def _own_other(cube: Cube, spec: TableSpec) -> Cube:
    """The cube as ``spec`` shows it: the codes the table pools on its own recoded to ``_O``."""
    extra = cube.table_pooled.get(spec.id)
    if not extra:
        return cube
    return replace(cube, finest=cube.finest.with_columns(
        pl.when(pl.col(dim).is_in(list(codes))).then(pl.lit(OTHER)).otherwise(pl.col(dim))
        .alias(dim) for dim, codes in extra.items()))


def compute_cubes(frames: Mapping[str, pl.DataFrame | pl.LazyFrame], catalogue: Catalogue,
                  year: int) -> dict[str, Cube]:
    """One cube per population that a table of the catalogue uses, collected together."""
    used = [p for p in catalogue.populations if catalogue.tables_of(p)]
    frames = scope(frames, year)
    plans = []
    for name in used:
        dims = list(catalogue.populations[name].dimensions)
        units = population_units(name, frames, year, catalogue)
        plans.append(units.group_by(dims).agg(pl.len().cast(pl.Int64).alias(VALUE)) if dims
                     else units.select(pl.len().cast(pl.Int64).alias(VALUE)))
    cubes = {}
    for name, finest in zip(used, pl.collect_all(plans), strict=True):
        dims = catalogue.populations[name].dimensions
        domains = {d: catalogue.dimensions[d].cube_codes for d in dims}
        cubes[name] = Cube(name, dims, domains, finest.sort(list(dims)) if dims else finest)
    return cubes


def population_units(name: str, frames: Mapping[str, pl.DataFrame | pl.LazyFrame],
                     year: int, catalogue: Catalogue) -> pl.LazyFrame:
    """The units of a population with the catalogue's code groups applied (divisions 41-43
    counted as construction, ``F``): every cube, noisy or not, starts here."""
    units = POPULATIONS[name](frames, year)
    recoded = [e for d in catalogue.populations[name].dimensions
               if (e := catalogue.dimensions[d].recode()) is not None]
    return units.with_columns(recoded) if recoded else units


def table_codes(cube: Cube, catalogue: Catalogue, dim: str) -> tuple[str, ...]:
    """The codes a table shows for ``dim``: the cube's codes less the cube-only ones."""
    hidden = set(catalogue.dimensions[dim].cube_only)
    return tuple(c for c in cube.domains[dim] if c not in hidden)


def _grid(spec: TableSpec, codes: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """Every cell of the table: each dimension's codes with the total first."""
    axes = [(TOTAL, *codes[d]) for d in spec.dimensions]
    rows = list(itertools.product(*axes))
    return pl.DataFrame(rows, schema={d: pl.String for d in spec.dimensions}, orient="row")


def aggregate(cube: Cube, spec: TableSpec, codes: dict[str, tuple[str, ...]]) -> pl.DataFrame:
    """One table: the cube's slice summed over every subset of the table's dimensions."""
    sliced = cube.finest.filter(*[pl.col(d) == c for d, c in spec.where.items()]) \
        if spec.where else cube.finest
    dims = list(spec.dimensions)
    if not dims:
        return pl.DataFrame({VALUE: [int(sliced[VALUE].sum())]}, schema={VALUE: pl.Int64})
    parts = []
    for size in range(len(dims) + 1):
        for subset in itertools.combinations(dims, size):
            summed = (sliced.group_by(list(subset)).agg(pl.col(VALUE).sum()) if subset
                      else sliced.select(pl.col(VALUE).sum()))
            parts.append(summed.with_columns(
                pl.lit(TOTAL).alias(d) for d in dims if d not in subset
            ).select(*dims, VALUE))
    margins = pl.concat(parts)
    return _grid(spec, codes).join(margins, on=dims, how="left", nulls_equal=True).with_columns(
        pl.col(VALUE).fill_null(0).cast(pl.Int64)
    )


def cell_key(spec: TableSpec) -> pl.Expr:
    """The canonical key of a cell, e.g. ``sex=F;age_group=Y_GE60`` (``_T`` for no dims)."""
    if not spec.dimensions:
        return pl.lit(TOTAL)
    return pl.concat_str([pl.lit(f"{d}=") + pl.col(d) for d in spec.dimensions], separator=";")


def compute_tables(cubes: Mapping[str, Cube], catalogue: Catalogue,
                   year: int) -> dict[str, pl.DataFrame]:
    """Every table of the catalogue: ``year``, dimension codes, ``value``."""
    tables = {}
    for spec in catalogue.tables:
        cube = cubes[spec.population]
        extra = cube.table_pooled.get(spec.id, {})
        codes = {d: tuple(c for c in table_codes(cube, catalogue, d) if c not in extra.get(d, ()))
                 for d in spec.dimensions}
        table = aggregate(_own_other(cube, spec), spec, codes)
        tables[spec.id] = table.select(pl.lit(year, pl.Int32).alias("year"), *spec.dimensions,
                                       VALUE)
    return tables


def cells_frame(tables: Mapping[str, pl.DataFrame], cube: Cube,
                catalogue: Catalogue) -> pl.DataFrame:
    """The cells of a population's tables in cube coordinates, for the protection engine.

    Columns: ``table``, ``key``, one column per cube dimension (a code or ``_T``), ``value``.
    A table's own ``_O`` (``Cube.table_pooled``) has the code ``_O~table`` of
    ``other_hierarchy``; its key keeps ``_O``.
    """
    parts = []
    alias = other_hierarchy(cube.table_pooled)[1]
    for spec in catalogue.tables_of(cube.population):
        parts.append(tables[spec.id].select(
            pl.lit(spec.id).alias("table"), cell_key(spec).alias("key"),
            *cube_coordinates(spec, cube.dimensions, alias), VALUE))
    return pl.concat(parts)


def cube_coordinates(spec: TableSpec, dimensions: Sequence[str],
                     alias: Mapping[str, Mapping[str, str]]) -> list[pl.Expr]:
    """One expression per cube dimension placing a row of ``spec``'s table in the cube.

    A dimension of the table keeps its code, except the table's own ``_O``, which becomes
    its ``_O~table`` code (``alias`` from ``other_hierarchy``); any other dimension is the
    table's ``where`` code or ``_T``.
    """
    coords = []
    for dim in dimensions:
        if dim in alias.get(spec.id, {}):
            coords.append(pl.when(pl.col(dim) == OTHER).then(pl.lit(alias[spec.id][dim]))
                          .otherwise(pl.col(dim)).alias(dim))
        elif dim in spec.dimensions:
            coords.append(pl.col(dim))
        else:
            coords.append(pl.lit(spec.where.get(dim, TOTAL)).alias(dim))
    return coords


def is_implicit(table: pl.Expr) -> pl.Expr:
    """Whether a cell's table id names an implicit cell (``T[dim=code]``)."""
    return table.str.contains("[", literal=True)


def implicit_cells(cells: pl.DataFrame, catalogue: Catalogue, population: str,
                   domains: Mapping[str, tuple[str, ...] | list[str]],
                   value: str) -> pl.DataFrame:
    """Cells no table shows but anyone can compute as a difference: the rest of a slice.

    A table restricted to ``in_finland = Y`` beside a table of the whole population gives,
    cell by cell, the units with ``in_finland = N`` (18 Finnish new clients, 17 of them
    exploited in Finland: one was exploited abroad). Such cells are returned with the table
    id ``T[in_finland=N]`` so that protection and the audit treat them as what they are:
    figures an outsider has. ``value`` is the column holding counts (null stays null).
    """
    dims = catalogue.populations[population].dimensions
    known = {tuple(row[d] for d in dims): row[value] for row in cells.iter_rows(named=True)}
    rows = []
    for spec in catalogue.tables_of(population):
        for dim, code in spec.where.items():
            rest = [c for c in domains[dim]
                    if c != code and c not in catalogue.dimensions[dim].cube_only]
            if len(rest) != 1:
                continue
            for row in cells.filter(pl.col("table") == spec.id).iter_rows(named=True):
                whole = tuple(TOTAL if d == dim else row[d] for d in dims)
                if whole not in known:
                    continue
                total, part = known[whole], row[value]
                rows.append({"table": f"{spec.id}[{dim}={rest[0]}]", "key": row["key"],
                             **{d: rest[0] if d == dim else row[d] for d in dims},
                             value: None if total is None or part is None else total - part})
    return pl.DataFrame(rows, schema=cells.schema) if rows else cells.clear()
