"""Engines: the cubes from where the register lies (DuckDB, Spark), and a publish from cubes.

``suoja.tables`` computes each population's finest cube with Polars in memory. Here the same
cubes come from one Ibis definition of each population (``_populations``) run by DuckDB
(out of core, straight from CSV or Parquet) or Spark (a local session or a cluster), and
can be written to a cube folder (``cubes``) from which a release is made with no register
present.
"""

from suoja.engines._connect import ENGINES, check_engine, connect
from suoja.engines.ibis_cube import engine_cubes, register_cubes

__all__ = ["ENGINES", "check_engine", "connect", "engine_cubes", "register_cubes"]
