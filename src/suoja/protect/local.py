"""Quick inner ranges for large audits: move only the cells near a hidden cell.

Fix every variable outside a window (the siblings of the cell's codes in every
dimension) at one integer solution x0 of the published figures, and optimise inside the
window only. Every integral optimum found there is a genuine integer solution of the
whole system, so the range found is inside the outsider's true range: a cell whose inner
range already passes the rules is protected. Cells that fail here get the exact range.
"""

from __future__ import annotations

import highspy
import numpy as np
import scipy.sparse as sp

from suoja.protect.cube import TOTAL
from suoja.protect.highs import INF, is_integral, new_highs, outcome, pass_model, set_costs, solution
from suoja.protect.model import LinearModel


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
        self._lps: dict[tuple, tuple[highspy.Highs, np.ndarray, list[np.ndarray]]] = {}

    def _window(self, form: int, opened: int | None) -> tuple:
        """Siblings of the form's code in every dimension; all codes in ``opened``."""
        key = []
        for d, (dimension, code) in enumerate(
            zip(self.model.dimensions, self.codes[form], strict=True)
        ):
            parent = dimension.parent(code)
            key.append(None if parent == TOTAL or d == opened else (parent,))
        return tuple(key)

    def _lp(self, key: tuple) -> tuple[highspy.Highs, np.ndarray, list[np.ndarray]]:
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
            self._lps[key] = (highs, cols, [np.zeros(0, dtype=np.int64)])
        return self._lps[key]

    def windows(self, form: int) -> list[int | None]:
        """The windows to try: siblings everywhere, then one dimension opened at a time."""
        key = self._window(form, None)
        return [None] + [d for d, allowed in enumerate(key) if allowed is not None]

    def range(self, form: int, opened: int | None = None) -> tuple[float, float]:
        """An integer range of ``form`` that the outsider cannot rule out (inner bound)."""
        highs, cols, last = self._lp(self._window(form, opened))
        row = self.forms[form]
        inside = np.flatnonzero(np.isin(cols, row.indices))
        base = float((row @ self.point)[0])
        outside = base - float(self.point[cols[inside]].sum())
        set_costs(highs, last[0], np.zeros(len(last[0])))
        bounds = []
        for sense in (1.0, -1.0):
            set_costs(highs, inside, np.full(len(inside), sense))
            highs.run()
            status = outcome(highs)
            if status == "unbounded" and sense < 0:
                bounds.append(INF)
                continue
            x = solution(highs) if status == "optimal" else None
            good = x is not None and is_integral(x)
            bounds.append(outside + round(float(x[inside].sum())) if good else base)
        last[0] = inside
        return min(bounds[0], base), max(bounds[1], base)
