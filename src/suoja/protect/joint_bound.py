"""The least cost of a whole release: the lower bound of ``suoja.protect.bound`` over the
joint programme of ``suoja.protect.joint``, and the optimal method's pattern.

Per population (``per_population.release_bounds``) the bound's attacker knows only that
population's tables. Here it knows what the release audit's outsider knows: every
population of the year, the earlier releases and the ``stock`` and ``at_least`` facts that
link them, and the publication rules (a code a table lists has at least the threshold, a
code it pools fewer). Those are rows no pattern changes (``bound.Links``); the decisions
are the year's cells of every population at once, each costing what it costs in its own
population (``suppress.bound_cells``). The attacker ranges over real numbers, and the
person behind a singleton is judged as the release audit's singleton gate judges
(within the population, exact disclosure only), so every pattern the audit passes costs
at least this bound; it is at least the sum of the populations' bounds.

With the release audit as a ``Check``, each pattern that linear ranges pass is audited,
and what the audit finds becomes a cut (combinatorial Benders cuts, ``_AuditCuts``): the
search then ends with a pattern the audit passes and the proof that none costs less. That
pattern is the optimal method's release (``suoja.pipeline``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import polars as pl
import scipy.sparse as sp

from suoja.errors import SolverLimitError
from suoja.policy import Policy
from suoja.protect.bound import MAX_SOLVES, Links, LowerBound, lower_bound
from suoja.protect.highs import INF, new_highs, outcome, pass_model, solution
from suoja.protect.joint import AUX, View, build_joint
from suoja.tables.catalogue import Catalogue

CELL_SCHEMA = {"population": pl.String, "table": pl.String, "key": pl.String,
               "value": pl.Int64, "primary": pl.Boolean, "can_hide": pl.Boolean,
               "free": pl.Boolean, "cost": pl.Float64, "never_hide": pl.Boolean}


def release_cells(cubes, pooled, tables, catalogue: Catalogue, policy: Policy) -> pl.DataFrame:
    """Every cell of the year with what the bound takes of it (``CELL_SCHEMA``): for a
    population with dimensions from ``suppress.bound_cells``; a population published as
    one count (``suoja.protect.single``) is primary when small, else a secondary
    suppression the joint rounds may choose, at the policy's cost. ``never_hide``: the
    catalogue's priorities ask to keep the cell (``tables.priorities``)."""
    from suoja.protect.per_population import population_inputs
    from suoja.protect.suppress import bound_cells
    from suoja.tables.priorities import priority_frame

    rules = policy.suppression_rules()
    parts = []
    for name, cells, inputs in population_inputs(cubes, pooled, tables, catalogue, policy):
        if inputs is None:
            weight = priority_frame(cells, catalogue.priorities).select("table", "key",
                                                                        "weight")
            value = pl.col("value")
            small = value.is_between(1, policy.min_count - 1)
            frame = cells.join(weight, on=["table", "key"], how="left").select(
                "table", "key", "value", small.alias("primary"),
                (~small & ((value > 0) | rules.zeros_sensitive)).alias("can_hide"),
                pl.lit(False).alias("free"),
                (pl.col("weight").fill_null(1.0) * (rules.cell_cost + rules.unit_cost * value))
                .alias("cost"))
        else:
            frame = bound_cells(cells, **inputs)
        keep = priority_frame(cells, catalogue.priorities).filter(pl.col("never_hide"))
        frame = frame.join(keep.select("table", "key", "never_hide"), on=["table", "key"],
                           how="left").with_columns(pl.col("never_hide").fill_null(False))
        parts.append(frame.with_columns(pl.lit(name).alias("population")))
    return pl.concat([p.select(list(CELL_SCHEMA)).cast(CELL_SCHEMA) for p in parts])


Check = Callable[[list[tuple[str, str, str]]], set[tuple[int, str, str]]]
"""The release audit of a pattern (population, table, key of every hidden cell): the
(year, table, key) of each quantity it finds narrowed down too far; empty when it
passes (``per_population.pattern_audit``)."""


