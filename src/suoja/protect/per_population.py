"""Each population's tables protected on its own, and the lower bound of what that costs.

The stage between the tables (cubes, pooling, implicit cells) and the joint audit of the
release (``suoja.pipeline``): the same inputs go to ``suoja.protect.protect`` and to
``suoja.protect.suppress.secondary_bound``.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from suoja.errors import RegisterError
from suoja.policy import Policy
from suoja.protect.knowledge import pooled_groups, structural_boxes
from suoja.protect.model import StructuralZeroError
from suoja.protect.single import force_single, protect_single_count
from suoja.tables.catalogue import Catalogue
from suoja.tables.cubes import cells_frame, implicit_cells, is_implicit
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


def release_bounds(cubes, pooled, tables, catalogue: Catalogue, policy: Policy,
                   log: pl.DataFrame, protected_cells: Mapping[str, pl.DataFrame],
                   ) -> pl.DataFrame:
    """Per population with dimensions: what its secondary suppressions cost
    (``loss.secondary_cost``) and the proven lower bound of ``suppress.secondary_bound``.

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
        # Below the bound (a negative gap) would mean a constraint every safe pattern
        # meets is broken: the summary says so rather than hide it.
        gap = 0.0 if abs(cost - bound.value) <= 1e-9 or cost == 0 else \
            (cost - bound.value) / cost
        rows.append((name, cost, bound.value, bound.proven, gap, bound.reason))
    return pl.DataFrame(rows, orient="row", schema={
        "population": pl.String, "cost": pl.Float64, "lower_bound": pl.Float64,
        "proven": pl.Boolean, "gap": pl.Float64, "reason": pl.String})


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
