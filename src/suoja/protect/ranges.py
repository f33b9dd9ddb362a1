"""The attacker's side: the range of every hidden cell over all tables an outsider
cannot rule out (non-negative integers agreeing with every published cell).

Published rows first fix what they determine alone (a row with one unknown variable, or
a remaining total of 0 over non-negative variables); the rest falls apart into
independent components, each a small LP solved with warm starts (one HiGHS object per
component, only the objective changes). A bound is integer-exact when the LP optimum
is attained at an integral point, or when a kept integer point or one found in a small
box around the LP optimum reaches the LP bound rounded inwards; otherwise a MIP over the
component confirms it (on a time limit, its incumbent gives a narrower, i.e. stricter,
range).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from suoja.errors import SolverLimitError, SuojaError
from suoja.protect.highs import (
    INF,
    has_incumbent,
    is_integral,
    new_highs,
    outcome,
    pass_model,
    set_costs,
    solution,
)

TOL = 1e-6
POOL_SIZE = 256
"""Integer points kept per component to settle bounds without a MIP."""
BOX = 1
"""Half-width of the box around the LP optimum (``floor(x) - BOX .. ceil(x) + BOX``) in
which an integer point reaching the LP bound is first looked for. On large counts a MIP
over a whole component spends seconds in HiGHS's root rounding heuristics (10-17 s at
100 000 persons) where the box MIP takes well under one."""
BOX_NODES = 500
"""Branch-and-bound nodes of the box MIP (a work limit; at the limit the whole MIP runs)."""


def box_search(matrix: sp.csr_matrix, x: np.ndarray, row_lower: np.ndarray,
               row_upper: np.ndarray, local: np.ndarray, costs: np.ndarray, target: float,
               seed: np.ndarray | None = None) -> np.ndarray | None:
    """An integer point of ``row_lower <= matrix @ p <= row_upper``, ``p >= 0``, near the
    LP point ``x``, with ``costs @ p[local]`` as low as the search finds (a neighbourhood
    search: RENS, Berthold, "RENS: the optimal rounding", Math. Prog. Comp. 2014).

    With ``seed`` (a known integer point of the same programme) it first searches only the
    columns where ``x`` or ``seed`` is positive, the others fixed at 0, in a box of
    ``BOX`` around both (crossover, as in RINS: Danna, Rothberg and Le Pape, "Exploring
    relaxation induced neighborhoods", Math. Prog. 2005): ``seed`` lies in that box, so
    it is never empty, and on the embedded release it is about 30 times smaller than the
    whole component. When that point does not reach ``target`` (or there is no seed),
    the box of ``BOX`` around ``x`` over every column is searched. Both are MIPs with
    ``BOX_NODES`` nodes: a work limit, never a clock. Every point returned satisfies the
    whole programme (columns outside the search are 0, within their bounds ``0..inf``).

    Returns:
        The point (length ``matrix.shape[1]``), or None when neither search found one.
    """
    n = matrix.shape[1]
    point = None
    free = np.flatnonzero((x > TOL) | (seed > 0.5)) if seed is not None else np.zeros(0)
    if len(free):
        assert seed is not None
        point = _box_mip(matrix[:, free], np.minimum(np.floor(x[free] + TOL), seed[free]),
                         np.maximum(np.ceil(x[free] - TOL), seed[free]), row_lower, row_upper,
                         free, local, costs, n)
        if point is not None and costs @ point[local] <= target + TOL:
            return point
    full = _box_mip(matrix, np.floor(x + TOL), np.ceil(x - TOL), row_lower, row_upper,
                    np.arange(n), local, costs, n)
    return full if full is not None else point


def _box_mip(matrix: sp.csr_matrix, low: np.ndarray, high: np.ndarray, row_lower: np.ndarray,
             row_upper: np.ndarray, columns: np.ndarray, local: np.ndarray, costs: np.ndarray,
             n: int) -> np.ndarray | None:
    """The box MIP of ``box_search`` over ``columns`` (the others 0)."""
    box = new_highs(presolve=True)
    box.setOptionValue("mip_max_nodes", BOX_NODES)
    pass_model(box, sp.csr_matrix(matrix), np.maximum(low - BOX, 0), high + BOX,
               row_lower, row_upper, integer=True)
    position = np.full(n, -1)
    position[columns] = np.arange(len(columns))
    inside = position[local] >= 0
    set_costs(box, position[local][inside], costs[inside])
    box.run()
    if outcome(box) not in ("optimal", "limit") or not has_incumbent(box):
        return None
    point = np.zeros(n)
    point[columns] = np.round(solution(box))
    return point


class InconsistentError(SuojaError, ValueError):
    """The published figures contradict each other, or the declared facts, or an earlier
    release (no non-negative solution): input the user must look at (exit status 2)."""


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
    last: np.ndarray | None = None
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

    def _optimise(
        self, local: np.ndarray, sense: float, integer: bool
    ) -> tuple[str, float, np.ndarray | None]:
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
                raise SolverLimitError(f"the solver found no integer solution within its time "
                                      f"limit of {self.time_limit:g} s")
            self._remember(x)
        assert self.known is not None
        return self.known

    def _remember(self, x: np.ndarray) -> None:
        """Keep an integer point: later bounds it attains need no MIP."""
        self.known = np.round(x)
        if len(self.pool) < POOL_SIZE:
            self.pool.append(self.known)

    def _attained(self, local: np.ndarray, sense: float, target: int) -> bool:
        """Whether a kept integer point reaches ``target``; it becomes ``last`` if so."""
        if not self.pool:
            return False
        sums = np.stack(self.pool)[:, local].sum(axis=1)
        best = int(sums.argmax() if sense < 0 else sums.argmin())
        if round(sums[best]) != target:
            return False
        self.last = self.pool[best]
        return True

    def _box_point(self, x: np.ndarray, local: np.ndarray, sense: float, target: int) -> bool:
        """Look for an integer point near the LP optimum ``x`` whose sum of ``local``
        reaches ``target`` (``box_search``, seeded with the kept point closest to the
        target); the point found is kept (``known``, the pool). Returns whether it
        reaches ``target``."""
        seed = None
        if self.pool:
            sums = np.stack(self.pool)[:, local].sum(axis=1)
            seed = self.pool[int(sums.argmax() if sense < 0 else sums.argmin())]
        point = box_search(self.matrix, x, self.rhs, self.rhs, local,
                           np.full(len(local), sense), sense * target, seed)
        if point is None:
            return False
        self._remember(point)
        assert self.known is not None
        return bool(sense * self.known[local].sum() <= sense * target + TOL)

    def bound(self, local: np.ndarray, sense: float) -> float:
        """Min (sense 1) or max (sense -1) over integers of the sum of ``local`` columns."""
        self.last = None
        status, value, x = self._optimise(local, sense, integer=False)
        if status == "unbounded":
            return INF
        if x is None:
            raise InconsistentError("the published figures contradict each other")
        if is_integral(x):
            self._remember(x)
            self.last = self.known
            return round(value)
        target = int(np.floor(value + TOL)) if sense < 0 else int(np.ceil(value - TOL))
        if self._attained(local, sense, target):
            return target
        if self._box_point(x, local, sense, target):
            # No integer point lies beyond the LP bound: one reaching it rounded inwards
            # is the integer optimum.
            self.last = self.known
            return target
        _, value, x = self._optimise(local, sense, integer=True)
        if x is not None:
            self._remember(x)
            self.last = self.known
            return round(value)
        if self.known is None:
            raise SolverLimitError(f"the solver found no integer solution within its time "
                                      f"limit of {self.time_limit:g} s")
        self.last = self.known
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

    def _split(self, form: int) -> tuple[float, np.ndarray]:
        """The part of ``form`` the published rows fix alone, and its free variables."""
        f = self.forms
        cols = f.indices[f.indptr[form] : f.indptr[form + 1]]
        return float(self.fixed[cols[~self.free[cols]]].sum()), cols[self.free[cols]]

    def range(self, form: int) -> tuple[float, float]:
        """Lowest and highest integer value of ``form`` (``hi`` may be ``inf``)."""
        lo, hi, _, _ = self.extremes(form)
        return lo, hi

    def lowest(self, form: int) -> float:
        """Lowest integer value of ``form`` (one side of ``range``)."""
        lo, free = self._split(form)
        for lab in np.unique(self.label[free]).tolist():
            comp = self.components[lab]
            if comp.matrix.shape[0]:
                local = np.flatnonzero(np.isin(comp.cols, free[self.label[free] == lab]))
                lo += comp.bound(local, 1.0)
        return lo

    def extremes(self, form: int) -> tuple[float, float, dict | None, dict | None]:
        """The range of ``form`` and, per component, integer points attaining each end.

        A point is None when unknown (an unbounded end, or an isolated variable).
        """
        lo, free = self._split(form)
        hi = lo
        at_lo: dict | None = {}
        at_hi: dict | None = {}
        for lab in np.unique(self.label[free]).tolist():
            comp = self.components[lab]
            local = np.flatnonzero(np.isin(comp.cols, free[self.label[free] == lab]))
            if comp.matrix.shape[0] == 0:
                hi, at_lo, at_hi = INF, None, None
                continue
            lo += comp.bound(local, 1.0)
            if at_lo is not None:
                at_lo = None if comp.last is None else {**at_lo, lab: comp.last}
            hi += comp.bound(local, -1.0)
            if at_hi is not None:
                at_hi = None if comp.last is None or hi == INF else {**at_hi, lab: comp.last}
        return lo, hi, at_lo, at_hi

    def pool_values(self, form: int, lab: int) -> np.ndarray | None:
        """Value of ``form`` at every kept integer point of component ``lab`` (other
        components at any one point); None if the form has an unbounded part."""
        comp = self.components[lab]
        if not comp.pool:
            return None
        base, free = self._split(form)
        for other in np.unique(self.label[free]).tolist():
            if other == lab:
                continue
            if self.components[other].matrix.shape[0] == 0:
                return None
            point = self.components[other].point()
            base += float(point[np.isin(self.components[other].cols, free)].sum())
        inside = np.isin(comp.cols, free)
        return base + np.stack(comp.pool)[:, inside].sum(axis=1)

    def value_at(self, form: int, points: dict) -> float | None:
        """Value of ``form`` at a point given per component (other components: any point)."""
        total, free = self._split(form)
        for lab in np.unique(self.label[free]).tolist():
            comp = self.components[lab]
            if comp.matrix.shape[0] == 0:
                return None
            point = points[lab] if lab in points else comp.point()
            total += float(point[np.isin(comp.cols, free)].sum())
        return total
