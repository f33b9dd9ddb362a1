"""Read a user's CSV file as text columns, refusing a broken structure row by row.

Polars reads the file; but its errors quote the rest of the file and advise parser
options, and it reads a short row as empty values and a repeated header column as a
renamed copy. So the structure is checked first: with Python's ``csv`` module when the file
holds a quote character, or by counting commas per line (fast, vectorised) when it holds
none. Every message names the row as a spreadsheet shows it (the header is row 1) and
quotes at most a few dozen characters of the file.
"""

from __future__ import annotations

import csv
import io
from collections import Counter

import numpy as np
import polars as pl

from suoja.errors import clip

MAX_LISTED = 10
"""Structural problems listed per file; the rest are counted."""

_CSV_ERRORS = {
    "unexpected end of data": "a quote opens in this row and never closes, so the rest of "
                              "the file would be one value (rule: a value that starts with "
                              '" ends with ")',
    "expected after": 'text follows a closing quote (rule: a quoted value ends with " '
                      "followed by a comma or the end of the row)",
}


class StructureError(Exception):
    """The CSV file is not a table: each item of ``problems`` names a row and the rule."""

    def __init__(self, problems: list[str], more: int = 0) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems
        self.more = more


def _duplicates(header: list[str]) -> list[str]:
    twice = [name for name, n in Counter(header).items() if n > 1]
    return [f"row 1: column {name!r} appears {header.count(name)} times in the header "
            "(rule: each column once; remove or rename the copies)" for name in twice]


def _ragged(rows: list[tuple[int, int]], total: int, width: int) -> tuple[list[str], int]:
    """Messages for the first ragged rows, and how many more there are."""
    listed = [f"row {row} has {n} field(s), the header has {width} (rule: one value per "
              "header column; a value holding a comma must be quoted)"
              for row, n in rows[:MAX_LISTED]]
    return listed, total - len(listed)


SEPARATORS = (",", ";", "\t")
"""Field separators read: the contract's comma, and the semicolon and tab that spreadsheets
write in locales whose decimal mark is a comma (Finnish and Swedish Excel among them)."""


def separator(data: bytes) -> str:
    """The header row's separator: a comma unless the header holds none and a semicolon
    or tab instead (a spreadsheet's export in a comma-decimal locale).

    >>> separator(b"a;b;c\n1;2;3\n"), separator(b"a,b\n"), separator(b"a\tb\n")
    (';', ',', '\t')
    """
    header = data.split(b"\n", 1)[0]
    if b"," in header:
        return ","
    found = [(header.count(s.encode()), s) for s in SEPARATORS[1:]]
    count, sep = max(found)
    return sep if count else ","


