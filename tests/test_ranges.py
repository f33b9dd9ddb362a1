"""Integer ranges of one population's audit (``suoja.protect.ranges.Attacker``), checked
against scipy's own MIP solver (``scipy.optimize.milp``, which shares no code with suoja's
HiGHS calls): 0/1 forms of a hidden non-negative integer point, some published at their
true values, the others' ranges asked for."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from milp_oracle import integer_range

import suoja.protect.ranges as ranges
from suoja.protect.highs import INF


def scipy_range(published: np.ndarray, values: np.ndarray, form: np.ndarray):
    """Min and max of ``form @ x`` over non-negative integers with ``published @ x ==
    values``, by scipy (max None when unbounded)."""
    return integer_range(published, values, values, form)


@st.composite
def tables(draw):
    """A hidden integer point, published 0/1 forms of it and hidden forms to range."""
    n = draw(st.integers(4, 9))
    top = draw(st.sampled_from([4, 60]))
    x = np.array(draw(st.lists(st.integers(0, top), min_size=n, max_size=n)), dtype=float)
    rows = st.lists(st.booleans(), min_size=n, max_size=n)
    published = np.array(draw(st.lists(rows, min_size=1, max_size=6)), dtype=float)
    published = published[published.sum(axis=1) > 0]
    if not published.shape[0]:
        published = np.ones((1, n))
    hidden = np.array(draw(st.lists(rows, min_size=1, max_size=4)), dtype=float)
    hidden = hidden[hidden.sum(axis=1) > 0]
    if not hidden.shape[0]:
        hidden = np.eye(n)[:1]
    return x, published, hidden


def check(x: np.ndarray, published: np.ndarray, hidden: np.ndarray) -> None:
    forms = np.vstack([published, hidden])
    known = np.r_[published @ x, np.full(hidden.shape[0], np.nan)]
    attacker = ranges.Attacker(sp.csr_matrix(forms), known)
    for i, form in enumerate(hidden):
        lo, hi = attacker.range(published.shape[0] + i)
        expected_lo, expected_hi = scipy_range(published, published @ x, form)
        assert lo == expected_lo, (form, lo, expected_lo)
        assert hi == (INF if expected_hi is None else expected_hi), (form, hi, expected_hi)
        assert lo <= form @ x <= hi


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_integer_ranges_agree_with_scipys_milp(case):
    check(*case)


@pytest.fixture
def box_calls(monkeypatch) -> list[bool]:
    """What each box search of ``ranges.Component`` returned."""
    calls: list[bool] = []
    original = ranges.Component._box_point

    def box_point(self, *args):
        calls.append(original(self, *args))
        return calls[-1]

    monkeypatch.setattr(ranges.Component, "_box_point", box_point)
    return calls


# Found by a random search: the LP bounds of the hidden forms are fractional, and an integer
# point next to the LP optimum reaches them rounded inwards.
FRACTIONAL = (np.array([2, 3, 0, 2, 3, 0, 0], dtype=float),
              np.array([[1, 0, 1, 0, 1, 1, 1], [0, 0, 1, 1, 0, 1, 0], [1, 0, 0, 0, 1, 1, 1],
                        [0, 1, 1, 1, 1, 0, 1], [1, 0, 0, 1, 0, 0, 0]], dtype=float),
              np.array([[0, 1, 0, 1, 1, 1, 0], [0, 0, 1, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0, 0]],
                       dtype=float))


def test_a_fractional_lp_bound_is_settled_by_a_point_in_the_box(box_calls):
    check(*FRACTIONAL)
    assert True in box_calls


def test_when_the_box_holds_no_point_reaching_the_bound_the_whole_mip_settles_it(
        monkeypatch, box_calls):
    # No point near the LP optimum: the MIP over the component must give the exact bound,
    # as before the box search existed.
    monkeypatch.setattr(ranges, "box_search", lambda *args: None)
    check(*FRACTIONAL)
    assert box_calls and True not in box_calls


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.booleans(), st.booleans())
def test_box_search_finds_only_points_of_the_whole_programme(case, seeded, maximise):
    """``box_search`` restricted to the LP's and the seed's columns (the others fixed at 0)
    returns a non-negative integer point of the whole programme, never one beyond scipy's
    integer optimum, and with a seed always one (the seed itself is in its box)."""
    from scipy.optimize import linprog

    x, published, hidden = case
    values, form, sense = published @ x, hidden[0], -1.0 if maximise else 1.0
    lp = linprog(sense * form, A_eq=published, b_eq=values, bounds=(0, None), method="highs")
    if lp.status != 0:  # unbounded maximum: the box search is not asked
        return
    local = np.flatnonzero(form)
    target = sense * (np.floor(-lp.fun + 1e-6) if maximise else np.ceil(lp.fun - 1e-6))
    point = ranges.box_search(sp.csr_matrix(published), lp.x, values, values, local,
                              np.full(len(local), sense), target, x if seeded else None)
    if seeded:
        assert point is not None
    if point is None:
        return
    assert np.array_equal(point, np.round(point)) and (point >= 0).all()
    assert np.allclose(published @ point, values)
    low, high = scipy_range(published, values, form)
    assert low <= form @ point and (high is None or form @ point <= high)