def joint_bound(true_views: Sequence[View], earlier_views: Sequence[View],
                cells: pl.DataFrame, catalogue: Catalogue, policy: Policy, year: int, *,
                check: Check | None = None, raw_cubes: Mapping | None = None,
                solves: int = MAX_SOLVES) -> tuple[LowerBound, list[tuple[str, str, str]]]:
    """The proven lower bound on what the year's secondary suppressions cost, all
    populations together.

    Args:
        true_views: The year's views with every cell at its true value, implicit cells
            included (``release_audit.views_from_tables(tables, ..., implicit_values=True)``
            on the unprotected tables).
        earlier_views: The outsider's views of the earlier releases.
        cells: ``release_cells`` of the year.
        year: The year protected.
        check: The release audit (``Check``). With it, a pattern that linear ranges pass
            is audited, and each quantity the audit finds gives a cut (``_audit_cuts``):
            the bound is then the least cost of any pattern the audit passes, and the
            pattern it ends with is one (the optimal method's release).
        raw_cubes: The populations' cubes before pooling (``tables.cubes.Cube``): the
            true size of each pooled category, which must not be computed exactly
            (``release_audit._judge``), makes it a target too.
        solves: Attacker's linear programmes allowed (a work limit).

    Returns:
        The bound, and the cells (population, table, key) that the pattern it ends with
        hides (primaries included; empty without one).
    """
    from suoja.protect.release_audit import ONE

    rules = policy.suppression_rules()
    codes = {d: dim.cube_codes for d, dim in catalogue.dimensions.items()}
    codes[ONE] = ("x",)
    joint = build_joint([*true_views, *earlier_views], catalogue.facts, rules, codes, [year])
    mine = f"tables {year}"
    decided = np.array([fact == mine for fact in joint.row_facts], dtype=bool)
    matrix = joint.matrix.tocsr()
    pooled = _pooled_targets(joint, year, raw_cubes or {})
    extra = sp.vstack([row for row, _ in pooled]).tocsr() if pooled else \
        sp.csr_matrix((0, matrix.shape[1]))
    sizes = np.array([v for _, v in pooled])
    # A point with every published figure, and every pooled category, at its true value.
    x = _feasible_point(sp.vstack([matrix, extra]).tocsr(),
                        np.concatenate([joint.lower, sizes]), np.concatenate([joint.upper, sizes]))
    if x is None:
        return LowerBound(0.0, False, 0, 0, "the earlier releases contradict this year's "
                          "tables"), []
    info = {(p, t, k): row for p, t, k, *row in cells.iter_rows()}
    members = _form_members(joint, year)
    n = int(decided.sum()) + len(pooled)
    primary, can_hide, free = (np.zeros(n, dtype=bool) for _ in range(3))
    cost, values = np.zeros(n), np.zeros(n)
    shown: list[list[tuple[str, str, str]]] = []
    group: list[str] = []
    for j, i in enumerate(np.flatnonzero(decided)):
        _, population, table, key = joint.row_terms[i][0]
        cells_of = [(population, t, k) for t, k in members[(population, table, key)]]
        found = [info[c] for c in cells_of if c in info]
        shown.append(cells_of)
        group.append(population)
        values[j] = joint.lower[i]
        primary[j] = any(r[1] for r in found)
        can_hide[j] = bool(found) and all(r[2] for r in found) and not primary[j]
        free[j] = bool(found) and all(r[3] for r in found)
        cost[j] = sum(r[4] for r in found)
    # Each pooled category (a count below the threshold that no cell shows) must not be
    # computed exactly: a target always hidden, in a group of its own (no singleton).
    for j, (_, size) in enumerate(pooled, start=n - len(pooled)):
        primary[j], values[j] = True, size
        shown.append([])
        group.append(f"pooled {j}")
    forms = sp.vstack([matrix[decided], extra]).tocsr()
    links = Links(matrix[~decided], joint.lower[~decided], joint.upper[~decided])
    keep = np.array([any(info[c][5] for c in cells_of if c in info) for cells_of in shown])

    def search(allowed: np.ndarray) -> tuple[LowerBound, np.ndarray | None]:
        verify = None if check is None else \
            _AuditCuts(check, joint, matrix, forms, shown, allowed, year)
        found = lower_bound(forms, x, primary, allowed, cost, rules, values,
                            singletons=rules.singleton_protection,
                            free=frozenset(np.flatnonzero(free).tolist()), links=links,
                            tie=values, verify=verify, groups=np.array(group),
                            exact_only=frozenset(range(n - len(pooled), n)), solves=solves,
                            time_limit=rules.time_limit)
        # Without a proven pattern, the last one linear ranges pass (the audit not reached).
        return found, found.pattern if found.pattern is not None or verify is None \
            else verify.last

    found_bound, pattern = search(can_hide)
    if check is not None and pattern is not None and (pattern & keep).any():
        # The catalogue's never-hide cells: the least-cost pattern without them, if there
        # is one. The bound stays that of every pattern (it may hide them).
        honoured, kept = search(can_hide & ~keep)
        if honoured.pattern is not None:
            found_bound = replace(found_bound, pattern=honoured.pattern, cost=honoured.cost)
            pattern = kept
    hidden = [] if pattern is None else [c for j in np.flatnonzero(pattern) for c in shown[j]]
    return found_bound, hidden


