"""Fewest secondaries against exact disclosure: a covering programme with generated cuts.

The cut generation of Fischetti and Salazar-Gonzalez (2001), "Solving the cell
suppression problem on tabular data with linear constraints" (Management Science 47),
the method of tau-ARGUS's OPT, written for exact disclosure only. A sensitive form ``p``
is computable exactly when its row is a combination of published rows,
``a_p = sum_c lambda_c a_c``; then at least one form of that combination must be hidden:
``sum_{c in supp(lambda)} z_c >= 1``. A master integer programme picks the cheapest
hidden set (binaries ``z_c``) that meets the cuts found so far; the exact elimination of
``suoja.protect.gauss`` tells which sensitive forms the chosen set still lets be
computed, and a small linear programme (least ``sum |lambda_c|``) finds a sparse
combination for each, a new cut. When no sensitive form is computable, the hidden set
is optimal: it meets every cut, and the master's optimum (when the master finishes
within its node limit) is a lower bound. The cuts of single relations (a total and its
parts, ``suoja.protect.relations``) are known in advance and seed the master. Singleton
protection adds rows that must stay uncomputable too (``suoja.protect.gauss.
singleton_links``); their coefficients, kept modulo the elimination's prime, are mapped
back to fractions for the linear programme.

Unlike tau-ARGUS's OPT, which keeps protection intervals with the attacker's linear
programme, this guarantees only that no hidden cell can be computed exactly (the same
guarantee as ``suoja.protect.gauss``; the audit checks the intervals after). All limits
are counts of work, never seconds: the same input gives the same pattern anywhere.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import highspy
import numpy as np
import scipy.sparse as sp

from suoja.protect.gauss import determined, determined_rows, rational
from suoja.protect.highs import INF, has_incumbent, new_highs, outcome, pass_model, solution

COVER_FORMS = 3_000
"""Largest model (distinct forms) for which the covering programme is tried; larger ones
keep the pattern of Gaussian elimination alone (the master programmes can take minutes
on tables of a few thousand forms)."""
MAX_CERTIFICATES = 1_500
"""Linear programmes (one per computable sensitive form and round) allowed in all: a work
limit; when it runs out, the pattern of Gaussian elimination is kept."""
MAX_ROUNDS = 60
"""Master solves allowed in all (each one followed by an exact check)."""
MASTER_NODES = 2_000
"""Branch-and-bound nodes all master solves together may explore (a work limit, not
time); a solve that reaches it gives its best choice so far and the next one returns
None."""
TOL = 1e-7


def relation_cuts(
    relations: Sequence[tuple[int, Sequence[int]]], sensitive: np.ndarray,
    can_hide: np.ndarray,
) -> list[np.ndarray]:
    """The cuts of single relations: ``total = sum(parts)`` over forms.

    For a sensitive form ``p`` in a relation whose other forms are all non-sensitive, one
    of those that may be hidden must be hidden (if all were published, the relation
    would give ``p``). Cuts are arrays of forms, deduplicated, in a deterministic order.
    """
    cuts: dict[tuple[int, ...], None] = {}
    for total, parts in relations:
        members = [total, *parts]
        hot = [f for f in members if sensitive[f]]
        if len(hot) != 1 or len(set(members)) != len(members):
            continue
        cut = tuple(sorted(f for f in members if not sensitive[f] and can_hide[f]))
        if cut:
            cuts[cut] = None
    return [np.array(c, dtype=np.int64) for c in cuts]


class _Certifier:
    """Least-``sum |lambda|`` combinations of published rows giving a sensitive row.

    One linear programme over all forms (``lambda = l+ - l-``); hidden forms have their
    columns fixed at 0, and only the right-hand side changes between sensitive rows, so
    HiGHS starts each solve from the last basis.
    """

    def __init__(self, forms: sp.csr_matrix) -> None:
        n_forms, n_vars = forms.shape
        self.n_forms, self.n_vars = n_forms, n_vars
        transposed = forms.T.astype(np.float64).tocsc()
        matrix = sp.hstack([transposed, -transposed]).tocsc()
        self.highs = new_highs(presolve=False)
        pass_model(self.highs, matrix, np.zeros(2 * n_forms), np.full(2 * n_forms, INF),
                   np.zeros(n_vars), np.zeros(n_vars), np.ones(2 * n_forms))
        self.hidden: np.ndarray | None = None
        self.rhs = np.zeros(n_vars)
        self.solves = 0

    def combination(self, rhs: np.ndarray, hidden: np.ndarray) -> np.ndarray | None:
        """Forms of a published combination equal to the row ``rhs`` (None if none found)."""
        highs, n = self.highs, self.n_forms
        if self.hidden is None or (self.hidden != hidden).any():
            upper = np.where(hidden, 0.0, INF)
            columns = np.arange(2 * n, dtype=np.int32)
            highs.changeColsBounds(2 * n, columns, np.zeros(2 * n),
                                   np.concatenate([upper, upper]))
            self.hidden = hidden.copy()
        changed = np.flatnonzero(rhs != self.rhs).astype(np.int32)
        if len(changed):
            highs.changeRowsBounds(len(changed), changed, rhs[changed], rhs[changed])
        self.rhs = rhs
        self.solves += 1
        highs.run()
        if outcome(highs) != "optimal":
            return None
        x = solution(highs)
        return np.flatnonzero(np.abs(x[:n] - x[n:]) > TOL)


def _master(cuts: list[np.ndarray], cost: np.ndarray, nodes: int, seconds: float,
            ) -> tuple[np.ndarray | None, int]:
    """The cheapest 0/1 ``z`` over candidates meeting every cut (None: no solution, or
    the time limit, a safety net only, ran out), exploring at most ``nodes``
    branch-and-bound nodes; and the nodes explored."""
    lengths = [len(c) for c in cuts]
    rows = np.repeat(np.arange(len(cuts)), lengths)
    matrix = sp.csr_matrix((np.ones(int(sum(lengths))), (rows, np.concatenate(cuts))),
                           shape=(len(cuts), len(cost)))
    highs = new_highs(time_limit=max(seconds, 0.01))
    highs.setOptionValue("mip_max_nodes", max(nodes, 1))
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("mip_abs_gap", 1e-9)
    pass_model(highs, matrix, np.zeros(len(cost)), np.ones(len(cost)), np.ones(len(cuts)),
               np.full(len(cuts), INF), cost, integer=True)
    highs.run()
    explored = int(highs.getInfo().mip_node_count)
    if not has_incumbent(highs) or highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        return None, explored
    return solution(highs) > 0.5, explored


class Cover:
    """The cheapest hidden mask that lets no sensitive row be computed exactly.

    Args:
        forms: Forms x variables, 0/1 (``LinearModel.forms``).
        sensitive: Forms that are hidden and must stay uncomputable.
        weights: Cost of hiding each form.
        can_hide: Forms that may be hidden.
        seeds: Cuts known in advance (arrays of forms; ``relation_cuts``).
        time_limit: Seconds all master solves together may take: a safety net only (the
            work limits decide in practice); when it runs out, ``solve`` returns None.

    The cuts found are kept between calls of ``solve``: they stay valid as long as the
    sensitive rows only grow (singleton protection adds rows round by round).
    """

    def __init__(self, forms: sp.csr_matrix, sensitive: np.ndarray, weights: np.ndarray,
                 can_hide: np.ndarray, seeds: Sequence[np.ndarray] = (),
                 time_limit: float = 20.0) -> None:
        self.forms = sp.csr_matrix(forms)
        self.sensitive = np.asarray(sensitive, dtype=bool)
        self.can_hide = np.asarray(can_hide, dtype=bool) & ~self.sensitive
        self.candidates = np.flatnonzero(self.can_hide)
        self.column = np.full(len(sensitive), -1)
        self.column[self.candidates] = np.arange(len(self.candidates))
        self.cost = np.asarray(weights, dtype=np.float64)[self.candidates]
        self.cuts = [c for c in (self.column[s] for s in seeds)]
        self.cuts = [c[c >= 0] for c in self.cuts]
        self.certifier = _Certifier(self.forms)
        self.rounds = 0
        self.nodes = 0
        self.seconds = 0.0
        self.time_limit = time_limit

    def _rhs(self, row: int | dict[int, int]) -> np.ndarray:
        rhs = np.zeros(self.forms.shape[1])
        if isinstance(row, int):
            rhs[self.forms.indices[self.forms.indptr[row]:self.forms.indptr[row + 1]]] = 1.0
        else:
            for v, a in row.items():
                rhs[v] = rational(a)
        return rhs

    def _choose(self) -> np.ndarray | None:
        hidden = self.sensitive.copy()
        if not self.cuts:
            return hidden
        if (any(len(c) == 0 for c in self.cuts) or self.rounds >= MAX_ROUNDS
                or self.nodes >= MASTER_NODES):
            return None
        self.rounds += 1
        start = time.perf_counter()
        choice, explored = _master(self.cuts, self.cost, MASTER_NODES - self.nodes,
                                   self.time_limit - self.seconds)
        self.nodes += explored
        self.seconds += time.perf_counter() - start
        if choice is None:
            return None
        hidden[self.candidates[choice]] = True
        return hidden

    def solve(self, extra: Sequence[dict[int, int]] = ()) -> np.ndarray | None:
        """The hidden mask (sensitive forms included) that keeps the sensitive forms and
        the ``extra`` rows (``variable -> coefficient`` modulo ``PRIME``) uncomputable.

        Optimal (no safe mask is cheaper) unless a master solve stopped at the node
        limit (``MASTER_NODES``) with a feasible choice. None when a work limit
        (``MAX_CERTIFICATES``, ``MAX_ROUNDS``, ``MASTER_NODES``) ran out first.
        """
        hidden = self._choose()
        while hidden is not None:
            exposed: list[int | dict[int, int]] = list(
                np.flatnonzero(determined(self.forms, hidden) & self.sensitive).tolist())
            if extra:
                known = determined_rows(self.forms, hidden, extra)
                exposed += [extra[i] for i in np.flatnonzero(known).tolist()]
            if not exposed:
                return hidden
            for row in exposed:
                if self.certifier.solves >= MAX_CERTIFICATES:
                    return None
                found = self.certifier.combination(self._rhs(row), hidden)
                if found is None:  # numerical trouble: every published form is a cut
                    found = np.flatnonzero(~hidden)
                cut = self.column[found[~hidden[found]]]
                self.cuts.append(cut[cut >= 0])
            hidden = self._choose()
        return None
