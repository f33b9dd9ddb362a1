"""One suppression pattern as the outsider sees it, for ``suoja.protect.necessity``.

The joint programme of the pattern (``joint.build_joint``), the rows of its hidden cells,
the span of its published equalities (exact elimination modulo the prime 2**61 - 1,
``gauss._Elimination``) and the singleton attacks on it: the unit alone in a hidden cell
of value 1 knows that cell, as in ``secure`` and ``gauss.singleton_links``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import partial

import numpy as np
import scipy.sparse as sp

from suoja.protect.gauss import PRIME, _Elimination
from suoja.protect.highs import INF
from suoja.protect.joint import REST_KIND, JointModel, View, build_joint, rest_pinned
from suoja.protect.joint_ranges import JointAttacker
from suoja.protect.rules import SuppressionRules
from suoja.tables.facts import Fact

Cell = tuple[str, str]
"""(table, key) of one cell of the pattern's year."""


def _span(joint: JointModel) -> _Elimination:
    """The span of the equalities of the joint programme (published figures, identities)."""
    elim = _Elimination()
    m = joint.matrix
    for i in np.flatnonzero((joint.lower == joint.upper) & np.isfinite(joint.lower)).tolist():
        row = {int(v): round(float(a)) % PRIME
               for v, a in zip(m.indices[m.indptr[i]:m.indptr[i + 1]].tolist(),
                               m.data[m.indptr[i]:m.indptr[i + 1]].tolist(), strict=True)}
        residual = elim.reduce_dict({v: a for v, a in row.items() if a})
        if residual:
            elim.publish(residual)
    return elim


def _as_dict(row: sp.csr_matrix) -> dict[int, int]:
    return {int(v): round(float(a)) % PRIME for v, a in zip(row.indices, row.data, strict=True)}


def _parallel(r_h: dict[int, int], r_s: dict[int, int]) -> bool:
    """Whether two non-zero residuals are multiples of each other (modulo the prime)."""
    if len(r_h) != len(r_s) or r_h.keys() != r_s.keys():
        return False
    first = next(iter(r_s))
    scale = r_h[first] * pow(r_s[first], PRIME - 2, PRIME) % PRIME
    return all(r_h[v] == a * scale % PRIME for v, a in r_s.items())


def singleton_judge(lo: float, hi: float, shift: int, rules: SuppressionRules) -> bool:
    """A range under a singleton attack passes (``audit._judge``, ``secure.certified``)."""
    if shift and hi - shift <= 0:
        return True
    return rules.range_ok(lo - shift, hi - shift)


def span_text(lo: float, hi: float) -> str:
    """A range in words: ``exactly 4``, ``0..9`` or ``0..inf``."""
    if lo == hi:
        return f"exactly {int(lo)}"
    return f"{int(lo)}..{'inf' if hi == INF else int(hi)}"


