"""Secondary suppression by Gaussian elimination, for tables of any size.

The method of Langsrud (2024), "Secondary cell suppression by Gaussian elimination: an
algorithm suitable for handling issues with zeros and singletons" (Privacy in Statistical
Databases, LNCS 14915), as implemented in Statistics Norway's R package GaussSuppression:
the cells that may be published are taken one at a time, most valuable first; a cell is
published unless, together with the cells published before it, it would let a sensitive
(primary) cell be computed exactly. Such a cell is hidden instead (secondary suppression).

Why this is safe: ``p`` can be computed from the published cells exactly when its row of
the model lies in the span of their rows. Modulo the span of the cells published so far,
publishing ``c`` makes ``p`` computable exactly when the two residuals are parallel, and
that is what is tested. A cell ``c`` hidden because of ``p`` stays undetermined whatever
is published later: if it became computable, ``p`` would be too, and that is never let
happen. So every hidden cell is undetermined by linear algebra over the rationals.

The arithmetic is exact, modulo the prime 2**61 - 1 (hand-written: scipy and numpy offer
no sparse elimination that is exact or that reports which residuals are parallel). A rank
over that field can only be lower than over the rationals, and only when the prime divides
a minor of a 0/1 matrix, which for tables does not happen in practice; the independent
audit checks the pattern in any case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

PRIME = (1 << 61) - 1
Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called now and then during long work."""


class CannotProtect(ValueError):
    """A form that must be published would let a sensitive form be computed."""

    def __init__(self, form: int, target: int) -> None:
        self.form, self.target = form, target
        super().__init__(f"form {form} must be published but determines form {target}")


@dataclass(frozen=True)
class GaussResult:
    """The outcome of ``gauss_pattern``.

    Attributes:
        hidden: Hidden mask over forms (primaries included).
        cause: For each secondary form, the primary form it protects.
        complete: False when the work limit stopped the elimination early; every form
            not yet decided was then hidden unless the published ones already determine
            it (the pattern is still safe, only lossier).
        work: Elementary updates done (the unit of ``work_limit``).
        elimination: The span of the published rows at the end (for
            ``singleton_links``).
    """

    hidden: np.ndarray
    cause: dict[int, int]
    complete: bool
    work: int
    elimination: _Elimination | None = None


class _Elimination:
    """The span of the published rows, kept in reduced echelon form, and the residuals
    of the sensitive rows modulo that span."""

    def __init__(self) -> None:
        self.basis: dict[int, dict[int, int]] = {}
        self.basis_cols: dict[int, set[int]] = {}
        self.residual: dict[int, dict[int, int]] = {}
        self.sens_cols: dict[int, set[int]] = {}
        self.work = 0

    def reduce(self, row: np.ndarray) -> dict[int, int]:
        """The residual of a 0/1 row (its variables) modulo the span."""
        result: dict[int, int] = {}
        for v in row.tolist():
            pivot = self.basis.get(v)
            if pivot is None:
                result[v] = (result.get(v, 0) + 1) % PRIME
                continue
            self.work += len(pivot)
            for u, a in pivot.items():
                if u != v:
                    result[u] = (result.get(u, 0) - a) % PRIME
        return {u: a for u, a in result.items() if a}

    def reduce_dict(self, row: dict[int, int]) -> dict[int, int]:
        """The residual of any row (``variable -> coefficient``) modulo the span."""
        result: dict[int, int] = {}
        for v, c in row.items():
            pivot = self.basis.get(v)
            if pivot is None:
                result[v] = (result.get(v, 0) + c) % PRIME
                continue
            self.work += len(pivot)
            for u, a in pivot.items():
                if u != v:
                    result[u] = (result.get(u, 0) - c * a) % PRIME
        return {u: a for u, a in result.items() if a}

    def add_sensitive(self, form: int, residual: dict[int, int]) -> None:
        self.residual[form] = residual
        for u in residual:
            self.sens_cols.setdefault(u, set()).add(form)

    def clash(self, residual: dict[int, int]) -> int | None:
        """A sensitive form that publishing this residual would determine (one whose
        residual is parallel to it), if any."""
        cols = self.sens_cols
        rarest = min(residual, key=lambda u: (len(cols.get(u, ())), u))
        found = [f for f in cols.get(rarest, ()) if len(self.residual[f]) == len(residual)]
        if not found:
            return None
        inverse = pow(residual[rarest], PRIME - 2, PRIME)
        for form in sorted(found):
            other = self.residual[form]
            scale = other[rarest] * inverse % PRIME
            if all(other.get(v) == a * scale % PRIME for v, a in residual.items()):
                return form
        return None

    def _eliminate(
        self, vector: dict[int, int], pivot: int, row: dict[int, int],
        cols: dict[int, set[int]], owner: int,
    ) -> None:
        """vector -= vector[pivot] * row, keeping the column index ``cols`` up to date."""
        factor = vector[pivot]
        for u, a in row.items():
            old = vector.get(u, 0)
            new = (old - factor * a) % PRIME
            if new:
                vector[u] = new
                if not old:
                    cols.setdefault(u, set()).add(owner)
            else:
                del vector[u]
                cols[u].discard(owner)
        self.work += len(row)

    def publish(self, residual: dict[int, int]) -> None:
        """Add a non-zero residual to the span (pivot on its least-shared variable)."""
        pivot = min(residual, key=lambda u: (len(self.basis_cols.get(u, ()))
                                             + len(self.sens_cols.get(u, ())), u))
        scale = pow(residual[pivot], PRIME - 2, PRIME)
        row = {u: a * scale % PRIME for u, a in residual.items()}
        for p in sorted(self.basis_cols.get(pivot, ())):
            self._eliminate(self.basis[p], pivot, row, self.basis_cols, p)
        for form in sorted(self.sens_cols.get(pivot, ())):
            vector = self.residual[form]
            self._eliminate(vector, pivot, row, self.sens_cols, form)
            if not vector:
                raise AssertionError("Gaussian elimination determined a sensitive cell; "
                                     "please report")
        self.basis[pivot] = row
        for u in row:
            self.basis_cols.setdefault(u, set()).add(pivot)


