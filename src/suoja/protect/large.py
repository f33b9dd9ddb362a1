"""The large-table method: Gaussian elimination, with singleton protection on top.

``suoja.protect.gauss`` hides cells until no sensitive cell can be computed exactly. With
singleton protection, the unit alone in a hidden cell must not be able to compute any
other hidden cell either: each pair that fails becomes a further row that must stay
undetermined, and the elimination runs again (Langsrud 2024 handles singletons by such
extra "virtual primary" rows too). The audit checks the ranges (the interval rule) after.
"""

from __future__ import annotations

import numpy as np

from suoja.errors import SolverLimitError
from suoja.protect.defend import Defender
from suoja.protect.gauss import CannotProtect, GaussResult, Progress, gauss_pattern, singleton_links
from suoja.protect.rules import LARGE_FORMS, SuppressionRules
from suoja.protect.secure import Cause, ProtectionError, State

SINGLETON_ROUNDS = 6
"""Elimination runs at most, each adding the singleton pairs the last one left open."""
EARLY_FACTOR = 4
"""Inner cells of at least this many times the threshold are offered for publication
first (they are practically never needed as secondaries; see ``gauss_pattern``)."""

WORK_LIMIT_REASON = ("hidden without being examined: the work limit of the Gaussian elimination "
                     "ran out first (hiding it is always safe)")


def uses_gauss(rules: SuppressionRules, n_forms: int) -> bool:
    """Whether ``rules`` pick Gaussian elimination for a model of ``n_forms`` forms."""
    return rules.method == "gauss" or (rules.method == "heuristic" and n_forms > LARGE_FORMS)


def _run(
    defender: Defender, state: State, rules: SuppressionRules,
    extra: list[dict[int, int]], progress: Progress | None,
) -> GaussResult:
    forms = defender.model.forms
    early = (np.diff(forms.indptr) == 1) & (state.values >= EARLY_FACTOR * rules.threshold)
    try:
        return gauss_pattern(
            forms, state.hidden, defender.weights, defender.can_hide | state.hidden,
            early=early, extra=extra, work_limit=rules.work_limit, progress=progress,
        )
    except CannotProtect:
        raise ProtectionError(
            "no suppression pattern protects every hidden cell while the grand totals stay "
            "published; allow them as a last resort (protect_grand_total = False)"
        ) from None


def gauss_protect(
    defender: Defender, state: State, rules: SuppressionRules,
    progress: Progress | None = None,
) -> GaussResult:
    """Hide cells until no hidden form of ``state`` can be computed exactly.

    Args:
        defender: The model, the costs and which forms may be hidden.
        state: The pattern so far; its hidden forms (primaries, forced cells) are the
            sensitive ones. Updated in place: hidden mask and causes.
        rules: The rules (``singleton_protection`` and ``work_limit`` are used).
        progress: Optional callback ``(stage, done, total)``.

    Returns:
        The last elimination's result.

    Raises:
        ProtectionError: Grand totals may not be hidden and nothing else protects a cell.
        SolverLimitError: The work limit ran out before singleton protection was settled
            (exit status 3).
    """
    n_forms = len(state.values)
    extra: list[dict[int, int]] = []
    owners: list[tuple[int, int]] = []
    for _ in range(SINGLETON_ROUNDS):
        result = _run(defender, state, rules, extra, progress)
        if not rules.singleton_protection:
            break
        assert result.elimination is not None
        links = singleton_links(defender.model.forms, result.hidden, state.values,
                                result.elimination)
        if not links:
            break
        if not result.complete:
            raise SolverLimitError(f"the work limit of {rules.work_limit} elimination steps "
                                   "ran out before every singleton was protected")
        for s, h, row in links:
            extra.append(row)
            owners.append((h, s))
    else:
        raise SolverLimitError(f"singleton protection was not settled after "
                               f"{SINGLETON_ROUNDS} rounds of Gaussian elimination")
    for form in np.flatnonzero(result.hidden & ~state.hidden).tolist():
        target = result.cause.get(form)
        if target is None:
            state.need_reasons[form] = WORK_LIMIT_REASON
            continue
        if target >= n_forms:
            h, s = owners[target - n_forms]
            state.causes[form] = Cause(h, s)
        else:
            state.causes[form] = Cause(target, None)
    state.hidden |= result.hidden
    return result
