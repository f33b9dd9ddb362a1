"""Classic cases of secondary suppression that a naive method gets wrong."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_protect_support import failures, hidden_keys, table_cells

from suoja.protect import ProtectionError, SuppressionRules, protect

NINE_SMALL = np.array([[1, 1, 4, 15], [8, 12, 4, 3], [12, 15, 1, 1], [10, 4, 9, 2]])
"""Nine small cells, two or more in every row."""


def _status(result: pl.DataFrame) -> dict[str, str]:
    return dict(zip(result["key"], result["status"], strict=True))


def test_four_by_four_with_nine_small_cells():
    # Nine small cells, two or more in every row: protecting row by row adds nothing,
    # yet column d10 would give its 1 away; the singletons must hold too.
    counts = NINE_SMALL
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules()
    result = protect(cells, domains, finest, rules=rules)
    assert failures(result, domains, rules) == []
    primary = result.filter(pl.col("status") == "primary")
    assert primary.height == 9
    assert sorted(primary["value"]) == [1, 1, 1, 1, 2, 3, 4, 4, 4]


def _row_by_row(counts: np.ndarray) -> set[str]:
    """The naive pattern: in each row, the small cells plus the row's next smallest cell."""
    hidden = set()
    for i, row in enumerate(counts):
        small = [j for j, v in enumerate(row) if 1 <= v <= 4]
        if len(small) == 1:
            small.append(min((v, j) for j, v in enumerate(row) if j not in small and v)[1])
        hidden |= {f"d0=d0{i};d1=d1{j}" for j in small}
    return hidden


def test_row_by_row_protection_leaves_a_cell_computable():
    counts = NINE_SMALL
    cells, domains, _ = table_cells(counts)
    naive = _row_by_row(counts)
    assert len(naive) == 9
    pattern = cells.with_columns(
        pl.when(pl.col("key").is_in(list(naive))).then(None).otherwise(pl.col("value"))
        .alias("published"),
        pl.when(pl.col("key").is_in(list(naive))).then(pl.lit("primary"))
        .otherwise(pl.lit("published")).alias("status"),
    )
    found = failures(pattern, domains, SuppressionRules(singleton_protection=False))
    # Every row hides two or more cells, but column d10 hides only its 1.
    assert found == ["t d0=d00;d1=d10: can be computed exactly: 1"]


def test_primaries_alone_are_caught_by_the_audit():
    counts = NINE_SMALL
    cells, domains, _ = table_cells(counts)
    small = pl.col("value").is_between(1, 4)
    naive = cells.with_columns(pl.when(small).then(None).otherwise(pl.col("value"))
                               .alias("published"), pl.lit("published").alias("status"))
    naive = naive.with_columns(pl.when(small).then(pl.lit("primary"))
                               .otherwise(pl.col("status")).alias("status"))
    assert failures(naive, domains, SuppressionRules(singleton_protection=False))


def _linked():
    """Sex in all, in slice Y and in slice N: each table passes alone, not together."""
    counts = np.array([[8, 2], [9, 10]])  # sex x fin; F in N = 2
    whole, domains, finest = table_cells(counts, dims=["sex", "fin"])
    everyone = whole.filter(pl.col("fin") == "_T").with_columns(pl.lit("all").alias("table"))
    y = whole.filter(pl.col("fin") == "fin0").with_columns(pl.lit("in_y").alias("table"))
    n = whole.filter(pl.col("fin") == "fin1").with_columns(pl.lit("in_n").alias("table"))
    return pl.concat([everyone, y, n]), domains, finest


def test_linked_tables_are_protected_together():
    cells, domains, finest = _linked()
    rules = SuppressionRules()
    result = protect(cells, domains, finest, rules=rules)
    assert failures(result, domains, rules) == []
    hidden = hidden_keys(result)
    assert ("in_n", "sex=sex0;fin=fin1") in hidden
    # Hiding the two cells of table in_n alone would let all - in_y give F in N = 2.
    assert len(hidden) > 2


def test_each_linked_table_alone_would_pass_but_together_leaks():
    cells, domains, _ = _linked()
    in_n_only = pl.col("table").eq("in_n") & pl.col("sex").ne("_T")
    leaky = cells.with_columns(
        pl.when(in_n_only).then(None).otherwise(pl.col("value")).alias("published"),
        pl.when(in_n_only).then(pl.lit("primary")).otherwise(pl.lit("published")).alias("status"),
    )
    rules = SuppressionRules(singleton_protection=False)
    alone = leaky.filter(pl.col("table") == "in_n")
    assert failures(alone, domains, rules) == []
    assert failures(leaky, domains, rules)