def publish_order(
    weights: np.ndarray, must_publish: np.ndarray, early: np.ndarray | None = None
) -> np.ndarray:
    """Forms in the order they are offered for publication: those that must be published
    first, then the ``early`` ones, then the costliest to hide first (GaussSuppression's
    ``CandidatesDefault`` orders by decreasing frequency the same way)."""
    early = np.zeros(len(weights), bool) if early is None else early
    return np.lexsort((np.arange(len(weights)), -weights, ~early, ~must_publish))


def gauss_pattern(
    forms: sp.csr_matrix,
    sensitive: np.ndarray,
    weights: np.ndarray,
    can_hide: np.ndarray,
    *,
    early: np.ndarray | None = None,
    extra: Sequence[dict[int, int]] = (),
    work_limit: int | None = None,
    progress: Progress | None = None,
) -> GaussResult:
    """Hide the ``sensitive`` forms and enough others that none can be computed exactly.

    Args:
        forms: Forms x variables, 0/1 (``LinearModel.forms``).
        sensitive: Mask of forms that must be hidden and protected (primaries, forced).
        weights: Cost of hiding each form; costlier forms are offered for publication first.
        can_hide: Mask of forms that may be hidden (others are published first, whatever
            they disclose: then the caller's rules cannot be met).
        early: Mask of forms offered for publication before the others (large inner
            cells: publishing them first removes their variables, which keeps the
            elimination sparse).
        extra: Further rows (``variable -> coefficient`` modulo ``PRIME``) that must not
            become computable either; a form hidden for row i has cause ``n_forms + i``.
        work_limit: Elementary updates allowed (about 10**8 take a minute); when reached,
            the forms not yet decided are hidden unless already determined.
        progress: Optional callback ``(stage, done, total)``.

    Raises:
        CannotProtect: A form that may not be hidden would disclose a sensitive one.

    Returns:
        The pattern (see ``GaussResult``). Deterministic: the same input gives the same
        pattern on any machine.
    """
    forms = sp.csr_matrix(forms)
    elim = _Elimination()
    for form in np.flatnonzero(sensitive).tolist():
        row = forms.indices[forms.indptr[form]:forms.indptr[form + 1]]
        elim.add_sensitive(form, elim.reduce(row))
    for i, row_dict in enumerate(extra):
        elim.add_sensitive(forms.shape[0] + i, elim.reduce_dict(row_dict))
    hidden = np.asarray(sensitive, dtype=bool).copy()
    cause: dict[int, int] = {}
    order = [f for f in publish_order(weights, ~can_hide, early).tolist() if not hidden[f]]
    complete = True
    for done, form in enumerate(order):
        if progress is not None and done % 500 == 0:
            progress("gauss", done, len(order))
        row = forms.indices[forms.indptr[form]:forms.indptr[form + 1]]
        residual = elim.reduce(row)
        if not residual:
            continue
        if not complete:
            hidden[form] = True
            continue
        target = elim.clash(residual)
        if target is not None:
            if not can_hide[form]:
                raise CannotProtect(form, target)
            hidden[form] = True
            cause[form] = target
            continue
        elim.publish(residual)
        if work_limit is not None and elim.work > work_limit:
            complete = False
    if progress is not None:
        progress("gauss", len(order), len(order))
    return GaussResult(hidden, cause, complete, elim.work, elim)


