"""Every table of the catalogue, computed with Polars from the register's populations.

Per population, one lazy pass over the register gives the finest cross-classification
(the *cube*) that its tables need; each table is a margin of that cube (or of one slice
of it), with ``_T`` totals for every dimension and every combination, and every category
of its code lists present, zeros included.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from suoja.codelists import TOTAL
from suoja.tables.catalogue import Catalogue, TableSpec
from suoja.tables.populations import POPULATIONS, scope

VALUE = "value"


@dataclass(frozen=True)
class Cube:
    """The finest cross-classification of one population: non-zero combinations only."""

    population: str
    dimensions: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]
    finest: pl.DataFrame


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
        codes = {d: table_codes(cube, catalogue, d) for d in spec.dimensions}
        table = aggregate(cube, spec, codes)
        tables[spec.id] = table.select(pl.lit(year, pl.Int32).alias("year"), *spec.dimensions,
                                       VALUE)
    return tables


def cells_frame(tables: Mapping[str, pl.DataFrame], cube: Cube,
                catalogue: Catalogue) -> pl.DataFrame:
    """The cells of a population's tables in cube coordinates, for the protection engine.

    Columns: ``table``, ``key``, one column per cube dimension (a code or ``_T``), ``value``.
    """
    parts = []
    for spec in catalogue.tables_of(cube.population):
        table = tables[spec.id]
        coords = []
        for dim in cube.dimensions:
            if dim in spec.dimensions:
                coords.append(pl.col(dim))
            else:
                coords.append(pl.lit(spec.where.get(dim, TOTAL)).alias(dim))
        parts.append(table.select(pl.lit(spec.id).alias("table"), cell_key(spec).alias("key"),
                                  *coords, VALUE))
    return pl.concat(parts)


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
