"""Read and check a frequency table given to ``suoja protect``, as a user wrote it.

The table is a CSV file (UTF-8; comma, semicolon or tab) or the first sheet of an Excel
workbook (``.xlsx``).

Codes are stripped of surrounding spaces. Empty codes, counts that are not counts, codes a
hierarchy does not know, the same cell on two rows and totals in a table said to hold
none are refused, every one named by file, row (as a spreadsheet shows it: the header is
row 1), column and value. The checked table gets private column names, so that a user may
call a column anything, ``status`` or ``value`` included.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from suoja.errors import UsageError, clip
from suoja.protect.cube import TOTAL
from suoja.register._csv import StructureError, read_text_csv

ROW = "__row"
COUNT = "__count"
MAX_LISTED = 20


def private(index: int) -> str:
    """The private name of the dimension at ``index``."""
    return f"__dim{index}"


@dataclass(frozen=True)
class Hierarchy:
    """One dimension's hierarchy file and its ``code -> parent`` map."""

    path: Path
    parents: dict[str, str]

    @property
    def codes(self) -> set[str]:
        """Every code the file knows, the total included."""
        return {*self.parents, *self.parents.values(), TOTAL}


@dataclass(frozen=True)
class UserTable:
    """A checked table: private columns ``__dim0``... and ``__count``, in file order."""

    path: Path
    frame: pl.DataFrame
    dims: tuple[str, ...]
    count: str
    total: str = TOTAL
    """The code the user's file gives totals (read as ``_T``, written back as it was)."""

    @property
    def private_dims(self) -> list[str]:
        """The dimensions' private names, in order."""
        return [private(i) for i in range(len(self.dims))]

    def public(self, text: str) -> str:
        """``text`` with every private column name replaced by the user's name."""
        for index in reversed(range(len(self.dims))):
            text = text.replace(private(index), self.dims[index])
        return text.replace(COUNT, self.count)

    def public_expr(self, column: str) -> pl.Expr:
        """A text column with every private name replaced by the user's name."""
        expr = pl.col(column)
        for index in reversed(range(len(self.dims))):
            expr = expr.str.replace_all(private(index), self.dims[index], literal=True)
        return expr


def count_value(text: pl.Expr) -> pl.Expr:
    """A count as written by a spreadsheet, as an integer (null when it is not one).

    Digit groups may be separated by spaces (also no-break and narrow no-break spaces, as
    Finnish and Swedish number formats write them: "1 234"), and a zero fraction may
    follow (``12.0``, ``12,0``): both are whole numbers. Anything else is not a count.
    """
    cleaned = text.str.strip_chars()
    grouped = cleaned.str.contains(r"^\d{1,3}([ \u00a0\u202f]\d{3})+([.,]0+)?$")
    cleaned = pl.when(grouped).then(cleaned.str.replace_all(r"[ \u00a0\u202f]", "")) \
        .otherwise(cleaned)
    cleaned = cleaned.str.replace(r"^(\d+)[.,]0+$", "$1")
    return cleaned.str.to_integer(strict=False)


def _load_xlsx(path: Path) -> pl.DataFrame:
    """The first sheet of an Excel workbook as text, read as the register reads one."""
    from suoja.errors import RegisterError
    from suoja.register.reader import text_frame_from_xlsx

    try:
        return text_frame_from_xlsx(path)[0]
    except RegisterError as e:
        raise UsageError(str(e)) from None


def _load(path: Path) -> pl.DataFrame:
    if path.is_dir():
        raise UsageError(f"{path} is a folder; give the table as a CSV file")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    if data.startswith(b"PK\x03\x04") or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _load_xlsx(path)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise UsageError(f"{path}, row {line}: byte {data[e.start]:#04x} is not UTF-8 "
                         "(rule: the table is UTF-8; save it as UTF-8 CSV)") from None
    try:
        return read_text_csv(data)
    except StructureError as e:
        more = f"\n  ... and {e.more} more problem(s)" if e.more else ""
        raise UsageError(f"{path}: not a table\n" + "\n".join(f"  - {p}" for p in e.problems)
                         + more) from None


def _columns(path: Path, frame: pl.DataFrame, count: str, dims: str | None) -> list[str]:
    listed = ", ".join(frame.columns)
    if count not in frame.columns:
        raise UsageError(f"{path}: no count column {count!r} (choose it with --count); "
                         f"columns: {listed}")
    names = [d.strip() for d in dims.split(",")] if dims else \
        [c for c in frame.columns if c != count]
    unknown = [d for d in names if d not in frame.columns]
    if unknown:
        raise UsageError(f"{path}: --dims names {unknown[0]!r}, which is not a column; "
                         f"columns: {listed}")
    if count in names or len(set(names)) != len(names) or not names:
        raise UsageError(f"{path}: --dims must name each dimension column once, not the "
                         f"count column {count!r}; got {', '.join(names) or 'none'}")
    return names