def determined(forms: sp.csr_matrix, hidden: np.ndarray) -> np.ndarray:
    """Hidden forms whose row lies in the span of the published rows (exactly computable).

    The same exact elimination as ``gauss_pattern``; an audit that shares no code with it
    is ``suoja.protect.audit``.
    """
    forms = sp.csr_matrix(forms)
    elim = _Elimination()
    for form in np.flatnonzero(~hidden).tolist():
        residual = elim.reduce(forms.indices[forms.indptr[form]:forms.indptr[form + 1]])
        if residual:
            elim.publish(residual)
    result = np.zeros(len(hidden), dtype=bool)
    for form in np.flatnonzero(hidden).tolist():
        row = forms.indices[forms.indptr[form]:forms.indptr[form + 1]]
        result[form] = not elim.reduce(row)
    return result


def determined_rows(
    forms: sp.csr_matrix, hidden: np.ndarray, rows: Sequence[dict[int, int]]
) -> np.ndarray:
    """Which ``rows`` (``variable -> coefficient`` modulo ``PRIME``, as ``extra`` of
    ``gauss_pattern``) lie in the span of the published forms' rows."""
    forms = sp.csr_matrix(forms)
    elim = _Elimination()
    for form in np.flatnonzero(~hidden).tolist():
        residual = elim.reduce(_row(forms, form))
        if residual:
            elim.publish(residual)
    return np.array([not elim.reduce_dict(row) for row in rows], dtype=bool)


def rational(value: int) -> float:
    """The small fraction ``r / s`` congruent to ``value`` modulo ``PRIME`` (rational
    reconstruction by the extended Euclidean algorithm), as a float."""
    bound = 1 << 30  # below sqrt(PRIME / 2)
    r0, r1, s0, s1 = PRIME, value % PRIME, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, s0, s1 = r1, r0 - q * r1, s1, s0 - q * s1
    return r1 / s1


def _row(forms: sp.csr_matrix, form: int) -> np.ndarray:
    return forms.indices[forms.indptr[form]:forms.indptr[form + 1]]


def singleton_links(
    forms: sp.csr_matrix, hidden: np.ndarray, values: np.ndarray, elim: _Elimination
) -> list[tuple[int, int, dict[int, int]]]:
    """Hidden forms that the one unit of a hidden singleton could compute exactly.

    A unit alone in hidden form ``s`` knows it is 1; hidden ``h`` is then computable when
    ``h - c * s`` lies in the span of the published rows for some c, i.e. when their
    residuals are parallel. A form inside the singleton's own, or one of value 1 that
    holds it, tells the unit nothing new (as in ``suoja.protect.secure.exempt``).

    Returns:
        ``(singleton, form, row)`` for each such pair, ``row`` being ``h - c * s`` over
        the variables (modulo ``PRIME``): keeping it undetermined protects the pair.
    """
    forms = sp.csr_matrix(forms)
    residual = {h: elim.reduce(_row(forms, h)) for h in np.flatnonzero(hidden).tolist()}
    cols: dict[int, list[int]] = {}
    for h, r in residual.items():
        for u in r:
            cols.setdefault(u, []).append(h)
    found = []
    for s in np.flatnonzero(hidden & (values == 1)).tolist():
        r_s = residual[s]
        if not r_s:
            continue
        own = set(_row(forms, s).tolist())
        rarest = min(r_s, key=lambda u: (len(cols.get(u, ())), u))
        inverse = pow(r_s[rarest], PRIME - 2, PRIME)
        for h in cols.get(rarest, ()):
            r_h = residual[h]
            if h == s or len(r_h) != len(r_s):
                continue
            scale = r_h[rarest] * inverse % PRIME
            if any(r_h.get(v) != a * scale % PRIME for v, a in r_s.items()):
                continue
            inner = set(_row(forms, h).tolist())
            if inner <= own or (own <= inner and values[h] == 1):
                continue
            row = dict.fromkeys(inner, 1)
            for v in own:
                row[v] = (row.get(v, 0) - scale) % PRIME
            found.append((s, h, {v: a for v, a in row.items() if a}))
    return found
