"""Populations published as one count (new children, reflection periods): nothing to
compute them from, so primary suppression alone, and the cells the joint rounds force."""

from __future__ import annotations

import polars as pl

from suoja.protect.reasons import KNOWLEDGE_REASON
from suoja.tables.catalogue import Population


def protect_single_count(cells: pl.DataFrame, threshold: int,
                          population: Population) -> pl.DataFrame:
    """A population published as one count: nothing to compute it from, so primary only."""
    small = pl.col("value").is_between(1, threshold - 1)
    reason = pl.col("value").map_elements(
        lambda n: f"{population.count(n)}, below the threshold of {threshold}",
        return_dtype=pl.String)
    return cells.with_columns(
        pl.when(small).then(pl.lit("primary")).otherwise(pl.lit("published")).alias("status"),
        pl.when(small).then(None).otherwise(pl.col("value")).alias("published"),
        pl.when(small).then(reason).alias("reason"),
    )


def force_single(cells: pl.DataFrame, forced: pl.DataFrame) -> pl.DataFrame:
    """``cells`` with the published ones of ``forced`` hidden as secondary suppressions
    (what an outsider could use beside other populations or earlier releases)."""
    hide = pl.col("key").is_in(forced["key"].to_list()) & (pl.col("status") == "published")
    return cells.with_columns(
        pl.when(hide).then(pl.lit("secondary")).otherwise(pl.col("status")).alias("status"),
        pl.when(hide).then(None).otherwise(pl.col("published")).alias("published"),
        pl.when(hide).then(pl.lit(KNOWLEDGE_REASON)).otherwise(pl.col("reason")).alias("reason"),
    )
