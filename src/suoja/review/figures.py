"""Facts for the review, derived from published (protected) values only.

Everything here reads ``release.tables`` (and the previous year's), never the register and
never ``release.restricted``. A hidden cell stays a ``Figure`` without a value; what may be
said about it is only what the published margins of its own table imply (``bound``).
Percentages are computed only from published values, comparisons with the previous year
only when both years publish the figure, and an ordering ("most common") only when no
hidden or pooled category could be larger.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from suoja.codelists import CITIZENSHIP_UNKNOWN, OTHER, TOTAL, UNKNOWN
from suoja.protect.protected import ProtectedRelease

NOT_RANKED = (TOTAL, OTHER, UNKNOWN, CITIZENSHIP_UNKNOWN)
"""Codes that are no category of their own: totals, pooled groups, not known."""


@dataclass(frozen=True)
class Figure:
    """One published cell: ``value`` is None when hidden.

    ``bound`` is, for a hidden cell, the largest value the published margins of its table
    allow (None when they allow any value); ``threshold`` is the policy's minimum count.
    """

    value: int | None
    bound: int | None = None
    threshold: int = 5

    @property
    def hidden(self) -> bool:
        """True when the cell is not published."""
        return self.value is None

    @property
    def few(self) -> bool:
        """Hidden, and the published margins show it is below the threshold."""
        return self.value is None and self.bound is not None and self.bound < self.threshold

    @property
    def ceiling(self) -> float:
        """The largest value the cell can have as far as a reader can tell."""
        if self.value is not None:
            return float(self.value)
        return math.inf if self.bound is None else float(self.bound)


@dataclass(frozen=True)
class Item:
    """A category of a table with its figure and its share of the margin (None if unknown)."""

    code: str
    figure: Figure
    share: float | None


@dataclass(frozen=True)
class Change:
    """A figure of this year and the previous year, both published."""

    now: float
    before: float
    year: str

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``same``."""
        if self.now > self.before:
            return "up"
        return "down" if self.now < self.before else "same"


def _cut_ties(ranked: list[Item], top: int) -> list[Item]:
    """The first ``top`` items, fewer if the last of them ties with the next one."""
    if len(ranked) <= top:
        return ranked
    last = ranked[top - 1].figure.value
    if ranked[top].figure.value == last:
        return [i for i in ranked[:top] if i.figure.value != last]
    return ranked[:top]


def share(part: Figure, whole: Figure) -> float | None:
    """``part / whole`` when both are published and the whole is positive.

    >>> share(Figure(25), Figure(100))
    0.25
    >>> share(Figure(None), Figure(100)) is None
    True
    """
    if part.value is None or whole.value is None or whole.value <= 0:
        return None
    return part.value / whole.value


