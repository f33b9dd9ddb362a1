"""What readers most want published: the catalogue's ``[[priorities]]``.

Secondary suppression chooses the cheapest cells to hide. By default a cell costs 1 (plus
a small share of its value, so fewer persons break ties) and a table's grand total costs a
thousand; a ``[[priorities]]`` entry multiplies the cost of the cells it selects
(``weight``), or asks that they are never hidden unless no pattern can do without them
(``never_hide = true``). Primary cells are hidden whatever their priority: a never-hide
cell of 1 to 4 units is reported, not published.

    [[priorities]]
    table = "new_clients_sex"        # a table id of the catalogue
    cells = { sex = ["F", "M"] }     # codes per dimension of the table; omitted: every cell
    weight = 10                      # or: never_hide = true
    why = "The review's headline: new clients by sex"

The entries are read with the catalogue (``suoja.catalogue.read_catalogue``); an entry
naming an unknown table, dimension or code is a ``CatalogueError`` naming the entry and
its line. The method follows tau-ARGUS's cell costs ("cost function": frequency, unity or
a variable) and its "protected" cell status, which secondary suppression may not take.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from suoja.errors import CatalogueError

TOTAL = "_T"


@dataclass(frozen=True)
class Priority:
    """One ``[[priorities]]`` entry.

    Attributes:
        table: The table id.
        cells: Allowed codes per dimension of the table (``_T`` for its total); a
            dimension not named takes every code.
        weight: The cost of hiding a selected cell, as a multiple of an ordinary one.
        never_hide: Never a secondary suppression unless no pattern can do without it.
        why: Why (for the privacy officer's report).
    """

    table: str
    cells: Mapping[str, frozenset[str]]
    weight: float = 1.0
    never_hide: bool = False
    why: str = ""

    def selects(self) -> pl.Expr:
        """A boolean expression over a cells frame (``table`` and dimension columns)."""
        expr = pl.col("table") == self.table
        for dim, codes in self.cells.items():
            expr &= pl.col(dim).is_in(sorted(codes))
        return expr


def _lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines())
            if re.match(r"\s*\[\[\s*priorities\s*\]\]", line)]


def _codes(value: Any, where: str, allowed: Iterable[str]) -> frozenset[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not values or \
            not all(isinstance(v, str) for v in values):
        raise CatalogueError(f"{where}: must be a code or a list of codes, got {value!r}")
    allowed = set(allowed) | {TOTAL}
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise CatalogueError(f"{where}: code {unknown[0]!r} is not in the code list "
                             f"(allowed: {', '.join(sorted(allowed))})")
    return frozenset(values)


def parse_priority(raw: Any, where: str, tables: Mapping[str, tuple[str, ...]],
                   codes_of: Mapping[str, tuple[str, ...]]) -> Priority:
    """One entry; ``tables`` maps table id to its dimensions, ``codes_of`` dimension to
    codes. Raises CatalogueError naming ``where`` and the key."""
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: must be a table of keys, got {raw!r}")
    unknown = sorted(set(raw) - {"table", "cells", "weight", "never_hide", "why"})
    if unknown:
        raise CatalogueError(f"{where}: unknown key {unknown[0]!r} "
                             "(allowed: table, cells, weight, never_hide, why)")
    table = raw.get("table")
    if table not in tables:
        raise CatalogueError(f"{where}.table: {table!r} is not a table of the catalogue")
    cells_raw = raw.get("cells", {})
    if not isinstance(cells_raw, dict):
        raise CatalogueError(f"{where}.cells: must map dimensions to codes, got {cells_raw!r}")
    cells = {}
    for dim, value in cells_raw.items():
        if dim not in tables[table]:
            raise CatalogueError(f"{where}.cells: {dim!r} is not a dimension of table "
                                 f"{table!r} (it has: {', '.join(tables[table]) or 'none'})")
        cells[dim] = _codes(value, f"{where}.cells.{dim}", codes_of.get(dim, ()))
    never = raw.get("never_hide", False)
    if not isinstance(never, bool):
        raise CatalogueError(f"{where}.never_hide: must be true or false, got {never!r}")
    weight = raw.get("weight", 1.0)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
        raise CatalogueError(f"{where}.weight: must be a positive number, got {weight!r}")
    if never and "weight" in raw:
        raise CatalogueError(f"{where}: give weight or never_hide, not both")
    why = raw.get("why", "")
    if not isinstance(why, str):
        raise CatalogueError(f"{where}.why: must be text, got {why!r}")
    return Priority(table=table, cells=cells, weight=float(weight), never_hide=never, why=why)


def parse_priorities(raw: Any, text: str, tables: Mapping[str, tuple[str, ...]],
                     codes_of: Mapping[str, tuple[str, ...]]) -> tuple[Priority, ...]:
    """Every ``[[priorities]]`` entry; errors name the entry and its catalogue line."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CatalogueError("priorities: must be a list of [[priorities]] entries")
    lines = _lines(text)
    out = []
    for i, entry in enumerate(raw):
        line = f" (line {lines[i]})" if i < len(lines) else ""
        out.append(parse_priority(entry, f"priorities[{i}]{line}", tables, codes_of))
    return tuple(out)


def priority_frame(cells: pl.DataFrame, priorities: Iterable[Priority]) -> pl.DataFrame:
    """The selected cells of a cells frame with their cost weight and never-hide flag.

    Returns ``table``, ``key``, ``weight`` (the product of every entry's weight that
    selects the cell) and ``never_hide`` (any entry asks it); cells no entry selects are
    left out (weight 1, hideable).
    """
    parts = []
    for p in priorities:
        if p.table not in set(cells["table"].unique().to_list()):
            continue
        parts.append(cells.filter(p.selects()).select(
            "table", "key", pl.lit(p.weight).alias("weight"),
            pl.lit(p.never_hide).alias("never_hide")))
    if not parts:
        return pl.DataFrame(schema={"table": pl.String, "key": pl.String,
                                    "weight": pl.Float64, "never_hide": pl.Boolean})
    return pl.concat(parts).group_by("table", "key", maintain_order=True).agg(
        pl.col("weight").product(), pl.col("never_hide").any())


def never_hide_keys(frames: Iterable[pl.DataFrame],
                    priorities: Iterable[Priority]) -> set[tuple[str, str]]:
    """``(table, key)`` of every cell of the cells frames that an entry never hides."""
    keep = [p for p in priorities if p.never_hide]
    found: set[tuple[str, str]] = set()
    for frame in frames:
        tables = set(frame["table"].unique().to_list())
        for p in keep:
            if p.table in tables:
                found |= set(frame.filter(p.selects()).select("table", "key").iter_rows())
    return found


def never_hide_report(cells: Mapping[str, pl.DataFrame],
                      priorities: Iterable[Priority]) -> pl.DataFrame:
    """Every never-hide cell of the protected cells (per population, as ``protect``
    returns them) with its fate: ``table``, ``key``, ``status`` (published, primary or
    secondary), ``reason`` (why it is hidden, from the engine) and ``why`` (the entry's).

    A hidden one is either primary (1 to threshold - 1 units: never published whatever
    its priority) or a secondary that no pattern could do without: the engine allows a
    never-hide cell only after a search with every other cell allowed has failed.
    """
    keep = [p for p in priorities if p.never_hide]
    parts = []
    for frame in cells.values():
        tables = set(frame["table"].unique().to_list())
        for p in keep:
            if p.table in tables:
                parts.append(frame.filter(p.selects()).select(
                    "table", "key", "status", "reason", pl.lit(p.why).alias("why")))
    if not parts:
        return pl.DataFrame(schema={"table": pl.String, "key": pl.String, "status": pl.String,
                                    "reason": pl.String, "why": pl.String})
    return pl.concat(parts).unique(["table", "key"], keep="first", maintain_order=True)


def never_hide_summary(report: pl.DataFrame) -> str:
    """One line for the publish summary, e.g. ``never-hide cells: 4 of 5 published; …``."""
    hidden = report.filter(pl.col("status") != "published")
    line = f"never-hide cells: {report.height - hidden.height} of {report.height} published"
    if hidden.is_empty():
        return line
    named = "; ".join(f"{t} {k} ({s})" for t, k, s in
                      hidden.select("table", "key", "status").iter_rows())
    return f"{line}; not kept: {named} (see restricted/never_hide.csv)"
