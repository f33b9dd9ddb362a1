"""The loss report: hidden cells and units per table, against the primaries alone."""

from __future__ import annotations

import polars as pl

from suoja.protect.loss import loss_table, summary


def test_loss_counts_each_rule_per_table_and_in_all() -> None:
    log = pl.DataFrame({
        "table": ["a", "a", "a", "b", "b"],
        "cell": ["x", "y", "z", "x", "y"],
        "original": [3, 12, 2, 40, 1],
        "published": [None, None, "_O", None, None],
        "rule": ["primary", "secondary", "pooled", "secondary", "primary"],
        "reason": [""] * 5,
    })
    loss = loss_table(log, {"a": 10, "b": 4, "c": 3})
    rows = {r["table"]: r for r in loss.iter_rows(named=True)}
    assert (rows["a"]["primary"], rows["a"]["secondary"], rows["a"]["pooled"]) == (1, 1, 1)
    assert (rows["a"]["hidden_units"], rows["b"]["hidden_units"]) == (15, 41)
    assert rows["c"]["hidden"] == 0 and rows["c"]["cells"] == 3
    total = rows["_T"]
    assert (total["cells"], total["hidden"], total["primary_units"]) == (17, 4, 4)
    assert summary(loss).startswith("hidden: 4 of 17 cells (2 primary, 2 secondary), 56 units")


def test_the_release_reports_its_loss(embedded_release) -> None:
    """restricted/loss.csv agrees with the suppression log and the open tables."""
    restricted = embedded_release.target / "restricted"
    loss = pl.read_csv(restricted / "loss.csv")
    log = pl.read_csv(restricted / "suppression_log.csv")
    total = loss.filter(pl.col("table") == "_T").row(0, named=True)
    assert total["secondary"] == log.filter(pl.col("rule") == "secondary").height
    assert total["hidden"] == embedded_release.hidden
    for row in loss.filter(pl.col("table") != "_T").iter_rows(named=True):
        table = pl.read_csv(embedded_release.target / "open" / f"{row['table']}.csv")
        assert row["cells"] == table.height
        assert row["hidden"] == table["value"].null_count()