class Facts:
    """Read published cells of one release, with margins, shares and rankings."""

    def __init__(self, release: ProtectedRelease) -> None:
        self.release = release
        self.threshold = release.policy.min_count
        self.noisy = release.policy.mode == "dp"

    def _frame(self, table: str, codes: dict[str, str]) -> pl.DataFrame:
        spec = self.release.catalogue.table(table)
        frame = self.release.tables[table]
        return frame.filter(*[pl.col(d) == codes.get(d, TOTAL) for d in spec.dimensions]) \
            if spec.dimensions else frame

    def get(self, table: str, **codes: str) -> Figure:
        """The figure of one cell; unnamed dimensions are totals."""
        rows = self._frame(table, codes)
        if rows.height != 1:
            raise KeyError(f"{table}: no cell {codes}")
        value = rows["value"][0]
        if value is not None:
            return Figure(int(value), threshold=self.threshold)
        return Figure(None, self._bound(table, codes), self.threshold)

    def _bound(self, table: str, codes: dict[str, str]) -> int | None:
        """The smallest remainder, over the cell's lines, of a published margin."""
        if self.noisy:
            return None  # noisy margins do not add up: they bound nothing
        spec = self.release.catalogue.table(table)
        frame = self.release.tables[table]
        best: int | None = None
        for dim in spec.dimensions:
            if codes.get(dim, TOTAL) == TOTAL:
                continue
            line = frame.filter(*[pl.col(d) == codes.get(d, TOTAL)
                                  for d in spec.dimensions if d != dim])
            margin = line.filter(pl.col(dim) == TOTAL)["value"]
            if margin.len() != 1 or margin[0] is None:
                continue
            rest = line.filter(pl.col(dim) != TOTAL)["value"].drop_nulls().sum()
            remainder = int(margin[0]) - int(rest)
            best = remainder if best is None else min(best, remainder)
        return best

    def floor(self, table: str, **codes: str) -> int:
        """The smallest value a cell can have as far as a reader of the tables can tell.

        A published cell is its value. For a hidden one, each line of the table through it
        with a published margin gives ``margin - published others - ceilings of hidden
        others`` (a ceiling is ``Figure.bound``, itself from published margins), and a
        hidden margin is at least the sum of its published parts; the largest of these, or
        0. Only published figures enter, so a statement true for every value between the
        floor and the ceiling is true for every value an outsider can deduce, and says
        nothing the tables do not. Under noise nothing is bounded: 0.
        """
        figure = self.get(table, **codes)
        if figure.value is not None:
            return figure.value
        if self.noisy:
            return 0
        spec = self.release.catalogue.table(table)
        frame = self.release.tables[table]
        best = 0
        for dim in spec.dimensions:
            others = {d: codes.get(d, TOTAL) for d in spec.dimensions if d != dim}
            line = frame.filter(*[pl.col(d) == c for d, c in others.items()])
            if codes.get(dim, TOTAL) == TOTAL:  # a margin: at least its published parts
                best = max(best, int(line.filter(pl.col(dim) != TOTAL)["value"]
                                     .drop_nulls().sum()))
                continue
            margin = self.get(table, **others)
            if margin.value is None:
                continue
            rest = 0.0
            for code in line[dim].to_list():
                if code not in (TOTAL, codes[dim]):
                    rest += self.get(table, **{**others, dim: code}).ceiling
            if rest != math.inf:
                best = max(best, margin.value - int(rest))
        return best

    def items(self, table: str, dim: str, **fixed: str) -> list[Item]:
        """Every category of ``dim`` (margin excluded) in table order, with shares."""
        whole = self.get(table, **fixed)
        codes = [c for c in self.release.tables[table][dim].unique(maintain_order=True)
                 if c != TOTAL]
        out = []
        for code in codes:
            figure = self.get(table, **{**fixed, dim: code})
            out.append(Item(code, figure, share(figure, whole)))
        return out

    def margin_of_error(self, table: str) -> float:
        """Two 95 % error bounds under differential privacy, else 0."""
        return 2 * self.release.error_bounds.get(table, 0.0) if self.noisy else 0.0

    def ranking(self, table: str, dim: str, *, top: int = 3, **fixed: str) -> list[Item]:
        """The largest published categories that no hidden or pooled one can exceed.

        Categories come in descending order. A category is listed only when its value is
        above the ceiling of every category not listed: hidden cells (their bound) and the
        members of a pooled group (at most the group's value). Totals, pooled groups and
        "not known" are never ranked themselves.
        """
        items = self.items(table, dim, **fixed)
        ranked = sorted((i for i in items if i.code not in NOT_RANKED and not i.figure.hidden),
                        key=lambda i: -(i.figure.value or 0))
        unlisted = [i.figure.ceiling for i in items
                    if i.figure.hidden and i.code not in (UNKNOWN, CITIZENSHIP_UNKNOWN)]
        unlisted += [i.figure.ceiling for i in items if i.code == OTHER]
        ceiling = max(unlisted, default=0.0) + self.margin_of_error(table)
        return _cut_ties([i for i in ranked if (i.figure.value or 0) > ceiling
                          and i.figure.value], top)

    def largest(self, table: str, dim: str, *, top: int = 3, **fixed: str) -> list[Item]:
        """The largest categories among those with a published figure (ties kept whole)."""
        items = self.items(table, dim, **fixed)
        ranked = sorted((i for i in items if i.code not in NOT_RANKED and i.figure.value),
                        key=lambda i: -(i.figure.value or 0))
        return _cut_ties(ranked, top)

    def leader(self, table: str, dim: str, **fixed: str) -> Item | None:
        """The single most common category, when the published figures prove it."""
        ranked = self.ranking(table, dim, top=2, **fixed)
        if not ranked:
            return None
        if len(ranked) == 2:
            gap = (ranked[0].figure.value or 0) - (ranked[1].figure.value or 0)
            if gap <= self.margin_of_error(table):
                return None
        return ranked[0]

    def previous(self, table: str, **codes: str) -> Figure | None:
        """The same cell a year earlier, or None without a previous release."""
        before = self.release.previous
        if before is None or table not in before.tables:
            return None
        try:
            return Facts(before).get(table, **codes)
        except KeyError:
            return None

    def change(self, table: str, **codes: str) -> Change | None:
        """This year's and last year's figure, when both are published."""
        now, before = self.get(table, **codes), self.previous(table, **codes)
        if before is None or now.value is None or before.value is None:
            return None
        return Change(now.value, before.value, str(self.release.year - 1))

    def share_change(self, table: str, **codes: str) -> Change | None:
        """This year's and last year's share of the margin, when all four are published."""
        dims = self.release.catalogue.table(table).dimensions
        whole = {d: TOTAL for d in dims if d in codes}
        before_part, before_whole = self.previous(table, **codes), self.previous(table, **whole)
        if before_part is None or before_whole is None:
            return None
        now = share(self.get(table, **codes), self.get(table, **whole))
        before = share(before_part, before_whole)
        if now is None or before is None:
            return None
        return Change(now, before, str(self.release.year - 1))

    def subtotal(self, table: str, dim: str, codes: tuple[str, ...], **fixed: str) -> Figure:
        """The sum of some categories, when the published figures give it.

        Either every one of them is published, or the margin and every other category
        are (the sum is then the margin minus the others: what any reader can compute).
        Under noise the second way is not taken: noisy cells do not add up.
        """
        values = [self.get(table, **{**fixed, dim: c}).value for c in codes]
        if all(v is not None for v in values):
            return Figure(sum(v for v in values if v is not None), threshold=self.threshold)
        whole = self.get(table, **fixed).value
        rest = [i.figure.value for i in self.items(table, dim, **fixed) if i.code not in codes]
        if self.noisy or whole is None or any(v is None for v in rest):
            return Figure(None, None, self.threshold)
        return Figure(whole - sum(v for v in rest if v is not None), threshold=self.threshold)
