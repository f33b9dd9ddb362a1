"""The attacker's side: the range of every hidden cell over all tables an outsider
cannot rule out (non-negative integers agreeing with every published cell).

Published rows first fix what they determine alone (a row with one unknown variable, or
a remaining total of 0 over non-negative variables); the rest falls apart into
independent components, each a small LP solved with warm starts (one HiGHS object per
component, only the objective changes). A bound is integer-exact when the LP optimum
is attained at an integral point; otherwise a MIP over the component confirms it (on a
time limit, its incumbent gives a narrower, i.e. stricter, range).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from suoja.protect.highs import (
    INF,
    has_incumbent,
    is_integral,
    new_highs,
    outcome,
    pass_model,
    set_bounds,
    set_costs,
    solution,
)

TOL = 1e-6
POOL_SIZE = 256
"""Integer points kept per component to settle bounds without a MIP."""


class InconsistentError(ValueError):
    """The published figures contradict each other (no non-negative solution)."""


def presolve(
    forms: sp.csr_matrix, known: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fix the variables the published rows determine on their own.

    Args:
        forms: Forms x variables (0/1).
        known: Value of each form, NaN when hidden.

    Returns:
        ``free`` mask of variables, ``fixed`` values, ``active`` published rows that still
        bind two or more free variables, and their remaining right-hand sides.
    """
    rows = np.flatnonzero(~np.isnan(known))
    matrix = forms[rows].tocsr().astype(np.float64)
    rhs = known[rows]
    free = np.ones(forms.shape[1], dtype=bool)
    fixed = np.zeros(forms.shape[1])
    while True:
        rest = rhs - matrix @ fixed
        part = matrix @ sp.diags(free.astype(np.float64))
        part.eliminate_zeros()
        counts = np.diff(part.tocsr().indptr)
        if (rest < -TOL).any() or ((counts == 0) & (np.abs(rest) > TOL)).any():
            raise InconsistentError("the published figures contradict each other")
        zero = (counts > 0) & (np.abs(rest) <= TOL)
        single = counts == 1
        if not (zero.any() or single.any()):
            break
        sub = part.tocsr()
        to_zero = np.unique(sub[np.flatnonzero(zero)].indices)
        one = sub[np.flatnonzero(single & ~zero)]
        cols = one.indices[one.indptr[:-1]]
        vals = rest[np.flatnonzero(single & ~zero)]
        order = np.lexsort((vals, cols))
        same = cols[order][1:] == cols[order][:-1]
        differ = np.abs(np.diff(vals[order])) > TOL
        if (np.isin(cols, to_zero) & (np.abs(vals) > TOL)).any() or (same & differ).any():
            raise InconsistentError("the published figures contradict each other")
        free[to_zero] = False
        fixed[cols] = np.round(vals)
        free[cols] = False
    active = np.flatnonzero(counts >= 2)
    return free, fixed, rows[active], rest[active]


