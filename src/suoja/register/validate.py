"""Every rule of the data contract, checked at once, each problem named precisely.

A problem names the file, the row as a spreadsheet shows it (the header is row 1), the
column, the value and the rule. All problems of a run are collected, up to a cap, with a
count of the rest, so that the user can fix the extract in one go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from suoja import codelists
from suoja.errors import clip
from suoja.register.consistency import check_relations
from suoja.register.reader import FILES, ROW, SCHEMAS, RawFile, typed

OPTIONAL_COLUMNS: dict[str, set[str]] = {
    "persons": {"parent_id", "birth_year"},
    "applications": {"decided", "rejection_reason"},
    "client_periods": {"end", "end_reason", "residence_status"},
    "exploitation": {"sector"},
    "reflection_periods": set(),
}


@dataclass(frozen=True)
class Problem:
    """One broken rule at one place of the extract."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        where += f", column {self.column}" if self.column else ""
        value = f": {clip(self.value)}" if self.value is not None else ""
        return f"{where}{value}: {self.rule}"

    def as_dict(self) -> dict[str, object]:
        """The problem as plain data for ``--json``."""
        return {"file": self.file, "row": self.row, "column": self.column,
                "value": self.value, "rule": self.rule}


@dataclass
class ValidationReport:
    """The outcome of validating one extract."""

    source: Path
    problems: list[Problem] = field(default_factory=list)
    more: int = 0
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        """True when no rule is broken."""
        return not self.problems

    def summary(self) -> dict[str, object]:
        """Rows per file and the years the extract covers."""
        years: list[int] = []
        if "applications" in self.frames and self.frames["applications"].height:
            years += self.frames["applications"]["received"].dt.year().drop_nulls().to_list()
        if "client_periods" in self.frames and self.frames["client_periods"].height:
            years += self.frames["client_periods"]["start"].dt.year().drop_nulls().to_list()
        return {
            "source": str(self.source),
            "valid": self.valid,
            "rows": {name: f.height for name, f in self.frames.items()},
            "years": [min(years), max(years)] if years else None,
            "problems": [p.as_dict() for p in self.problems],
            "more_problems": self.more,
        }


class _Collector:
    """Keeps the first ``cap`` problems and counts the rest.

    A value that fails its type is null afterwards; a later rule finding that null (say,
    "required when ...") at the same place repeats the first problem, so it is dropped.
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.problems: list[Problem] = []
        self.more = 0
        self.failed_type: dict[tuple[str, str], list[int]] = {}

    def add(self, problem: Problem) -> None:
        if len(self.problems) < self.cap:
            self.problems.append(problem)
        else:
            self.more += 1

    def add_rows(self, file: str, bad: pl.DataFrame, column: str | None, rule: str) -> None:
        """Add one problem per row of ``bad`` (which has ROW and, if named, ``column``)."""
        if column and (file, column) in self.failed_type:
            bad = bad.filter(~pl.col(ROW).is_in(self.failed_type[file, column]))
        room = max(self.cap - len(self.problems), 0)
        for row in bad.head(room).iter_rows(named=True):
            value = row.get(column) if column else None
            self.problems.append(Problem(file, row[ROW], column, _text(value), rule))
        self.more += max(bad.height - room, 0)


def _text(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def allowed_codes() -> dict[tuple[str, str], frozenset[str]]:
    """The code list each coded column is checked against."""
    country = frozenset(codelists.codes("citizenship")) - {codelists.STATELESS}
    return {
        ("persons", "role"): frozenset(codelists.codes("role")),
        ("persons", "sex"): frozenset(codelists.codes("sex")),
        ("persons", "citizenship"): frozenset(codelists.codes("citizenship")),
        ("applications", "referrer"): frozenset(codelists.codes("referrer")),
        ("applications", "decision"): frozenset(codelists.codes("decision")),
        ("applications", "rejection_reason"): frozenset(codelists.codes("rejection_reason")),
        ("client_periods", "end_reason"): frozenset(codelists.codes("end_reason")),
        ("client_periods", "residence_status"): frozenset(codelists.codes("residence_status")),
        ("exploitation", "form"): frozenset(codelists.codes("form")),
        ("exploitation", "rank"): frozenset(codelists.codes("rank")),
        ("exploitation", "country"): country,
        ("exploitation", "sector"): frozenset(codelists.codes("sector")),
    }


def _check_columns(raw: RawFile, out: _Collector) -> None:
    for column in raw.missing_columns:
        out.add(Problem(raw.path.name, 1, column, None, "required column is missing from the header"))
    for column, reason in raw.bad_columns:
        expected = {pl.Date: "dates", pl.Int64: "integers"}.get(SCHEMAS[raw.name][column], "text")
        out.add(Problem(raw.path.name, None, column, None, f"{reason} (expected {expected})"))


def _check_types(raw: RawFile, frame: pl.DataFrame, out: _Collector) -> None:
    for column, dtype in SCHEMAS[raw.name].items():
        if column in raw.unusable:
            continue
        if dtype in (pl.Date, pl.Int64):
            bad = raw.frame.filter(pl.col(column).is_not_null() & frame[column].is_null())
            rule = ("not a date that exists (expected a date as ISO 8601, YYYY-MM-DD)"
                    if dtype == pl.Date else "not a whole number (expected an integer)")
            out.add_rows(raw.path.name, bad, column, rule)
            out.failed_type[raw.path.name, column] = bad[ROW].to_list()
        if column not in OPTIONAL_COLUMNS[raw.name]:
            bad = raw.frame.filter(pl.col(column).is_null())
            out.add_rows(raw.path.name, bad, column, "required value is empty")


def _check_codes(raw: RawFile, out: _Collector) -> None:
    for (name, column), allowed in allowed_codes().items():
        if name != raw.name or column in raw.unusable:
            continue
        bad = raw.frame.filter(pl.col(column).is_not_null() & ~pl.col(column).is_in(list(allowed)))
        listed = ", ".join(sorted(allowed)) if len(allowed) <= 12 else f"{len(allowed)} codes"
        out.add_rows(raw.path.name, bad, column, f"not a code of the {column} list ({listed})")


def validate_raw(
    folder: Path, raw: dict[str, RawFile], absent: list[str], *, max_problems: int = 50
) -> ValidationReport:
    """Check every contract rule on text frames; return typed frames and all problems."""
    out = _Collector(max_problems)
    for name in absent:
        out.add(Problem(f"{name}.csv", None, None, None,
                        f"required file is missing from {folder} (as .csv, .parquet or .xlsx)"))
    frames: dict[str, pl.DataFrame] = {}
    for name, file in raw.items():
        frame = typed(file)
        _check_columns(file, out)
        _check_types(file, frame, out)
        _check_codes(file, out)
        frames[name] = frame
    if all(name in frames for name in FILES) and not any(f.unusable for f in raw.values()):
        names = {name: raw[name].path.name for name in FILES}
        check_relations(frames, names, out)
    report = ValidationReport(source=folder, problems=out.problems, more=out.more)
    report.frames = {name: frame.drop(ROW) for name, frame in frames.items()}
    return report
