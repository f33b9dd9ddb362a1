"""Each population's finest cube, as one query derived from the catalogue, on any engine.

The catalogue gives, per population, its cube dimensions and the code-list groups to apply
(divisions 41-43 counted as construction, ``F``); ``suoja.tables.engines._populations`` gives its
units (filters, year scope, joins). The query groups the units by the dimensions and counts
them; only the cube (codes and counts, a few hundred rows) comes back. Pooling, margins and
protection then run in suoja on the cube, exactly as for the Polars path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import polars as pl

from suoja.tables.catalogue import Catalogue
from suoja.tables.cubes import VALUE, Cube
from suoja.tables.engines._connect import collect
from suoja.tables.engines._populations import POPULATIONS, YearScope
from suoja.tables.engines._sources import Source, typed_tables


def recoded(units: ir.Table, name: str, catalogue: Catalogue) -> ir.Table:
    """The units with each dimension's code groups applied (members counted as the group)."""
    changes = {}
    for dim in catalogue.populations[name].dimensions:
        groups = catalogue.dimensions[dim].groups
        if groups:
            mapping = {m: g for g, members in groups.items() for m in members}
            changes[dim] = units[dim].substitute(mapping)
    return units.mutate(**changes) if changes else units


def cube_query(scope: YearScope, name: str, catalogue: Catalogue) -> ir.Table:
    """The query of one population's finest cube: dimension codes and ``value``."""
    units = recoded(POPULATIONS[name](scope), name, catalogue)
    dims = list(catalogue.populations[name].dimensions)
    if dims:
        return units.group_by(dims).aggregate(**{VALUE: units.count()})
    return units.aggregate(**{VALUE: units.count()})


def normalise(frame: pl.DataFrame, dims: tuple[str, ...]) -> pl.DataFrame:
    """An engine's cube as the Polars path makes it: codes as strings, counts as Int64,
    sorted by the dimensions."""
    frame = frame.select(*[pl.col(d).cast(pl.String) for d in dims],
                         pl.col(VALUE).cast(pl.Int64))
    return frame.sort(list(dims)) if dims else frame


def engine_cubes(con: Any, sources: dict[str, Source], catalogue: Catalogue,
                 year: int) -> dict[str, Cube]:
    """Every population's cube, computed by the engine behind ``con``."""
    tables = typed_tables(con, sources)
    if con.name == "pyspark":
        tables = {name: _cached(con, table, name) for name, table in tables.items()}
    scope = YearScope(tables, year)
    if con.name in ("duckdb", "pyspark"):
        scope.keep = lambda table, name: _cached(con, table, f"{name}_{year}")
    cubes = {}
    for name in (p for p in catalogue.populations if catalogue.tables_of(p)):
        dims = catalogue.populations[name].dimensions
        finest = normalise(collect(con, cube_query(scope, name, catalogue)), dims)
        domains = {d: catalogue.dimensions[d].cube_codes for d in dims}
        cubes[name] = Cube(name, dims, domains, finest)
    return cubes


def _cached(con: Any, table: ir.Table, name: str) -> ir.Table:
    """A table computed once for the eight cube queries: a temporary table in DuckDB (on
    disk beyond its memory limit), a cached frame in Spark (memory, then disk)."""
    if con.name == "duckdb":
        return con.create_table(f"suoja_{name}", table, temp=True, overwrite=True)
    frame = con._session.sql(con.compile(table)).cache()
    frame.createOrReplaceTempView(f"suoja_{name}")
    return con.table(f"suoja_{name}")


def register_cubes(folder: Path, catalogue: Catalogue, year: int, engine: str,
                   master: str | None = None) -> dict[str, Cube]:
    """The cubes of the register in ``folder`` computed by ``engine`` (no validation)."""
    from suoja.tables.engines._connect import connect
    from suoja.tables.engines._sources import find_sources

    sources, absent = find_sources(folder)
    if absent:
        from suoja.errors import RegisterError

        raise RegisterError(str(folder), [f"{n}: required file is missing" for n in absent])
    return engine_cubes(connect(engine, master), sources, catalogue, year)


__all__ = ["cube_query", "engine_cubes", "normalise", "recoded", "register_cubes"]