MAX_AUDITS = 30
"""Audits of patterns that linear ranges pass, in one search (a work limit)."""


class _AuditCuts:
    """``lower_bound``'s ``verify``: audit the pattern; for each quantity found, the cut
    that every pattern the audit passes meets (a combinatorial Benders cut).

    Hiding fewer cells only narrows what an outsider can work out, so a pattern the audit
    fails stays failed under any pattern that hides no other cell linked to the quantity
    (in its connected part of the joint programme): one of those must be hidden,
    ``sum z_c >= 1``. When the quantity is itself a secondary suppression it needs
    protecting only while hidden: ``sum z_c - z_q >= 0``. Cells no table publishes
    (implicit ones) are left out of the sum: hiding them changes nothing.
    """

    def __init__(self, check: Check, joint, matrix, forms,
                 shown: list[list[tuple[str, str, str]]], can_hide: np.ndarray,
                 year: int) -> None:
        from scipy.sparse.csgraph import connected_components

        pattern = matrix.copy()
        pattern.data = np.ones_like(pattern.data)
        graph = sp.bmat([[None, pattern.T], [pattern, None]], format="csr")
        _, labels = connected_components(graph, directed=False)
        label = labels[:matrix.shape[1]]
        self.form_label = np.array([label[forms[j].indices[0]] if forms[j].nnz else -1
                                    for j in range(forms.shape[0])])
        self.real = np.array([any(not _implicit(t) for _, t, _ in group) for group in shown])
        self.index = {(t, k): j for j, group in enumerate(shown) for _, t, k in group}
        self.target_label = {(t, k): label[row.indices[0]]
                             for _, t, k, _, row in joint.targets if row.nnz}
        self.check, self.shown, self.can_hide, self.year = check, shown, can_hide, year
        self.audits = 0
        self.last: np.ndarray | None = None

    def __call__(self, hidden: np.ndarray) -> list[tuple[np.ndarray, float]] | None:
        self.last = hidden.copy()
        if self.audits >= MAX_AUDITS:
            return None  # the work limit: the bound stands, not proven
        self.audits += 1
        try:
            failing = self.check([c for j in np.flatnonzero(hidden) for c in self.shown[j]])
        except SolverLimitError:
            return None  # the audit could not settle this pattern: the search stops here
        cuts = {}
        for year, table, key in sorted(failing):
            # An earlier year's quantity: any cell of this year may be what gives it away.
            mine = year == self.year
            j = self.index.get((table, key)) if mine else None
            where = self.form_label[j] if j is not None else \
                self.target_label.get((table, key)) if mine else None
            outside = self.can_hide & self.real & ~hidden
            if where is not None:
                outside &= self.form_label == where
            row, rhs = outside.astype(np.float64), 1.0
            if j is not None and self.can_hide[j] and self.real[j] and hidden[j]:
                # A secondary suppression (implicit cells are never published: not one).
                row[j], rhs = -1.0, 0.0
            cuts[(row.tobytes(), rhs)] = (row, rhs)
        return list(cuts.values())


def _implicit(table: str) -> bool:
    """Whether a table name is that of implicit cells (``T[dim=code]``)."""
    return "[" in table


