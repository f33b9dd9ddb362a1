"""Primary and secondary suppression of all the tables of one population."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import polars as pl

from suoja.protect.bound import MAX_SOLVES, LowerBound, lower_bound
from suoja.protect.defend import Defender
from suoja.protect.gauss import Progress
from suoja.protect.highs import INF
from suoja.protect.large import gauss_protect, uses_gauss
from suoja.protect.model import Hierarchies, LinearModel, ZeroBox, build_model
from suoja.protect.optimal import optimal_pattern
from suoja.protect.primary import (
    form_facts,
    primary_forms,
    single_category_forms,
    weights,
)
from suoja.protect.reasons import describe
from suoja.protect.relations import find_relations
from suoja.protect.rules import SuppressionRules
from suoja.protect.secure import ProtectionError, State, publish_unneeded, secure
from suoja.protect.singleton_gate import singleton_exposures


def _model(
    cells: pl.DataFrame | LinearModel,
    domains: Mapping[str, Sequence[str]] | None,
    finest: pl.DataFrame | None,
    hierarchies: Hierarchies | None,
    rules: SuppressionRules,
    structural: Sequence[ZeroBox] = (),
) -> LinearModel:
    if isinstance(cells, LinearModel):
        if cells.values is None:
            raise ValueError("protect needs a model built with true values (build_model)")
        if rules.zeros_sensitive and cells.zeros_dropped:
            raise ValueError(
                "zeros_sensitive rules need a model built with build_model(..., "
                "drop_zeros=False): zero cells may have to be hidden"
            )
        return cells
    if domains is None or finest is None:
        raise ValueError("protect needs domains and finest counts with a cells frame")
    return build_model(cells, domains, finest, hierarchies, drop_zeros=not rules.zeros_sensitive,
                       structural=structural)


def _stages(rules: SuppressionRules) -> list[SuppressionRules]:
    """Thresholds 1, 2, ..., k in turn, so that a higher threshold only adds cells."""
    if rules.method == "optimal":
        return [rules]
    return [replace(rules, threshold=t) for t in range(1, rules.threshold + 1)]


def _forced(model: LinearModel, forced: pl.DataFrame | None) -> dict[int, tuple[float, float]]:
    """Forms of the cells that must be hidden, with how far each must be able to move."""
    if forced is None or forced.is_empty():
        return {}
    found = forced.join(model.cells.select("table", "key", "__form"), on=["table", "key"],
                        how="inner")
    need: dict[int, tuple[float, float]] = {}
    for form, up, down in found.select("__form", "up", "down").iter_rows():
        old = need.get(form, (0.0, 0.0))
        need[form] = (max(old[0], float(up)), max(old[1], float(down)))
    # A cell forced with no interval of its own (up = down = 0) is only hidden: a derived
    # cell the optimal method's pattern leaves unknown needs no protection (``State.free``).
    return {form: n for form, n in need.items() if n != (0.0, 0.0)}


def _forced_hidden(model: LinearModel, forced: pl.DataFrame | None) -> np.ndarray:
    """Which forms the forced cells hide, whatever their interval."""
    hidden = np.zeros(model.forms.shape[0], dtype=bool)
    if forced is not None and not forced.is_empty():
        found = forced.join(model.cells.select("table", "key", "__form"),
                            on=["table", "key"], how="inner")
        hidden[found["__form"].to_numpy()] = True
    return hidden


def _forced_reasons(model: LinearModel, forced: pl.DataFrame | None) -> dict[int, str]:
    if forced is None or "reason" not in forced.columns:
        return {}
    found = forced.join(model.cells.select("table", "key", "__form"), on=["table", "key"],
                        how="inner")
    return dict(zip(found["__form"].to_list(), found["reason"].to_list(), strict=True))


def _free_forms(model: LinearModel, derived: np.ndarray | None, values: np.ndarray,
                threshold: int) -> frozenset[int]:
    """Forms whose every cell is derived (no table publishes it) and not small."""
    if derived is None or not derived.any():
        return frozenset()
    form = model.form_of_row
    n = model.forms.shape[0]
    only = np.bincount(form[derived], minlength=n) == np.bincount(form, minlength=n)
    only &= (values == 0) | (values >= threshold)
    return frozenset(np.flatnonzero(only).tolist())


KEEP_PENALTY = 1000.0
"""How much more a never-hide cell costs when no pattern can do without hiding one."""


def _priorities(model: LinearModel, priority: pl.DataFrame | None,
                ) -> tuple[np.ndarray | None, np.ndarray]:
    """Per-row cost weights (None: all 1) and the never-hide forms, from a priority frame
    (``table``, ``key``, ``weight``, ``never_hide``)."""
    n = model.forms.shape[0]
    keep = np.zeros(n, dtype=bool)
    if priority is None or priority.is_empty():
        return None, keep
    rows = model.cells.select("table", "key").with_row_index("__row").join(
        priority, on=["table", "key"], how="inner")
    weight = np.ones(model.cells.height)
    weight[rows["__row"].to_numpy()] = rows["weight"].to_numpy()
    never = rows.filter(pl.col("never_hide"))["__row"].to_numpy()
    keep[model.form_of_row[never]] = True
    return weight, keep


def _cost(defender: Defender, state: State) -> float:
    return float(defender.weights[state.hidden].sum())


def _setting(model: LinearModel, rules: SuppressionRules,
             ) -> tuple[dict[str, np.ndarray], dict[int, int], np.ndarray]:
    """The forms' facts, the single-category forms and which forms may be hidden."""
    facts = form_facts(model)
    values = facts["value"]
    relations = find_relations(model.cells, model.dimensions)
    single = single_category_forms(relations, model, values) if rules.zeros_sensitive else {}
    can_hide = values > 0 if not rules.zeros_sensitive else np.ones(len(values), bool)
    can_hide &= np.diff(model.forms.indptr) > 0
    if rules.protect_grand_total:
        can_hide &= ~facts["grand_total"]
    return facts, single, can_hide


