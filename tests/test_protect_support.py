"""Helpers for the protection tests: tables built from arrays, and the audit as a check.

The helpers build cells independently of the library (plain loops over numpy arrays), so
the tests do not rely on the code under test to compute the margins.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import polars as pl

from suoja.protect import SuppressionRules
from suoja.protect.audit import audit, audit_singletons


def table_cells(
    counts: np.ndarray,
    name: str = "t",
    dims: Sequence[str] | None = None,
    fixed: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, dict[str, list[str]], pl.DataFrame]:
    """Cells (with every margin), domains and finest counts of an array of counts.

    Args:
        counts: One axis per dimension.
        name: Table id.
        dims: Dimension names (default d0, d1, ...); codes are ``{dim}{index}``.
        fixed: Extra dimensions held at one code (a slice), e.g. ``{"fin": "Y"}``.
    """
    dims = list(dims or [f"d{k}" for k in range(counts.ndim)])
    domains = {d: [f"{d}{i}" for i in range(n)] for d, n in zip(dims, counts.shape, strict=True)}
    fixed = fixed or {}
    rows = []
    for combo in itertools.product(*[[*range(n), None] for n in counts.shape]):
        index = tuple(slice(None) if c is None else c for c in combo)
        codes = ["_T" if c is None else domains[d][c] for d, c in zip(dims, combo, strict=True)]
        key = ";".join(f"{d}={c}" for d, c in zip(dims, codes, strict=True))
        rows.append((name, key, *codes, *fixed.values(), int(counts[index].sum())))
    cells = pl.DataFrame(rows, schema=["table", "key", *dims, *fixed, "value"], orient="row")
    nonzero = np.argwhere(counts > 0)
    finest = pl.DataFrame(
        {d: [domains[d][i] for i in nonzero[:, k]] for k, d in enumerate(dims)}
        | {f: [c] * len(nonzero) for f, c in fixed.items()}
        | {"value": counts[counts > 0].astype(np.int64)}
    )
    return cells, domains, finest


def hidden_keys(result: pl.DataFrame) -> set[tuple[str, str]]:
    """(table, key) of every hidden cell."""
    rows = result.filter(pl.col("status") != "published").select("table", "key")
    return set(rows.iter_rows())


def failures(
    result: pl.DataFrame,
    domains: dict[str, list[str]],
    rules: SuppressionRules,
    hierarchies: dict[str, dict[str, str]] | None = None,
) -> list[str]:
    """Everything the independent audit (and the singleton attack) finds wrong."""
    public = result.drop("value")
    found = audit(public, domains, hierarchies, rules)
    problems = [f"{t} {k}: {f}" for t, k, f in found.filter(~pl.col("ok"))
                .select("table", "key", "finding").iter_rows()]
    if rules.singleton_protection:
        singles = result.filter((pl.col("status") != "published") & (pl.col("value") == 1))
        attacked = audit_singletons(public, singles, domains, hierarchies, rules)
        problems += [f"{st} {sk} knows {t} {k}: {f}" for st, sk, t, k, f in attacked.select(
            "singleton_table", "singleton_key", "table", "key", "finding").iter_rows()]
    return problems


def test_table_cells_adds_every_margin():
    cells, domains, finest = table_cells(np.array([[1, 2], [3, 0]]))
    values = dict(zip(cells["key"], cells["value"], strict=True))
    assert values["d0=_T;d1=_T"] == 6
    assert values["d0=d00;d1=_T"] == 3
    assert values["d0=_T;d1=d11"] == 2
    assert domains == {"d0": ["d00", "d01"], "d1": ["d10", "d11"]}
    assert finest["value"].sum() == 6 and finest.height == 3


def test_table_cells_holds_a_slice():
    cells, _, finest = table_cells(np.array([4, 5]), name="s", fixed={"fin": "Y"})
    assert set(cells["fin"]) == {"Y"} and set(finest["fin"]) == {"Y"}
