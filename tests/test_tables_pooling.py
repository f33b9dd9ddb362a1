"""Tables from the register: margins, full code lists, pooling consistent across tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from suoja.protect.pooling import choose_pool, pool
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue
from suoja.tables.cubes import compute_cubes, compute_tables

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


def test_pooled_category_is_pooled_in_every_table_of_the_population(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    cubes = compute_cubes(frames, CATALOGUE, 2025)
    result = pool(cubes["new_clients"], CATALOGUE, ("citizenship",), 5)
    assert "NPL" in result.pooled["citizenship"]
    assert set(result.cube.finest["citizenship"]) == {"_O"}
    assert set(result.log["table"]) == {"new_clients_citizenship", "finland_victims_citizenship"}
    assert (result.log["rule"] == "pooled").all() and (result.log["published"] == "_O").all()