def secondary_bound(
    cells: pl.DataFrame | LinearModel,
    domains: Mapping[str, Sequence[str]] | None = None,
    finest: pl.DataFrame | None = None,
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
    *,
    structural: Sequence[ZeroBox] = (),
    derived: pl.Expr | None = None,
    priority: pl.DataFrame | None = None,
    solves: int = MAX_SOLVES,
) -> LowerBound:
    """A proven lower bound on what the secondary suppressions of ``protect`` can cost.

    Takes the arguments of ``protect``; ``solves`` bounds the attacker's linear
    programmes (a work limit: past it the bound proven so far is returned). The cost is
    the one the suppression log reports (``suoja.protect.loss.secondary_cost``):
    ``rules.cell_cost`` per hidden published cell plus ``rules.unit_cost`` per unit in
    it, times the priority weight; derived cells (``derived``) are no published cell and
    cost nothing. The constraints are those of
    ``suoja.protect.bound``: every primary keeps its protection interval against an
    attacker who knows this population's published cells (and, with singleton protection,
    the singleton's own cell), so no pattern the audit passes costs less. Forced cells are
    left out (they only add).

    Returns:
        ``suoja.protect.bound.LowerBound``.
    """
    rules = rules or SuppressionRules()
    model = _model(cells, domains, finest, hierarchies, rules, structural)
    primary, can_hide, cost, free, values, _ = _bound_setting(model, rules, derived, priority)
    return lower_bound(model.forms, model.values, primary, can_hide, cost, rules, values,
                       cap=_cap(model, can_hide | primary), singletons=rules.singleton_protection,
                       free=free, solves=solves, time_limit=rules.time_limit)