def _pooled_targets(joint, year: int, raw_cubes: Mapping) -> list[tuple[sp.csr_matrix, float]]:
    """The row and true size of each category of the year that a table pools (a code
    below the threshold there) and that is not empty, from the cubes before pooling."""
    from suoja.codelists import TOTAL
    from suoja.tables.cubes import VALUE

    found = []
    for y, table, key, kind, row in joint.targets:
        population = table.removesuffix("[pooled]")
        if y != year or kind != "pooled" or population not in raw_cubes:
            continue
        finest = raw_cubes[population].finest
        coords = dict(part.split("=", 1) for part in key.split(";"))
        if not all(d in finest.columns for d in coords):
            continue
        size = int(finest.filter(*[pl.col(d) == c for d, c in coords.items() if c != TOTAL])
                   [VALUE].sum())
        if size >= 1:
            found.append((row, float(size)))
    return found


def _form_members(joint, year: int) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
    """Per cell of the year, every (table, key) of its block that shares its form."""
    out = {}
    for (y, population), block in joint.blocks.items():
        if y != year:
            continue
        frame = block.model.cells.filter(pl.col("table") != AUX).select("__form", "table", "key")
        groups: dict[int, list[tuple[str, str]]] = {}
        for form, table, key in frame.iter_rows():
            groups.setdefault(form, []).append((table, key))
        for form, table, key in frame.iter_rows():
            out[(population, table, key)] = groups[form]
    return out


def _feasible_point(matrix, lower: np.ndarray, upper: np.ndarray) -> np.ndarray | None:
    """Any non-negative point meeting every row (the true counts are one); None if none."""
    n = matrix.shape[1]
    highs = new_highs()
    pass_model(highs, matrix, np.zeros(n), np.full(n, INF), lower, upper)
    highs.run()
    if outcome(highs) != "optimal":
        return None
    return np.maximum(solution(highs), 0.0)


def seed_cells(hidden: Sequence[tuple[str, str, str]], cells: pl.DataFrame,
               ) -> dict[str, pl.DataFrame]:
    """The secondary suppressions of a pattern of ``joint_bound`` (primaries left out), per
    population, as the forced cells ``suoja.protect.protect`` takes (``table``, ``key``,
    ``up``, ``down``, ``reason``): each must not be computable, except the derived cells
    (``T[dim=code]``) the pattern leaves unknown, which are only hidden."""
    from suoja.protect.reasons import OPTIMAL_REASON
    from suoja.tables.cubes import is_implicit

    if not hidden:
        return {}
    from suoja.protect.per_population import hidden_frame

    chosen = hidden_frame(hidden)
    chosen = chosen.join(cells, on=["population", "table", "key"], how="inner").filter(
        ~pl.col("primary") & pl.col("can_hide"))
    # A derived cell is only left unknown (up = down = 0: no interval of its own).
    need = pl.when(is_implicit(pl.col("table"))).then(0).otherwise(1).cast(pl.Int64)
    return {population: frame.select(
                "table", "key", need.alias("up"), need.alias("down"),
                pl.lit(OPTIMAL_REASON).alias("reason"))
            for (population,), frame in chosen.partition_by("population", as_dict=True).items()}


def exact_cells(protected_cells: Mapping[str, pl.DataFrame],
                hidden: Sequence[tuple[str, str, str]]) -> dict[str, pl.DataFrame]:
    """The engine's cells (``suoja.protect.protect`` with the pattern forced, for its
    columns and the primaries' reasons) with exactly the pattern ``hidden``
    (population, table, key) hidden: a cell the engine hid beyond it is published again,
    and every hidden cell that is not primary is a secondary suppression of the optimal
    method (``reasons.OPTIMAL_REASON``)."""
    from suoja.protect.per_population import hidden_frame, with_pattern
    from suoja.protect.reasons import OPTIMAL_REASON

    chosen = hidden_frame(hidden)
    out = {}
    for name, cells in protected_cells.items():
        frame = with_pattern(cells, chosen, name)
        hide = pl.col("__hidden") | (pl.col("status") == "primary")
        primary = pl.col("status") == "primary"
        out[name] = frame.with_columns(
            pl.when(primary).then(pl.col("status")).when(hide).then(pl.lit("secondary"))
            .otherwise(pl.lit("published")).alias("status"),
            pl.when(hide).then(None).otherwise(pl.col("value")).alias("published"),
            pl.when(primary).then(pl.col("reason")).when(hide).then(pl.lit(OPTIMAL_REASON))
            .otherwise(None).alias("reason"),
            *[pl.when(hide & ~primary).then(None).otherwise(pl.col(c)).alias(c)
              for c in ("protects_table", "protects_key") if c in cells.columns],
        ).drop("__hidden")
    return out
