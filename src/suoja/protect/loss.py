"""The information loss of a suppression pattern, per table and in all.

Every hidden cell costs a reader something. The loss is reported against the primaries
alone (what the threshold rule hides in any case), so that what secondary suppression
adds is visible: cells and persons (units) hidden, per table and for the release.
Pooled categories are counted apart: they are not hidden, only shown as ``_O``.
"""

from __future__ import annotations

import polars as pl

STATED_MARGIN = 0.10
"""The heuristic method's secondary suppressions cost at most this share more than the
proven least cost on the embedded release (``release_bounds``; checked by
``benchmarks/bench_protect_release.py`` and the tests). The shipped method, ``optimal``,
costs the proven least cost wherever its search ends within its work limits."""

LOSS_SCHEMA = {"table": pl.String, "cells": pl.Int64, "primary": pl.Int64,
               "secondary": pl.Int64, "hidden": pl.Int64, "primary_units": pl.Int64,
               "secondary_units": pl.Int64, "hidden_units": pl.Int64, "pooled": pl.Int64}
"""One row per table (and ``_T`` for the release): cells published or hidden (``cells``),
hidden cells by rule, the units (persons, events, ...) in them, and pooled categories."""


def loss_table(log: pl.DataFrame, cells: dict[str, int]) -> pl.DataFrame:
    """The loss of a release from its suppression log.

    Args:
        log: ``restricted/suppression_log.csv`` as a frame (``table``, ``original``,
            ``rule``: primary, secondary, pooled, ...).
        cells: The number of cells of each table.

    Returns:
        ``LOSS_SCHEMA`` rows, one per table in ``cells`` order and a last ``_T`` row.
        Units in a cell count once per table (a margin and its inner cells both count).
    """
    def count(rule: str) -> pl.Expr:
        return (pl.col("rule") == rule).sum().cast(pl.Int64)

    def units(rule: str) -> pl.Expr:
        return pl.col("original").filter(pl.col("rule") == rule).sum().cast(pl.Int64)

    per = log.group_by("table").agg(
        count("primary").alias("primary"), count("secondary").alias("secondary"),
        units("primary").alias("primary_units"), units("secondary").alias("secondary_units"),
        count("pooled").alias("pooled"))
    frame = pl.DataFrame({"table": list(cells), "cells": list(cells.values())},
                         schema={"table": pl.String, "cells": pl.Int64})
    frame = frame.join(per, on="table", how="left").fill_null(0).with_columns(
        (pl.col("primary") + pl.col("secondary")).alias("hidden"),
        (pl.col("primary_units") + pl.col("secondary_units")).alias("hidden_units"))
    total = frame.drop("table").sum().with_columns(pl.lit("_T").alias("table"))
    return pl.concat([frame, total.select(frame.columns)]).select(list(LOSS_SCHEMA)) \
        .cast(LOSS_SCHEMA)


def summary(loss: pl.DataFrame) -> str:
    """One sentence on the release's loss (the ``_T`` row)."""
    t = loss.filter(pl.col("table") == "_T").row(0, named=True)
    return (f"hidden: {t['hidden']} of {t['cells']} cells ({t['primary']} primary, "
            f"{t['secondary']} secondary), {t['hidden_units']} units in them "
            f"({t['primary_units']} by the primaries alone)")


def secondary_cost(log: pl.DataFrame, priority: pl.DataFrame, cell_cost: float,
                   unit_cost: float) -> tuple[float, int]:
    """What a pattern's secondary suppressions cost by the policy, and the units in them.

    Each secondary cell of ``log`` (``table``, ``cell``, ``original``, ``rule``) costs its
    priority weight (``priority``: ``table``, ``key``, ``weight``; 1 when not listed) times
    ``cell_cost + unit_cost * units``, the objective the engines minimise.
    """
    weights = priority.select("table", pl.col("key").alias("cell"), "weight") \
        .unique(["table", "cell"], keep="first")
    hidden = log.filter(pl.col("rule") == "secondary").join(
        weights, on=["table", "cell"], how="left").with_columns(pl.col("weight").fill_null(1.0))
    cost = (hidden["weight"] * (cell_cost + unit_cost * hidden["original"])).sum()
    return float(cost or 0.0), int(hidden["original"].sum() or 0)


def release_bound(bound: pl.DataFrame) -> tuple[float, float, bool]:
    """Cost, proven least cost and whether the search finished, for the whole release:
    the ``(release)`` row of ``per_population.release_bounds`` when there is one (the
    bound over all populations together), else the sums over the populations."""
    whole = bound.filter(pl.col("population") == "(release)") \
        if "population" in bound.columns else bound.clear()
    if whole.height:
        return (float(whole["cost"][0]), float(whole["lower_bound"][0]),
                bool(whole["proven"][0]))
    return (float(bound["cost"].sum()), float(bound["lower_bound"].sum()),
            bool(bound["proven"].all()))


def bound_summary(bound: pl.DataFrame) -> str:
    """One sentence comparing what the secondary suppressions cost with the proven lower
    bound (``suoja.protect.per_population.release_bounds`` rows: ``cost``,
    ``lower_bound``, ``proven``; ``release_bound``)."""
    cost, least, proven = release_bound(bound)
    if cost < least - 1e-9:
        return (f"secondary suppressions cost {cost:g}, BELOW the proven least cost {least:g}: "
                "a constraint every safe pattern meets is broken; please report this as a bug")
    gap = 0.0 if cost <= least + 1e-9 else (cost - least) / cost
    solved = "" if proven else \
        " (a work limit stopped the search: the least cost may be higher)"
    verdict = "the least possible" if gap == 0 else f"{100 * gap:.1f} % above it"
    return (f"secondary suppressions cost {cost:g}; no safe pattern costs less than "
            f"{least:g}{solved}: {verdict}")
