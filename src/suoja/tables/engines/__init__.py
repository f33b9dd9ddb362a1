"""Engines: the cubes from where the register lies (DuckDB, Spark), and a publish from cubes.

``suoja.tables`` computes each population's finest cube with Polars in memory. Here the same
cubes come from one Ibis definition of each population (``_populations``) run by DuckDB
(out of core, straight from CSV or Parquet) or Spark (a local session or a cluster), and
can be written to a cube folder (``cubes``) from which a release is made with no register
present. Ibis, DuckDB and pyspark are the ``engines`` extra: they are imported only when an
engine runs, so suoja works without them.
"""

from __future__ import annotations

from typing import Any

from suoja.tables.engines._connect import ENGINES, MissingExtra, check_engine, connect
from suoja.tables.engines.cube_set import CubeError, CubeSet, read_cubes, write_cubes
from suoja.tables.engines.load import CubeFolder, EngineRegister


def engine_cubes(*args: Any, **kwargs: Any) -> Any:
    """``suoja.tables.engines.ibis_cube.engine_cubes`` (imports Ibis)."""
    from suoja.tables.engines.ibis_cube import engine_cubes as run

    return run(*args, **kwargs)


def register_cubes(*args: Any, **kwargs: Any) -> Any:
    """``suoja.tables.engines.ibis_cube.register_cubes`` (imports Ibis)."""
    from suoja.tables.engines.ibis_cube import register_cubes as run

    return run(*args, **kwargs)


__all__ = ["ENGINES", "CubeError", "CubeFolder", "CubeSet", "EngineRegister", "MissingExtra",
           "check_engine", "connect", "engine_cubes", "read_cubes", "register_cubes",
           "write_cubes"]
