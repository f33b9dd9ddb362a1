"""Quick inner ranges for large audits: move only the cells near a hidden cell.

Fix every variable outside a window (the siblings of the cell's codes in every
dimension) at one integer solution x0 of the published figures, and optimise inside the
window only. Every integral optimum found there is a genuine integer solution of the
whole system, so the range found is inside the outsider's true range: a cell whose inner
range already passes the rules is protected. Cells that fail here get the exact range.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from suoja.protect.cube import TOTAL
from suoja.protect.highs import (
    INF,
    is_integral,
    new_highs,
    outcome,
    pass_model,
    set_costs,
    solution,
)
from suoja.protect.model import LinearModel
from suoja.protect.rules import SuppressionRules

TOL = 1e-7
POOL_SIZE = 8
"""Integer points kept per window: a hidden cell they already move needs no LP."""


class LocalRanges:
    """Inner ranges of hidden forms, one small LP per window (objectives swapped).

    Args:
        model: The public model.
        known: Published value of each form (NaN when hidden).
        point: An integer solution of all published figures.
    """

    def __init__(self, model: LinearModel, known: np.ndarray, point: np.ndarray) -> None:
        self.model = model
        self.forms = model.forms.tocsr().astype(np.float64)
        self.published = np.flatnonzero(~np.isnan(known))
        self.known = known
        self.point = point
        first = np.unique(model.form_of_row, return_index=True)[1]
        codes = model.cells.select(model.dims).rows()
        self.codes = [codes[i] for i in first]
        self._lps: dict[tuple, _Window] = {}

    def _window(self, form: int, opened: tuple[int, ...]) -> tuple:
        """Siblings of the form's code in every dimension; all codes in ``opened``."""
        key = []
        for d, (dimension, code) in enumerate(
            zip(self.model.dimensions, self.codes[form], strict=True)
        ):
            parent = dimension.parent(code)
            key.append(None if parent == TOTAL or d in opened else (parent,))
        return tuple(key)

    def _lp(self, key: tuple) -> _Window:
        if key not in self._lps:
            cols = self.model.vars_within(list(key))
            sub = self.forms[self.published][:, cols].tocsr()
            rows = np.flatnonzero(np.diff(sub.indptr) > 0)
            outside = self.forms[self.published[rows]] @ self.point - sub[rows] @ self.point[cols]
            rhs = self.known[self.published[rows]] - outside
            highs = new_highs(presolve=False)
            highs.setOptionValue("simplex_strategy", 4)
            n = len(cols)
            pass_model(highs, sub[rows], np.zeros(n), np.full(n, INF), rhs, rhs)
            self._lps[key] = _Window(highs, cols)
        return self._lps[key]

    def windows(self, form: int) -> list[tuple[int, ...]]:
        """The windows to try: siblings everywhere, then one dimension opened at a time.

        (Opening two at a time was measured on a 50 000-cell table: it certified no
        more cells and doubled the time.)
        """
        key = self._window(form, ())
        return [(), *[(d,) for d, allowed in enumerate(key) if allowed is not None]]

    def range(
        self, form: int, opened: tuple[int, ...] = (), rules: SuppressionRules | None = None
    ) -> tuple[float, float]:
        """An integer range of ``form`` that the outsider cannot rule out (inner bound).

        With ``rules``, stops as soon as the range found passes them: integer points
        found earlier in the same window are tried first, then one LP per direction.
        """
        window = self._lp(self._window(form, opened))
        highs, cols = window.highs, window.cols
        row = self.forms[form]
        inside = np.flatnonzero(np.isin(cols, row.indices))
        base = float((row @ self.point)[0])
        outside = base - float(self.point[cols[inside]].sum())
        lo = hi = base
        if window.pool:
            values = outside + np.stack(window.pool)[:, inside].sum(axis=1)
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
        if rules is not None and rules.range_ok(lo, hi):
            return lo, hi
        set_costs(highs, window.costed, np.zeros(len(window.costed)))
        window.costed = inside
        for sense in (1.0, -1.0):
            set_costs(highs, inside, np.full(len(inside), sense))
            highs.run()
            status = outcome(highs)
            if status == "unbounded" and sense < 0:
                hi = INF
            elif status == "optimal" and (x := self._integral(solution(highs), cols)) is not None:
                value = outside + float(x[inside].sum())
                lo, hi = (min(lo, value), hi) if sense > 0 else (lo, max(hi, value))
                window.keep(x)
            if rules is not None and rules.range_ok(lo, hi):
                break
        return lo, hi

    def _integral(self, x: np.ndarray, cols: np.ndarray) -> np.ndarray | None:
        """An integer point on the ray from the window's point through the LP optimum
        ``x`` (x itself when integral), or None.

        The published rows hold on the whole ray, so a multiple of the step that is
        integral and non-negative is a genuine solution.
        """
        start = self.point[cols]
        for factor in (1.0, 2.0, 3.0, 4.0, 6.0):
            y = start + factor * (x - start)
            if is_integral(y) and (y > -TOL).all():
                return np.round(y)
        return None


@dataclass
class _Window:
    """One window's LP, the variables it moves, and integer points found in it."""

    highs: highspy.Highs
    cols: np.ndarray
    costed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pool: list[np.ndarray] = field(default_factory=list)

    def keep(self, x: np.ndarray) -> None:
        """Keep an integer point (the last POOL_SIZE are kept)."""
        self.pool = [*self.pool[-(POOL_SIZE - 1) :], x]
