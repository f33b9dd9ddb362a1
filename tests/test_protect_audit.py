"""The independent audit: it sees only published figures and can fail a pattern."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_protect_support import table_cells

from suoja.protect import SuppressionRules, protect
from suoja.protect.audit import audit, audit_singletons


def _publish(cells: pl.DataFrame, hidden: set[str]) -> pl.DataFrame:
    return cells.with_columns(
        pl.when(pl.col("key").is_in(list(hidden))).then(None).otherwise(pl.col("value"))
        .alias("published")
    )


def test_a_row_with_one_hidden_cell_is_exposed():
    cells, domains, _ = table_cells(np.array([[3, 9], [8, 10]]))
    bad = _publish(cells, {"d0=d00;d1=d10"}).drop("value")
    found = audit(bad, domains)
    assert found.height == 1
    row = found.row(0, named=True)
    assert (row["lo"], row["hi"], row["exact"], row["ok"]) == (3, 3, True, False)
    assert row["finding"] == "can be computed exactly: 3"


def test_a_rectangle_of_hidden_cells_is_protected():
    cells, domains, _ = table_cells(np.array([[3, 9], [8, 10]]))
    rect = {"d0=d00;d1=d10", "d0=d00;d1=d11", "d0=d01;d1=d10", "d0=d01;d1=d11"}
    found = audit(_publish(cells, rect).drop("value"), domains)
    assert found["ok"].all() and not found["exact"].any()
    top_left = found.filter(pl.col("key") == "d0=d00;d1=d10").row(0, named=True)
    assert (top_left["lo"], top_left["hi"]) == (0, 11)  # min(row 12, column 11)


def test_the_audit_ignores_true_values():
    cells, domains, _ = table_cells(np.array([[3, 9], [8, 10]]))
    public = _publish(cells, {"d0=d00;d1=d10", "d0=d00;d1=d11"})
    assert audit(public, domains).equals(audit(public.drop("value"), domains))
    scrambled = public.with_columns(pl.lit(999).alias("value"))
    assert audit(scrambled, domains).equals(audit(public.drop("value"), domains))


def test_threshold_interval_fails_a_narrow_range():
    # Hidden 3 and 9 in a row: each lies in 0..12, but with column d1=d10 hidden too the
    # exact rule holds while a tight range can still fail the threshold rule.
    cells, domains, _ = table_cells(np.array([[3, 1], [8, 10]]))
    public = _publish(cells, {"d0=d00;d1=d10", "d0=d00;d1=d11", "d0=d01;d1=d10",
                              "d0=d01;d1=d11"}).drop("value")
    exact = audit(public, domains, rules=SuppressionRules(interval="exact"))
    strict = audit(public, domains, rules=SuppressionRules(interval="threshold"))
    one = strict.filter(pl.col("key") == "d0=d00;d1=d11").row(0, named=True)
    assert exact["ok"].all()
    assert (one["lo"], one["hi"], one["ok"]) == (0, 4, True)
    eight = strict.filter(pl.col("key") == "d0=d01;d1=d10").row(0, named=True)
    assert eight["lo"] == 7 and eight["ok"]  # a large cell passes: its range is above 5


def test_threshold_rule_catches_a_range_inside_the_small_values():
    # A hidden rectangle 3 1 / 1 0 inside published margins: the 3 lies in 3..4, so an
    # outsider knows it is small although it cannot be computed exactly.
    cells, domains, _ = table_cells(np.array([[3, 1, 9], [1, 0, 20]]))
    public = _publish(cells, {"d0=d00;d1=d10", "d0=d00;d1=d11", "d0=d01;d1=d10",
                              "d0=d01;d1=d11"}).drop("value")
    strict = audit(public, domains, rules=SuppressionRules(interval="threshold"))
    cell = strict.filter(pl.col("key") == "d0=d00;d1=d10").row(0, named=True)
    assert (cell["lo"], cell["hi"], cell["exact"]) == (3, 4, False)
    assert not cell["ok"] and "below the threshold of 5" in cell["finding"]
    assert audit(public, domains, rules=SuppressionRules(interval="exact"))["ok"].all()


def test_singleton_attack_finds_the_second_singleton():
    cells, domains, _ = table_cells(np.array([1, 1, 7, 9]))
    public = _publish(cells, {"d0=d00", "d0=d01"}).drop("value")
    assert audit(public, domains)["ok"].all()
    singles = pl.DataFrame({"table": ["t", "t"], "key": ["d0=d00", "d0=d01"]})
    found = audit_singletons(public, singles, domains)
    assert set(zip(found["singleton_key"], found["key"], strict=True)) == {
        ("d0=d00", "d0=d01"), ("d0=d01", "d0=d00")}
    assert found["finding"].to_list() == ["can be computed exactly: 1"] * 2


def test_a_singleton_learns_nothing_from_its_own_margin():
    # The row total is 1 too: the singleton knows it is alone; nothing else to learn.
    cells, domains, _ = table_cells(np.array([[1, 0], [6, 7]]))
    public = _publish(cells, {"d0=d00;d1=d10", "d0=d00;d1=_T", "d0=d01;d1=d10",
                              "d0=d01;d1=_T", "d0=_T;d1=d10"}).drop("value")
    singles = pl.DataFrame({"table": ["t"], "key": ["d0=d00;d1=d10"]})
    found = audit_singletons(public, singles, domains)
    assert "d0=d00;d1=_T" not in found["key"].to_list()


def test_contradictory_figures_are_refused():
    cells, domains, _ = table_cells(np.array([3, 9]))
    public = _publish(cells, set()).with_columns(
        pl.when(pl.col("key") == "d0=_T").then(50).otherwise(pl.col("published"))
        .alias("published")).drop("value")
    with pytest.raises(ValueError, match="contradict"):
        audit(public, domains)


def test_quick_inner_ranges_agree_with_exact_ones(monkeypatch):
    import suoja.protect.audit as audit_module

    rng = np.random.default_rng(4)
    counts = rng.choice([0, 1, 2, 3, 6, 9, 14], size=(3, 4, 3))
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules()
    public = protect(cells, domains, finest, rules=rules).drop("value")
    exact = audit(public, domains, rules=rules, exact_ranges=True)
    monkeypatch.setattr(audit_module, "BIG_COMPONENT", 0)
    quick = audit(public, domains, rules=rules, exact_ranges=False)
    assert quick["ok"].all() and exact["ok"].all()
    both = exact.join(quick, on=["table", "key"], suffix="_q")
    assert (both["lo"] <= both["lo_q"]).all()
    assert ((both["hi"].is_null()) | (both["hi_q"] <= both["hi"])).all()


def test_quick_audit_still_finds_an_exact_cell(monkeypatch):
    import suoja.protect.audit as audit_module

    rng = np.random.default_rng(4)
    counts = rng.choice([0, 1, 2, 3, 6, 9, 14], size=(3, 4, 3))
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules()
    result = protect(cells, domains, finest, rules=rules)
    hidden = result.filter(pl.col("status") != "published")
    kept = hidden.filter(pl.col("status") == "primary")["key"][0]
    # Publish every hidden cell but one primary: the primary follows from its margins.
    public = result.with_columns(
        pl.when(pl.col("key") == kept).then(None).otherwise(pl.col("value")).alias("published")
    ).drop("value")
    monkeypatch.setattr(audit_module, "BIG_COMPONENT", 0)
    quick = audit(public, domains, rules=rules, exact_ranges=False)
    assert quick.filter(~pl.col("ok"))["key"].to_list() == [kept]
    assert quick.filter(pl.col("key") == kept)["exact"].item()
