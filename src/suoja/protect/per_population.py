"""Each population's tables protected on its own, and the lower bound of what that costs.

The stage between the tables (cubes, pooling, implicit cells) and the joint audit of the
release (``suoja.pipeline``): the same inputs go to ``suoja.protect.protect`` and to
``suoja.protect.suppress.secondary_bound``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from suoja.errors import RegisterError
from suoja.policy import Policy
from suoja.protect.bound import LowerBound
from suoja.protect.knowledge import pooled_groups, structural_boxes
from suoja.protect.model import StructuralZeroError
from suoja.protect.protected import CONFIDENTIAL
from suoja.protect.single import force_single, protect_single_count
from suoja.tables.catalogue import Catalogue
from suoja.tables.cubes import cell_key, cells_frame, implicit_cells, is_implicit
from suoja.tables.priorities import priority_frame


def population_inputs(cubes, pooled, tables, catalogue: Catalogue, policy: Policy):
    """Per population: its name, its cells (implicit cells included) and, for a
    population with dimensions, the arguments ``protect`` and ``secondary_bound`` take
    beside the cells (None for a single count)."""
    codes = {d: dim.cube_codes for d, dim in catalogue.dimensions.items()}
    for name, cube in cubes.items():
        cells = cells_frame(tables, cube, catalogue)
        cells = pl.concat([cells, implicit_cells(cells, catalogue, name, cube.domains, "value")])
        if not cube.dimensions:
            yield name, cells, None
            continue
        boxes = structural_boxes(catalogue.facts, name, cube.domains, codes,
                                 pooled_groups(pooled[name].pooled))
        yield name, cells, {"domains": cube.domains, "finest": cube.finest,
                            "hierarchies": cube.hierarchies, "rules": policy.suppression_rules(),
                            "structural": boxes, "derived": is_implicit(pl.col("table")),
                            "priority": priority_frame(cells, catalogue.priorities)}


def published_tables(tables, protected_cells: Mapping[str, pl.DataFrame],
                     catalogue: Catalogue) -> dict[str, pl.DataFrame]:
    """Each table as published: ``year``, its dimensions, ``value`` (null where hidden) and
    ``status`` (``CONFIDENTIAL`` where hidden), from the cells of every population
    (``key``, ``published``, ``status``)."""
    out = {}
    for spec in catalogue.tables:
        rows = protected_cells[spec.population].filter(pl.col("table") == spec.id)
        cells = rows.select("key", "published", "status")
        out[spec.id] = (tables[spec.id].with_columns(cell_key(spec).alias("key"))
                        .join(cells, on="key", how="left")
                        .select("year", *spec.dimensions, pl.col("published").alias("value"),
                                pl.when(pl.col("status") == "published").then(None)
                                .otherwise(pl.lit(CONFIDENTIAL)).alias("status")))
    return out


def hidden_frame(hidden) -> pl.DataFrame:
    """A pattern's cells (population, table, key) as a frame (empty: no cell hidden)."""
    return pl.DataFrame(list(hidden), orient="row", schema={
        "population": pl.String, "table": pl.String, "key": pl.String})


def with_pattern(cells: pl.DataFrame, chosen: pl.DataFrame, population: str) -> pl.DataFrame:
    """``cells`` of ``population`` with ``__hidden``: whether the pattern ``chosen``
    (``hidden_frame``) hides the cell."""
    mine = chosen.filter(pl.col("population") == population).select(
        "table", "key", pl.lit(True).alias("__hidden"))
    return cells.join(mine, on=["table", "key"], how="left").with_columns(
        pl.col("__hidden").fill_null(False))


def pattern_audit(cubes, pooled, tables, catalogue: Catalogue, policy: Policy,
                  earlier_views: Sequence, year: int):
    """The release audit of any pattern (``joint_bound.Check``): the joint audit's
    verdicts (every population, the earlier releases, the facts, the publication rules),
    the singleton gate, and the singleton protection each population's engine gives
    (``necessity.UnhideCheck.singleton_failures``: the unit alone in a singleton must not
    narrow another hidden cell too far), as the (year, table, key) of each quantity
    found."""
    from suoja.protect.necessity import UnhideCheck
    from suoja.protect.release_audit import audit_views

    base = {name: cells for name, cells, _ in
            population_inputs(cubes, pooled, tables, catalogue, policy)}

    def check(hidden: list[tuple[str, str, str]]) -> set[tuple[int, str, str]]:
        chosen = hidden_frame(hidden)
        cells = {}
        for name, frame in base.items():
            frame = with_pattern(frame, chosen, name)
            hide = pl.col("__hidden")
            cells[name] = frame.with_columns(
                pl.when(hide).then(pl.lit("secondary")).otherwise(pl.lit("published"))
                .alias("status"),
                pl.when(hide).then(None).otherwise(pl.col("value")).alias("published"),
            ).drop("__hidden")
        published = published_tables(tables, cells, catalogue)
        log = pl.concat([c.filter((pl.col("status") != "published")
                                  & ~is_implicit(pl.col("table"))).select(
            "table", pl.col("key").alias("cell"), pl.col("value").alias("original"),
            pl.lit("secondary").alias("rule")) for c in cells.values()])
        unhide = UnhideCheck(published, log, year, catalogue, policy, list(earlier_views))
        found = audit_views(unhide.base.views, catalogue, policy, year, exact=False)
        found = pl.concat([found.filter(~pl.col("ok")).select("year", "table", "key"),
                           singleton_findings(cubes, pooled, tables, catalogue, policy, cells,
                                              year).select("year", "table", "key")])
        failing = set(found.iter_rows())
        if policy.suppression_rules().singleton_protection:
            failing |= unhide.singleton_failures()
        return failing

    return check


