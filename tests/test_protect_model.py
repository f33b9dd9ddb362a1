"""The linear model: cells as sums of finest variables, zeros dropped, twins merged."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_protect_support import table_cells

from suoja.protect import build_model
from suoja.protect.model import public_model


def _two_tables():
    """Sex by age, and sex for one slice of another dimension (linked tables)."""
    counts = np.array([[[3, 1], [0, 0]], [[2, 0], [4, 4]]])  # sex x age x fin
    full, domains, finest = table_cells(counts, dims=["sex", "age", "fin"])
    by_sex_age = full.filter(pl.col("fin") == "_T").with_columns(pl.lit("a").alias("table"))
    slice_y = full.filter((pl.col("fin") == "fin0") & (pl.col("age") == "_T"))
    slice_y = slice_y.with_columns(pl.lit("b").alias("table"))
    return pl.concat([by_sex_age, slice_y]), domains, finest


def test_rows_add_up_to_the_cells():
    cells, domains, finest = _two_tables()
    model = build_model(cells, domains, finest)
    assert np.array_equal(model.A @ model.values, model.cells["value"].to_numpy())
    assert model.cells.select("table", "key").rows() == sorted(cells.select("table", "key").rows())


def test_zero_cells_drop_their_finest_cells_and_twins_merge():
    cells, domains, finest = _two_tables()
    kept = build_model(cells, domains, finest, drop_zeros=False)
    dropped = build_model(cells, domains, finest)
    # 8 finest cells, all told apart by the two tables; sex0 x age1 is a published 0.
    assert (kept.n_vars, dropped.n_vars) == (8, 6)
    assert dropped.zeros_dropped and not kept.zeros_dropped
    by_sex = cells.filter((pl.col("table") == "a") & (pl.col("age") == "_T"))
    merged = build_model(by_sex, domains, finest)
    assert merged.n_vars == 2  # nothing tells the ages or fin codes apart within a sex


def test_identical_sums_share_a_form():
    counts = np.array([[2, 0], [3, 4]])
    cells, domains, finest = table_cells(counts)
    copy = cells.filter(pl.col("key") == "d0=d00;d1=_T").with_columns(pl.lit("u").alias("table"))
    model = build_model(pl.concat([cells, copy]), domains, finest)
    form = dict(zip(model.cells.select("table", "key").rows(), model.form_of_row, strict=True))
    assert form[("t", "d0=d00;d1=_T")] == form[("u", "d0=d00;d1=_T")]
    # d00 row = d00,d10 alone once d00,d11 (zero) is dropped.
    assert form[("t", "d0=d00;d1=_T")] == form[("t", "d0=d00;d1=d10")]


def test_a_cell_that_does_not_add_up_is_named():
    cells, domains, finest = table_cells(np.array([[2, 1], [3, 4]]))
    cells = cells.with_columns(
        pl.when(pl.col("key") == "d0=_T;d1=d11").then(9).otherwise(pl.col("value")).alias("value")
    )
    with pytest.raises(ValueError, match=r"t d0=_T;d1=d11 has value 9 .* add up to 5"):
        build_model(cells, domains, finest)


def test_unknown_codes_and_bad_hierarchies_are_refused():
    cells, domains, finest = table_cells(np.array([2, 3]))
    bad = cells.with_columns(pl.lit("zz").alias("d0"))
    with pytest.raises(ValueError, match="code 'zz' in 'd0'"):
        build_model(bad, domains, finest)
    with pytest.raises(ValueError, match="cycle"):
        build_model(cells, domains, finest, {"d0": {"d00": "A", "A": "B", "B": "A"}})
    with pytest.raises(ValueError, match="leaf code 'd01'"):
        build_model(cells, domains, finest, {"d0": {"d00": "d01"}})


def test_hierarchy_parents_cover_their_leaves():
    counts = np.array([1, 2, 3, 4])
    cells, domains, finest = table_cells(counts)
    parents = {"d00": "A", "d01": "A", "d02": "B", "d03": "B"}
    extra = pl.DataFrame({"table": ["t", "t"], "key": ["d0=A", "d0=B"], "d0": ["A", "B"],
                          "value": [3, 7]})
    model = build_model(pl.concat([cells, extra]), domains, finest, {"d0": parents})
    assert np.array_equal(model.A @ model.values, model.cells["value"].to_numpy())


def test_public_model_ignores_true_values():
    cells, domains, _ = table_cells(np.array([[2, 1], [3, 4]]))
    public = cells.with_columns(
        pl.when(pl.col("value") < 3).then(None).otherwise(pl.col("value")).alias("published")
    )
    with_values = public_model(public, domains)
    without = public_model(public.drop("value"), domains)
    assert with_values.values is None
    assert (with_values.forms != without.forms).nnz == 0


def test_duplicate_cells_are_refused():
    cells, domains, finest = table_cells(np.array([2, 3]))
    with pytest.raises(ValueError, match="appears 2 times"):
        build_model(pl.concat([cells, cells.head(1)]), domains, finest)
