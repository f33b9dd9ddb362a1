"""The defender's side: the cheapest integer change an outsider could not see.

To protect a hidden cell h we look for an integer vector y over the variables such that
x + y >= 0 (x the true counts), every published cell keeps its value (a_c y = 0) and h
moves far enough (a_h y >= up or a_h y <= -down). Then x + y is a second table consistent
with everything published in which h differs, so h cannot be computed. We minimise the
weighted change sum_c w_c |a_c y| over cells that are still published (hidden cells change
for free) and hide every cell that y changes. The search starts in a small box of
variables around h (siblings in every dimension) and widens only when the box has no
solution; y is made integral with a small MIP when the LP vertex is fractional.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from suoja.protect.cube import TOTAL, ancestor
from suoja.protect.highs import (
    INF,
    has_incumbent,
    is_integral,
    new_highs,
    outcome,
    pass_model,
    set_bounds,
    set_costs,
    set_integer,
    solution,
)
from suoja.protect.model import LinearModel
from suoja.protect.relations import children_of

TOL = 1e-7
WHOLE_MODEL_CHECK = 5_000
"""Up to this many variables, the costly change found in a window under a quarter of the
model is compared with the whole LP's."""
DEFEND_NODES = 2_000
"""Branch-and-bound nodes one integrality MIP may explore: a work limit, so that the
pattern is the same on a loaded machine (``time_limit`` is a safety net)."""
ANY_NODES = 2**31 - 1
"""HiGHS's own default: no node limit (for the LPs that reuse the same solver)."""
ATTEMPTS = ((1, 5, False), (1, 8, False), (2, 16, False))
"""Windows tried before the whole model: (hierarchy level, codes kept per dimension,
whether only a change that hides nothing new is taken from it). A narrow window answers
cheaply for cells that are already protected; a wider one finds better changes."""


@dataclass(frozen=True)
class Change:
    """A protecting change: the forms it moves and by how much (all integers).

    Attributes:
        target: The form it protects.
        forms: The forms whose value changes.
        deltas: The change of each of those forms.
        cost: The weighted change of forms that were still published.
    """

    target: int
    forms: np.ndarray
    deltas: np.ndarray
    cost: float


@dataclass
class _Local:
    """One loaded LP: variables ``cols`` and forms ``rows`` (columns y, p, q)."""

    highs: highspy.Highs
    cols: np.ndarray
    rows: np.ndarray
    matrix: sp.csr_matrix
    y_lower: np.ndarray
    y_upper: np.ndarray


