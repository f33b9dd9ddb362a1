"""Least loss after protection: publish again the secondary suppressions a release does
not need, one by one and then in pairs.

The engine chooses secondaries cell by cell against each attack in turn, so a finished
pattern can hold cells that the whole audit does not need. ``unpick`` tries each secondary
published at its true value (``necessity.UnhideCheck``: suoja's exact checks, the joint
audit and the singleton attacks) and keeps it published when every check passes; the
final step of tau-ARGUS's and sdcTable's "cleaning" of a suppression pattern, here with
suoja's whole audit as the test.

One at a time is not enough where two secondaries protect each other: in a row
``F + M + U = total`` with ``U`` published, publishing ``F`` alone gives ``M`` away, so
neither can go alone, yet both may go together when nothing else needed them. The pair
pass tries exactly those: for each secondary still hidden, the one hidden cell that
publishing it alone would make computable (``Pattern.exposed_by``), published together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import polars as pl

from suoja.errors import SolverLimitError
from suoja.policy import Policy
from suoja.protect.necessity import UnhideCheck
from suoja.protect.unhide_pattern import Cell
from suoja.tables.catalogue import Catalogue

UNPICK_FULL_CHECKS = 8
"""Secondaries ``unpick`` takes through the whole audit (those the exact checks 1 and 2 do
not already keep hidden): a work limit; beyond it, cells stay hidden. On the embedded
release two reach it in 2024, none in 2025. On a register of 100 000 persons (``suoja synth
--scale 100000``, 2025) each takes 13-29 s: with 3 the release kept 3 secondaries it did not
need (30 hidden), with 8 every secondary left is needed (27 hidden; unpick 46 -> 127 s)."""

UNPICK_PAIR_CHECKS = 4
"""Pairs of secondaries ``unpick`` takes through the whole audit, a work limit as
``UNPICK_FULL_CHECKS`` is."""


def _order(log: pl.DataFrame, priority: pl.DataFrame | None) -> list[Cell]:
    """The secondaries of ``log``: never-hide cells first, then by priority weight, then
    the most units first."""
    order = log.filter(pl.col("rule") == "secondary")
    if priority is not None and priority.height:
        order = order.join(priority.select("table", pl.col("key").alias("cell"), "weight",
                                           "never_hide").unique(["table", "cell"]),
                           on=["table", "cell"], how="left")
    else:
        order = order.with_columns(pl.lit(None, pl.Float64).alias("weight"),
                                   pl.lit(None, pl.Boolean).alias("never_hide"))
    order = order.with_columns(pl.col("never_hide").fill_null(False),
                               pl.col("weight").fill_null(1.0)).sort(
        "never_hide", "weight", "original", "table", "cell",
        descending=[True, True, True, False, False])
    return list(order.select("table", "cell").iter_rows())


def _pairs(check: UnhideCheck, hidden: list[Cell]) -> Iterator[tuple[Cell, Cell]]:
    """Pairs of hidden secondaries where publishing the first alone would make the second
    computable from the published equalities, each pair once, in the order of ``hidden``."""
    seen: set[frozenset[Cell]] = set()
    for cell in hidden:
        exposed = check.base.exposed_by(cell)
        if exposed is None or exposed[0] is not None or exposed[1] not in hidden:
            continue
        pair = frozenset((cell, exposed[1]))
        if pair not in seen:
            seen.add(pair)
            yield cell, exposed[1]


def unpick(tables: Mapping[str, pl.DataFrame], log: pl.DataFrame, year: int,
           catalogue: Catalogue, policy: Policy, earlier_views: list,
           priority: pl.DataFrame | None = None,
           progress: Callable[[str, int, int], None] | None = None,
           max_full_checks: int = UNPICK_FULL_CHECKS,
           max_pair_checks: int = UNPICK_PAIR_CHECKS) -> list[Cell]:
    """The secondary suppressions a release does not need, published again.

    Each secondary cell of ``log`` (``table``, ``cell``, ``original``, ``rule``) is tried
    in turn: the catalogue's never-hide cells first, then by priority weight (``priority``:
    ``table``, ``key``, ``weight``, ``never_hide``, as ``priority_frame`` gives), then the
    most units first. It is tried published at its true value with every cell already freed
    published too; it is freed when every check of ``necessity`` passes (the joint singleton
    audit included). Then the pairs of the module's docstring are tried the same way, both
    cells published together. Publishing more never makes a release safer, so when no
    limit binds the cells still hidden at the end are each needed: none of them can be
    published alone (an inclusion-minimal pattern). Work limits keep it bounded and never
    make it fail: a cell whose checks stop at a solver's limit stays hidden, and only the
    first ``max_full_checks`` cells (``max_pair_checks`` pairs) that pass the exact checks
    1 and 2 go through the rest (the others stay hidden).

    Args:
        tables: The published tables (hidden cells null, as under ``open/``).
        log: The suppression log of the release.
        year: The statistical year.
        catalogue: The catalogue.
        policy: The policy.
        earlier_views: The outsider's views of the earlier releases.
        priority: The cells' priorities (default: none).
        progress: ``progress(cell, done, total)`` after each cell.
        max_full_checks: The work limit on single cells above.
        max_pair_checks: The work limit on pairs above.

    Returns:
        The freed cells as (table, key), in the order they were freed.
    """
    todo = _order(log, priority)
    if not todo:
        return []
    check = UnhideCheck(tables, log, year, catalogue, policy, earlier_views)
    freed: list[Cell] = []
    full = 0
    for i, cell in enumerate(todo):
        try:
            if not check.fails_exactly(cell) and full < max_full_checks:
                full += 1
                if not check.judge(cell):
                    check.publish(cell)
                    freed.append(cell)
        except SolverLimitError:
            pass  # not proven unneeded within the limits: it stays hidden
        if progress is not None:
            progress(f"{cell[0]} {cell[1]}", i + 1, len(todo))
    pairs = 0
    for first, second in _pairs(check, [c for c in todo if c not in freed]):
        if pairs >= max_pair_checks or first in freed or second in freed:
            continue
        try:
            if not check.fails_exactly(first, second):
                pairs += 1
                if not check.judge(first, second):
                    check.publish(first)
                    check.publish(second)
                    freed += [first, second]
        except SolverLimitError:
            pass
    return freed
