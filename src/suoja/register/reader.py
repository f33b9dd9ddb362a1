"""Read the register extract (CSV, Parquet or Excel) with explicit schemas.

Every file is first read with all columns as text, so that a bad value can be reported
with its row and column instead of failing somewhere inside a parser; then each column is
cast to its contract type. Codes stay strings (``01`` stays ``01``). Nothing is inferred.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from suoja.errors import RegisterError, UsageError, clip
from suoja.register._csv import StructureError, read_text_csv

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
    bad_columns: tuple[tuple[str, str], ...] = ()
    """Columns present but of a type that holds no values of the contract (and why)."""

    @property
    def unusable(self) -> tuple[str, ...]:
        """Columns whose values cannot be checked: missing or of an unusable type."""
        return self.missing_columns + tuple(c for c, _ in self.bad_columns)


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


def _text_frame_from_csv(path: Path) -> tuple[pl.DataFrame, dict[str, str]]:
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
        return read_text_csv(data), {}
    except StructureError as e:
        raise RegisterError(str(path), [f"{path.name}, {p}" for p in e.problems], e.more) from None


UNREADABLE = (Exception, pl.exceptions.PanicException)
"""What a parser may raise on a user's broken file (a panic is not an ``Exception``)."""


def _unreadable(path: Path, kind: str, error: BaseException) -> RegisterError:
    """A file the parser cannot open, with the start of the parser's reason only."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return RegisterError(str(path), [f"{path.name}: not a readable {kind} file "
                                     f"({clip(reason, 100)})"])


def _as_text(column: pl.Series) -> pl.Series:
    """A Parquet column as text: dates as ISO dates, date-times only at midnight."""
    if column.dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d")
    if column.dtype == pl.Datetime:
        midnight = column.dt.time() == pl.time(0)
        return pl.select(pl.when(midnight).then(column.dt.strftime("%Y-%m-%d"))
                         .otherwise(column.dt.strftime("%Y-%m-%d %H:%M:%S"))).to_series()
    return column.cast(pl.String)


def _text_frame_from_parquet(path: Path) -> tuple[pl.DataFrame, dict[str, str]]:
    try:
        frame = pl.read_parquet(path)
    except UNREADABLE as e:  # any parser failure is the user's file
        raise _unreadable(path, "Parquet", e) from None
    columns, bad = [], {}
    for name in frame.columns:
        try:
            columns.append(_as_text(frame[name]).alias(name))
        except UNREADABLE:
            bad[name] = f"the column's Parquet type {frame.schema[name]} holds no plain values"
            columns.append(pl.Series(name, [None] * frame.height, pl.String))
    return pl.DataFrame(columns, height=frame.height), bad


def text_frame_from_xlsx(path: Path) -> tuple[pl.DataFrame, dict[str, str]]:
    """The first sheet of an Excel workbook as text columns (every cell as the sheet shows
    it, the first row taken as the header), and the columns that could not be read as text.

    Raises:
        RegisterError: The file is not a readable workbook, or its first sheet is empty.
    """
    try:
        frame = pl.read_excel(path, sheet_id=1, has_header=False, infer_schema_length=0)
    except UNREADABLE as e:  # any parser failure is the user's file
        raise _unreadable(path, "Excel", e) from None
    if not frame.height:
        raise RegisterError(str(path), [f"{path.name}, row 1: the first sheet is empty "
                                        "(rule: a header row, then one row per record)"])
    header = [str(v) if v is not None else "" for v in frame.row(0)]
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise RegisterError(str(path), [f"{path.name}, row 1: column {h!r} appears "
                                        f"{header.count(h)} times in the header (rule: each "
                                        "column once; remove or rename the copies)"
                                        for h in twice])
    frame = frame.slice(1).cast(pl.String)
    frame.columns = header
    # Excel keeps dates as date-times: "2025-03-14 00:00:00" is the date 2025-03-14.
    return frame.with_columns(
        pl.col(pl.String).str.replace(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$", "$1")
    ), {}


_READERS = {
    ".csv": _text_frame_from_csv,
    ".parquet": _text_frame_from_parquet,
    ".xlsx": text_frame_from_xlsx,
}


def read_text(path: Path, name: str) -> RawFile:
    """Read one file with every column as text and add the spreadsheet row number."""
    frame, bad = _READERS[path.suffix](path)
    expected = SCHEMAS[name]
    missing = tuple(c for c in expected if c not in frame.columns)
    present = [c for c in expected if c in frame.columns]
    frame = frame.select(
        *[pl.col(c).str.strip_chars().replace("", None) for c in present],
        *[pl.lit(None, pl.String).alias(c) for c in missing],
    ).with_row_index(ROW, offset=2)
    return RawFile(name=name, path=path, frame=frame, missing_columns=missing,
                   bad_columns=tuple((c, bad[c]) for c in expected if c in bad))


def read_raw(folder: Path) -> tuple[dict[str, RawFile], list[str]]:
    """Read every contract file of ``folder`` as text; also return the names not found."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (the register extract is a folder of files)")
    raw: dict[str, RawFile] = {}
    absent: list[str] = []
    unreadable: list[RegisterError] = []
    for name in FILES:
        path = find_file(folder, name)
        if path is None:
            absent.append(name)
            continue
        try:
            raw[name] = read_text(path, name)
        except RegisterError as e:
            unreadable.append(e)  # keep reading: every unreadable file is named in one run
    if len(unreadable) == 1:
        raise unreadable[0]
    if unreadable:
        raise RegisterError(str(folder), [p for e in unreadable for p in e.problems],
                            sum(e.more for e in unreadable))
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


def dated_years(frames: dict[str, pl.DataFrame]) -> list[int]:
    """The years in which anything of the extract is dated, in order.

    Every date column counts: applications received or decided, client periods started or
    ended, exploitation identified, reflection periods granted.
    """
    years: set[int] = set()
    for name, frame in frames.items():
        for column, dtype in SCHEMAS.get(name, {}).items():
            if dtype == pl.Date and column in frame.columns:
                years.update(frame[column].dt.year().drop_nulls().unique().to_list())
    return sorted(years)


def _spans(years: list[int]) -> str:
    """``[2006, 2007, 2008, 2010]`` as ``2006–2008, 2010``."""
    spans: list[list[int]] = []
    for year in years:
        if spans and year == spans[-1][1] + 1:
            spans[-1][1] = year
        else:
            spans.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def check_year_has_data(frames: dict[str, pl.DataFrame], year: int, source: Path) -> None:
    """Refuse a year in which nothing of the extract is dated (a release of zeros)."""
    years = dated_years(frames)
    if year in years:
        return
    covered = f"its dates cover {_spans(years)}" if years else "it holds no dated rows"
    raise UsageError(
        f"{source}: nothing in the register extract is dated in {year} (no applications, "
        f"decisions, client periods, exploitation events or reflection periods); {covered}. "
        "Publish one of those years, or use --allow-empty-year to publish a year of zeros "
        "on purpose")


def register_fingerprint(frames: Mapping[str, pl.DataFrame]) -> str:
    """A SHA-256 over the register's contents, for the restricted folder only."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        digest.update(name.encode())
        digest.update(frames[name].hash_rows(seed=0).sort().to_numpy().tobytes())
    return digest.hexdigest()