class Defender:
    """Finds protecting changes on one model; keeps one full-size LP for reuse.

    Args:
        model: The model with true values.
        weights: Cost of hiding each form (one unit of change).
        can_hide: Whether each form may be hidden at all.
        time_limit: Seconds for one integrality MIP.
    """

    def __init__(
        self, model: LinearModel, weights: np.ndarray, can_hide: np.ndarray, time_limit: float
    ) -> None:
        if model.values is None:
            raise ValueError("the defender needs a model built with true values")
        self.model = model
        self.forms = model.forms.tocsr().astype(np.float64)
        self.forms_csc = self.forms.tocsc()
        self.x = model.values.astype(np.float64)
        self.upper = float(self.x.sum()) + 100.0
        self.weights = np.asarray(weights, dtype=np.float64)
        self.can_hide = np.asarray(can_hide, dtype=bool)
        self.time_limit = time_limit
        self._full: _Local | None = None
        first_row = np.unique(model.form_of_row, return_index=True)[1]
        codes = model.cells.select(model.dims).rows()
        self._form_codes = [codes[i] for i in first_row]
        forms = model.form_of_row.tolist()
        self._coord_form = {c: int(f) for c, f in zip(codes, forms, strict=True)}
        self._children = [children_of(d) for d in model.dimensions]

    def _score(self, coords: tuple[str, ...], hidden: np.ndarray) -> float:
        """Cost of changing the cell at ``coords`` (0 if hidden or not published)."""
        form = self._coord_form.get(coords)
        return 0.0 if form is None or hidden[form] else float(self.weights[form])

    def window(
        self, target: int, hidden: np.ndarray, level: int, width: int
    ) -> list[list[str] | None]:
        """Codes per dimension among which a change protecting ``target`` is sought.

        In each dimension: the target's own code (or its ancestor ``level - 1`` steps up)
        and its cheapest siblings, judged by the cell that differs from the target in
        that dimension only; for a total, its cheapest children.
        """
        codes = self._form_codes[target]
        result: list[list[str] | None] = []
        for d, dimension in enumerate(self.model.dimensions):
            member = ancestor(dimension, codes[d], level - 1)
            parent = dimension.parent(member) if member != TOTAL else TOTAL
            candidates = self._children[d].get(parent, [])
            own = [member] if member != TOTAL else []
            others = [c for c in candidates if c != member]
            if len(others) + len(own) <= width:
                result.append(own + others)
                continue
            costs = [self._score((*codes[:d], c, *codes[d + 1 :]), hidden) for c in others]
            ranked = sorted(range(len(others)), key=lambda i: (costs[i], i))
            result.append(own + [others[i] for i in ranked[: width - len(own)]])
        return result

    def _load(self, cols: np.ndarray) -> _Local:
        sub = self.forms_csc[:, cols]
        rows = np.unique(sub.indices)
        local = sp.csc_matrix(
            (sub.data, np.searchsorted(rows, sub.indices), sub.indptr),
            shape=(len(rows), len(cols)),
        )
        k, n = len(rows), len(cols)
        full = sp.csc_matrix(
            (
                np.concatenate([local.data, -np.ones(k), np.ones(k)]),
                np.concatenate([local.indices, np.arange(k), np.arange(k)]),
                np.concatenate([local.indptr, local.indptr[-1] + 1 + np.arange(2 * k)]),
            ),
            shape=(k, n + 2 * k),
        )
        lower = np.concatenate([-self.x[cols], np.zeros(2 * k)])
        upper = np.concatenate([np.full(n, self.upper), np.full(2 * k, INF)])
        highs = new_highs(presolve=False)
        pass_model(highs, full, lower, upper, np.zeros(k), np.zeros(k))
        return _Local(highs, cols, rows, local.tocsr(), lower[:n], upper[:n])

    def _prepare(self, local: _Local, hidden: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """Set costs and bounds of p and q; returns their upper bounds (0 = cannot move)."""
        k, n = len(local.rows), len(local.cols)
        free = hidden[local.rows]
        cost = np.where(free, 0.0, self.weights[local.rows])
        set_costs(local.highs, np.arange(n, n + 2 * k), np.concatenate([cost, cost]))
        closed = ~self.can_hide[local.rows] & ~free
        closed |= np.isin(local.rows, fixed)
        up = np.where(closed, 0.0, INF)
        set_bounds(local.highs, np.arange(n, n + 2 * k), np.zeros(2 * k), np.concatenate([up, up]))
        return up

    def _solve_direction(
        self, local: _Local, position: int, up: float, down: float, limit: float,
        integral: bool = True,
    ) -> tuple[float, np.ndarray] | None:
        """Best y over both directions of the target row at ``position``."""
        n, k = len(local.cols), len(local.rows)
        p, q = n + position, n + k + position
        best: tuple[float, np.ndarray] | None = None
        if limit == 0.0:
            return None
        for lo_p, hi_p, lo_q, hi_q in ((0.0, 0.0, down, INF), (up, INF, 0.0, 0.0)):
            bounds = np.array([lo_p, lo_q]), np.array([hi_p, hi_q])
            set_bounds(local.highs, np.array([p, q]), *bounds)
            found = self._run(local, integral)
            if found is not None and (best is None or found[0] < best[0] - 1e-9):
                best = found
            if best is not None and best[0] < 1e-9:
                break
        set_bounds(local.highs, np.array([p, q]), np.zeros(2), np.array([limit, limit]))
        return best

    def _run(self, local: _Local, integral: bool = True) -> tuple[float, np.ndarray] | None:
        local.highs.run()
        if outcome(local.highs) != "optimal":
            return None
        y = solution(local.highs)[: len(local.cols)]
        value = local.highs.getInfo().objective_function_value
        if is_integral(y) or not integral:
            return value, np.round(y)
        for factor in (2.0, 3.0, 4.0, 6.0):
            # A multiple of y changes the same cells; it only has to stay within bounds.
            scaled = factor * y
            inside = (scaled >= local.y_lower - TOL).all() and (scaled <= local.y_upper + TOL).all()
            if is_integral(scaled) and inside:
                return value, np.round(scaled)
        return self._integral(local, y, near_only=True) or self._integral(local, y)

    def _near(self, local: _Local, y: np.ndarray) -> np.ndarray:
        """Variables fractional in ``y`` and every variable sharing a form with one."""
        frac = np.flatnonzero(np.abs(y - np.round(y)) > 1e-6)
        rows = np.unique(local.matrix.tocsc()[:, frac].indices)
        return np.union1d(frac, local.matrix[rows].indices)

    def _integral(
        self, local: _Local, y: np.ndarray, near_only: bool = False
    ) -> tuple[float, np.ndarray] | None:
        """An integral change by MIP; ``near_only`` keeps y where it is integral and far
        from the fractional part, which makes the MIP tiny."""
        n = len(local.cols)
        columns = np.arange(n)
        fixed = np.setdiff1d(columns, self._near(local, y)) if near_only else columns[:0]
        kept = np.round(y[fixed])
        set_bounds(local.highs, fixed, kept, kept)
        set_integer(local.highs, columns, True)
        local.highs.setOptionValue("time_limit", self.time_limit)
        local.highs.setOptionValue("mip_max_nodes", DEFEND_NODES)
        local.highs.setOptionValue("presolve", "on")
        # HiGHS would take the fractional LP point as a MIP start and spend far longer
        # completing it than solving the MIP afresh.
        local.highs.clearSolver()
        try:
            local.highs.run()
            status = outcome(local.highs)
            if status in ("optimal", "limit") and has_incumbent(local.highs):
                found = solution(local.highs)[:n]
                if is_integral(found):
                    return local.highs.getInfo().objective_function_value, np.round(found)
            return None
        finally:
            set_integer(local.highs, columns, False)
            set_bounds(local.highs, fixed, local.y_lower[fixed], local.y_upper[fixed])
            local.highs.setOptionValue("time_limit", INF)
            local.highs.setOptionValue("mip_max_nodes", ANY_NODES)
            local.highs.setOptionValue("presolve", "off")

    def _full_lp(self) -> _Local:
        if self._full is None:
            self._full = self._load(np.arange(self.model.n_vars))
        return self._full

    def protect(
        self,
        target: int,
        hidden: np.ndarray,
        up: float,
        down: float,
        fixed: np.ndarray | None = None,
    ) -> Change | None:
        """The cheapest integral change moving ``target`` by ``+up`` or ``-down``.

        Args:
            target: Form to protect.
            hidden: Current hidden mask over forms (they change for free).
            up: Required increase of the target (or the opposite direction below).
            down: Required decrease of the target.
            fixed: Forms that must not change even if hidden (a singleton's own cell).

        Returns:
            The change, or None when no integral change exists in the whole model.
        """
        fixed = np.zeros(0, dtype=np.int64) if fixed is None else np.asarray(fixed)
        n_vars = self.model.n_vars
        tried: set[bytes] = set()
        for level, width, only_free in ATTEMPTS:
            cols = self.model.vars_within(self.window(target, hidden, level, width))
            if len(cols) >= n_vars:
                break
            if cols.tobytes() in tried or not len(cols):
                continue
            tried.add(cols.tobytes())
            change = self._attempt(self._load(cols), target, hidden, up, down, fixed)
            if change is not None and (not only_free or change.cost < 1e-6):
                if change.cost < 1e-6 or not 4 * len(cols) < n_vars <= WHOLE_MODEL_CHECK:
                    return change
                # A small model can afford the whole LP: it may need fewer new cells. Its
                # LP cost decides before any MIP is spent on making it integral.
                full = self._full_lp()
                bound = self._attempt(full, target, hidden, up, down, fixed, integral=False)
                if bound is None or bound.cost >= change.cost - 1e-6:
                    return change
                whole = self._attempt(full, target, hidden, up, down, fixed)
                return whole if whole is not None and whole.cost < change.cost else change
        return self._attempt(self._full_lp(), target, hidden, up, down, fixed)

    def _attempt(
        self, local: _Local, target: int, hidden: np.ndarray, up: float, down: float,
        fixed: np.ndarray, integral: bool = True,
    ) -> Change | None:
        position = np.searchsorted(local.rows, target)
        if position >= len(local.rows) or local.rows[position] != target:
            return None
        limits = self._prepare(local, hidden, fixed)
        best = self._solve_direction(
            local, int(position), up, down, float(limits[position]), integral
        )
        if best is None:
            return None
        cost, y = best
        deltas = local.matrix @ y
        moved = np.abs(deltas) > 0.5
        return Change(target, local.rows[moved], np.round(deltas[moved]).astype(np.int64), cost)
