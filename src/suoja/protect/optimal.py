"""The optimal method: one mixed-integer programme for the cheapest protecting pattern.

For every primary form h there is an integer change y_h (x + y_h >= 0) that moves h far
enough up or down (a binary picks the direction) and may move a published form c only if
c is hidden: |a_c y_h| <= M_c z_c with z_c binary. The objective is the weighted number
of hidden forms. The changes become certificates, so the suppress-attack-add loop that
follows adds cells only where singleton protection asks for more. Large problems skip
the MIP; the loop alone then protects them, as in the heuristic.
"""

from __future__ import annotations

import logging

import highspy
import numpy as np
import scipy.sparse as sp

from suoja.protect.defend import Change, Defender
from suoja.protect.highs import INF, has_incumbent, new_highs, outcome, pass_model, solution
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import State, deltas_needed

MAX_INTEGERS = 60_000
"""Skip the MIP when targets x variables exceeds this (it would not finish in time)."""

NODE_LIMIT = 5_000
"""Branch-and-bound nodes the MIP may explore: a work limit, so that the same input gives
the same pattern on a slow machine (the time limit is only a safety net)."""

LOG = logging.getLogger("suoja.protect.optimal")


def _placed(matrix: sp.spmatrix, offset: int, width: int) -> sp.csr_matrix:
    """``matrix`` with its columns moved to start at ``offset`` in a ``width``-wide matrix."""
    coo = sp.coo_matrix(matrix)
    return sp.csr_matrix((coo.data, (coo.row, coo.col + offset)), shape=(coo.shape[0], width))


def _target_rows(
    forms: sp.csr_matrix, h: int, off: int, width: int, big: float, up: float, down: float
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Two rows: a_h y - (up + M) d >= -M and a_h y - (M + down) d <= -down."""
    row = _placed(forms[h], off, width).tolil()
    first, second = row.copy(), row.copy()
    first[0, off + forms.shape[1]] = -(up + big)
    second[0, off + forms.shape[1]] = -(big + down)
    matrix = sp.vstack([first.tocsr(), second.tocsr()])
    return matrix, np.array([-big, -INF]), np.array([INF, -down])


def build_mip(
    defender: Defender, state: State, targets: np.ndarray, candidates: np.ndarray,
    rules: SuppressionRules,
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Matrix, row bounds, column bounds and costs (columns: z, then y_h and d_h)."""
    forms, x = defender.forms, defender.x
    n, nz, bound = forms.shape[1], len(candidates), float(max(rules.threshold, 2))
    width = nz + len(targets) * (n + 1)
    nonempty = np.diff(forms.indptr) > 0
    others = ~np.isin(np.arange(len(nonempty)), candidates)
    fixed = np.flatnonzero(~state.hidden & nonempty & others)
    big = bound * np.diff(forms.indptr).astype(float) + 1.0
    z_diag = sp.csr_matrix((big[candidates], (np.arange(nz), np.arange(nz))), shape=(nz, width))
    blocks, row_lo, row_hi = [], [], []
    for t, h in enumerate(targets.tolist()):
        off = nz + t * (n + 1)
        cand = _placed(forms[candidates], off, width)
        blocks += [_placed(forms[fixed], off, width), cand - z_diag, cand + z_diag]
        row_lo += [np.zeros(len(fixed)), np.full(nz, -INF), np.zeros(nz)]
        row_hi += [np.zeros(len(fixed)), np.zeros(nz), np.full(nz, INF)]
        up, down = deltas_needed(int(state.values[h]), rules)
        rows, lo, hi = _target_rows(forms, h, off, width, float(big[h]), up, down)
        blocks.append(rows)
        row_lo.append(lo)
        row_hi.append(hi)
    y_lo = np.append(-np.minimum(x, bound), 0.0)
    y_hi = np.append(np.full(n, bound), 1.0)
    col_lo = np.concatenate([np.zeros(nz), np.tile(y_lo, len(targets))])
    col_hi = np.concatenate([np.ones(nz), np.tile(y_hi, len(targets))])
    cost = np.concatenate([defender.weights[candidates], np.zeros(width - nz)])
    matrix = sp.vstack(blocks, format="csr")
    return matrix, np.concatenate(row_lo), np.concatenate(row_hi), col_lo, col_hi, cost


def optimal_pattern(defender: Defender, state: State, rules: SuppressionRules) -> bool:
    """Hide the cheapest set of forms protecting every hidden form; False if skipped
    (too large, or no integer point within ``NODE_LIMIT`` nodes and ``rules.time_limit``).

    The outcome (proven optimal, or the best point at the node limit with its gap to the
    solver's bound) is logged on ``suoja.protect.optimal``.

    Records each target's change as a certificate. Singleton attacks are left to the
    suppress-attack-add loop that runs afterwards.
    """
    targets = np.flatnonzero(state.hidden)
    targets = targets[~np.isin(targets, list(state.free))]
    candidates = np.flatnonzero(defender.can_hide & ~state.hidden)
    n = defender.forms.shape[1]
    if not len(targets) or len(targets) * n > MAX_INTEGERS:
        return False
    matrix, row_lo, row_hi, col_lo, col_hi, cost = build_mip(
        defender, state, targets, candidates, rules
    )
    highs = new_highs(time_limit=rules.time_limit)
    highs.setOptionValue("mip_max_nodes", NODE_LIMIT)
    pass_model(highs, matrix, col_lo, col_hi, row_lo, row_hi, cost, integer=True)
    highs.run()
    status = outcome(highs)
    # Without an integer point the loop that follows protects everything instead; one
    # found at the node limit is used (its changes are valid certificates) and the caller
    # keeps the cheaper of it and the heuristic's pattern. The time limit is a safety net
    # only: a pattern that depends on the machine's speed is not used.
    timed_out = highs.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    if status not in ("optimal", "limit") or not has_incumbent(highs) or timed_out:
        LOG.info("optimal method: no pattern within the limits (%s)", status)
        return False
    info = highs.getInfo()
    if status == "optimal":
        LOG.info("optimal method: proven optimal, cost %.3f", info.objective_function_value)
    else:
        LOG.info("optimal method: stopped at %d nodes, cost %.3f, bound %.3f, gap %.1f %%",
                 NODE_LIMIT, info.objective_function_value, info.mip_dual_bound,
                 100 * info.mip_gap)
    values = np.round(solution(highs))
    for t, h in enumerate(targets.tolist()):
        off = len(candidates) + t * (n + 1)
        deltas = defender.forms @ values[off : off + n]
        moved = np.flatnonzero(np.abs(deltas) > 0.5)
        state.apply(Change(h, moved, np.round(deltas[moved]).astype(np.int64), 0.0), None)
    return True
