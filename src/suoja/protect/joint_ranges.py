"""Integer ranges over the joint programme of ``suoja.protect.joint``, and the published
figures that link an exposed quantity to the rest of the release.

Each connected component of the programme is one HiGHS LP (warm-started: only the
objective changes); a bound is integer-exact when the LP optimum is integral or a kept
integer point reaches the LP bound rounded inwards. Otherwise a small MIP near the LP
optimum looks for an integer point that reaches it (``suoja.protect.ranges.box_search``:
first over the columns where the LP optimum or a kept integer point is positive, then in a
box around the LP optimum); only when there is none does the MIP over the whole
component settle the bound (on a work limit its incumbent gives a narrower, stricter
range).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from suoja.errors import SolverLimitError
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
from suoja.protect.joint import AUX, JointModel
from suoja.protect.ranges import InconsistentError, box_search

TOL = 1e-6
MIP_SECONDS = 600.0
"""The least time one MIP of the joint audit may take: a safety net only (these MIPs take
about a second unloaded); ``MIP_NODES`` is the limit meant to bind."""
MIP_NODES = 2_000
"""Branch-and-bound nodes one MIP of the joint audit may explore: a work limit, so that
the verdicts (and the pattern built on them) are the same on a slow or loaded machine.
At the limit the best integer point found bounds the range: narrower, a stricter
verdict, never a laxer one."""
POOL_SIZE = 512
"""Integer points kept per component to settle bounds without a MIP."""


class JointAttacker:
    """Integer ranges of linear forms over the joint programme, component by component."""

    def __init__(self, joint: JointModel, time_limit: float = 20.0,
                 store: dict[bytes, list[np.ndarray]] | None = None) -> None:
        """``store`` (optional, shared between attackers over the same variables, such as
        the singleton attacks on one pattern, each with one more row): integer points by
        the columns of their component. Each component starts its pool with the stored
        points that satisfy its own rows, and adds the points it finds."""
        self.joint = joint
        self._store = store
        self.time_limit = time_limit
        m = joint.matrix
        n, r = joint.n_vars, m.shape[0]
        pattern = sp.csr_matrix((np.ones(m.nnz), m.indices, m.indptr), shape=m.shape)
        graph = sp.bmat([[None, pattern.T], [pattern, None]], format="csr") if r else \
            sp.csr_matrix((n, n))
        _, labels = connected_components(graph, directed=False)
        self.label = labels[:n]
        self.row_label = labels[n:] if r else np.zeros(0, dtype=int)
        self.bound_vars = np.zeros(n, dtype=bool)
        self.bound_vars[np.unique(m.indices)] = True
        self._lp: dict[int, tuple] = {}
        self._mip: dict[int, object] = {}
        self._pool: dict[int, list[np.ndarray]] = {}
        self.settled = "exact"
        """Whether the last ``range`` is the exact range, or an ``"inner"`` or ``"outer"``
        one settled only as to its verdict."""
        self.limited = False
        """Set when a MIP stopped at its limit: its best integer point bounded the range,
        which may then be narrower than the outsider's (a stricter verdict, never laxer)."""

    def _component(self, lab: int):
        if lab not in self._lp:
            cols = np.flatnonzero(self.label == lab)
            rows = np.flatnonzero(self.row_label == lab)
            sub = self.joint.matrix[rows][:, cols]
            highs = new_highs(presolve=False)
            highs.setOptionValue("simplex_strategy", 4)
            pass_model(highs, sub, np.zeros(len(cols)), np.full(len(cols), INF),
                       self.joint.lower[rows], self.joint.upper[rows])
            self._lp[lab] = (highs, cols, rows, sub)
            if self._store is not None:
                lower, upper = self.joint.lower[rows] - TOL, self.joint.upper[rows] + TOL
                pool = self._pool.setdefault(lab, [])
                for point in self._store.get(cols.tobytes(), []):
                    if len(pool) >= POOL_SIZE:
                        break
                    sums = sub @ point
                    if ((sums >= lower) & (sums <= upper)).all():
                        pool.append(point)
        return self._lp[lab]

    def _keep(self, lab: int, point: np.ndarray) -> None:
        """Keep an integer point of component ``lab`` (and share it through the store)."""
        pool = self._pool.setdefault(lab, [])
        if len(pool) < POOL_SIZE:
            pool.append(point)
        if self._store is not None:
            shared = self._store.setdefault(self._component(lab)[1].tobytes(), [])
            if len(shared) < POOL_SIZE:
                shared.append(point)

    def _solve(self, lab: int, local: np.ndarray, coef: np.ndarray, sense: float,
               integer: bool) -> tuple[str, float]:
        highs, cols, rows, sub = self._component(lab)
        if integer:
            if lab not in self._mip:
                mip = new_highs(presolve=True, time_limit=max(self.time_limit, MIP_SECONDS))
                # The joint programme is large (thousands of finest cells over two years):
                # HiGHS's primal heuristics find the first integer point that its root
                # node alone may not, even on a loaded machine.
                mip.setOptionValue("mip_heuristic_run_feasibility_jump", True)
                mip.setOptionValue("mip_heuristic_effort", 0.05)
                mip.setOptionValue("mip_max_nodes", MIP_NODES)
                pass_model(mip, sub, np.zeros(len(cols)), np.full(len(cols), INF),
                           self.joint.lower[rows], self.joint.upper[rows], integer=True)
                self._mip[lab] = mip
            highs = self._mip[lab]
        set_costs(highs, np.arange(len(cols)), np.zeros(len(cols)))
        set_costs(highs, local, sense * coef)
        if integer:
            highs.clearSolver()
        highs.run()
        status = outcome(highs)
        if status == "unbounded":
            return status, INF
        if status == "infeasible":
            raise InconsistentError(
                "the published figures contradict each other, the declared facts or an "
                "earlier release (was the register corrected after it was published?)")
        if integer and status == "limit" and has_incumbent(highs):
            self.limited = True
        if status == "optimal" or (integer and status == "limit" and has_incumbent(highs)):
            x = solution(highs)
            if not integer and not is_integral(x):
                return "fractional", float(coef @ x[local])
            self._keep(lab, np.round(x))
            return status, float(coef @ x[local])
        if status == "limit" and integer and self._pool.get(lab):
            # No integer point of its own within the limit: the best of those already
            # found bounds the range (narrower, so the verdict is stricter, never laxer).
            self.limited = True
            values = np.stack(self._pool[lab])[:, local] @ coef
            return "limit", float(values.min() if sense > 0 else values.max())
        if status == "limit":
            raise SolverLimitError(
                f"the joint audit's solver found no integer solution within its node and time "
                f"limits ({MIP_NODES} nodes, {max(self.time_limit, MIP_SECONDS):g} s); nothing "
                "was written")
        raise RuntimeError(f"the solver stopped with status {status!r}")

    def _lp_bound(self, lab: int, local: np.ndarray, coef: np.ndarray,
                  sense: float) -> tuple[float, float | None, bool]:
        """One bound of a component from its LP: the LP bound rounded inwards (an outer
        bound of the integer range), the best kept integer point (an inner bound, None
        when no point is kept), and whether the two are known to be equal."""
        status, value = self._solve(lab, local, coef, sense, integer=False)
        if status == "unbounded":
            return INF, INF, True
        if status != "fractional":
            value = round(value)
            return value, value, True
        target = float(np.ceil(value - TOL) if sense > 0 else np.floor(value + TOL))
        best = self._pool_bound(lab, local, coef, sense)
        return target, best, best == target

    def _extreme(self, lab: int, local: np.ndarray, coef: np.ndarray, sense: float,
                 box: bool = True) -> float:
        outer, _, settled = self._lp_bound(lab, local, coef, sense)
        if settled:
            return outer
        # The integer optimum is at best the LP bound rounded inwards; no kept integer
        # point reaches it. An integer point near the LP optimum that reaches it proves it
        # (``box``: unless already looked for); else the MIP over the whole component does.
        if box and self._box_point(lab, local, coef, sense, outer):
            return outer
        status, value = self._solve(lab, local, coef, sense, integer=True)
        return INF if status == "unbounded" else round(value)

    def _box_point(self, lab: int, local: np.ndarray, coef: np.ndarray, sense: float,
                   target: float) -> bool:
        """Look for an integer point with ``sense * coef @ x <= sense * target`` near the
        LP optimum (re-solved for this objective; ``ranges.box_search``, seeded with the
        kept point best for this objective); keep it in the pool.

        Returns whether one was found: the LP bound rounded inwards (``target``) is then
        the integer optimum, since no integer point lies beyond the LP bound.
        """
        self._solve(lab, local, coef, sense, integer=False)
        highs, _cols, rows, sub = self._component(lab)
        pool = self._pool.setdefault(lab, [])
        seed = None
        if pool:
            values = np.stack(pool)[:, local] @ coef
            seed = pool[int(values.argmin() if sense > 0 else values.argmax())]
        point = box_search(sub, solution(highs), self.joint.lower[rows], self.joint.upper[rows],
                           local, sense * coef, sense * target, seed)
        if point is None:
            return False
        self._keep(lab, point)
        return bool(sense * (coef @ point[local]) <= sense * target + TOL)

    def _parts(self, row: sp.csr_matrix):
        cols, coef = row.indices, row.data
        for lab in np.unique(self.label[cols[self.bound_vars[cols]]]).tolist():
            comp_cols = self._component(lab)[1]
            mine = self.bound_vars[cols] & (self.label[cols] == lab)
            yield lab, np.searchsorted(comp_cols, cols[mine]), coef[mine]

    def range(self, row: sp.csr_matrix, judge: Callable[[float, float], bool] | None = None,
              sure: Callable[[float, float], bool] | None = None) -> tuple[float, float]:
        """Lowest and highest integer value of ``row @ x`` (``hi`` may be ``inf``).

        With ``judge`` (a verdict on a range that only passes more as the range widens),
        the exact range is computed only where the verdict needs it: when the range of
        integer points already found passes, that range is returned (the true one is at
        least as wide); when the LP's outer range fails, that range is returned (the true
        one is no wider). Otherwise, and always without ``judge``, the range is exact.
        ``sure`` (with ``judge``) tells when every non-empty range inside the LP's outer
        range passes; that outer range is then returned. ``settled`` tells which of the
        three was returned: ``"exact"``, ``"inner"`` or ``"outer"``.
        """
        # A variable no row mentions can take any value from 0 up.
        unbounded = bool((~self.bound_vars[row.indices]).any())
        self.settled = "exact"
        if judge is not None:
            return self._verdict_range(row, judge, sure, unbounded)
        lo = hi = 0.0
        for lab, local, coef in self._parts(row):
            lo += self._extreme(lab, local, coef, 1.0)
            top = self._extreme(lab, local, coef, -1.0)
            hi = INF if top == INF or hi == INF else hi + top
        return lo, (INF if unbounded else hi)

    def _verdict_range(self, row: sp.csr_matrix, judge: Callable[[float, float], bool],
                       sure: Callable[[float, float], bool] | None,
                       unbounded: bool) -> tuple[float, float]:
        """``range`` with a judge: settle one bound of one component at a time (a MIP only
        where neither the kept integer points nor the LP bounds decide), stopping as soon
        as the inner range passes or the outer range fails. ``settled`` tells whether the
        range returned is the exact one."""
        sides = []
        for lab, local, coef in self._parts(row):
            for side, sense in ((0, 1.0), (1, -1.0)):
                o, i, done = self._lp_bound(lab, local, coef, sense)
                sides.append([side, lab, local, coef, sense, o, i, done, False])
        if unbounded:
            # No row bounds some variable: hi is infinite from inside and out.
            sides = [s for s in sides if s[0] == 0]

        def total(pick: int) -> tuple[float, float]:
            bounds = [0.0, INF if unbounded else 0.0]
            for s in sides:
                value = s[pick] if s[pick] is not None else None
                if value is None:
                    return None
                bounds[s[0]] += value
            return bounds[0], bounds[1]

        while True:
            inner, outer = total(6), total(5)
            if all(s[7] for s in sides) or outer[0] == outer[1]:
                # Equal LP bounds leave one value: the published figures come from one
                # integer point, so the range is that value.
                return outer
            if inner is not None and judge(*inner):
                self.settled = "inner"
                return inner
            if not judge(*outer) or (sure is not None and sure(*outer)):
                self.settled = "outer"
                return outer
            # Settle the open bound with the widest gap between its LP and integer bounds.
            open_sides = [s for s in sides if not s[7]]
            s = max(open_sides, key=lambda s: np.inf if s[6] is None else abs(s[5] - s[6]))
            if not s[8]:
                # First an integer point near the LP optimum: it settles the bound when it
                # reaches it, and may widen the inner range enough for the verdict.
                s[8] = True
                if self._box_point(*s[1:6]):
                    s[6], s[7] = s[5], True
            else:
                value = self._extreme(*s[1:5], box=False)
                s[5], s[6], s[7] = value, value, True
            for other in open_sides:
                if not other[7]:
                    other[6] = self._pool_bound(*other[1:5])
                    other[7] = other[6] == other[5]

    def _pool_bound(self, lab: int, local: np.ndarray, coef: np.ndarray,
                    sense: float) -> float | None:
        """The best value of the kept integer points (None when none is kept)."""
        pool = self._pool.get(lab, [])
        if not pool:
            return None
        values = np.stack(pool)[:, local] @ coef
        return float(round(values.min() if sense > 0 else values.max()))

    def kept_range(self, row: sp.csr_matrix) -> tuple[float, float] | None:
        """The range of ``row @ x`` over the integer points kept so far (an inner range:
        the true one holds it), or None while some component of the row has none kept."""
        lo = hi = 0.0
        for lab, local, coef in self._parts(row):
            low, high = self._pool_bound(lab, local, coef, 1.0), \
                self._pool_bound(lab, local, coef, -1.0)
            if low is None or high is None:
                return None
            lo, hi = lo + low, hi + high
        return lo, (INF if (~self.bound_vars[row.indices]).any() else hi)

    def components_of(self, row: sp.csr_matrix) -> set[int]:
        """Components holding the bound variables of ``row``."""
        cols = row.indices[self.bound_vars[row.indices]]
        return set(np.unique(self.label[cols]).tolist())


