"""Protect any frequency table: margins, hierarchy files and a one-call entry point."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

import polars as pl

from suoja.protect.cube import TOTAL, Dimension
from suoja.protect.gauss import Progress
from suoja.protect.rules import SuppressionRules
from suoja.protect.suppress import protect

TABLE = "table"
TOTAL_NAMES = frozenset({"total", "totals", "totalt", "tot", "sum", "summa", "all", "alle",
                         "yhteensä", "yhteensa", "kaikki", "kaikki yhteensä", "koko maa",
                         "hela landet", "i alt", "gesamt", "insgesamt", "grand total",
                         "overall"})
"""Names of a total in other tools and languages (compared in lower case)."""
SUM_SLICES = 3
"""Slices with different sums in which an unnamed code must be the sum of two or more
others (and in every slice it appears in) to count as a total: by chance that is rare even
in small tables (a table of repeated rows such as ``2, 1, 1`` is no evidence)."""


def read_code_parent_csv(path: str | Path) -> dict[str, str]:
    """Read a hierarchy from a CSV file with the columns ``code,parent``.

    An empty parent (or ``_T``) makes the code a top-level code. The separator is a comma,
    or a semicolon or tab when the header holds no comma (a spreadsheet's export in a
    comma-decimal locale), as for the tables (``suoja.register._csv.separator``).

    Raises:
        ValueError: The columns are missing or a code is listed twice.
    """
    from suoja.register._csv import separator

    with Path(path).open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, delimiter=separator(Path(path).read_bytes()
                                                       .removeprefix(b"\xef\xbb\xbf")))
        if not reader.fieldnames or {"code", "parent"} - set(reader.fieldnames):
            raise ValueError(f"{path}: the columns code and parent are needed")
        parents: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            code, parent = (row["code"] or "").strip(), (row["parent"] or "").strip()
            if not code:
                raise ValueError(f"{path}, line {line}: the code is empty")
            if code in parents:
                raise ValueError(f"{path}, line {line}: code {code!r} is listed twice")
            parents[code] = parent or TOTAL
    return parents


def read_hrc(path: str | Path, lead: str = "@") -> dict[str, str]:
    """Read a tau-ARGUS hierarchy (``.hrc``) file into ``code -> parent``.

    One code per line; the number of leading ``@`` characters is its depth (none for
    the top level, whose parent is the total ``_T``, which the file does not list).

    Raises:
        ValueError: A line is deeper than one below the line before, or a code repeats.
    """
    parents: dict[str, str] = {}
    stack: list[str] = []
    text = Path(path).read_text(encoding="utf-8-sig")
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        code = line.lstrip(lead).strip()
        depth = len(line) - len(line.lstrip(lead))
        if depth > len(stack) or not code:
            raise ValueError(f"{path}, line {number}: {raw!r} is not a valid hierarchy line")
        if code in parents:
            raise ValueError(f"{path}, line {number}: code {code!r} is listed twice")
        del stack[depth:]
        parents[code] = stack[-1] if stack else TOTAL
        stack.append(code)
    return parents


def _leaf_codes(
    frame: pl.DataFrame, dim: str, hierarchy: Mapping[str, str] | None
) -> list[str]:
    """Leaf codes: codes of the frame and the hierarchy that are nobody's parent or total."""
    hierarchy = hierarchy or {}
    parents = set(hierarchy.values())
    seen = [*hierarchy.keys(), *frame[dim].unique().sort().to_list()]
    return list(dict.fromkeys(c for c in seen if c != TOTAL and c not in parents))


def _ancestry(dimension: Dimension) -> pl.DataFrame:
    """Pairs (leaf, code) for every code covering the leaf, the total included."""
    pairs = [
        (leaf, code)
        for code, cover in dimension.covers.items()
        for leaf, inside in zip(dimension.leaves, cover.tolist(), strict=True)
        if inside
    ]
    return pl.DataFrame(pairs, schema=["leaf", "code"], orient="row")


def _key(dims: Sequence[str]) -> pl.Expr:
    return pl.concat_str([pl.lit(f"{d}=") + pl.col(d) for d in dims], separator=";")


