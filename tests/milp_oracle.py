"""An independent oracle for integer ranges: scipy's own MIP solver (``scipy.optimize.milp``),
which shares no code with suoja's HiGHS calls (``suoja.protect.highs``)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


class Infeasible(Exception):
    """No non-negative integer point satisfies the programme."""


def integer_range(matrix: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                  objective: np.ndarray) -> tuple[int, int | None]:
    """Min and max of ``objective @ x`` over non-negative integers with ``lower <= matrix @
    x <= upper``; the max is None when unbounded.

    Raises:
        Infeasible: The programme has no integer point.
    """
    n = matrix.shape[1]
    found: list[int | None] = []
    for sense in (1.0, -1.0):
        res = milp(sense * objective, integrality=np.ones(n),
                   bounds=Bounds(np.zeros(n), np.full(n, np.inf)),
                   constraints=[LinearConstraint(matrix, lower, upper)])
        if res.status == 2:
            raise Infeasible(res.message)
        if res.status != 0:
            assert sense < 0, res.message  # the minimum of a feasible programme exists
            found.append(None)
        else:
            found.append(round(sense * res.fun))
    assert found[0] is not None
    return found[0], found[1]