def published_partners(joint: JointModel, attacker: JointAttacker, row: sp.csr_matrix,
                       year: int, direct: bool = False) -> list[tuple[str, str, str, int]]:
    """Published cells of ``year`` that relate a quantity to other tables or years.

    They are what secondary suppression across the release can hide: the terms of the
    facts and rules linked to the quantity, where one of ``year``'s published cells has
    the same sum. With ``direct``, only the relations that hold one of the quantity's own
    finest cells count. Returns (population, table, key, published value), smallest first.
    """
    labels = list(attacker.components_of(row))
    rows = np.flatnonzero(np.isin(attacker.row_label, labels))
    closeness = dict.fromkeys(rows.tolist(), 0.0)
    if direct:
        # Only the relations that hold one of the quantity's own finest cells.
        mine = joint.matrix[:, row.indices].tocsr()
        shared = np.diff(mine.indptr)
        rows = np.intersect1d(rows, np.flatnonzero(shared))
        sizes = np.diff(joint.matrix.indptr)
        # First how much of the quantity a relation covers, then how little else it holds.
        closeness = {i: shared[i] / max(row.nnz, 1) + 1e-3 * shared[i] / max(sizes[i], 1)
                     for i in rows.tolist()}
    found: dict[tuple[str, str, str], tuple[float, int]] = {}
    for i in rows.tolist():
        for y, population, table, key in joint.row_terms[i]:
            if y != year:
                continue
            block = joint.blocks[(y, population)]
            form = block.forms[(table, key)]
            cells = block.model.cells.filter(
                (pl.col("__form") == form) & pl.col("published").is_not_null()
                & (pl.col("table") != AUX) & ~pl.col("table").str.contains("[", literal=True))
            for t, k, v in cells.select("table", "key", "published").iter_rows():
                near = max(closeness[i], found.get((population, t, k), (0.0, 0))[0])
                found[(population, t, k)] = (near, int(v))
    ranked = sorted(found.items(), key=lambda item: (-item[1][0], item[1][1], item[0][1:]))
    return [(p, t, k, v) for (p, t, k), (_, v) in ranked]
