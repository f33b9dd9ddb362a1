"""The register's files as tables of an engine, read where they lie (never into Python).

An entity is ``NAME.csv``, ``NAME.parquet`` or a folder ``NAME/`` of Parquet parts (as a
warehouse or Spark writes a partitioned table). CSV is read as text; every column is then
trimmed, an empty value is null, and dates and integers are cast to the contract's types
(a value that is not one becomes null: validation names it first, see ``_validate``).
Excel is for the Polars engine only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import polars as pl

from suoja.errors import UsageError
from suoja.register.reader import FILES, SCHEMAS

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
INTEGER_PATTERN = r"^[+-]?[0-9]{1,18}$"


@dataclass(frozen=True)
class Source:
    """Where one entity of the register lies and in which format."""

    name: str
    path: Path
    fmt: str  # "csv" or "parquet"

    @property
    def label(self) -> str:
        """The file name as problems show it (``persons.csv``, ``persons/``)."""
        return self.path.name + ("/" if self.path.is_dir() else "")


def find_sources(folder: Path) -> tuple[dict[str, Source], list[str]]:
    """The register's entities in ``folder`` and the names not found."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (the register extract is a folder of files)")
    found: dict[str, Source] = {}
    absent: list[str] = []
    for name in FILES:
        options = [Source(name, folder / f"{name}.csv", "csv"),
                   Source(name, folder / f"{name}.parquet", "parquet"),
                   Source(name, folder / name, "parquet")]
        present = [s for s in options if s.path.is_file() or
                   (s.path.is_dir() and any(s.path.glob("**/*.parquet")))]
        if (folder / f"{name}.xlsx").is_file():
            raise UsageError(f"{folder / (name + '.xlsx')}: Excel files are read by the polars "
                             "engine only; save the sheet as CSV or Parquet, or use "
                             "--engine polars")
        if len(present) > 1:
            raise UsageError(f"{folder}: {name} is given twice "
                             f"({', '.join(s.label for s in present)}); keep one")
        if present:
            found[name] = present[0]
        else:
            absent.append(name)
    return found, absent


def _read(con: ibis.BaseBackend, source: Source) -> ir.Table:
    """The entity as the engine reads it (CSV as text)."""
    path = str(source.path)
    backend = con.name
    if source.fmt == "csv":
        if backend == "duckdb":
            return con.read_csv(path, all_varchar=True, header=True)
        if backend == "pyspark":
            return con.read_csv(path, header=True, inferSchema=False)
        return con.read_csv(path, infer_schema=False)
    if source.path.is_dir() and backend != "pyspark":
        path = str(source.path / "**" / "*.parquet")
    return con.read_parquet(path)


def _as_text(column: ir.Value) -> ir.StringValue:
    """A column as trimmed text, empty as null."""
    text = column if column.type().is_string() else column.cast("string")
    text = text.strip()
    return ibis.cases((text == "", ibis.null("string")), else_=text)


def text_table(con: ibis.BaseBackend, source: Source) -> tuple[ir.Table, tuple[str, ...]]:
    """The entity with every contract column as text (missing columns null) and the names of
    the missing columns."""
    table = _read(con, source)
    present = set(table.columns)
    missing = tuple(c for c in SCHEMAS[source.name] if c not in present)
    columns = {c: (_as_text(table[c]) if c in present else ibis.null("string"))
               for c in SCHEMAS[source.name]}
    return table.select(**columns), missing


def typed_column(text: ir.StringValue, dtype: pl.DataType,
                 backend: str = "duckdb") -> ir.Value:
    """A text column cast to its contract type; a value that is not one becomes null.

    (Ibis on Polars has no ``try_cast`` to dates: there a plain cast, which fails on a
    register that breaks the contract; that engine is for tests.)
    """
    if dtype not in (pl.Date, pl.Int64):
        return text
    kind, pattern = ("date", DATE_PATTERN) if dtype == pl.Date else ("int64", INTEGER_PATTERN)
    cast = text.cast(kind) if backend == "polars" else text.try_cast(kind)
    return ibis.cases((text.re_search(pattern), cast), else_=ibis.null(kind))


def typed_tables(con: ibis.BaseBackend, sources: dict[str, Source]) -> dict[str, ir.Table]:
    """Every entity with the contract's columns and types."""
    tables = {}
    for name, source in sources.items():
        table = _read(con, source)
        schema = table.schema()
        columns = {}
        for column, dtype in SCHEMAS[name].items():
            native = schema[column]
            same = (native.is_date() if dtype == pl.Date
                    else native.is_integer() if dtype == pl.Int64 else False)
            if same:
                columns[column] = table[column].cast("date" if dtype == pl.Date else "int64")
            elif dtype == pl.String and native.is_string():
                columns[column] = _as_text(table[column])
            else:
                columns[column] = typed_column(_as_text(table[column]), dtype, con.name)
        tables[name] = table.select(**columns)
    return tables
