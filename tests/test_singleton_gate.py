"""Singletons behind implicit cells, and the release's singleton gate (issue 13).

The person behind an implicit cell of one unit (the one Finnish new client exploited
abroad: all Finnish new clients minus those exploited in Finland) knows that cell. Unpick
used to ignore such singletons and published a cell that let this person compute a
hidden primary of the Finland tables. ``suoja.protect.singleton_gate.singleton_exposures``, a
linear programme that shares no code with the engine's certificates or with unpick, now
checks every finished pattern, and the release is refused if it finds anything.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from conftest import REPO

from suoja.pipeline import protect_release
from suoja.policy import read_policy
from suoja.protect.singleton_gate import singleton_exposures
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue


def test_a_singleton_computes_a_disjoint_cell_through_a_published_total():
    # variables v0 (1 unit), v1 (3 units), v2 (9 units); forms: v0, v1, v2, v0+v1, total
    forms = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 1, 1]]))
    x = np.array([1.0, 3.0, 9.0])
    values = np.asarray(forms @ x, dtype=np.int64)
    hidden = np.array([True, True, False, False, False])  # v0+v1 published: 4
    assert singleton_exposures(forms, x, hidden, values) == [(0, 1)]
    hidden = np.array([True, True, False, True, False])  # v0+v1 hidden, v2 and total shown
    assert singleton_exposures(forms, x, hidden, values) == [(0, 1), (0, 3)]
    hidden = np.array([True, True, True, True, True])  # nothing published: nothing known
    assert singleton_exposures(forms, x, hidden, values) == []


def test_a_cell_inside_the_singleton_or_holding_only_it_is_exempt():
    # forms: s = v0+v1 (1 unit), a = v0 (the same unit), b = v1 (0, published), v2, total
    forms = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]))
    x = np.array([1.0, 0.0, 5.0])
    values = np.asarray(forms @ x, dtype=np.int64)
    hidden = np.array([True, True, False, True, False])
    # a lies inside s, and s holds only a's unit: neither person learns anything new, but
    # the hidden v2 is the total minus s, which s's person knows
    assert singleton_exposures(forms, x, hidden, values) == [(0, 3), (1, 3)]


@pytest.mark.slow
def test_unpick_blind_to_implicit_singletons_is_caught_by_the_gate(monkeypatch):
    """The embedded 2025 release: with unpick blind to implicit singletons (as it was),
    the gate finds that the one Finnish client exploited abroad could compute a hidden
    cell, and the engine's pattern is kept; with them, the gate finds nothing."""
    import suoja.pipeline as pipeline
    import suoja.protect.necessity as necessity

    frames = read_register(REPO / "data" / "register").frames
    # The heuristic's path: rounds, then unpick (the optimal method needs no unpick).
    catalogue, policy = read_catalogue(), replace(read_policy(), method="heuristic")
    gate = pipeline.singleton_findings
    seen: list[pl.DataFrame] = []

    def spy(*args, **kwargs):
        seen.append(gate(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(pipeline, "singleton_findings", spy)
    release = protect_release(frames, 2025, catalogue, policy)
    assert [f.height for f in seen] == [0]  # after unpick; the release audit keeps it
    assert release.restricted.audit["ok"].all()
    hidden = release.restricted.log.filter(pl.col("rule") == "secondary").height

    seen.clear()
    monkeypatch.setattr(necessity, "implicit_truth", lambda *args: {})
    fallback = protect_release(frames, 2025, catalogue, replace(policy))
    after_unpick, final = seen
    assert after_unpick.height and not after_unpick["ok"].any()
    assert after_unpick["finding"].str.contains(r"\[in_finland=N\]").any()
    assert final.height == 0 and fallback.restricted.audit["ok"].all()
    assert fallback.restricted.log.filter(pl.col("rule") == "secondary").height >= hidden


def test_the_rank_check_of_many_pairs_finds_what_the_linear_programmes_find(monkeypatch):
    """Above ``MAX_SOLVES`` pairs the gate checks by exact elimination instead: on a case
    of exact linear algebra both find the same pairs."""
    import suoja.protect.bound as bound

    forms = sp.csr_matrix(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 1, 1]]))
    x = np.array([1.0, 3.0, 9.0])
    values = np.asarray(forms @ x, dtype=np.int64)
    hidden = np.array([True, True, False, True, False])
    by_lp = singleton_exposures(forms, x, hidden, values)
    monkeypatch.setattr(bound, "MAX_SOLVES", 1)
    assert singleton_exposures(forms, x, hidden, values) == by_lp == [(0, 1), (0, 3)]
