"""Read the register extract (CSV, Parquet or Excel) with explicit schemas.

Every file is first read with all columns as text, so that a bad value can be reported
with its row and column instead of failing somewhere inside a parser; then each column is
cast to its contract type. Codes stay strings (``01`` stays ``01``). Nothing is inferred.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from suoja.errors import RegisterError, UsageError

FILES: tuple[str, ...] = (
    "persons",
    "applications",
    "client_periods",
    "exploitation",
    "reflection_periods",
)
EXTENSIONS: tuple[str, ...] = (".csv", ".parquet", ".xlsx")

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "persons": {
        "person_id": pl.String(),
        "role": pl.String(),
        "parent_id": pl.String(),
        "sex": pl.String(),
        "birth_year": pl.Int64(),
        "citizenship": pl.String(),
    },
    "applications": {
        "application_id": pl.String(),
        "person_id": pl.String(),
        "received": pl.Date(),
        "referrer": pl.String(),
        "decision": pl.String(),
        "decided": pl.Date(),
        "rejection_reason": pl.String(),
    },
    "client_periods": {
        "person_id": pl.String(),
        "start": pl.Date(),
        "end": pl.Date(),
        "end_reason": pl.String(),
        "residence_status": pl.String(),
    },
    "exploitation": {
        "event_id": pl.String(),
        "person_id": pl.String(),
        "form": pl.String(),
        "rank": pl.String(),
        "country": pl.String(),
        "sector": pl.String(),
        "identified": pl.Date(),
    },
    "reflection_periods": {
        "person_id": pl.String(),
        "granted": pl.Date(),
        "months": pl.Int64(),
    },
}
"""The contract's columns and their types, file by file, in the contract's order."""

ROW = "__row"
"""Column added to every frame: the row number as a spreadsheet shows it (header = 1)."""


@dataclass(frozen=True)
class RawFile:
    """One register file as text columns, before type checks."""

    name: str
    path: Path
    frame: pl.DataFrame
    missing_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Register:
    """A validated register extract: one typed Polars frame per contract file."""

    source: Path
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.frames[name]

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per file."""
        return {name: frame.height for name, frame in self.frames.items()}


def find_file(folder: Path, name: str) -> Path | None:
    """The file holding entity ``name`` in ``folder`` (``.csv``, ``.parquet`` or ``.xlsx``)."""
    found = [folder / f"{name}{ext}" for ext in EXTENSIONS if (folder / f"{name}{ext}").is_file()]
    if len(found) > 1:
        raise UsageError(
            f"{folder}: {name} is given twice ({', '.join(p.name for p in found)}); keep one"
        )
    return found[0] if found else None


def _text_frame_from_csv(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise RegisterError(
            str(path),
            [
                f"{path.name}, row {line}: byte {data[e.start]:#04x} is not UTF-8 "
                "(rule: files are UTF-8; re-export the file as UTF-8)"
            ],
        ) from None
    try:
        return pl.read_csv(
            io.BytesIO(data), infer_schema=False
        )
    except pl.exceptions.PolarsError as e:
        raise RegisterError(str(path), [f"{path.name}: not a readable CSV file ({e})"]) from None


def _text_frame_from_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except Exception as e:  # any parser failure is the user's file
        raise RegisterError(str(path), [f"{path.name}: not a readable Parquet file ({e})"]) from None
    return frame.with_columns(
        pl.col(c).dt.strftime("%Y-%m-%d") if frame.schema[c] in (pl.Date, pl.Datetime) else pl.col(c)
        for c in frame.columns
    ).cast(pl.String)


def _text_frame_from_xlsx(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
    except Exception as e:  # any parser failure is the user's file
        raise RegisterError(str(path), [f"{path.name}: not a readable Excel file ({e})"]) from None
    # Excel keeps dates as date-times: "2025-03-14 00:00:00" is the date 2025-03-14.
    return frame.cast(pl.String).with_columns(
        pl.col(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "$1")
    )


_READERS = {
    ".csv": _text_frame_from_csv,
    ".parquet": _text_frame_from_parquet,
    ".xlsx": _text_frame_from_xlsx,
}


def read_text(path: Path, name: str) -> RawFile:
    """Read one file with every column as text and add the spreadsheet row number."""
    frame = _READERS[path.suffix](path)
    frame = frame.with_columns(
        pl.col(pl.String).str.strip_chars().replace("", None)
    ).with_row_index(ROW, offset=2)
    expected = SCHEMAS[name]
    missing = tuple(c for c in expected if c not in frame.columns)
    present = [c for c in expected if c in frame.columns]
    frame = frame.select(ROW, *present, *[pl.lit(None, pl.String).alias(c) for c in missing])
    return RawFile(name=name, path=path, frame=frame, missing_columns=missing)


def read_raw(folder: Path) -> tuple[dict[str, RawFile], list[str]]:
    """Read every contract file of ``folder`` as text; also return the names not found."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (the register extract is a folder of files)")
    raw: dict[str, RawFile] = {}
    absent: list[str] = []
    for name in FILES:
        path = find_file(folder, name)
        if path is None:
            absent.append(name)
        else:
            raw[name] = read_text(path, name)
    return raw, absent


def cast_expression(column: str, dtype: pl.DataType) -> pl.Expr:
    """The cast of a text column to its contract type; a bad value becomes null."""
    if dtype == pl.Date:
        return pl.col(column).str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Int64:
        return pl.col(column).str.to_integer(strict=False)
    return pl.col(column)


def typed(raw: RawFile) -> pl.DataFrame:
    """Cast a text frame to the contract schema (the row column is kept)."""
    schema = SCHEMAS[raw.name]
    return raw.frame.with_columns(cast_expression(c, t).alias(c) for c, t in schema.items())


def read_register(folder: Path, *, max_problems: int = 50) -> Register:
    """Read and validate a register extract; raise RegisterError listing every problem."""
    from suoja.validate import validate_raw

    raw, absent = read_raw(folder)
    report = validate_raw(folder, raw, absent, max_problems=max_problems)
    if report.problems:
        raise RegisterError(str(folder), [str(p) for p in report.problems], report.more)
    return Register(source=folder, frames=report.frames)