def _codes(frame: pl.DataFrame, names: list[str], count: str,
           hierarchies: dict[str, Hierarchy]) -> list[str]:
    """Empty codes, counts that are not counts, codes unknown to a hierarchy."""
    problems: list[str] = []
    for index, name in enumerate(names):
        if frame.height and frame[private(index)].null_count() == frame.height:
            others = ",".join(n for n in names if n != name) or "..."
            problems.append(f"column {name} is empty on every row; if it is not a "
                            f"dimension, name the dimensions with --dims {others}")
            continue
        for row in frame.filter(pl.col(private(index)).is_null())[ROW]:
            problems.append(f"row {row}, column {name}: the code is empty (rule: every "
                            f"dimension column holds a code; a total is {TOTAL})")
    counts = frame.select(count_value(pl.col(COUNT)))[COUNT]
    bad = frame.filter(counts.is_null() | (counts < 0))
    for row, value in bad.select(ROW, COUNT).iter_rows():
        shown = "empty" if value is None else clip(value)
        problems.append(f"row {row}, column {count}: {shown} is not a count (a whole "
                        "number >= 0)")
    for name, hierarchy in hierarchies.items():
        column = pl.col(private(names.index(name)))
        unknown = frame.filter(column.is_not_null() & ~column.is_in(list(hierarchy.codes)))
        for row, code in unknown.select(ROW, column).iter_rows():
            problems.append(f"row {row}, column {name}: {clip(code)} is not a code of the "
                            f"hierarchy {hierarchy.path} (nor the total {TOTAL})")
    return problems


def _duplicates(frame: pl.DataFrame, names: list[str]) -> list[str]:
    """The same cell (the same codes) on two or more rows."""
    columns = [private(i) for i in range(len(names))]
    groups = (frame.drop_nulls(columns).group_by(columns, maintain_order=True).agg(pl.col(ROW))
              .filter(pl.col(ROW).list.len() > 1))
    problems = []
    for group in groups.iter_rows(named=True):
        rows = group[ROW]
        codes = ", ".join(f"{n} {clip(group[c])}" for n, c in zip(names, columns, strict=True))
        problems.append(f"rows {', '.join(map(str, rows[:-1]))} and {rows[-1]} hold the same "
                        f"cell ({codes}) (rule: each cell once; a repeated cell is never "
                        "summed)")
    return problems


def _margins(frame: pl.DataFrame, names: list[str],
             hierarchies: dict[str, Hierarchy], total: str = TOTAL) -> list[str]:
    """Rows holding a total or a parent code, in a table said to hold none."""
    problems = []
    for index, name in enumerate(names):
        hierarchy = hierarchies.get(name)
        parents = {TOTAL, *(hierarchy.parents.values() if hierarchy else ())}
        column = pl.col(private(index))
        for row, code in frame.filter(column.is_in(list(parents))).select(
                ROW, column).iter_rows():
            kind = "the total" if code == TOTAL else "a parent code of the hierarchy"
            shown = clip(total if code == TOTAL else code)
            problems.append(f"row {row}, column {name}: {shown} is {kind}; if the table "
                            "holds its totals and parent codes, use --margins-given (they "
                            "are then checked against their parts)")
    return problems


def _refuse(path: Path, problems: list[str]) -> None:
    if problems:
        shown = problems[:MAX_LISTED]
        more = len(problems) - len(shown)
        tail = f"\n  ... and {more} more problem(s)" if more else ""
        raise UsageError(f"{path}: {len(problems)} problem(s)\n"
                         + "\n".join(f"  - {path.name}, {p}" for p in shown) + tail)


def _rename_total(frame: pl.DataFrame, names: list[str], total: str) -> list[str]:
    """``_T`` in a table whose totals are called ``total``: ambiguous, one problem a row."""
    problems = []
    for index, name in enumerate(names):
        column = pl.col(private(index))
        for row in frame.filter(column == TOTAL)[ROW]:
            problems.append(f"row {row}, column {name}: {TOTAL} is a code here, but --total "
                            f"{clip(total)} names the totals (rule: one name for the total)")
    return problems


def read_table(path: Path, *, count: str, dims: str | None, hierarchies: dict[str, Hierarchy],
               margins_given: bool, total: str = TOTAL) -> UserTable:
    """Read, strip and check a user's table; refuse it listing every problem.

    ``total`` is the code the file gives its totals (``Total`` as tau-ARGUS, sdcTable or
    GaussSuppression write them); it is read as ``_T``.
    """
    frame = _load(path)
    names = _columns(path, frame, count, dims)
    if not frame.height:
        raise UsageError(f"{path}: the table has a header but no rows (rule: a header row, "
                         "then one row per cell)")
    strange = [d for d in hierarchies if d not in names]
    if strange:
        raise UsageError(f"--hierarchy {strange[0]}=...: {strange[0]!r} is not a dimension "
                         f"of {path}; dimensions: {', '.join(names)}")
    frame = frame.select(
        *[pl.col(n).alias(private(i)) for i, n in enumerate(names)], pl.col(count).alias(COUNT)
    ).with_columns(pl.all().str.strip_chars().replace("", None)).with_row_index(ROW, offset=2)
    total = total.strip() or TOTAL
    problems = []
    if total != TOTAL:
        problems += _rename_total(frame, names, total)
        frame = frame.with_columns(pl.col(private(i)).replace(total, TOTAL)
                                   for i in range(len(names)))
    problems += _codes(frame, names, count, hierarchies) + _duplicates(frame, names)
    if not margins_given:
        problems += _margins(frame, names, hierarchies, total)
    _refuse(path, problems)
    checked = frame.drop(ROW).with_columns(count_value(pl.col(COUNT)))
    return UserTable(path, checked, tuple(names), count, total)
