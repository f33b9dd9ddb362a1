"""The covering programme on top of Gaussian elimination (``suoja.protect.cover``).

Oracles that share no code with the engine: which cells are exactly computable comes from
numpy ranks over incidence vectors built straight from the codes, and the fewest
secondaries from enumerating hidden sets with itertools.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import suoja.protect.large as large
from suoja.protect import SuppressionRules, build_model, protect
from suoja.protect.cube import Dimension
from suoja.protect.generic import complete_table
from suoja.protect.primary import form_facts, weights

EXACT = SuppressionRules(singleton_protection=False, interval="exact", method="gauss")
PARENTS = {"a0": "g0", "a1": "g0", "a2": "g1", "a3": "g1", "a4": "g1"}


def hierarchical_table(counts: np.ndarray):
    """A 3-D table whose first dimension has two groups (a0-a1 in g0, a2-a4 in g1)."""
    names = ["a", "b", "c"]
    domains = {n: [f"{n}{i}" for i in range(s)] for n, s in zip(names, counts.shape,
                                                                   strict=True)}
    parents = {k: v for k, v in PARENTS.items() if k in domains["a"]}
    index = np.argwhere(counts > 0)
    finest = pl.DataFrame({n: [domains[n][i] for i in index[:, k]] for k, n in enumerate(names)}
                          | {"value": counts[counts > 0].astype(np.int64)})
    dims = [Dimension.build(n, domains[n], parents if n == "a" else None) for n in names]
    cells = complete_table(finest.rename({"value": "n"}), dims, "n").rename({"n": "value"})
    return cells.select("table", "key", *names, "value"), domains, finest, {"a": parents}


def _leaves(name: str, code: str, size: int, parents: dict[str, str]) -> np.ndarray:
    if code == "_T":
        return np.ones(size, bool)
    mask = np.zeros(size, bool)
    for i in range(size):
        if code in (f"{name}{i}", parents.get(f"{name}{i}")):
            mask[i] = True
    return mask


def incidence(cells: pl.DataFrame, counts: np.ndarray, parents: dict[str, str]) -> np.ndarray:
    """Cells x non-zero inner cells, 0/1, from the codes alone."""
    rows = []
    for row in cells.iter_rows(named=True):
        masks = [_leaves(n, row[n], counts.shape[d], parents if n == "a" else {})
                 for d, n in enumerate("abc")]
        rows.append(np.einsum("i,j,k->ijk", *masks).ravel().astype(float))
    return np.array(rows)[:, counts.ravel() > 0]


def computable(matrix: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hidden cells whose row lies in the span of the published rows (numpy ranks)."""
    published = matrix[~hidden]
    base = np.linalg.matrix_rank(published) if len(published) else 0
    out = np.zeros(len(hidden), bool)
    for k in np.flatnonzero(hidden):
        out[k] = np.linalg.matrix_rank(np.vstack([published, matrix[k]])) == base
    return out


def _cost(cells: pl.DataFrame, domains, finest, hierarchies, hidden: np.ndarray) -> float:
    model = build_model(cells, domains, finest, hierarchies)
    facts = form_facts(model)
    cost = weights(facts, EXACT)
    by_key = dict(zip(model.cells["key"], model.form_of_row.tolist(), strict=True))
    forms = {by_key[k] for k, h in zip(cells["key"], hidden, strict=True) if h}
    return float(cost[sorted(forms)].sum())


def _run(problem, cover: bool, monkeypatch, rules=EXACT) -> pl.DataFrame:
    monkeypatch.setattr(large, "COVER_FORMS", 10**9 if cover else -1)
    return protect(*problem, rules=rules)


shapes = st.tuples(st.integers(3, 5), st.integers(2, 4), st.integers(2, 3),
                   st.integers(0, 10**6))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(shape=shapes)
def test_cover_never_costlier_than_plain_gauss_and_rank_safe(shape, monkeypatch):
    """On random hierarchical tables the covering pattern costs no more than Gaussian
    elimination alone, and numpy ranks find no hidden cell computable."""
    *dims, seed = shape
    counts = np.random.default_rng(seed).choice([0, 1, 2, 3, 5, 7, 12, 20], size=dims)
    problem = hierarchical_table(counts)
    plain = _run(problem, False, monkeypatch)
    improved = _run(problem, True, monkeypatch)
    cells = improved.select(problem[0].columns)
    hidden = (improved["status"] != "published").to_numpy()
    plain_hidden = (plain["status"] != "published").to_numpy()
    assert _cost(cells, *problem[1:], hidden) <= _cost(cells, *problem[1:], plain_hidden) + 1e-9
    matrix = incidence(cells, counts, problem[3]["a"])
    assert not computable(matrix, hidden).any()


def brute_force_fewest(matrix: np.ndarray, primary: np.ndarray, can_hide: np.ndarray) -> int:
    """The fewest secondaries that leave no primary computable (itertools enumeration)."""
    candidates = np.flatnonzero(can_hide & ~primary)
    for size in range(len(candidates) + 1):
        for chosen in itertools.combinations(candidates.tolist(), size):
            hidden = primary.copy()
            hidden[list(chosen)] = True
            if not computable(matrix, hidden)[primary].any():
                return size
    raise AssertionError("no pattern")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6, 7, 8])
def test_cover_finds_the_fewest_secondaries(seed, monkeypatch):
    """Tiny tables: as few secondaries as exhaustive enumeration finds (exact rules)."""
    counts = np.random.default_rng(seed).choice([1, 2, 6, 9, 14], size=(3, 3, 1))
    problem = hierarchical_table(counts)
    result = _run(problem, True, monkeypatch)
    cells = result.select(problem[0].columns)
    matrix = incidence(cells, counts, problem[3]["a"])
    primary = (result["status"] == "primary").to_numpy()
    # duplicated cells (a total equal to its only part) count once, as forms do
    _, first = np.unique(matrix, axis=0, return_index=True)
    single = np.zeros(len(primary), bool)
    single[first] = True
    values = cells["value"].to_numpy()
    hidden = (result["status"] != "published").to_numpy()
    assert not computable(matrix, hidden).any()
    fewest = brute_force_fewest(matrix[single], primary[single], values[single] > 0)
    secondary = (result["status"] == "secondary").to_numpy()
    assert (secondary & single).sum() == fewest


def test_cover_keeps_singleton_protection_safe(monkeypatch):
    """With singleton protection the cheaper of the two patterns is kept and stays safe."""
    counts = np.random.default_rng(7).choice([0, 1, 1, 2, 6, 9, 14], size=(5, 4, 3))
    problem = hierarchical_table(counts)
    rules = SuppressionRules(singleton_protection=True, interval="exact", method="gauss")
    plain = _run(problem, False, monkeypatch, rules)
    improved = _run(problem, True, monkeypatch, rules)
    cells = improved.select(problem[0].columns)
    hidden = (improved["status"] != "published").to_numpy()
    plain_hidden = (plain["status"] != "published").to_numpy()
    assert _cost(cells, *problem[1:], hidden) <= _cost(cells, *problem[1:], plain_hidden) + 1e-9
    assert not computable(incidence(cells, counts, problem[3]["a"]), hidden).any()


@pytest.mark.parametrize(("num", "den"), [(1, 1), (-1, 1), (1, 2), (-3, 7), (12, 5)])
def test_rational_reconstruction_of_elimination_coefficients(num, den):
    """Coefficients modulo the prime map back to the small fractions they stand for."""
    from suoja.protect.gauss import PRIME, rational

    assert rational(num * pow(den, PRIME - 2, PRIME) % PRIME) == pytest.approx(num / den)
