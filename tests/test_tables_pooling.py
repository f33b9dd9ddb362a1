"""Tables from the register: margins, full code lists, pooling consistent across tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest

from suoja.protect.pooling import choose_pool, pool
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue
from suoja.tables.cubes import Cube, cells_frame, compute_cubes, compute_tables

CATALOGUE = read_catalogue()


def tables_of(register: Path, year: int = 2025) -> dict[str, pl.DataFrame]:
    frames = read_register(register).frames
    return compute_tables(compute_cubes(frames, CATALOGUE, year), CATALOGUE, year)


def test_every_table_has_year_codes_and_all_categories(tiny_register: Path) -> None:
    tables = tables_of(tiny_register)
    new_clients = tables["new_clients"]
    assert new_clients.columns == ["year", "sex", "age_group", "value"]
    assert new_clients.height == (3 + 1) * (7 + 1)
    assert set(new_clients["year"]) == {2025}
    assert tables["new_children"].to_dicts() == [{"year": 2025, "value": 1}]


def test_margins_are_sums_of_their_parts(tiny_register: Path) -> None:
    for spec in CATALOGUE.tables:
        table = tables_of(tiny_register)[spec.id]
        for dim in spec.dimensions:
            others = [d for d in spec.dimensions if d != dim]
            parts = table.filter(pl.col(dim) != "_T").group_by(others).agg(pl.col("value").sum()) \
                if others else table.filter(pl.col(dim) != "_T").select(pl.col("value").sum())
            totals = table.filter(pl.col(dim) == "_T").select(*others, "value")
            joined = totals.join(parts, on=others, suffix="_sum") if others else \
                totals.with_columns(parts["value"].alias("value_sum"))
            assert (joined["value"] == joined["value_sum"]).all(), (spec.id, dim)


def test_tiny_register_figures(tiny_register: Path) -> None:
    tables = tables_of(tiny_register)
    def cell(table: str, **codes: str) -> int:
        frame = tables[table]
        for dim in CATALOGUE.table(table).dimensions:
            frame = frame.filter(pl.col(dim) == codes.get(dim, "_T"))
        return int(frame["value"][0])
    assert cell("applications") == 3
    assert cell("decisions", decision="REJECTED") == 1 and cell("rejections", rejection_reason="NO_NEED") == 1
    assert cell("new_clients", sex="F", age_group="Y30T39") == 1
    assert cell("finland_victims", sex="F") == 1
    assert cell("exploitation_forms") == 2 and cell("finland_forms") == 1
    assert cell("finland_forced_labour_sectors", sector="02") == 1
    assert cell("clients_ended", end_reason="NO_NEED") == 1
    assert cell("clients_year_end", role="CHILD") == 1 and cell("clients_year_end") == 2
    assert cell("reflection_periods") == 1


@pytest.mark.parametrize(("counts", "pooled"), [
    ({"t": {"A": 9, "B": 3, "C": 2}}, {"B", "C"}),
    # _O of 3 stays 3 (primary suppression hides it): topping it up with A would break the
    # public rule "a pooled country has fewer than five" that the audit relies on.
    ({"t": {"A": 9, "B": 3}}, {"B"}),
    ({"t": {"A": 9, "B": 8, "C": 3, "D": 0}}, {"C", "D"}),
    ({"t": {"A": 9, "B": 8}, "u": {"A": 2, "B": 8}}, set()),  # small only in a sibling: shown
    ({"t": {"A": 9, "B": 3}, "u": {"A": 2, "B": 3}}, {"B"}),  # the reference decides
    ({"t": {"A": 9, "B": 8, "C": 1}, "u": {"A": 0, "B": 1, "C": 1}}, {"C"}),
])
def test_choose_pool(counts: dict, pooled: set) -> None:
    codes = tuple(sorted({c for t in counts.values() for c in t}))
    chosen = choose_pool(counts, codes, 5)[0]
    assert chosen == pooled
    # The public rule, checked on the reference (the first table): pooled iff below 5.
    reference = next(iter(counts.values()))
    assert chosen == {c for c in codes if reference.get(c, 0) < 5}


def test_a_category_small_everywhere_is_pooled_in_every_table(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    cubes = compute_cubes(frames, CATALOGUE, 2025)
    result = pool(cubes["new_clients"], CATALOGUE, ("citizenship",), 5)
    assert "NPL" in result.pooled["citizenship"]
    assert set(result.cube.finest["citizenship"]) == {"_O"}
    assert set(result.log["table"]) == {"new_clients_citizenship", "finland_victims_citizenship"}
    assert (result.log["rule"] == "pooled").all() and (result.log["published"] == "_O").all()


def _cube(counts: dict[tuple[str, str], int]) -> Cube:
    """A new-clients cube of (citizenship, in_finland) counts; other dimensions fixed."""
    dims = CATALOGUE.populations["new_clients"].dimensions
    fixed = {"sex": "F", "age_group": "Y18T29", "residence_status": "WORK"}
    rows = [{**fixed, "citizenship": c, "in_finland": f, "value": n}
            for (c, f), n in counts.items()]
    finest = pl.DataFrame(rows).select(*dims, pl.col("value").cast(pl.Int64))
    domains = {d: CATALOGUE.dimensions[d].cube_codes for d in dims}
    return Cube("new_clients", dims, domains, finest)


def test_each_table_pools_by_its_own_counts() -> None:
    """SOM has 7 new clients, 1 exploited in Finland: listed among all new clients,
    counted in Other countries among those exploited in Finland (as the seed review pools
    chart by chart). ALB (2) is pooled in both; NPL (6, all in Finland) listed in both."""
    result = pool(_cube({("SOM", "N"): 6, ("SOM", "Y"): 1, ("NPL", "Y"): 6, ("ALB", "N"): 2}),
                  CATALOGUE, ("citizenship",), 5)
    assert "ALB" in result.pooled["citizenship"] and "SOM" not in result.pooled["citizenship"]
    assert result.cube.table_pooled == {"finland_victims_citizenship": {"citizenship": ("SOM",)}}
    tables = compute_tables({"new_clients": result.cube},
                            replace(CATALOGUE, tables=CATALOGUE.tables_of("new_clients")), 2025)
    def values(table: str) -> dict[str, int]:
        return dict(tables[table].select("citizenship", "value").iter_rows())
    assert values("new_clients_citizenship")["SOM"] == 7
    assert values("new_clients_citizenship")["_O"] == 2
    assert "SOM" not in values("finland_victims_citizenship")
    assert values("finland_victims_citizenship")["_O"] == 1
    assert values("finland_victims_citizenship")["NPL"] == 6
    log = result.log.filter(pl.col("cell") == "citizenship=SOM")
    assert log.select("table", "original").rows() == [("finland_victims_citizenship", 1)]
    assert log["reason"][0] == "1 person, below the threshold of 5: counted in Other " \
        "countries (_O) instead"
    # The engine's cells: that table's own _O is its own code, a parent of _O and SOM.
    cells = cells_frame(tables, result.cube, CATALOGUE)
    own = cells.filter(pl.col("table") == "finland_victims_citizenship",
                       pl.col("key") == "citizenship=_O")
    assert own["citizenship"].to_list() == ["_O~finland_victims_citizenship"]
    assert result.cube.hierarchies == {"citizenship": {
        "_O": "_O~finland_victims_citizenship", "SOM": "_O~finland_victims_citizenship"}}


def test_slices_that_do_not_nest_pool_by_the_widest_table() -> None:
    """Two tables of men and of women only: their slices do not nest, so a category small
    in the widest table (here, all new clients) is pooled in every table, as before."""
    from suoja.tables.catalogue import TableSpec

    specs = [TableSpec(f"by_{sex}", "new_clients", ("citizenship",), {"sex": sex}, {}, {})
             for sex in ("F", "M")] + [CATALOGUE.table("new_clients_citizenship")]
    catalogue = replace(CATALOGUE, tables=specs)
    cube = _cube({("SOM", "N"): 6, ("ALB", "N"): 2})
    result = pool(cube, catalogue, ("citizenship",), 5)
    assert result.cube.table_pooled == {}
    assert "SOM" not in result.pooled["citizenship"]