def complete_table(
    leaves: pl.DataFrame, dimensions: Sequence[Dimension], count: str
) -> pl.DataFrame:
    """Every combination of codes (leaves, parents, totals) with its summed count."""
    dims = [d.name for d in dimensions]
    summed = leaves.select(*dims, pl.col(count).cast(pl.Int64))
    full = None
    for dimension in dimensions:
        pairs = _ancestry(dimension).rename({"leaf": dimension.name, "code": "__code"})
        summed = summed.join(pairs, on=dimension.name).drop(dimension.name)
        summed = summed.rename({"__code": dimension.name})
        codes = pl.DataFrame({dimension.name: list(dimension.covers)})
        full = codes if full is None else full.join(codes, how="cross")
    assert full is not None
    sums = summed.group_by(dims).agg(pl.col(count).sum())
    table = full.join(sums, on=dims, how="left").with_columns(pl.col(count).fill_null(0))
    return table.with_columns(pl.lit(TABLE).alias("table"), _key(dims).alias("key"))


def disguised_totals(frame: pl.DataFrame, dims: Sequence[str], count: str,
                     parent_codes: Mapping[str, set[str]]) -> list[tuple[int, str, str]]:
    """Codes that are totals under another name: ``(row index, dim, code)``, first row each.

    A code of ``dim`` is one when, in every slice of the other dimensions where it has a
    row, its count is the sum of the other codes' (twice the count is the slice's sum), and
    ``SUM_SLICES`` such slices, with different sums, hold two or more other non-zero codes
    each (one is enough when the code is called a total: ``TOTAL_NAMES``); ``_T`` and the
    hierarchy's parent
    codes are margins already. Tables written by other tools (tau-ARGUS, sdcTable,
    GaussSuppression, a spreadsheet's pivot table) call their totals ``Total`` or
    ``Yhteensa``: taken for a category, such a row would be summed into the margins again,
    and a hidden cell would follow from a published one (the table's total, doubled).
    """
    found: list[tuple[int, str, str]] = []
    rows = frame.with_row_index("__row").with_columns(pl.col(count).cast(pl.Int64))
    for d in dims:
        others = [o for o in dims if o != d]
        own = rows.filter(~pl.col(d).is_in(list(parent_codes.get(d, set()))))
        if own[d].n_unique() < 3:
            continue
        keys = others or [pl.lit(0).alias("__all")]
        slices = own.with_columns(*([] if others else keys)).group_by(
            others or ["__all"]).agg(pl.col(count).sum().alias("__sum"),
                                     (pl.col(count) > 0).sum().alias("__nonzero"))
        joined = (own.with_columns(*([] if others else keys))
                  .join(slices, on=others or ["__all"], how="left")
                  .with_columns((2 * pl.col(count) == pl.col("__sum")).alias("__sums"),
                                (pl.col("__nonzero") - (pl.col(count) > 0).cast(pl.UInt32)
                                 >= 2).alias("__wide")))
        verdict = joined.group_by(d).agg(pl.col("__sums").all(), pl.col("__wide").sum(),
                                         pl.col("__sum").filter(pl.col("__wide")).n_unique()
                                         .alias("__distinct"), pl.col("__row").min())
        named = pl.col(d).str.to_lowercase().str.strip_chars().is_in(list(TOTAL_NAMES))
        hit = pl.col("__sums") & ((pl.col("__distinct") >= SUM_SLICES)
                                  | ((pl.col("__wide") >= 1) & named))
        for row, code in verdict.filter(hit).sort("__row").select("__row", d).iter_rows():
            found.append((row, d, code))
    return sorted(found)


def _check_margins(frame: pl.DataFrame, computed: pl.DataFrame, dims: list[str], count: str,
                   row_offset: int = 1) -> None:
    """Given margins must equal the sums of their leaves; raise naming the first bad row."""
    joined = frame.with_row_index("__row").join(
        computed.select(*dims, pl.col(count).alias("__sum")), on=dims, how="left"
    )
    bad = joined.filter(pl.col("__sum").is_null() | (pl.col(count) != pl.col("__sum")))
    if bad.height:
        row = bad.sort("__row").row(0, named=True)
        where = ", ".join(f"{d}={row[d]}" for d in dims)
        raise ValueError(
            f"row {row['__row'] + row_offset} ({where}): {count} is {row[count]} but its parts add "
            f"up to {row['__sum'] if row['__sum'] is not None else 'nothing (unknown code)'}"
        )


