"""Per-form facts used by suppression: values, costs, grand totals and primary cells."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from suoja.protect.cube import TOTAL
from suoja.protect.model import LinearModel
from suoja.protect.relations import Relation
from suoja.protect.rules import SuppressionRules

GRAND_TOTAL_PENALTY = 1000.0


def grand_total_rows(cells: pl.DataFrame, dims: Sequence[str]) -> np.ndarray:
    """Whether each cell is its table's grand total (every non-slice dimension ``_T``).

    A slice dimension has one code throughout the table (e.g. only in_finland = Y).
    """
    varying = cells.group_by("table").agg(
        [pl.col(d).n_unique().alias(f"{d}__n") for d in dims]
    )
    flags = cells.select("table", *dims).join(
        varying, on="table", how="left", maintain_order="left"
    )
    is_total = pl.lit(True)
    for d in dims:
        is_total = is_total & ((pl.col(f"{d}__n") == 1) | (pl.col(d) == TOTAL))
    return flags.select(is_total.alias("gt"))["gt"].to_numpy()


def form_facts(model: LinearModel) -> dict[str, np.ndarray]:
    """Value, number of cells, grand-total flag and first row of every form."""
    form = model.form_of_row
    n_forms = model.forms.shape[0]
    values = model.forms @ model.values if model.values is not None else None
    gt_rows = grand_total_rows(model.cells, model.dims)
    gt = np.zeros(n_forms, dtype=bool)
    gt[form[gt_rows]] = True
    return {
        "value": np.asarray(values, dtype=np.int64),
        "cells": np.bincount(form, minlength=n_forms),
        "grand_total": gt,
        "first_row": np.unique(form, return_index=True)[1],
    }


def weights(facts: dict[str, np.ndarray], rules: SuppressionRules | None = None,
            row_weight: np.ndarray | None = None, form_of_row: np.ndarray | None = None,
            ) -> np.ndarray:
    """Cost of hiding each form, shape ``(n_forms,)``: ``rules.cell_cost`` per cell it
    shows and ``rules.unit_cost`` per unit in each of those cells; grand totals cost
    ``GRAND_TOTAL_PENALTY`` times more.

    ``row_weight`` (one per model row, with ``form_of_row``) multiplies the cost of each
    cell (the catalogue's priorities). With the default costs (1 per cell, 0 per unit)
    the value still breaks ties: its term, over all forms together, stays below 1, so
    fewer cells always win. A tiny term in the form's position (table, key order) breaks
    the remaining ties deterministically.
    """
    value = facts["value"].astype(np.float64)
    cells = facts["cells"].astype(np.float64)
    if row_weight is not None:
        cells = np.bincount(form_of_row, weights=row_weight, minlength=len(value))
    cell_cost = 1.0 if rules is None else rules.cell_cost
    unit_cost = 0.0 if rules is None else rules.unit_cost
    base = cells * (cell_cost + value / (1.0 + value.sum()) + unit_cost * value)
    base = np.where(facts["grand_total"], base * GRAND_TOTAL_PENALTY, base)
    return base + 1e-6 * np.arange(len(base)) / max(len(base), 1)


def small_forms(values: np.ndarray, threshold: int) -> np.ndarray:
    """Forms with 1..threshold-1 units."""
    return (values >= 1) & (values < threshold)


def single_category_forms(
    relations: Sequence[Relation], model: LinearModel, values: np.ndarray
) -> dict[int, int]:
    """Forms holding a margin's whole positive total in one category (zeros_sensitive).

    Returns:
        ``form -> row of the margin`` whose units all fall in that form.
    """
    form = model.form_of_row
    found: dict[int, int] = {}
    for relation in relations:
        total = values[form[relation.total]]
        if total <= 0 or len(relation.parts) < 2:
            continue
        positive = [p for p in relation.parts if values[form[p]] > 0]
        if len(positive) == 1 and values[form[positive[0]]] == total:
            found.setdefault(int(form[positive[0]]), relation.total)
    return found


def primary_forms(
    model: LinearModel,
    values: np.ndarray,
    rules: SuppressionRules,
    single: dict[int, int],
) -> np.ndarray:
    """Mask of primary forms: small ones, plus single-category ones if zeros are sensitive."""
    mask = small_forms(values, rules.threshold)
    if rules.zeros_sensitive:
        mask[list(single)] = True
    return mask
