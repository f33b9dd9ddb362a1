"""The disclosure rules that primary and secondary suppression and the audit apply."""

from __future__ import annotations

from dataclasses import dataclass

INTERVALS: tuple[str, ...] = ("exact", "threshold")
"""How wide the range an outsider can deduce for a hidden cell must be."""

METHODS: tuple[str, ...] = ("heuristic", "optimal", "gauss")
"""How secondary cells are chosen: ``heuristic`` (suppress-attack-add; Gaussian elimination
above ``LARGE_FORMS``), ``optimal`` (MIP, never costlier than the heuristic) or ``gauss``
(Gaussian elimination at any size)."""

LARGE_FORMS = 8_000
"""Above this many distinct cells (forms) the heuristic and the optimal method hand over
to Gaussian elimination: per-cell linear programmes would take many minutes there, and
the cut generation of the optimal method stops at ``bound.MAX_FORMS`` forms."""


def _check_choice(field: str, value: object, allowed: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(
            f"SuppressionRules.{field} is {value!r}; allowed values: {', '.join(allowed)}"
        )


def _check_bool(field: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"SuppressionRules.{field} is {value!r}; allowed values: True, False")


@dataclass(frozen=True)
class SuppressionRules:
    """What must not be published and what an outsider must not be able to compute.

    Attributes:
        threshold: Cells with 1..threshold-1 units are primary-suppressed (1 hides none).
        zeros_sensitive: When True, a margin whose whole positive total falls in one
            category discloses that category for everyone in it, so that cell is
            primary-suppressed; zero cells become candidates for secondary suppression
            and a hidden zero is protected only if its range reaches above 0.
        singleton_protection: A unit alone in a cell knows that cell is 1: the pattern
            must still protect every other hidden cell when any one hidden singleton
            cell is known to the attacker.
        interval: ``"exact"``: a hidden cell is disclosed only when its feasible range
            is a single value. ``"threshold"``: in addition, the range of a hidden cell
            must reach 0 or the threshold (``lo <= 0 or hi >= threshold``), so that
            nobody can tell it is a small cell.
        method: ``"heuristic"`` (fast, default): protect each exposed cell with the
            cheapest integer change an attacker could not see, then audit and repeat;
            thresholds 1, 2, ..., k are applied in turn, so a higher threshold never
            publishes a cell hidden at a lower one. ``"optimal"``: one mixed-integer
            programme for the fewest hidden cells when the problem is small (primary
            cells x variables up to 60 000) and solved within ``time_limit``; otherwise,
            and for singleton protection, the same loop as the heuristic (without the
            threshold stages, so not nested across thresholds). The optimal pattern is
            never costlier than the heuristic's: the cheaper of the two is kept.
            ``"gauss"``: secondary suppression by Gaussian elimination (Langsrud 2024,
            the method of Statistics Norway's GaussSuppression; see
            ``suoja.protect.gauss``), which finishes on tables of tens of thousands of
            cells; the heuristic switches to it above ``LARGE_FORMS`` distinct cells.
            With ``method="gauss"`` on tables of up to ``suoja.protect.cover.COVER_FORMS``
            distinct cells, the fewest secondaries against exact disclosure are then
            sought by cut generation (Fischetti and Salazar-Gonzalez 2001, the method of
            tau-ARGUS's OPT; ``suoja.protect.cover``) within work limits, and kept only
            when cheaper than the elimination's pattern (``time_limit`` bounds its
            master programmes, a safety net). Either guarantees that no
            hidden cell can be computed exactly (over the rationals); the width of
            ranges (``interval``) is left to the audit, and cells forced with a
            required movement (``protect(forced=...)``) send the table to the
            suppress-attack-add loop instead.
        protect_grand_total: Grand totals (a table's all-total cell) are always the
            last resort of secondary suppression. When True they are never chosen:
            if nothing else can protect a cell, protect raises ProtectionError.
        time_limit: Seconds one mixed-integer solve may take (the optimal method, and
            the integer confirmation of audit ranges).
        work_limit: Elementary updates the Gaussian elimination may make (None: no
            limit; about 10**7 take ten seconds). When reached, the cells not yet decided
            are hidden unless already computable: the pattern stays safe, only lossier.
            Work, not time, so the same input gives the same pattern on any machine.
        cell_cost: The cost of hiding one cell (secondary suppression minimises the
            total cost; tau-ARGUS's "unity" cost function).
        unit_cost: The cost of each unit (person) in a hidden cell (tau-ARGUS's
            "frequency" cost function). With ``cell_cost = 1, unit_cost = 0`` (the
            default) fewer cells win and fewer units only break ties; ``0, 1`` hides the
            fewest persons; anything between is a mix. A cell's cost is multiplied by
            the weights the catalogue's ``[[priorities]]`` give it (``suoja.tables.priorities``).
    """

    threshold: int = 5
    zeros_sensitive: bool = False
    singleton_protection: bool = True
    interval: str = "threshold"
    method: str = "heuristic"
    protect_grand_total: bool = False
    time_limit: float = 20.0
    work_limit: int | None = None
    cell_cost: float = 1.0
    unit_cost: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int):
            raise ValueError(
                f"SuppressionRules.threshold is {self.threshold!r}; allowed values: "
                "an integer of 1 or more"
            )
        if self.threshold < 1:
            raise ValueError(
                f"SuppressionRules.threshold is {self.threshold}; allowed values: "
                "an integer of 1 or more"
            )
        _check_bool("zeros_sensitive", self.zeros_sensitive)
        _check_bool("singleton_protection", self.singleton_protection)
        _check_bool("protect_grand_total", self.protect_grand_total)
        _check_choice("interval", self.interval, INTERVALS)
        _check_choice("method", self.method, METHODS)
        if (
            isinstance(self.time_limit, bool)
            or not isinstance(self.time_limit, int | float)
            or not self.time_limit > 0
        ):
            raise ValueError(
                f"SuppressionRules.time_limit is {self.time_limit!r}; allowed values: "
                "a positive number of seconds"
            )
        self._check_work_limit()
        for name in ("cell_cost", "unit_cost"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"SuppressionRules.{name} is {value!r}; allowed values: "
                                 "a number of 0 or more")
        if self.cell_cost == 0 and self.unit_cost == 0:
            raise ValueError("SuppressionRules.cell_cost and unit_cost are both 0; "
                             "allowed values: at least one of them positive")

    def _check_work_limit(self) -> None:
        """Check ``work_limit`` (called from ``__post_init__``)."""
        value = self.work_limit
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):
            raise ValueError(
                f"SuppressionRules.work_limit is {value!r}; allowed values: None or an "
                "integer of 1 or more"
            )

    def range_ok(self, lo: float, hi: float) -> bool:
        """Whether a hidden cell whose deducible range is [lo, hi] passes the rules.

        ``hi`` may be ``inf`` (no upper bound). The rule needs no true values: a
        hidden cell of 0 or of at least the threshold always has lo <= 0 or hi >= it.
        """
        if hi <= lo:
            return False
        if self.interval == "threshold":
            return lo <= 0 or hi >= self.threshold
        return True