def bound_cells(
    cells: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    finest: pl.DataFrame,
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
    *,
    structural: Sequence[ZeroBox] = (),
    derived: pl.Expr | None = None,
    priority: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """What ``secondary_bound`` takes of each cell, for a bound over more than one
    population (``suoja.protect.joint_bound``): ``table``, ``key``, ``value``,
    ``primary`` (its form must be protected), ``can_hide`` (its form may be a secondary
    suppression), ``free`` (its form needs no protection of its own) and ``cost`` (this
    cell's share of what hiding its form costs)."""
    rules = rules or SuppressionRules()
    model = _model(cells, domains, finest, hierarchies, rules, structural)
    primary, can_hide, _, free, values, row_cost = _bound_setting(model, rules, derived,
                                                                  priority)
    form = model.form_of_row
    is_free = np.zeros(len(values), dtype=bool)
    is_free[list(free)] = True
    return model.cells.select("table", "key").with_columns(
        pl.Series("value", values[form].astype(np.int64)),
        pl.Series("primary", primary[form]), pl.Series("can_hide", can_hide[form]),
        pl.Series("free", is_free[form]),
        pl.Series("cost", row_cost))


def _bound_setting(model: LinearModel, rules: SuppressionRules, derived: pl.Expr | None,
                   priority: pl.DataFrame | None) -> tuple:
    """Per form: primary, may be hidden, cost of hiding it, the free forms, true value;
    and each row's share of its form's cost."""
    facts, single, can_hide = _setting(model, rules)
    values = facts["value"]
    primary = primary_forms(model, values, rules, single)
    row_weight, _ = _priorities(model, priority)
    if row_weight is None:
        row_weight = np.ones(model.cells.height)
    mask = _derived_rows(model, derived)
    if mask is not None:
        row_weight = np.where(mask, 0.0, row_weight)
    row_value = values[model.form_of_row].astype(np.float64)
    row_cost = row_weight * (rules.cell_cost + rules.unit_cost * row_value)
    cost = np.bincount(model.form_of_row, minlength=len(values), weights=row_cost)
    free = _free_forms(model, mask, values, rules.threshold)
    return primary, can_hide, cost, free, values, row_cost


def _derived_rows(model: LinearModel, derived: pl.Expr | None) -> np.ndarray | None:
    return None if derived is None else \
        model.cells.select(derived.fill_null(False)).to_series().to_numpy()


def _cap(model: LinearModel, hideable: np.ndarray) -> float:
    """The population's total when a form of every variable is always published (not in
    ``hideable``: neither hidden nor allowed to be; a bound on any variable for
    ``suoja.protect.bound``), else ``INF``."""
    assert model.values is not None
    whole = np.diff(model.forms.indptr) == model.forms.shape[1]
    return float(model.values.sum()) if (whole & ~hideable).any() else INF


def singleton_exposures_of(
    cells: pl.DataFrame,
    hidden: pl.DataFrame,
    domains: Mapping[str, Sequence[str]],
    finest: pl.DataFrame,
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
    *,
    structural: Sequence[ZeroBox] = (),
    derived: pl.Expr | None = None,
    priority: pl.DataFrame | None = None,
) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """The singleton disclosures of a finished pattern (``suoja.protect.bound.
    singleton_exposures``): ((table, key) of the singleton, (table, key) of the hidden
    cell its person can compute exactly). Takes the arguments of ``protect`` and the
    hidden cells (``table``, ``key``); ``priority`` is not used. Empty without singleton
    protection."""
    del priority
    rules = rules or SuppressionRules()
    if not rules.singleton_protection:
        return []
    model = _model(cells, domains, finest, hierarchies, rules, structural)
    values = form_facts(model)["value"]
    rows = model.cells.select("table", "key").with_row_index("__row").join(
        hidden.select("table", "key"), on=["table", "key"], how="inner")["__row"].to_numpy()
    shown = np.ones(model.cells.height, dtype=bool)
    shown[rows] = False
    # A form is known as soon as one of its cells is published (the same sum elsewhere).
    mask = np.ones(len(values), dtype=bool)
    mask[model.form_of_row[shown]] = False
    free = _free_forms(model, _derived_rows(model, derived), values, rules.threshold)
    assert model.values is not None
    pairs = singleton_exposures(model.forms, model.values, mask, values, free=free,
                                cap=_cap(model, mask))
    first = np.unique(model.form_of_row, return_index=True)[1]
    names = model.cells.select("table", "key").rows()
    return [(names[first[s]], names[first[c]]) for s, c in pairs]


def choose_pattern(
    model: LinearModel, rules: SuppressionRules, forced: pl.DataFrame | None = None,
    derived: np.ndarray | None = None,
    progress: Progress | None = None,
    priority: pl.DataFrame | None = None,
) -> tuple[State, np.ndarray, dict[int, int]]:
    """Hide the primary forms and enough others; returns the state, primaries, single map.

    ``forced`` (``table``, ``key``, ``up``, ``down``) names cells that must be hidden too,
    able to move at least ``up`` and ``down`` units without an outsider noticing.
    ``derived`` (a mask over ``model.cells``) marks cells that no table publishes, only a
    difference of published cells: unless small, they need no protection of their own
    when hidden (their exact value tells nothing small).
    ``progress(stage, done, total)`` is called now and then by the large-table method.
    ``priority`` (``table``, ``key``, ``weight``, ``never_hide``) multiplies the cost of
    cells and names the cells never to hide: the pattern is first sought without them;
    only when that fails (every other cell hidden still leaves a hidden cell exposed) are
    they allowed, each at ``KEEP_PENALTY`` times its cost.

    The method follows ``rules.method``; the heuristic hands over to Gaussian elimination
    above ``LARGE_FORMS`` forms, and the optimal method keeps the heuristic's pattern when
    its own is not cheaper (so it never hides more, by cost)."""
    facts, single, can_hide = _setting(model, rules)
    row_weight, keep = _priorities(model, priority)
    cost = weights(facts, rules, row_weight, model.form_of_row)
    if keep.any():
        try:
            return _choose(model, rules, forced, derived, progress, facts, single,
                           Defender(model, cost, can_hide & ~keep, rules.time_limit))
        except ProtectionError:
            cost = np.where(keep, cost * KEEP_PENALTY, cost)
    defender = Defender(model, cost, can_hide, rules.time_limit)
    return _choose(model, rules, forced, derived, progress, facts, single, defender)


def _choose(model: LinearModel, rules: SuppressionRules, forced: pl.DataFrame | None,
            derived: np.ndarray | None, progress: Progress | None,
            facts: dict[str, np.ndarray], single: dict[int, int], defender: Defender,
            ) -> tuple[State, np.ndarray, dict[int, int]]:
    values = facts["value"]
    state = State(values=values, hidden=np.zeros(len(values), dtype=bool),
                  free=_free_forms(model, derived, values, rules.threshold))
    state.need = _forced(model, forced)
    state.need_reasons = _forced_reasons(model, forced)
    must = _forced_hidden(model, forced)
    primary = primary_forms(model, values, rules, single)
    # Forced cells must be able to move by given amounts, which only the certificates of
    # the suppress-attack-add loop guarantee: the elimination sees exact disclosure only.
    if uses_gauss(rules, len(values)) and not must.any():
        state.hidden |= primary | must
        gauss_protect(defender, state, rules, progress)
        return state, primary, single
    if rules.method == "optimal":
        fallback = _grow(defender, _fresh(state), model, values, replace(rules,
                         method="heuristic"), single, must)
    _grow(defender, state, model, values, rules, single, must)
    if rules.method == "optimal" and _cost(defender, fallback) < _cost(defender, state) - 1e-9:
        return fallback, primary, single
    return state, primary, single


def _fresh(state: State) -> State:
    """An empty pattern with the same values and needs."""
    other = State(values=state.values, hidden=np.zeros(len(state.values), dtype=bool),
                  free=state.free)
    other.need, other.need_reasons = dict(state.need), dict(state.need_reasons)
    return other


def _grow(
    defender: Defender, state: State, model: LinearModel, values: np.ndarray,
    rules: SuppressionRules, single: dict[int, int], must: np.ndarray,
) -> State:
    """The suppress-attack-add loop, threshold stage by stage (heuristic and optimal)."""
    for stage in _stages(rules):
        before = state.hidden.copy()
        primary = primary_forms(model, values, stage, single)
        state.hidden |= primary | must
        if rules.method == "optimal":
            optimal_pattern(defender, state, stage)
        secure(defender, state, stage)
        # Least loss: the secondaries of this stage that the pattern is safe without are
        # published again, the costliest first (those of earlier stages stay hidden, so
        # a higher threshold still only adds cells).
        candidates = np.flatnonzero(state.hidden & ~before & ~primary & ~must)
        candidates = candidates[np.argsort(-defender.weights[candidates], kind="stable")]
        publish_unneeded(defender, state, stage,
                         [int(f) for f in candidates if int(f) not in state.free])
    return state


def protect(
    cells: pl.DataFrame | LinearModel,
    domains: Mapping[str, Sequence[str]] | None = None,
    finest: pl.DataFrame | None = None,
    hierarchies: Hierarchies | None = None,
    rules: SuppressionRules | None = None,
    *,
    unit: str | tuple[str, str] = "person",
    structural: Sequence[ZeroBox] = (),
    forced: pl.DataFrame | None = None,
    derived: pl.Expr | None = None,
    progress: Progress | None = None,
    priority: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Choose which cells to hide so that no hidden cell can be computed.

    The method follows ``rules.method`` (see ``SuppressionRules``): above
    ``suoja.protect.rules.LARGE_FORMS`` distinct cells the heuristic hands over to
    secondary suppression by Gaussian elimination (Langsrud 2024, as in Statistics
    Norway's GaussSuppression), which finishes on tables of tens of thousands of cells.

    Args:
        cells: The cells frame (``table``, ``key``, one column per dimension, ``value``)
            or a model from ``build_model``.
        domains: Leaf codes per dimension (not needed with a model).
        finest: Non-zero finest counts (not needed with a model).
        hierarchies: Optional ``child -> parent`` codes per dimension.
        rules: The rules; defaults to ``SuppressionRules()``.
        unit: What is counted, for the reasons: its singular and plural
            (``("child", "children")``), or a singular that takes an "s".
        structural: Structural zeros from the declared facts (``suoja.protect.knowledge``).
        forced: Cells that must be hidden as well (``table``, ``key``, ``up``, ``down``):
            cells an outsider could use beside other populations or earlier releases.
        derived: A boolean expression over the cells frame selecting cells that no table
            publishes but anyone can compute as a difference (the rest of a slice, as
            ``suoja.tables.implicit_cells`` makes them): one of 0 or of at least the
            threshold needs no protection of its own.
        progress: Optional callback ``progress(stage, done, total)`` for long runs.
        priority: Optional cost weights and never-hide flags of cells (``table``,
            ``key``, ``weight``, ``never_hide``; ``suoja.tables.priorities.priority_frame``
            makes it from the catalogue). A never-hide cell is hidden only if it is
            primary or if no pattern exists without it (then at a high cost).

    Returns:
        The cells sorted by table and key with ``status`` (published, primary or
        secondary), ``published`` (null when hidden), ``reason``, ``protects_table``
        and ``protects_key``.

    Raises:
        ValueError: Malformed input.
        ProtectionError: Grand totals may not be hidden and nothing else protects a cell.
        SolverLimitError: A work limit ran out before singleton protection was settled.
    """
    rules = rules or SuppressionRules()
    model = _model(cells, domains, finest, hierarchies, rules, structural)
    mask = None if derived is None else \
        model.cells.select(derived.fill_null(False)).to_series().to_numpy()
    state, primary, single = choose_pattern(model, rules, forced, mask, progress, priority)
    return describe(model, state, primary, single, rules, unit)
