"""The audit for large tables: which hidden cells the published ones determine exactly.

A hidden cell can be computed exactly from the published cells, by linear algebra over
the rationals, when its row of the model (cells as sums of finest cells) lies in the
span of the published rows; published zeros remove their finest cells first. This is
the notion of protection of tau-ARGUS's and GaussSuppression's secondary suppression.
It needs no linear programme and checks a 50 000-cell table in seconds (exact sparse
elimination modulo a prime, see ``suoja.protect.gauss.determined``).

What it does not check: integer ranges (a cell whose rational range is non-trivial may
still have a single integer value) and the width of the range (``interval =
"threshold"``). ``suoja.protect.audit.audit`` checks both, and is the audit to use when
the linked system is small enough for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from suoja.protect.gauss import determined
from suoja.protect.model import Hierarchies, public_model

SCHEMA = {"table": pl.String, "key": pl.String, "exact": pl.Boolean, "ok": pl.Boolean,
          "finding": pl.String}


def audit_linear(
    cells_published: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    hierarchies: Hierarchies | None = None,
) -> pl.DataFrame:
    """Whether each hidden cell can be computed exactly from the published ones.

    Args:
        cells_published: Cells with ``table``, ``key``, one column per dimension and
            ``published`` (null when hidden). Any ``value`` column is ignored.
        domains: Leaf codes per dimension.
        hierarchies: Optional ``child -> parent`` codes per dimension.

    Returns:
        One row per hidden cell: table, key, exact (computable exactly), ok (not
        computable) and finding, sorted by table and key.

    Raises:
        ValueError: Malformed input.
    """
    model = public_model(cells_published, domains, hierarchies)
    hidden_rows = model.cells["published"].is_null().to_numpy()
    n_forms = model.forms.shape[0]
    published = np.zeros(n_forms, dtype=bool)
    published[model.form_of_row[~hidden_rows]] = True
    exact = determined(model.forms, ~published)
    rows = model.cells.filter(pl.col("published").is_null())
    flags = exact[rows["__form"].to_numpy()]
    return rows.select("table", "key").with_columns(
        pl.Series("exact", flags, dtype=pl.Boolean),
        pl.Series("ok", ~flags, dtype=pl.Boolean),
        pl.Series("finding", np.where(flags, "can be computed exactly",
                                      "cannot be computed exactly (linear check)"),
                  dtype=pl.String),
    )