@dataclass
class Component:
    """Free variables linked by published rows; LP and MIP built on first use."""

    cols: np.ndarray
    matrix: sp.csr_matrix
    rhs: np.ndarray
    time_limit: float
    known: np.ndarray | None = None
    pool: list[np.ndarray] = field(default_factory=list)
    _lp: highspy.Highs | None = None
    _mip: highspy.Highs | None = None
    _costed: dict[str, np.ndarray] = field(default_factory=dict)

    def _solver(self, integer: bool) -> highspy.Highs:
        attr = "_mip" if integer else "_lp"
        if getattr(self, attr) is None:
            highs = new_highs(presolve=integer, time_limit=self.time_limit if integer else None)
            if not integer:
                # Only the objective changes between solves: the last basis stays primal
                # feasible, so the primal simplex restarts from it in a few iterations.
                highs.setOptionValue("simplex_strategy", 4)
            n = len(self.cols)
            pass_model(
                highs, self.matrix, np.zeros(n), np.full(n, INF), self.rhs, self.rhs,
                integer=integer,
            )
            setattr(self, attr, highs)
        return getattr(self, attr)

    def _optimise(self, local: np.ndarray, sense: float, integer: bool) -> tuple[str, float, np.ndarray | None]:
        highs = self._solver(integer)
        key = "mip" if integer else "lp"
        previous = self._costed.get(key, np.zeros(0, dtype=np.int64))
        set_costs(highs, previous, np.zeros(len(previous)))
        set_costs(highs, local, np.full(len(local), sense))
        self._costed[key] = local
        if integer:
            # A stale MIP start is completed by a sub-MIP first: slower than solving afresh.
            highs.clearSolver()
        highs.run()
        status = outcome(highs)
        if status == "unbounded":
            return status, INF, None
        if status == "optimal" or (integer and status == "limit" and has_incumbent(highs)):
            x = solution(highs)
            return status, float(x[local].sum()), x
        return status, np.nan, None

    def point(self) -> np.ndarray:
        """One non-negative integer solution of the component."""
        if self.known is None:
            # A MIP with no objective stops at its first feasible point, and its presolve
            # makes that much faster than an LP vertex that may still be fractional.
            _, _, x = self._optimise(np.zeros(0, dtype=np.int64), 1.0, integer=True)
            if x is None:
                raise RuntimeError("no integer solution found within the time limit")
            self._remember(x)
        assert self.known is not None
        return self.known

    def _near(self, x: np.ndarray) -> np.ndarray:
        """Columns fractional in ``x`` and every column sharing a row with one of them."""
        frac = np.flatnonzero(np.abs(x - np.round(x)) > TOL)
        csc = self.matrix.tocsc()
        rows = np.unique(csc[:, frac].indices)
        return np.union1d(frac, self.matrix[rows].indices)

    def _repair(self, local: np.ndarray, sense: float, x: np.ndarray, target: int) -> bool:
        """Look for an integer point worth ``target`` near the fractional LP optimum ``x``.

        Columns far from the fractional ones keep their (integral) LP values, so the MIP
        is small. Reaching ``target`` (the LP bound rounded inwards) proves it optimal.
        """
        fixed = np.setdiff1d(np.arange(len(self.cols)), self._near(x))
        mip = self._solver(True)
        value = np.round(x[fixed])
        set_bounds(mip, fixed, value, value)
        try:
            _, found, y = self._optimise(local, sense, integer=True)
        finally:
            set_bounds(mip, fixed, np.zeros(len(fixed)), np.full(len(fixed), INF))
        if y is not None:
            self._remember(y)
        return y is not None and round(found) == target

    def _remember(self, x: np.ndarray) -> None:
        """Keep an integer point: later bounds it attains need no MIP."""
        self.known = np.round(x)
        if len(self.pool) < POOL_SIZE:
            self.pool.append(self.known)

    def _attained(self, local: np.ndarray, sense: float, target: int) -> bool:
        if not self.pool:
            return False
        sums = np.stack(self.pool)[:, local].sum(axis=1)
        best = sums.max() if sense < 0 else sums.min()
        return round(best) == target

    def bound(self, local: np.ndarray, sense: float) -> float:
        """Min (sense 1) or max (sense -1) over integers of the sum of ``local`` columns."""
        status, value, x = self._optimise(local, sense, integer=False)
        if status == "unbounded":
            return INF
        if x is None:
            raise InconsistentError("the published figures contradict each other")
        if is_integral(x):
            self._remember(x)
            return round(value)
        target = int(np.floor(value + TOL)) if sense < 0 else int(np.ceil(value - TOL))
        if self._attained(local, sense, target) or self._repair(local, sense, x, target):
            return target
        _, value, x = self._optimise(local, sense, integer=True)
        if x is not None:
            self._remember(x)
            return round(value)
        if self.known is None:
            raise RuntimeError("no integer solution found within the time limit")
        return float(self.known[local].sum())


class Attacker:
    """Deduces the integer range of any form from the published ones.

    Args:
        forms: Forms x variables (0/1).
        known: Published value of each form, NaN when hidden.
        time_limit: Seconds per MIP confirmation.
    """

    def __init__(self, forms: sp.csr_matrix, known: np.ndarray, time_limit: float = 20.0):
        self.forms = forms.tocsr()
        self.free, self.fixed, active, rhs = presolve(self.forms, known)
        free_cols = np.flatnonzero(self.free)
        sub = self.forms[active][:, free_cols].astype(np.float64).tocsr()
        n, m = len(free_cols), len(active)
        graph = sp.bmat([[None, sub.T], [sub, None]], format="csr") if m else sp.csr_matrix((n, n))
        _, labels = connected_components(graph, directed=False)
        self.label = np.full(self.forms.shape[1], -1)
        self.label[free_cols] = labels[:n]
        row_label = labels[n:] if m else np.zeros(0, dtype=int)
        self.components: dict[int, Component] = {}
        for lab in np.unique(labels[:n]):
            cols = free_cols[labels[:n] == lab]
            rows = np.flatnonzero(row_label == lab)
            matrix = sub[rows][:, labels[:n] == lab]
            self.components[int(lab)] = Component(cols, matrix, rhs[rows], time_limit)

    def point(self) -> np.ndarray:
        """One non-negative integer solution of all published figures (full length)."""
        x = self.fixed.copy()
        for comp in self.components.values():
            if comp.matrix.shape[0]:
                x[comp.cols] = comp.point()
        return x

    def component_of(self, form: int) -> set[int]:
        """Components holding the free variables of ``form``."""
        f = self.forms
        cols = f.indices[f.indptr[form] : f.indptr[form + 1]]
        return {int(c) for c in self.label[cols] if c >= 0}

    def range(self, form: int) -> tuple[float, float]:
        """Lowest and highest integer value of ``form`` (``hi`` may be ``inf``)."""
        f = self.forms
        cols = f.indices[f.indptr[form] : f.indptr[form + 1]]
        lo = hi = float(self.fixed[cols[~self.free[cols]]].sum())
        free = cols[self.free[cols]]
        for lab in np.unique(self.label[free]):
            comp = self.components[int(lab)]
            local = np.flatnonzero(np.isin(comp.cols, free[self.label[free] == lab]))
            if comp.matrix.shape[0] == 0:
                hi = INF
                continue
            lo += comp.bound(local, 1.0)
            hi += comp.bound(local, -1.0)
        return lo, hi