def test_two_singletons_in_one_row_need_a_third_cell():
    counts = np.array([1, 1, 7, 9])
    cells, domains, finest = table_cells(counts)
    plain = protect(cells, domains, finest, rules=SuppressionRules(singleton_protection=False))
    safe_rules = SuppressionRules(singleton_protection=True)
    safe = protect(cells, domains, finest, rules=safe_rules)
    assert len(hidden_keys(plain)) == 2
    assert len(hidden_keys(safe)) == 3
    assert failures(safe, domains, safe_rules) == []
    assert failures(plain, domains, safe_rules)  # each singleton would know the other
    third = safe.filter(pl.col("status") == "secondary")
    assert "not even by the one person who alone makes up" in third["reason"][0]


def test_single_non_zero_cell_of_a_row_when_zeros_are_sensitive():
    counts = np.array([[0, 12, 0], [6, 7, 9], [8, 5, 10]])
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules(zeros_sensitive=True)
    result = protect(cells, domains, finest, rules=rules)
    status = _status(result)
    assert status["d0=d00;d1=d11"] == "primary"
    reason = result.filter(pl.col("key") == "d0=d00;d1=d11")["reason"][0]
    assert reason.startswith("all 12 persons of t d0=d00;d1=_T are in this one category")
    assert failures(result, domains, rules) == []
    # A zero must be hidden too, else the row total minus the published zeros gives 12.
    hidden_zero = result.filter((pl.col("value") == 0) & (pl.col("status") == "secondary"))
    assert hidden_zero.height >= 1
    plain = protect(cells, domains, finest, rules=SuppressionRules())
    assert _status(plain)["d0=d00;d1=d11"] == "published"


def test_threshold_interval_widens_small_cells():
    counts = np.array([[3, 9, 14], [8, 10, 7], [12, 11, 13]])
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules(interval="threshold", singleton_protection=False)
    result = protect(cells, domains, finest, rules=rules)
    assert failures(result, domains, rules) == []
    public = result.drop("value")
    from suoja.protect.audit import audit

    small = audit(public, domains, rules=rules).filter(pl.col("key") == "d0=d00;d1=d10")
    lo, hi = small["lo"][0], small["hi"][0]
    assert lo <= 0 or hi is None or hi >= 5


def test_grand_total_is_the_last_resort():
    # F = 3 is small; M is also published on its own as table "m" (its grand total).
    counts = np.array([3, 20])
    cells, domains, finest = table_cells(counts, dims=["sex"])
    m_alone = cells.filter(pl.col("key") == "sex=sex1").with_columns(pl.lit("m").alias("table"))
    linked = pl.concat([cells, m_alone])
    result = protect(linked, domains, finest, rules=SuppressionRules())
    assert failures(result, domains, SuppressionRules()) == []
    assert ("t", "sex=_T") in hidden_keys(result)  # unavoidable here
    with pytest.raises(ProtectionError, match="grand totals") as refused:
        protect(linked, domains, finest, rules=SuppressionRules(protect_grand_total=True))
    assert refused.value.exit_code == 2  # a rule the user must change, not a bug


def test_grand_total_avoided_when_possible():
    counts = np.array([[3, 9, 14], [8, 10, 7], [12, 11, 13]])
    cells, domains, finest = table_cells(counts)
    result = protect(cells, domains, finest, rules=SuppressionRules())
    assert ("t", "d0=_T;d1=_T") not in hidden_keys(result)


def test_duplicate_cells_share_their_status():
    cells, domains, finest = _linked()
    result = protect(cells, domains, finest, rules=SuppressionRules())
    by_form = result.group_by("sex", "fin").agg(pl.col("status").n_unique())
    assert by_form["status"].max() == 1


def test_reasons_name_the_cell_and_the_relation():
    counts = np.array([[2, 9, 14], [8, 10, 7], [12, 11, 13]])
    cells, domains, finest = table_cells(counts)
    result = protect(cells, domains, finest, rules=SuppressionRules())
    primary = result.filter(pl.col("status") == "primary").row(0, named=True)
    assert primary["reason"] == "2 persons, below the threshold of 5"
    secondary = result.filter(pl.col("status") == "secondary")
    assert secondary.height >= 3
    for row in secondary.iter_rows(named=True):
        assert row["reason"].startswith("hidden so that t ")
        assert row["protects_table"] == "t" and row["protects_key"] in row["reason"]
    assert result.filter(pl.col("status") == "published")["reason"].null_count() == (
        result.filter(pl.col("status") == "published").height
    )


def test_unit_words_the_reasons():
    cells, domains, finest = table_cells(np.array([1, 3, 9, 9]))
    result = protect(cells, domains, finest, rules=SuppressionRules(), unit="event")
    reasons = set(result.filter(pl.col("status") == "primary")["reason"])
    assert reasons == {"1 event, below the threshold of 5", "3 events, below the threshold of 5"}
