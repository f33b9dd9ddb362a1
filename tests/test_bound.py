"""The lower bound on secondary suppression (``suoja.protect.bound``) against brute force.

The oracle shares no code with suoja: it lists the cells of a small table, tries every
set of secondaries in order of size, and judges each pattern with scipy's own MIP
solver (``milp_oracle``): the integer range of every primary, and the interval rule as
the policy states it. The least size that passes is the true optimum. The bound must
never exceed it (else it would claim a pattern cheaper than possible is impossible); on
2-D tables, whose ranges are integral, a proven bound must equal it.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from milp_oracle import integer_range
from test_protect_support import table_cells

from suoja.protect import SuppressionRules, protect
from suoja.protect.suppress import secondary_bound

COUNTS = st.sampled_from([0, 0, 1, 1, 2, 3, 4, 6, 8, 12, 20])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cells(counts: np.ndarray) -> tuple[list[tuple[int | None, ...]], np.ndarray]:
    """Every cell of the table with its margins (None: total over that axis), and its
    0/1 row over the inner cells (flattened)."""
    combos = list(itertools.product(*[[*range(n), None] for n in counts.shape]))
    rows = []
    for combo in combos:
        mask = np.zeros(counts.shape, dtype=bool)
        mask[tuple(slice(None) if c is None else c for c in combo)] = True
        rows.append(mask.ravel().astype(float))
    return combos, np.array(rows)


def _safe(rows: np.ndarray, values: np.ndarray, hidden: set[int], primaries: list[int],
          rules: SuppressionRules) -> bool:
    published = [c for c in range(len(values)) if c not in hidden]
    matrix = rows[published] if published else np.zeros((1, rows.shape[1]))
    fixed = values[published].astype(float) if published else np.zeros(1)
    for p in primaries:
        lo, hi = integer_range(matrix, fixed, fixed, rows[p])
        if hi is not None and hi <= lo:
            return False  # computed exactly
        if rules.interval == "threshold" and lo >= 1 and hi is not None \
                and hi <= rules.threshold - 1:
            return False  # known to be small
    return True


def _lines(combos: list[tuple[int | None, ...]], shape: tuple[int, ...]) -> list[list[int]]:
    """Each line of the table: the cells that differ in one coordinate only, the margin
    (None) included; its cells sum to that margin."""
    index = {c: k for k, c in enumerate(combos)}
    lines = set()
    for combo in combos:
        for axis, n in enumerate(shape):
            line = [(*combo[:axis], i, *combo[axis + 1:]) for i in [*range(n), None]]
            lines.add(tuple(sorted(index[c] for c in line)))
    return [list(line) for line in sorted(lines)]


def brute_force_optimum(counts: np.ndarray, rules: SuppressionRules) -> int | None:
    """The fewest secondaries of any safe pattern (None: no pattern is safe).

    Patterns with a line holding exactly one hidden cell are skipped: that cell is the
    margin minus the rest, so a pattern publishing it is as safe and smaller."""
    combos, rows = _cells(counts)
    values = rows @ counts.ravel()
    lines = _lines(combos, counts.shape)
    grand = combos.index(tuple([None] * counts.ndim))
    primaries = [c for c, v in enumerate(values) if 1 <= v < rules.threshold]
    candidates = [c for c, v in enumerate(values) if v > 0 and c not in primaries
                  and not (rules.protect_grand_total and c == grand)]
    for size in range(len(candidates) + 1):
        for extra in itertools.combinations(candidates, size):
            hidden = set(primaries) | set(extra)
            if any(sum(c in hidden for c in line) == 1 for line in lines):
                continue
            if _safe(rows, values, hidden, primaries, rules):
                return size
    return None


@st.composite
def small_tables(draw, ndim: int) -> np.ndarray:
    shape = tuple(draw(st.integers(2, 3)) for _ in range(ndim))
    values = draw(st.lists(COUNTS, min_size=int(np.prod(shape)), max_size=int(np.prod(shape))))
    return np.array(values, dtype=np.int64).reshape(shape)


def _rules(draw_interval: str, threshold: int, grand: bool) -> SuppressionRules:
    return SuppressionRules(threshold=threshold, interval=draw_interval,
                            singleton_protection=False, protect_grand_total=grand)


@SETTINGS
@given(counts=small_tables(2), interval=st.sampled_from(["exact", "threshold"]),
       threshold=st.integers(3, 5), grand=st.booleans())
def test_the_bound_on_2d_tables_is_the_brute_force_optimum(counts, interval, threshold, grand):
    rules = _rules(interval, threshold, grand)
    cells, domains, finest = table_cells(counts)
    bound = secondary_bound(cells, domains, finest, rules=rules)
    optimum = brute_force_optimum(counts, rules)
    if optimum is None:
        assert bound.value == float("inf")
        return
    assert bound.value <= optimum + 1e-6
    assert bound.proven, bound
    assert bound.value == pytest.approx(optimum)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables(3), interval=st.sampled_from(["exact", "threshold"]),
       grand=st.booleans())
def test_the_bound_on_3d_tables_never_exceeds_the_brute_force_optimum(counts, interval, grand):
    rules = _rules(interval, 4, grand)
    cells, domains, finest = table_cells(counts[:2, :2, :2])
    bound = secondary_bound(cells, domains, finest, rules=rules)
    optimum = brute_force_optimum(counts[:2, :2, :2], rules)
    if optimum is not None:
        assert bound.value <= optimum + 1e-6


def test_the_bound_measures_the_heuristic_against_the_optimum():
    """A table where the heuristic hides 4 secondaries: the bound, equal to the brute
    force optimum (3), shows the gap that ``suoja publish`` reports."""
    counts = np.array([[1, 20, 12], [6, 3, 8], [12, 2, 6]])
    rules = _rules("exact", 5, False)
    cells, domains, finest = table_cells(counts)
    bound = secondary_bound(cells, domains, finest, rules=rules)
    result = protect(cells, domains, finest, rules=rules)
    secondaries = int((result["status"] == "secondary").sum())
    assert bound.proven and bound.value == brute_force_optimum(counts, rules)
    assert secondaries >= bound.value


@SETTINGS
@given(counts=small_tables(2), interval=st.sampled_from(["exact", "threshold"]),
       threshold=st.integers(3, 5))
def test_the_optimal_method_hides_the_brute_force_optimum_on_2d_tables(counts, interval,
                                                                      threshold):
    """Cut generation (``method = "optimal"``) finds a least pattern, not only its cost.
    (The grand total stays published: the engine's costs make hiding it dearer than the
    brute force's count of cells does.)"""
    rules = replace(_rules(interval, threshold, True), method="optimal")
    cells, domains, finest = table_cells(counts)
    optimum = brute_force_optimum(counts, rules)
    assume(optimum is not None)
    result = protect(cells, domains, finest, rules=rules)
    assert int((result["status"] == "secondary").sum()) == optimum


def test_the_summary_says_the_gap_and_never_hides_a_cost_below_the_bound():
    import polars as pl

    from suoja.protect.loss import bound_summary

    def frame(cost: float, least: float, proven: bool = True) -> pl.DataFrame:
        return pl.DataFrame({"cost": [cost], "lower_bound": [least], "proven": [proven]})

    assert bound_summary(frame(4, 4)).endswith("the least possible")
    assert "20.0 % above it" in bound_summary(frame(5, 4))
    assert "may be higher" in bound_summary(frame(5, 4, proven=False))
    assert "BELOW" in bound_summary(frame(3, 4))
    # With a row for the whole release (``per_population.RELEASE``), that row is the bound:
    # the joint bound may exceed the populations' sum.
    rows = pl.DataFrame({"population": ["a", "b", "(release)"], "cost": [2.0, 3.0, 5.0],
                         "lower_bound": [1.0, 2.0, 5.0], "proven": [True, True, True]})
    assert bound_summary(rows).endswith("the least possible")
    assert "40.0 % above it" in bound_summary(rows.head(2))
