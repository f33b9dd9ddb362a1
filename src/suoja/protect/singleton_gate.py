"""The singleton gate: a check of a finished pattern that shares no code with the engine's
certificates (``suoja.protect.secure``), with unpick or with the release audit.

The person behind a hidden cell of one unit knows that cell; with it, the published cells
must not give any other hidden cell exactly. One linear programme of the attacker of
``suoja.protect.bound`` per singleton and hidden cell, or one exact elimination per
singleton (``suoja.protect.gauss.determined``) when the pairs are too many.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from suoja.protect.bound import MAX_SOLVES, _Attacker, _singleton_pairs
from suoja.protect.highs import INF


def singleton_exposures(forms: sp.csr_matrix, x: np.ndarray, hidden: np.ndarray,
                        values: np.ndarray, *, free: frozenset[int] = frozenset(),
                        cap: float = INF) -> list[tuple[int, int]]:
    """(singleton, form) pairs of a finished pattern: the person behind the hidden form
    ``singleton`` (1 unit) can compute the hidden form ``form`` exactly.

    A check of the pattern that shares nothing with the engine's certificates
    (``suoja.protect.secure``) or the release audit: the linear programme of ``_Attacker``
    with the singleton's row known. A linear range of one point is an integer range of
    one point, so every pair found is a disclosure (none is a false alarm). The cells a
    singleton learns nothing new about are left out as ``suoja.protect.secure.exempt``
    leaves them, and so are the ``free`` forms (derived cells that need no protection).
    """
    hidden = np.asarray(hidden, dtype=bool)
    singles = [int(s) for s in np.flatnonzero(hidden & (values == 1))]
    if not singles:
        return []
    judged = hidden.copy()
    judged[list(free)] = False
    pairs = _singleton_pairs(forms, singles, np.flatnonzero(judged).tolist(), values)
    if 2 * len(pairs) > MAX_SOLVES:
        return _exposed_by_rank(forms, hidden, pairs)
    attacker = _Attacker(forms, x, cap)
    found, unsettled = [], []
    for pair in pairs:
        s, form = pair[0], pair[1]
        view = hidden.copy()
        view[s] = False
        attacker.use(view)
        up, down = attacker.reach(form, 1.0)[0], attacker.reach(form, -1.0)[0]
        if np.isnan(up) or np.isnan(down):
            unsettled.append(pair)  # the solver gave no verdict: exact elimination decides
        elif up < 0.5 and down < 0.5:
            found.append((s, form))
    return found + (_exposed_by_rank(forms, hidden, unsettled) if unsettled else [])


def _exposed_by_rank(forms: sp.csr_matrix, hidden: np.ndarray,
                     pairs: list[tuple[int | None, int, float, float]]) -> list[tuple[int, int]]:
    """The pairs whose form lies in the span of the published rows and the singleton's:
    one exact elimination per singleton (``gauss.determined``) instead of two linear
    programmes per pair, for patterns with too many pairs; it finds the exact
    disclosures of linear algebra, not those that need non-negativity too."""
    from suoja.protect.gauss import determined

    by_single: dict[int, list[int]] = {}
    for s, form, _, _ in pairs:
        assert s is not None
        by_single.setdefault(s, []).append(form)
    found = []
    for s, targets in by_single.items():
        view = hidden.copy()
        view[s] = False
        exact = determined(forms, view)
        found += [(s, form) for form in targets if exact[form]]
    return found
