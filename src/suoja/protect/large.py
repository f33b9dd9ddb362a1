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
from suoja.protect.cover import COVER_FORMS, Cover, relation_cuts
from suoja.protect.defend import Defender
from suoja.protect.gauss import CannotProtect, GaussResult, Progress, gauss_pattern, singleton_links
from suoja.protect.relations import find_relations
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
    return rules.method == "gauss" or (rules.method in ("heuristic", "optimal")
                                       and n_forms > LARGE_FORMS)


def _run(
    defender: Defender, state: State, rules: SuppressionRules,
    extra: list[dict[int, int]], progress: Progress | None,
    covered: np.ndarray | None = None,
) -> GaussResult:
    """One elimination. With ``covered`` (a safe hidden mask), the forms it publishes are
    offered first, so the elimination gives that pattern back with its causes; the large
    inner cells lead either way (which keeps the elimination sparse)."""
    forms = defender.model.forms
    early = (np.diff(forms.indptr) == 1) & (state.values >= EARLY_FACTOR * rules.threshold)
    order = defender.weights
    if covered is not None:
        order = order + np.where(early, 2.0 * order.max() + 1.0, 0.0)
        early = ~covered
    try:
        return gauss_pattern(
            forms, state.hidden, order, defender.can_hide | state.hidden,
            early=early, extra=extra, work_limit=rules.work_limit, progress=progress,
        )
    except CannotProtect:
        raise ProtectionError(
            "no suppression pattern protects every hidden cell while the grand totals stay "
            "published; allow them as a last resort (protect_grand_total = False)"
        ) from None


def _rounds(
    defender: Defender, state: State, rules: SuppressionRules, progress: Progress | None,
    cover: Cover | None = None,
) -> tuple[GaussResult, list[tuple[int, int]]] | None:
    """Eliminations until no singleton pair is left open; the last result and the
    (hidden form, singleton) pair behind each extra row. With ``cover``, each elimination
    offers first the forms that the covering programme publishes (None when its work
    limits run out)."""
    extra: list[dict[int, int]] = []
    owners: list[tuple[int, int]] = []
    for _ in range(SINGLETON_ROUNDS):
        covered = None
        if cover is not None:
            covered = cover.solve(extra)
            if covered is None:
                return None
        result = _run(defender, state, rules, extra, progress, covered)
        if not rules.singleton_protection:
            return result, owners
        assert result.elimination is not None
        links = singleton_links(defender.model.forms, result.hidden, state.values,
                                result.elimination)
        if not links:
            return result, owners
        if not result.complete:
            raise SolverLimitError(f"the work limit of {rules.work_limit} elimination steps "
                                   "ran out before every singleton was protected")
        for s, h, row in links:
            extra.append(row)
            owners.append((h, s))
    raise SolverLimitError(f"singleton protection was not settled after "
                           f"{SINGLETON_ROUNDS} rounds of Gaussian elimination")


def _cover(defender: Defender, state: State) -> Cover | None:
    """The covering programme (``suoja.protect.cover``) for ``state``'s hidden forms,
    seeded with the cuts of single relations; None when the model is too large."""
    model = defender.model
    if len(state.values) > COVER_FORMS:
        return None
    form = model.form_of_row
    relations = [(int(form[r.total]), [int(form[p]) for p in r.parts])
                 for r in find_relations(model.cells, model.dimensions)]
    seeds = relation_cuts(relations, state.hidden, defender.can_hide)
    return Cover(model.forms, state.hidden, defender.weights, defender.can_hide, seeds,
                 defender.time_limit)


def gauss_protect(
    defender: Defender, state: State, rules: SuppressionRules,
    progress: Progress | None = None,
) -> GaussResult:
    """Hide cells until no hidden form of ``state`` can be computed exactly.

    Gaussian elimination (Langsrud 2024) first. On models of up to ``COVER_FORMS``
    forms, the cheapest pattern against exact disclosure is then sought by cut generation
    (Fischetti and Salazar-Gonzalez 2001, ``suoja.protect.cover``), and the elimination
    runs again offering the cells that pattern publishes first (which gives that pattern
    back, with the causes, and adds what singleton protection needs). The cheaper of the
    two outcomes is kept, so the result is never costlier than the elimination alone.

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
    plain = _rounds(defender, state, rules, progress)
    assert plain is not None
    result, owners = plain
    cover = _cover(defender, state) if result.complete else None
    if cover is not None:
        try:
            other = _rounds(defender, state, rules, progress, cover)
        except SolverLimitError:
            other = None
        weights = defender.weights
        if other is not None and other[0].complete and (
                weights[other[0].hidden].sum() < weights[result.hidden].sum() - 1e-9):
            result, owners = other
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