def _unquoted_counts(data: bytes, sep: str = ",") -> np.ndarray:
    """Fields per line of a file without quotes (0 for a blank line)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    if not data.endswith(b"\n"):
        ends = np.append(ends, len(raw))
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    has_cr = np.zeros(len(ends), dtype=bool)
    nonempty = lengths > 0
    has_cr[nonempty] = raw[ends[nonempty] - 1] == ord("\r")
    commas = np.flatnonzero(raw == ord(sep))
    counts = np.diff(np.searchsorted(commas, ends), prepend=0) + 1
    return np.where(lengths - has_cr > 0, counts, 0)


def _check_unquoted(data: bytes, sep: str = ",") -> None:
    counts = _unquoted_counts(data, sep)
    if not len(counts):
        return
    header = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8").split(sep)
    problems = _duplicates(header)
    bad = np.flatnonzero((counts != len(header)) & (counts > 0))
    listed, more = _ragged([(int(i) + 1, int(counts[i])) for i in bad[:MAX_LISTED]],
                           len(bad), len(header))
    if problems or listed:
        raise StructureError(problems + listed, more)


def _line(text: str, index: int) -> str:
    """Line ``index`` (0-based) of ``text``, without splitting the whole text."""
    start = 0
    for _ in range(index):
        start = text.find("\n", start) + 1
        if not start:
            return ""
    end = text.find("\n", start)
    return text[start:end if end >= 0 else len(text)].rstrip("\r")


def _check_quoted(text: str, sep: str = ",") -> None:
    # A quote that never closes makes the rest of the file one value: let it grow so
    # that the reader names the real cause instead of a value that is too long.
    limit = csv.field_size_limit(max(len(text) + 1, csv.field_size_limit()))
    try:
        _scan_quoted(text, sep)
    finally:
        csv.field_size_limit(limit)


def _scan_quoted(text: str, sep: str = ",") -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=sep)
    problems: list[str] = []
    ragged: list[tuple[int, int]] = []
    header: list[str] | None = None
    row, line = 0, 0
    try:
        for record in reader:
            row, line = row + 1, reader.line_num
            if header is None:
                header = record
                problems += _duplicates(header)
            elif record and len(record) != len(header):
                ragged.append((row, len(record)))
    except csv.Error as e:
        rule = next((r for key, r in _CSV_ERRORS.items() if key in str(e)),
                    "not a well-formed CSV row")
        problems.append(f"row {row + 1}: {rule}; the row starts {clip(_line(text, line))}")
    listed, more = _ragged(ragged, len(ragged), len(header or []))
    if problems or listed:
        raise StructureError(problems + listed, more)


def read_text_csv(data: bytes) -> pl.DataFrame:
    """Read UTF-8 CSV bytes with every column as text.

    The separator is a comma, or a semicolon or tab when the header holds no comma
    (``separator``). Rows at the end with every value empty (a spreadsheet's trailing
    ``,,,``) and a column with no name and no value (a trailing separator on every row)
    are left out; rows keep their spreadsheet numbers.

    Raises:
        StructureError: A row is malformed, ragged, or the header repeats a column.
    """
    sep = separator(data)
    data = _name_blank_columns(data, sep)
    if b'"' in data:
        _check_quoted(data.decode("utf-8"), sep)
    else:
        _check_unquoted(data, sep)
    try:
        frame = pl.read_csv(io.BytesIO(data), infer_schema=False, separator=sep)
    except pl.exceptions.NoDataError:
        raise StructureError(["row 1: the file is empty (rule: a header row, then one row per "
                              "record)"]) from None
    except pl.exceptions.PolarsError:
        # Python's reader found the rows well formed (a stray quote inside a value, say):
        # build the frame from its rows rather than repeat the parser's complaint.
        records = [r for r in csv.reader(io.StringIO(data.decode("utf-8"), newline=""),
                                         delimiter=sep)]
        header, body = records[0], [r or [""] * len(records[0]) for r in records[1:]]
        frame = pl.DataFrame(body, schema=dict.fromkeys(header, pl.String), orient="row")
    return _without_trailing_blanks(frame)


BLANK = "\x00blank"
"""Stand-in name of a nameless column at the end of the header (``_name_blank_columns``)."""


def _name_blank_columns(data: bytes, sep: str) -> bytes:
    """``data`` with the nameless columns at the end of an unquoted header named apart
    (``BLANK`` and a number): a spreadsheet writes ``a;b;;`` when empty columns beside the
    table were ever formatted; the names would otherwise clash, and a value in one would
    read as a dimension with no name."""
    header, newline, rest = data.partition(b"\n")
    cr = header.endswith(b"\r")
    fields = header.removesuffix(b"\r").split(sep.encode())
    blank = 0
    while blank < len(fields) - 1 and not fields[-1 - blank].strip():
        blank += 1
    if not blank or b'"' in header:
        return data
    named = fields[:-blank] + [f"{BLANK}{i}".encode() for i in range(blank)]
    return sep.encode().join(named) + (b"\r" if cr else b"") + newline + rest


def _without_trailing_blanks(frame: pl.DataFrame) -> pl.DataFrame:
    for name in [c for c in frame.columns if c == "" or c.startswith(BLANK)]:
        if frame[name].fill_null("").str.strip_chars().eq("").all():
            frame = frame.drop(name)
        elif name.startswith(BLANK):
            row = frame.with_row_index("__row", offset=2).filter(
                pl.col(name).fill_null("").str.strip_chars() != "")["__row"][0]
            raise StructureError([f"row {row}: a value stands in a column with no name "
                                  "(rule: every column of values has a name in row 1)"])
    if not frame.width or not frame.height:
        return frame
    empty = pl.all_horizontal(pl.col(c).fill_null("").str.strip_chars() == ""
                              for c in frame.columns)
    flags = frame.select(empty.alias("e"))["e"].to_numpy()
    last = len(flags)
    while last and flags[last - 1]:
        last -= 1
    return frame.head(last)
