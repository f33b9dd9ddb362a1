"""The lower bound with links (``suoja.protect.bound.Links``, ``suoja.protect.joint_bound``)
against brute force.

Links are what the outsider knows whatever the pattern: a cell of another table or of an
earlier release that adds up inner cells of this one (an equality), the publication rules
(a listed code has at least the threshold, a pooled one fewer). The oracle shares no code
with suoja: it tries every set of secondaries of a small 2-D table in order of size and
judges each with scipy's MIP over the published cells *and* the links. The bound must
never exceed that optimum, and knowing more can only raise it.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from milp_oracle import integer_range
from test_bound import _cells, _lines, small_tables

from suoja.protect import SuppressionRules
from suoja.protect.bound import Links, lower_bound


def _links(counts: np.ndarray, subsets: list[list[int]], rules: SuppressionRules) -> Links:
    """An equality per subset of inner cells (their true sum), and the pooling rule on
    every inner cell: fewer than the threshold where it is, at least it elsewhere."""
    flat = counts.ravel()
    rows, lower, upper = [], [], []
    for subset in subsets:
        row = np.zeros(len(flat))
        row[subset] = 1.0
        rows.append(row)
        lower.append(float(flat[subset].sum()))
        upper.append(float(flat[subset].sum()))
    for i, v in enumerate(flat):
        row = np.zeros(len(flat))
        row[i] = 1.0
        rows.append(row)
        small = v < rules.threshold
        lower.append(0.0 if small else float(rules.threshold))
        upper.append(float(rules.threshold - 1) if small else np.inf)
    return Links(sp.csr_matrix(np.array(rows)), np.array(lower), np.array(upper))


def _optimum(counts: np.ndarray, links: Links, rules: SuppressionRules) -> int | None:
    """The fewest secondaries of a pattern no primary of which an outsider who knows the
    published cells and ``links`` can compute exactly (None: no pattern is safe)."""
    combos, rows = _cells(counts)
    values = rows @ counts.ravel()
    lines = _lines(combos, counts.shape)
    link = links.matrix.toarray()
    primaries = [c for c, v in enumerate(values) if 1 <= v < rules.threshold]
    candidates = [c for c, v in enumerate(values) if v > 0 and c not in primaries]
    for size in range(len(candidates) + 1):
        for extra in itertools.combinations(candidates, size):
            hidden = set(primaries) | set(extra)
            if any(sum(c in hidden for c in line) == 1 for line in lines):
                continue
            published = [c for c in range(len(values)) if c not in hidden]
            matrix = np.vstack([rows[published], link])
            lower = np.concatenate([values[published], links.lower])
            upper = np.concatenate([values[published], links.upper])
            if all(_moves(integer_range(matrix, lower, upper, rows[p])) for p in primaries):
                return size
    return None


def _moves(interval: tuple[int, int | None]) -> bool:
    lo, hi = interval
    return hi is None or hi > lo


def _bound(counts: np.ndarray, links: Links | None, rules: SuppressionRules):
    _, rows = _cells(counts)
    values = rows @ counts.ravel()
    primary = (values >= 1) & (values < rules.threshold)
    return lower_bound(sp.csr_matrix(rows), counts.ravel().astype(float), primary, values > 0,
                       np.ones(len(values)), rules, values, links=links)


RULES = SuppressionRules(threshold=4, interval="exact", singleton_protection=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables(2), data=st.data())
def test_the_bound_with_links_never_exceeds_the_brute_force_optimum(counts, data):
    inner = counts.size
    subsets = data.draw(st.lists(st.lists(st.integers(0, inner - 1), min_size=2, max_size=3,
                                          unique=True), max_size=2))
    from suoja.protect.highs import INF

    links = _links(counts, subsets, RULES)
    links = Links(sp.csr_matrix(links.matrix), links.lower,
                  np.where(np.isinf(links.upper), INF, links.upper))
    with_links = _bound(counts, links, RULES)
    optimum = _optimum(counts, links, RULES)
    if optimum is None:
        assert with_links.value == float("inf") or not with_links.proven
        return
    assert with_links.value <= optimum + 1e-6
    without = _bound(counts, None, RULES)
    if with_links.proven and without.proven:
        assert with_links.value >= without.value - 1e-6


def test_a_link_raises_the_bound_to_the_optimum():
    """In the 2 x 3 table below the primaries 2 and 2 protect each other with their
    column partners (2 secondaries). When another table publishes the inner cell 9
    (a link), that cycle no longer protects them: the optimum rises to 4, and the
    bound with it."""
    counts = np.array([[9, 12, 2], [2, 12, 6]])
    none = Links(sp.csr_matrix((0, counts.size)), np.zeros(0), np.zeros(0))
    row = np.zeros(counts.size)
    row[0] = 1.0
    links = Links(sp.csr_matrix(row[None, :]), np.array([9.0]), np.array([9.0]))
    plain, linked = _bound(counts, None, RULES), _bound(counts, links, RULES)
    assert _optimum(counts, none, RULES) == 2
    assert _optimum(counts, links, RULES) == 4
    assert plain.proven and plain.value == pytest.approx(2)
    assert linked.proven and linked.value == pytest.approx(4)


def _wide(rows: np.ndarray, values: np.ndarray, hidden: set[int], primaries: list[int],
          width: int) -> bool:
    """The oracle's check: every primary's integer range is at least ``width`` wide."""
    published = [c for c in range(len(values)) if c not in hidden]
    matrix = rows[published] if published else np.zeros((1, rows.shape[1]))
    fixed = values[published].astype(float) if published else np.zeros(1)
    for p in primaries:
        lo, hi = integer_range(matrix, fixed, fixed, rows[p])
        if hi is not None and hi - lo < width:
            return False
    return True


WIDTH = 5


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables(2))
def test_with_a_check_inside_the_search_ends_at_the_checked_optimum(counts):
    """``lower_bound``'s ``verify`` (how ``joint_bound`` puts the release audit inside the
    search) against brute force. The check is the oracle's own integer programme (scipy)
    with a rule the linear cuts do not know (every primary's range at least 5 wide), and
    each pattern it fails gives the combinatorial cut "hide one more cell". The search must
    end proven at exactly the brute-force optimum under that rule, with a pattern the
    oracle passes; without the check it would stop at the linear optimum."""
    _, rows = _cells(counts)
    values = rows @ counts.ravel()
    primary = (values >= 1) & (values < RULES.threshold)
    primaries = np.flatnonzero(primary).tolist()
    can_hide = (values > 0) & ~primary

    def verify(hidden: np.ndarray) -> list[tuple[np.ndarray, float]]:
        if _wide(rows, values, set(np.flatnonzero(hidden).tolist()), primaries, WIDTH):
            return []
        return [((can_hide & ~hidden).astype(float), 1.0)]

    found = lower_bound(sp.csr_matrix(rows), counts.ravel().astype(float), primary, can_hide,
                        np.ones(len(values)), RULES, values, verify=verify)
    candidates = np.flatnonzero(can_hide).tolist()
    optimum = next((size for size in range(len(candidates) + 1)
                    for extra in itertools.combinations(candidates, size)
                    if _wide(rows, values, set(primaries) | set(extra), primaries, WIDTH)), None)
    if optimum is None:
        assert found.pattern is None
        return
    assert found.proven and found.value == pytest.approx(optimum)
    assert found.pattern is not None and _wide(
        rows, values, set(np.flatnonzero(found.pattern).tolist()), primaries, WIDTH)