class Pattern:
    """One pattern of the release's year as the outsider sees it: its joint programme,
    the rows of the hidden cells and the span of the published equalities.

    Args:
        views: What the outsider sees of each population, this year and the earlier ones
            (``release_audit.views_from_tables``).
        facts: The catalogue's declared facts.
        rules: The suppression rules (threshold, interval, time limit).
        codes: Every code of each dimension (``Dimension.cube_codes``).
        year: The pattern's year.
        values: True value of each hidden cell of ``year``, by (table, key); implicit
            cells may be given too (their singletons are attackers, and the small ones
            targets, of the singleton checks).
    """

    def __init__(self, views: Sequence[View], facts: Sequence[Fact], rules: SuppressionRules,
                 codes: Mapping[str, Sequence[str]], year: int,
                 values: Mapping[Cell, int]) -> None:
        self.views, self.rules, self.values = list(views), rules, values
        self.joint = build_joint(self.views, facts, rules, codes, [year, year - 1])
        self.rows = {(t, k): row for y, t, k, kind, row in self.joint.targets
                     if y == year and kind == "hidden" and (t, k) in values}
        """The hidden cells of ``year`` whose true values are known, as joint rows."""
        self.derived = {(t, k): row for y, t, k, kind, row in self.joint.targets
                        if y == year and kind != "hidden"}
        self.kinds = {(t, k): kind for y, t, k, kind, _ in self.joint.targets if y == year}
        """Implicit cells and pooled categories: a difference of published figures, or a
        pooled code's count in a table that pools it; they fail when known to be small."""
        self._elim: _Elimination | None = None
        self._residual: dict[Cell, dict[int, int]] = {}
        self._exposed: set[tuple[Cell, Cell]] | None = None
        self.points: dict[bytes, list[np.ndarray]] = {}
        """Integer points of the pattern's programme found so far, shared by its attackers
        (``JointAttacker``'s ``store``)."""

    @property
    def elim(self) -> _Elimination:
        """The span of the published equalities, eliminated once, on first use."""
        if self._elim is None:
            self._elim = _span(self.joint)
        return self._elim

    def residual(self, cell: Cell) -> dict[int, int]:
        """The row of a hidden or derived cell modulo the span (empty: computable exactly).

        Raises:
            KeyError: ``cell`` is neither a hidden cell with a known value nor derived.
        """
        if cell not in self._residual:
            row = self.rows[cell] if cell in self.rows else self.derived[cell]
            self._residual[cell] = self.elim.reduce_dict(_as_dict(row))
        return self._residual[cell]

    def support(self, cell: Cell) -> frozenset[int]:
        """The joint variables a hidden or derived cell sums."""
        return frozenset(self.row(cell).indices.tolist())

    def row(self, cell: Cell) -> sp.csr_matrix:
        """The joint row of a hidden or derived cell."""
        return self.rows[cell] if cell in self.rows else self.derived[cell]

    def singletons(self) -> list[Cell]:
        """The cells of value 1 that the person behind them knows, sorted: the hidden
        cells, and the implicit cells (a difference of figures, ``T[dim=code]``) whose
        true value is given in ``values``."""
        implicit = (c for c in self.derived
                    if self.kinds[c] == "implicit" and self.values.get(c) == 1)
        return sorted([*(c for c in self.rows if self.values[c] == 1), *implicit])

    def singleton_targets(self) -> list[Cell]:
        """The cells a singleton's person must not narrow down, sorted: the hidden cells,
        and the small implicit cells (1 to threshold - 1 by their true value in
        ``values``), which the engine protects as primaries."""
        small = (c for c in self.derived if self.kinds[c] == "implicit"
                 and 1 <= self.values.get(c, 0) < self.rules.threshold)
        return sorted([*self.rows, *small])

    def exempt(self, s: Cell, h: Cell) -> tuple[bool, int]:
        """Whether ``h`` tells the unit alone in ``s`` nothing, and the shift to judge by."""
        inner, outer = self.support(h), self.support(s)
        if inner <= outer or (outer <= inner and self.values[h] == 1):
            return True, 0
        return False, int(outer <= inner)

    def exact(self) -> list[Cell]:
        """Hidden cells of the year in the span of the published equalities."""
        return sorted(c for c in self.rows if not self.residual(c))

    def exact_small(self, base: Pattern) -> list[tuple[Cell, int]]:
        """Implicit cells and pooled categories of the year that enter the span of the
        published equalities (they were not in ``base``'s) with a value (one LP over their
        component) of 1..threshold-1."""
        found, attacker = [], None
        for c in sorted(self.derived):
            if self.residual(c) or (c in base.derived and not base.residual(c)):
                continue
            attacker = attacker or JointAttacker(self.joint, self.rules.time_limit,
                                                 self.points)
            lo, hi = attacker.range(self.derived[c])
            if rest_pinned(self.kinds[c], lo, hi, self.rules.threshold) or (
                    not self.kinds[c].startswith(REST_KIND)
                    and lo == hi and 1 <= lo < self.rules.threshold):
                found.append((c, int(lo)))
        return found

    def singleton_exact(self) -> list[tuple[Cell, Cell]]:
        """(singleton, cell) pairs: the singleton's unit could compute the cell exactly."""
        found = []
        for s in self.singletons():
            r_s = self.residual(s)
            if not r_s:
                continue
            for h in self.singleton_targets():
                if h == s or self.exempt(s, h)[0]:
                    continue
                r_h = self.residual(h)
                if r_h and _parallel(r_h, r_s):
                    found.append((s, h))
        return found

    def exposed_by(self, cell: Cell) -> tuple[Cell | None, Cell] | None:
        """A hidden cell that publishing ``cell`` alone (at its true value) makes exactly
        computable, without building the pattern again: ``(None, h)`` when the published
        equalities then determine ``h``, ``(s, h)`` when the unit alone in singleton ``s``
        could then compute ``h`` (a pair this pattern does not already expose). None when
        neither follows from the equalities (the derived cells, which need a value, and a
        published 0, which fixes each of its variables, are left to the whole pattern).

        Adding ``cell``'s row to the span changes each residual by a multiple of
        ``cell``'s own residual ``r``: the one that clears a pivot variable ``p`` of ``r``
        (residuals are zero on the span's pivots, so the result is the unique
        representative zero on the new pivots too). A cell this finds exposed is exposed
        by the whole pattern as well: the span only grows when the pattern is rebuilt.
        """
        r_c = self.residual(cell) if cell in self.rows else {}
        if not r_c:
            return None
        pivot = min(r_c)
        inverse = pow(r_c[pivot], PRIME - 2, PRIME)

        def after(other: Cell) -> dict[int, int]:
            r = self.residual(other)
            if pivot not in r:
                return r
            k = r[pivot] * inverse % PRIME
            out = {v: (r.get(v, 0) - k * r_c.get(v, 0)) % PRIME for v in r.keys() | r_c.keys()}
            return {v: a for v, a in out.items() if a}

        hidden = sorted(h for h in self.rows if h != cell)
        targets = [h for h in self.singleton_targets() if h != cell]
        residuals = {h: after(h) for h in [*targets, *self.singletons()] if h != cell}
        for h in hidden:
            if self.residual(h) and not residuals[h]:
                return None, h
        if self._exposed is None:
            self._exposed = set(self.singleton_exact())
        for s in (s for s in self.singletons() if s != cell):
            r_s = residuals[s]
            if not r_s:
                continue
            for h in targets:
                if h == s or (s, h) in self._exposed or self.exempt(s, h)[0]:
                    continue
                if residuals[h] and _parallel(residuals[h], r_s):
                    return s, h
        return None

    def singleton_range(self, s: Cell, h: Cell, attacker: JointAttacker) -> tuple[bool, float,
                                                                                   float]:
        """The verdict and the (verdict-mode) range of ``h`` when ``s`` is known to be 1."""
        shift = self.exempt(s, h)[1]
        judge = partial(singleton_judge, shift=shift, rules=self.rules)
        kept = attacker.kept_range(self.row(h))
        if kept is not None and judge(*kept):
            # Integer points found for earlier cells, where s is 1, already show it.
            return True, *kept
        lo, hi = attacker.range(self.row(h), judge)
        return judge(lo, hi), lo, hi

    def attacker_with(self, s: Cell) -> JointAttacker:
        """The outsider's integer programme with singleton ``s`` fixed at 1."""
        j = self.joint
        joint = replace(j, matrix=sp.vstack([j.matrix, self.row(s)]).tocsr(),
                        lower=np.append(j.lower, 1.0), upper=np.append(j.upper, 1.0),
                        row_facts=[*j.row_facts, "singleton"],
                        row_terms=[*j.row_terms, []])
        return JointAttacker(joint, self.rules.time_limit, self.points)
