"""Connections to the engines and the way results come back: Arrow, then Polars."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import polars as pl

from suoja.errors import SuojaError, UsageError

ENGINES: tuple[str, ...] = ("polars", "duckdb", "spark")
"""``polars`` is suoja's own in-memory path; ``duckdb`` and ``spark`` run the Ibis cube
queries where the register lies. ``ibis-polars`` (the Ibis queries on Polars) is for tests."""
IBIS_ENGINES: tuple[str, ...] = ("duckdb", "spark", "ibis-polars")


class MissingExtra(SuojaError):
    """An engine's library is not installed."""


def check_engine(engine: str) -> None:
    """Refuse an unknown engine name (exit 2), listing the known ones."""
    if engine not in (*ENGINES, "ibis-polars"):
        raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _need(module: str, engine: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f'the {engine} engine needs: pip install "suoja[engines]"') from None


def spark_session(master: str | None = None) -> Any:
    """A Spark session: ``master`` (a cluster's URL), else ``$SUOJA_SPARK_MASTER``, else
    ``local[*]``. Sessions are shared within a process, as Spark wants."""
    sql = _need("pyspark.sql", "spark")
    url = master or os.environ.get("SUOJA_SPARK_MASTER") or "local[*]"
    builder = (sql.SparkSession.builder.master(url).appName("suoja")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", os.environ.get(
                   "SUOJA_SPARK_PARTITIONS", "8")))
    return builder.getOrCreate()


def _spill_folder() -> str:
    """Where DuckDB spills: ``$SUOJA_DUCKDB_TEMP``, else a new owner-only temporary folder
    (``tempfile.mkdtemp``, mode 0700) removed when the process ends."""
    if folder := os.environ.get("SUOJA_DUCKDB_TEMP"):
        path = Path(folder)
        try:
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"SUOJA_DUCKDB_TEMP={folder}: DuckDB cannot spill there "
                             f"({e.strerror or e}); name a folder you can write to") from None
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"SUOJA_DUCKDB_TEMP={folder}: not a folder DuckDB can write "
                             "to; name a folder you can write to")
        return folder
    folder = tempfile.mkdtemp(prefix="suoja-duckdb-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def connect(engine: str, master: str | None = None) -> Any:
    """An Ibis connection for ``engine``."""
    ibis = _need("ibis", engine)
    if engine == "duckdb":
        duckdb = _need("duckdb", engine)
        con = ibis.duckdb.connect()
        # DuckDB spills to disk beyond its memory limit (80 % of RAM unless told). What it
        # spills is restricted data (joins of the register): into an owner-only folder of
        # its own, removed at exit, never DuckDB's default ".tmp" in the working folder.
        if limit := os.environ.get("SUOJA_DUCKDB_MEMORY_LIMIT"):
            try:
                con.raw_sql(f"SET memory_limit = '{limit.replace(chr(39), chr(39) * 2)}'")
            except duckdb.Error as e:
                raise UsageError(f"SUOJA_DUCKDB_MEMORY_LIMIT={limit}: not a memory size "
                                 f"DuckDB understands (for example 3GB or 500MB): "
                                 f"{str(e).splitlines()[0]}") from None
        # DuckDB's own progress bar would write over suoja's (Rich) on the terminal.
        con.raw_sql("SET enable_progress_bar = false")
        spill = _spill_folder()
        con.raw_sql(f"SET temp_directory = '{spill.replace(chr(39), chr(39) * 2)}'")
        return con
    if engine == "spark":
        return ibis.pyspark.connect(spark_session(master))
    if engine == "ibis-polars":
        return ibis.polars.connect()
    raise UsageError(f"no Ibis connection for engine {engine!r}")


def collect(con: Any, expr: Any) -> pl.DataFrame:
    """Run ``expr`` and return its result as a Polars frame (through Arrow, never pandas:
    pandas would turn a null code into NaN)."""
    if con.name == "pyspark":
        return pl.from_arrow(con._session.sql(con.compile(expr)).toArrow())
    return pl.from_arrow(con.to_pyarrow(expr))