def protect_frequency_table(
    frame: pl.DataFrame,
    dims: list[str],
    count: str,
    hierarchies: Mapping[str, Mapping[str, str]] | None = None,
    margins_given: bool = False,
    rules: SuppressionRules | None = None,
    *,
    row_offset: int = 1,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Protect one frequency table of any shape.

    Args:
        frame: One row per cell: the ``dims`` columns (codes) and the ``count`` column.
        dims: The classifying columns.
        count: The column of counts.
        hierarchies: Optional ``code -> parent`` per dimension (see ``read_hrc``).
        margins_given: Whether the frame already holds the totals (``_T``) and parent
            codes. If so they are checked; otherwise they are computed.
        rules: The rules; defaults to ``SuppressionRules()``.
        row_offset: The number messages give the frame's first row (2 for a CSV file
            whose header is row 1, as a spreadsheet shows it).

    Returns:
        Every cell of the complete table (all codes, zeros included) with ``status``,
        ``published``, ``reason``, ``protects_table`` and ``protects_key``.

    Raises:
        ValueError: A column is missing, a count is negative, a given margin does not
            add up, or a code is a total under another name (``disguised_totals``: rename
            it ``_T``); each naming the row.
    """
    missing = [c for c in [*dims, count] if c not in frame.columns]
    if missing:
        raise ValueError(f"the table lacks the column(s) {', '.join(missing)}")
    frame = frame.with_columns(pl.col(d).cast(pl.String) for d in dims)
    if frame[count].null_count() or (frame[count] < 0).any():
        raise ValueError(f"column {count!r} has a missing or negative count")
    for d in dims:
        empty = frame.with_row_index("__row").filter(pl.col(d).str.strip_chars()
                                                     .replace("", None).is_null())
        if empty.height:
            raise ValueError(f"row {empty['__row'][0] + row_offset}, column {d}: the code is "
                             "empty")
    hierarchies = hierarchies or {}
    parent_codes = {d: {TOTAL, *hierarchies.get(d, {}).values()} for d in dims}
    disguised = disguised_totals(frame, dims, count, parent_codes)
    if disguised:
        row, d, code = disguised[0]
        raise ValueError(
            f"row {row + row_offset}, column {d}: {code!r} is the sum of the other codes of "
            f"{d} wherever it appears, so it looks like a total under another name "
            f"({len(disguised)} such code(s)); name it with --total {code} (the table then "
            f"holds its margins: add --margins-given), or leave the totals out (rule: a "
            f"total is {TOTAL}; a category is never the sum of the others)")
    is_leaf = pl.all_horizontal(~pl.col(d).is_in(list(parent_codes[d])) for d in dims)
    leaves = frame.filter(is_leaf)
    dimensions = [
        Dimension.build(d, _leaf_codes(leaves, d, hierarchies.get(d)), hierarchies.get(d))
        for d in dims
    ]
    table = complete_table(leaves, dimensions, count)
    if margins_given:
        _check_margins(frame, table, dims, count, row_offset)
    elif leaves.height != frame.height:
        first = frame.with_row_index("__row").filter(~is_leaf).row(0, named=True)
        where = ", ".join(f"{d}={first[d]}" for d in dims)
        raise ValueError(f"row {first['__row'] + row_offset} ({where}) is a total or parent "
                         "code, but the table was not said to hold its margins")
    cells = table.rename({count: "value"}).select("table", "key", *dims, "value")
    finest = leaves.group_by(dims).agg(pl.col(count).sum().alias("value"))
    domains = {d.name: list(d.leaves) for d in dimensions}
    result = protect(cells, domains, finest.filter(pl.col("value") > 0), hierarchies, rules,
                     progress=progress)
    return result.rename({"value": count})
