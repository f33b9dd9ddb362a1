"""Integer ranges of the joint audit (``suoja.protect.joint_ranges``), checked against
scipy's own MIP solver (``scipy.optimize.milp``, which shares no code with suoja's HiGHS
calls) on small random programmes of the joint audit's shape: 0/1 sums of non-negative
integer counts fixed to the values of a hidden integer point, and inequalities between
sums (the ``at_least`` facts and publication rules).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from milp_oracle import Infeasible, integer_range

import suoja.protect.joint_ranges as jr
from suoja.protect.highs import INF


def attacker(matrix: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> jr.JointAttacker:
    joint = SimpleNamespace(matrix=sp.csr_matrix(matrix), lower=lower, upper=upper,
                            n_vars=matrix.shape[1])
    return jr.JointAttacker(joint)


def scipy_range(matrix, lower, upper, objective) -> tuple[int, int]:
    """Min and max of ``objective @ x`` over the non-negative integer points, by scipy
    (bounded programmes only)."""
    low, high = integer_range(matrix, lower, upper, objective)
    assert high is not None, "unbounded"
    return low, high


@st.composite
def programmes(draw):
    """A hidden integer point, 0/1 sums of it published exactly, and one >= relation."""
    n = draw(st.integers(4, 9))
    x = np.array(draw(st.lists(st.integers(0, 60), min_size=n, max_size=n)), dtype=float)
    rows = draw(st.lists(st.lists(st.booleans(), min_size=n, max_size=n), min_size=2,
                         max_size=6))
    a = np.array(rows, dtype=float)
    a = a[a.sum(axis=1) > 0]
    if not a.shape[0]:
        a = np.ones((1, n))
    lower, upper = a @ x, a @ x
    # An inequality the truth satisfies: sum of the first k cells >= sum of the next ones,
    # minus its slack (as an at_least fact across populations).
    k = draw(st.integers(1, n - 1))
    rel = np.r_[np.ones(k), -np.ones(n - k)]
    a = np.vstack([a, rel])
    lower = np.r_[lower, min(rel @ x, 0.0)]
    upper = np.r_[upper, INF]
    target = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), dtype=float)
    if not target.any():
        target[0] = 1.0
    # Every variable in some row, so that the range is bounded or infinite by design.
    return a, lower, upper, target


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes())
def test_integer_ranges_agree_with_scipys_milp(case):
    a, lower, upper, target = case
    scipy_upper = np.where(np.isinf(upper), np.inf, upper)
    found = attacker(a, lower, upper).range(sp.csr_matrix(target))
    low, high = integer_range(a, lower, scipy_upper, target)
    # Unbounded: scipy's maximisation has no optimum either.
    assert found == (low, INF if high is None else high)


def triangles(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``count`` disjoint triangles x_i + x_j <= 1: the LP takes 1/2 everywhere (3/2 per
    triangle), an integer point 1 per triangle."""
    rows = []
    for t in range(count):
        for i, j in ((0, 1), (1, 2), (0, 2)):
            row = np.zeros(3 * count)
            row[3 * t + i] = row[3 * t + j] = 1
            rows.append(row)
    a = np.array(rows)
    # One row links the triangles into one component of the programme.
    a = np.vstack([a, np.ones(3 * count)])
    return a, np.r_[np.zeros(len(rows)), 0.0], np.r_[np.ones(len(rows)), INF]


@pytest.fixture
def mip_calls(monkeypatch) -> list[bool]:
    """Whether each whole-component solve of ``JointAttacker`` was a MIP (True) or an LP."""
    calls: list[bool] = []
    original = jr.JointAttacker._solve

    def solve(self, lab, local, coef, sense, integer):
        calls.append(integer)
        return original(self, lab, local, coef, sense, integer)

    monkeypatch.setattr(jr.JointAttacker, "_solve", solve)
    return calls


def test_a_box_point_that_reaches_the_lp_bound_settles_it_without_the_whole_mip(mip_calls):
    # One triangle: the LP's 3/2 rounds to 1, which an integer point next to the LP
    # optimum reaches: the MIP over the whole component never runs.
    a, lower, upper = triangles(1)
    found = attacker(a, lower, upper).range(sp.csr_matrix(np.ones(3)))
    assert found == scipy_range(a, lower, upper, np.ones(3)) == (0, 1)
    assert True not in mip_calls


def test_when_no_box_point_reaches_the_lp_bound_the_whole_mip_settles_it(mip_calls):
    # Two triangles: the LP bound 3 is out of the integers' reach (2 is the most), so the
    # box finds no point reaching it and the whole MIP gives the exact maximum.
    a, lower, upper = triangles(2)
    found = attacker(a, lower, upper).range(sp.csr_matrix(np.ones(6)))
    assert found == scipy_range(a, lower, upper, np.ones(6)) == (0, 2)
    assert True in mip_calls


@pytest.mark.parametrize("needed", [1, 2, 3])
def test_verdicts_with_a_judge_match_the_exact_range(needed):
    # A judge that passes once the maximum reaches ``needed``: the verdict from the
    # settled-as-needed range equals the verdict on scipy's exact range.
    a, lower, upper = triangles(2)

    def judge(lo: float, hi: float) -> bool:
        return hi >= needed

    exact = scipy_range(a, lower, upper, np.ones(6))
    found = attacker(a, lower, upper).range(sp.csr_matrix(np.ones(6)), judge)
    assert judge(*found) == judge(*exact)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programmes(), st.integers(0, 8), st.integers(0, 3))
def test_attackers_sharing_integer_points_keep_exact_ranges(case, fixed, value):
    """Attackers over one programme share their integer points (``store``), as the
    singleton attacks on one pattern do, each with one more row fixing a cell. A shared
    point that breaks the new row must not be used: every range (and every verdict with a
    judge) still equals scipy's over the programme with that row."""
    a, lower, upper, target = case
    store: dict = {}
    first = jr.JointAttacker(SimpleNamespace(matrix=sp.csr_matrix(a), lower=lower,
                                             upper=upper, n_vars=a.shape[1]), store=store)
    first.range(sp.csr_matrix(target))
    first.range(sp.csr_matrix(np.ones(a.shape[1])))
    row = np.zeros(a.shape[1])
    support = np.flatnonzero(target)
    row[support[fixed % len(support)]] = 1.0  # a cell of the target fixed at ``value``
    more = np.vstack([a, row])
    low_row, up_row = np.r_[lower, float(value)], np.r_[upper, float(value)]
    try:
        low, high = integer_range(more, low_row, up_row, target)
    except Infeasible:  # no integer point has the cell at that value
        return
    second = jr.JointAttacker(SimpleNamespace(matrix=sp.csr_matrix(more), lower=low_row,
                                              upper=up_row, n_vars=a.shape[1]), store=store)
    assert second.range(sp.csr_matrix(target)) == (low, INF if high is None else high)

    if high is None:
        return

    def judge(lo: float, hi: float) -> bool:
        # Fails on the true range: passes only on a range wider than the outsider's.
        return lo < low or hi > high

    third = jr.JointAttacker(SimpleNamespace(matrix=sp.csr_matrix(more), lower=low_row,
                                             upper=up_row, n_vars=a.shape[1]), store=store)
    assert not judge(*third.range(sp.csr_matrix(target), judge))