def protect_populations(cubes, pooled, tables, catalogue: Catalogue, policy: Policy,
                         forced: Mapping[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Primary and secondary suppression of each population's tables on its own."""
    from suoja.protect import protect

    protected_cells: dict[str, pl.DataFrame] = {}
    for name, cells, inputs in population_inputs(cubes, pooled, tables, catalogue, policy):
        population = catalogue.populations[name]
        if inputs is not None:
            try:
                protected_cells[name] = protect(cells, **inputs, unit=population.units("en"),
                                                forced=forced.get(name))
            except StructuralZeroError as e:
                raise RegisterError("the register", [f"population {name}: {e}"]) from None
        else:
            protected_cells[name] = protect_single_count(cells, policy.min_count, population)
            if name in forced:
                protected_cells[name] = force_single(protected_cells[name], forced[name])
    return protected_cells


RELEASE = "(release)"
"""The ``population`` of the row of ``release_bounds`` that covers the whole release."""


def release_bounds(cubes, pooled, tables, catalogue: Catalogue, policy: Policy,
                   log: pl.DataFrame, protected_cells: Mapping[str, pl.DataFrame],
                   whole: LowerBound | None = None) -> pl.DataFrame:
    """What the secondary suppressions cost (``loss.secondary_cost``) against a proven
    lower bound: per population with dimensions, that of ``suppress.secondary_bound``;
    then, given ``whole`` (``joint_bound.joint_bound``: all populations together against
    the earlier releases), one row ``RELEASE`` with the larger of it and the sum of the
    populations' bounds (both are valid).

    Columns ``population``, ``cost``, ``lower_bound``, ``proven``, ``gap`` (share of the
    cost above the bound), ``reason`` (why the search stopped short, if it did).
    """
    from suoja.protect.loss import secondary_cost
    from suoja.protect.suppress import secondary_bound

    rows = []
    for name, cells, inputs in population_inputs(cubes, pooled, tables, catalogue, policy):
        if inputs is None:
            continue
        bound = secondary_bound(cells, **inputs)
        mine = log.filter(pl.col("table").is_in(protected_cells[name]["table"].unique()
                                                .implode()))
        cost = secondary_cost(mine, inputs["priority"], policy.cell_cost, policy.unit_cost)[0]
        rows.append(_row(name, cost, bound.value, bound.proven, bound.reason))
    if whole is not None and rows:
        each = sum(r[2] for r in rows)
        # Every population's secondaries, single counts the joint rounds hid included.
        priority = pl.concat([priority_frame(c, catalogue.priorities)
                              for c in protected_cells.values()])
        cost = secondary_cost(log, priority, policy.cell_cost, policy.unit_cost)[0]
        rows.append(_row(RELEASE, cost, max(whole.value, each), whole.proven,
                         whole.reason if whole.value >= each else ""))
    return pl.DataFrame(rows, orient="row", schema={
        "population": pl.String, "cost": pl.Float64, "lower_bound": pl.Float64,
        "proven": pl.Boolean, "gap": pl.Float64, "reason": pl.String})


def _row(name: str, cost: float, bound: float, proven: bool, reason: str) -> tuple:
    # Below the bound (a negative gap) would mean a constraint every safe pattern meets
    # is broken: the summary says so rather than hide it.
    gap = 0.0 if abs(cost - bound) <= 1e-9 or cost == 0 else (cost - bound) / cost
    return (name, cost, bound, proven, gap, reason)


def singleton_findings(cubes, pooled, tables, catalogue: Catalogue, policy: Policy,
                       protected_cells: Mapping[str, pl.DataFrame], year: int) -> pl.DataFrame:
    """Audit rows (``release_audit.SCHEMA``, all failing) for every hidden cell that the
    person behind a singleton of its population, implicit singletons included, could
    compute exactly (``suoja.protect.suppress.singleton_exposures_of``): a check of the
    finished pattern that shares no code with the engine's certificates or with unpick.
    Empty when there is none, as there should be."""
    from suoja.protect.release_audit import SCHEMA
    from suoja.protect.suppress import singleton_exposures_of

    rows = []
    for name, cells, inputs in population_inputs(cubes, pooled, tables, catalogue, policy):
        if inputs is None:
            continue
        hidden = protected_cells[name].filter(pl.col("status") != "published")
        for (s_table, s_key), (table, key) in singleton_exposures_of(cells, hidden, **inputs):
            rows.append((year, table, key, "hidden", None, None, True, False,
                         f"the person behind the one unit of {s_table} {s_key} could compute "
                         "it exactly", "singleton"))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")
