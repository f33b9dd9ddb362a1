"""The command line of the engines: ``suoja cube``, and the options publish and validate take.

``suoja.cli`` registers ``cube`` as a command; nothing here imports ``suoja.cli`` (it
imports this module): what the commands share is in ``suoja.cli_support``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from suoja.errors import UsageError
from suoja.tables.engines._connect import check_engine
from suoja.tables.engines.load import CubeFolder, CubeSource, EngineRegister


def cube_source(register: Path | None, engine: str, master: str | None, cube: Path | None,
                default_register: Callable[[], Path]) -> CubeSource | None:
    """What ``publish`` computes its cubes from: None for the in-memory Polars path."""
    check_engine(engine)
    if cube is not None:
        if register is not None or engine != "polars":
            raise UsageError("--cube publishes from a cube folder: give neither --register "
                             "nor --engine with it")
        return CubeFolder(cube)
    if master is not None and engine != "spark":
        raise UsageError("--master is the Spark master URL: use it with --engine spark")
    if engine == "polars":
        return None
    return EngineRegister(register or default_register(), engine, master)


def validate_with(path: Path, engine: str, master: str | None, as_json: bool = False) -> None:
    """Check the register with the contract's rules as queries of ``engine``."""
    from suoja.tables.engines._connect import connect
    from suoja.tables.engines._validate import validate_sources

    check_engine(engine)
    if as_json:
        raise UsageError("--json is given by the polars engine only (for now)")
    validate_sources(connect(engine, master), path)


def cube(
    year: Annotated[int, typer.Argument(help="The statistical year, e.g. 2025.")],
    out: Annotated[Path, typer.Option(help="The cube folder (owner-only; never under "
                                           "open/).")] = Path("cubes"),
    register: Annotated[Path | None, typer.Option(help="Folder of the register extract "
                                                   "(default: the embedded register).")] = None,
    engine: Annotated[str, typer.Option(
        help="polars (in memory), duckdb (out of core, from CSV or Parquet) or spark.")
    ] = "polars",
    master: Annotated[str | None, typer.Option(
        help="The Spark master URL for --engine spark (default: local[*]).")] = None,
    catalogue: Annotated[Path | None, typer.Option(help="Table catalogue TOML.")] = None,
    force: Annotated[bool, typer.Option(help="Replace the cubes in OUT.")] = False,
    allow_empty_year: Annotated[bool, typer.Option(
        help="Make cubes of YEAR even if nothing in the register is dated in it.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")
                     ] = False,
) -> None:
    """Compute each population's finest cube of YEAR and write it to OUT, with a manifest.

    The cubes are all that publish needs: run this where the register lies (a warehouse,
    a cluster), carry OUT to the publishing machine, and there run publish --cube OUT.
    They hold small counts: OUT is readable by its owner only.

    Example:

        suoja cube 2025 --engine duckdb --register /data/register --out cubes/
    """
    from suoja.cli_support import default_register, user_errors
    from suoja.tables.catalogue import read_catalogue
    from suoja.tables.engines.cube_set import refuse_open, write_cubes

    with user_errors(debug):
        check_engine(engine)
        refuse_open(out)
        cat = read_catalogue(catalogue)
        source = EngineRegister(register or default_register(), engine, master)
        if out.exists() and any(out.iterdir()) and not force:
            raise UsageError(f"{out} exists and is not empty; use --force to replace its cubes")
        cube_set = source.load(year, cat, allow_empty_year=allow_empty_year)
        manifest = write_cubes(cube_set, out, cat, force=force)
    rows = sum(c.finest.height for c in cube_set.cubes.values())
    typer.echo(f"Wrote {len(cube_set.cubes)} cubes of {year} ({rows} rows, engine "
               f"{engine}) to {out}; manifest {manifest.name}. Restricted data: keep it "
               "with the privacy officer's files, never under open/.")
