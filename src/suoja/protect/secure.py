"""The suppress-attack-add loop: hide cells until every hidden cell is protected.

Every protecting change (see ``defend``) is an integer table that an outsider cannot tell
from the true one. Kept as *certificates*, they show without any further solving that a
hidden cell's deducible range contains both its true value and the changed value(s); a
cell is only re-examined (and more cells hidden) when no certificate covers it. Hiding
more cells never invalidates a certificate, so the loop only grows the pattern.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from suoja.errors import SuojaError
from suoja.protect.defend import Change, Defender
from suoja.protect.rules import SuppressionRules


class ProtectionError(SuojaError, ValueError):
    """No pattern satisfies the rules (only when grand totals may not be hidden)."""


@dataclass(frozen=True)
class Cause:
    """Why a form was hidden by secondary suppression."""

    target: int
    singleton: int | None


@dataclass
class State:
    """The growing pattern and the certificates that prove it.

    Attributes:
        values: True value of each form.
        hidden: Hidden mask over forms.
        entries: For each form, the (change id, delta) pairs of changes that move it.
        touched: For each change, the forms it moves.
        causes: For each secondary form, the form (and singleton) it was hidden for.
    """

    values: np.ndarray
    hidden: np.ndarray
    entries: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    touched: list[frozenset[int]] = field(default_factory=list)
    causes: dict[int, Cause] = field(default_factory=dict)
    need: dict[int, tuple[float, float]] = field(default_factory=dict)
    """How far some hidden forms must be able to move, up or down (cells hidden because
    of what an outsider knows beyond this population; see ``suoja.protect.joint``)."""
    need_reasons: dict[int, str] = field(default_factory=dict)
    dead: set[int] = field(default_factory=set)
    """Changes that no longer prove anything: they move a cell published again."""
    free: frozenset[int] = frozenset()
    """Forms that no table publishes (only derived, as a difference of published cells)
    and that are not small: once hidden they need no protection of their own, since
    knowing them tells nothing small (``suoja.tables.implicit_cells``)."""

    def apply(self, change: Change, singleton: int | None) -> list[int]:
        """Record a change as a certificate and hide what it moves; returns new forms."""
        cid = len(self.touched)
        self.touched.append(frozenset(int(f) for f in change.forms))
        added = []
        for f, d in zip(change.forms.tolist(), change.deltas.tolist(), strict=True):
            self.entries.setdefault(f, []).append((cid, d))
            if not self.hidden[f]:
                self.hidden[f] = True
                self.causes[f] = Cause(change.target, singleton)
                added.append(f)
        return added

    def hide(self, forms: Iterable[int], target: int, singleton: int | None) -> list[int]:
        """Hide forms without a certificate (fallback); returns the newly hidden ones."""
        added = [int(f) for f in forms if not self.hidden[f]]
        for f in added:
            self.hidden[f] = True
            self.causes[f] = Cause(target, singleton)
        return added


def deltas_needed(value: int, rules: SuppressionRules) -> tuple[float, float]:
    """How far a hidden form must be able to move up, or down, to pass the rules."""
    if rules.interval == "threshold" and 1 <= value < rules.threshold:
        return float(rules.threshold - value), float(value)
    return 1.0, 1.0


def certified(
    state: State, form: int, rules: SuppressionRules, without: int | None, offset: int = 0
) -> bool:
    """Whether the certificates of ``form`` (ignoring changes that move ``without``) pass.

    ``offset`` is subtracted from the form's value: a singleton inside the form judges
    the others in it.
    """
    if form in state.free and form not in state.need:
        return True
    lo = hi = 0
    for cid, delta in state.entries.get(form, ()):
        if cid in state.dead or (without is not None and without in state.touched[cid]):
            continue
        lo, hi = min(lo, delta), max(hi, delta)
    value = int(state.values[form]) - offset
    if form in state.need and without is None:
        up, down = state.need[form]
        if lo > -down and hi < up:
            return False
    return rules.range_ok(value + lo, value + hi)


class Supports:
    """Variable sets of forms, for the singleton exemptions."""

    def __init__(self, forms) -> None:
        self._forms = forms.tocsr()
        self._cache: dict[int, frozenset[int]] = {}

    def __getitem__(self, form: int) -> frozenset[int]:
        if form not in self._cache:
            f = self._forms
            self._cache[form] = frozenset(f.indices[f.indptr[form] : f.indptr[form + 1]].tolist())
        return self._cache[form]


def exempt(supports: Supports, values: np.ndarray, singleton: int, form: int) -> bool:
    """A singleton learns nothing new about a cell inside its own, or one holding only it."""
    inner, outer = supports[form], supports[singleton]
    if inner <= outer:
        return True
    return outer <= inner and values[form] == 1


def offset(supports: Supports, singleton: int, form: int) -> int:
    """1 when the singleton is inside the form: then the others in it are what counts."""
    return int(supports[singleton] <= supports[form])


def singleton_failures(
    state: State,
    rules: SuppressionRules,
    supports: Supports,
    checked: dict[int, int],
) -> list[tuple[int, int]]:
    """(singleton, form) pairs whose certificates all move the singleton's own cell.

    ``checked`` remembers, per form that passed, how many certificates it had then;
    a form with no new certificate since passes still (hiding more never hurts).
    """
    singletons = set(np.flatnonzero(state.hidden & (state.values == 1)).tolist())
    failures = []
    for form in np.flatnonzero(state.hidden).tolist():
        entries = state.entries.get(form, ())
        if checked.get(form) == len(entries):
            continue
        suspects: set[int] = set()
        for cid, _ in entries:
            suspects |= state.touched[cid] & singletons
        suspects.discard(form)
        failed = [
            (s, form)
            for s in sorted(suspects)
            if not exempt(supports, state.values, s, form)
            and not certified(state, form, rules, s, offset(supports, s, form))
        ]
        failures += failed
        if not failed:
            checked[form] = len(entries)
    return failures


def _neighbours(defender: Defender, form: int, state: State) -> np.ndarray:
    """Forms sharing a variable with ``form`` that may still be hidden, cheapest first."""
    f = defender.forms
    cols = f.indices[f.indptr[form] : f.indptr[form + 1]]
    near = np.unique(defender.forms_csc[:, cols].indices)
    near = near[defender.can_hide[near] & ~state.hidden[near]]
    return near[np.argsort(defender.weights[near], kind="stable")]


def protect_form(
    defender: Defender,
    state: State,
    form: int,
    rules: SuppressionRules,
    singleton: int | None = None,
    shift: int = 0,
) -> list[int]:
    """Protect one form, escalating to hiding its neighbours, then anything, if needed.

    ``shift`` is subtracted from the form's value (see ``offset``).
    """
    up, down = deltas_needed(int(state.values[form]) - shift, rules)
    if form in state.need and singleton is None:
        up, down = max(up, state.need[form][0]), max(down, state.need[form][1])
    fixed = None if singleton is None else np.array([singleton])
    added: list[int] = []
    for widen in range(3):
        change = defender.protect(form, state.hidden, up, down, fixed)
        if change is not None:
            return added + state.apply(change, singleton)
        if widen == 0:
            pool = _neighbours(defender, form, state)
        else:
            pool = np.flatnonzero(defender.can_hide & ~state.hidden)
        added += state.hide(pool.tolist(), form, singleton)
    nonempty = np.diff(defender.forms.indptr) > 0
    if (~defender.can_hide & ~state.hidden & nonempty).any():
        raise ProtectionError(
            "no suppression pattern protects every hidden cell while the grand totals stay "
            "published; allow them as a last resort (protect_grand_total = False)"
        )
    raise AssertionError("a cell could not be protected with every cell hidden; please report")


def secure(defender: Defender, state: State, rules: SuppressionRules) -> None:
    """Grow ``state`` until every hidden form passes the rules (and singleton attacks)."""
    supports = Supports(defender.forms)
    good: set[int] = set()
    checked: dict[int, int] = {}
    singletons = frozenset()
    while True:
        changed = False
        for form in np.flatnonzero(state.hidden).tolist():
            if form in good:
                continue
            if certified(state, form, rules, None):
                good.add(form)
                continue
            protect_form(defender, state, form, rules)
            changed = True
        if rules.singleton_protection:
            now = frozenset(np.flatnonzero(state.hidden & (state.values == 1)).tolist())
            if now != singletons:
                checked.clear()
                singletons = now
            for s, form in singleton_failures(state, rules, supports, checked):
                shift = offset(supports, s, form)
                if not certified(state, form, rules, s, shift):
                    protect_form(defender, state, form, rules, singleton=s, shift=shift)
                    changed = True
        if not changed:
            return


def _still_protected(defender: Defender, state: State, rules: SuppressionRules,
                     forms: Iterable[int], singleton: int | None = None) -> bool:
    """Whether every form in ``forms`` passes, finding new changes that move hidden cells
    only (no new cell is hidden) where the certificates no longer suffice."""
    supports = Supports(defender.forms)
    for form in forms:
        shift = 0 if singleton is None else offset(supports, singleton, form)
        if singleton is not None and exempt(supports, state.values, singleton, form):
            continue
        if certified(state, form, rules, singleton, shift):
            continue
        up, down = deltas_needed(int(state.values[form]) - shift, rules)
        if form in state.need and singleton is None:
            up, down = max(up, state.need[form][0]), max(down, state.need[form][1])
        fixed = None if singleton is None else np.array([singleton])
        change = defender.protect(form, state.hidden, up, down, fixed)
        if change is None or not state.hidden[change.forms].all():
            return False
        state.apply(change, singleton)
    return True


def publish_unneeded(defender: Defender, state: State, rules: SuppressionRules,
                     candidates: Iterable[int]) -> list[int]:
    """Publish again the hidden forms in ``candidates`` (in that order) that the pattern
    is safe without; returns them.

    A candidate is published when every hidden form whose certificates move it is still
    protected, by its other certificates or by a new change that moves hidden cells only,
    and so is every singleton attack those certificates answered. Deterministic; no cell
    is hidden in the process. The clean-up step of the hypercube and modular heuristics
    (de Wolf, "HiTaS", and tau-ARGUS's removal of redundant secondaries), done here with
    the suppress-attack-add certificates.
    """
    published = []
    for c in candidates:
        if not state.hidden[c]:
            continue
        trial = State(values=state.values, hidden=state.hidden.copy(),
                      entries={f: list(e) for f, e in state.entries.items()},
                      touched=list(state.touched), causes=dict(state.causes),
                      need=state.need, need_reasons=state.need_reasons,
                      dead=set(state.dead), free=state.free)
        trial.hidden[c] = False
        moved = {cid for cid, touched in enumerate(trial.touched)
                 if c in touched and cid not in trial.dead}
        trial.dead |= moved
        affected = sorted({f for cid in moved for f in trial.touched[cid]
                           if f != c and trial.hidden[f]})
        ok = _still_protected(defender, trial, rules, affected)
        if ok and rules.singleton_protection:
            singletons = np.flatnonzero(trial.hidden & (trial.values == 1)).tolist()
            for s in singletons:
                if not _still_protected(defender, trial, rules,
                                        [f for f in affected if f != s], singleton=s):
                    ok = False
                    break
        if ok:
            trial.causes.pop(c, None)
            state.hidden, state.entries, state.touched = trial.hidden, trial.entries, trial.touched
            state.causes, state.dead = trial.causes, trial.dead
            published.append(c)
    return published
