"""Loss as the user defines it: cell and unit costs, the catalogue's priorities, and cells
never to hide unless no pattern can do without them.

The oracle is brute force, sharing no code with the engine: every integer filling of a
small two-way table that agrees with what is published, enumerated with numpy.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from test_protect_support import table_cells
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import CatalogueError
from suoja.policy import read_policy
from suoja.protect import SuppressionRules, protect
from suoja.protect.primary import weights
from suoja.tables.catalogue import read_catalogue
from suoja.tables.priorities import Priority, never_hide_report, priority_frame

REPO = Path(__file__).resolve().parents[1]
RULES = SuppressionRules(interval="threshold", singleton_protection=False)


def _cell(i: int | None, j: int | None) -> str:
    return f"d0={'_T' if i is None else f'd0{i}'};d1={'_T' if j is None else f'd1{j}'}"


def brute_ranges(counts: np.ndarray, hidden: set[str]) -> dict[str, tuple[int, int]]:
    """The range of every hidden cell over all non-negative integer tables whose
    published cells (inner, margins, grand total) equal those of ``counts``."""
    rows, cols = counts.shape
    cap = int(counts.sum())
    free = [(i, j) for i in range(rows) for j in range(cols) if _cell(i, j) in hidden]
    grids = np.meshgrid(*[np.arange(cap + 1)] * len(free), indexing="ij")
    n = grids[0].size if free else 1
    x = np.broadcast_to(counts, (n, rows, cols)).copy()
    for k, (i, j) in enumerate(free):
        x[:, i, j] = grids[k].ravel()
    ok = np.ones(n, dtype=bool)
    for i, j in itertools.product([*range(rows), None], [*range(cols), None]):
        if _cell(i, j) in hidden or (i is not None and j is not None):
            continue
        got = x[:, i if i is not None else slice(None), j if j is not None else slice(None)]
        want = counts[i if i is not None else slice(None), j if j is not None else slice(None)]
        ok &= got.reshape(n, -1).sum(axis=1) == int(np.sum(want))
    x = x[ok]
    out = {}
    for i, j in itertools.product([*range(rows), None], [*range(cols), None]):
        if _cell(i, j) in hidden:
            got = x[:, i if i is not None else slice(None), j if j is not None else slice(None)]
            values = got.reshape(len(x), -1).sum(axis=1)
            out[_cell(i, j)] = (int(values.min()), int(values.max()))
    return out


def safe(counts: np.ndarray, hidden: set[str], threshold: int = 5) -> bool:
    """No hidden cell is exact, and none is known to be 1..threshold-1."""
    return all(hi > lo and (lo <= 0 or hi >= threshold)
               for lo, hi in brute_ranges(counts, hidden).values())


def _hidden(result: pl.DataFrame) -> set[str]:
    return set(result.filter(pl.col("status") != "published")["key"].to_list())


def _priority(cells: pl.DataFrame, keys: list[str], **kw) -> pl.DataFrame:
    return pl.DataFrame({"table": ["t"] * len(keys), "key": keys,
                         "weight": [kw.get("weight", 1.0)] * len(keys),
                         "never_hide": [kw.get("never_hide", False)] * len(keys)})


COUNTS = np.array([[2, 6, 7], [6, 5, 9], [8, 7, 6]])


def test_a_never_hide_cell_is_kept_when_another_pattern_exists():
    cells, domains, finest = table_cells(COUNTS)
    plain = protect(cells, domains, finest, rules=RULES)
    secondaries = plain.filter(pl.col("status") == "secondary")["key"].to_list()
    assert secondaries
    keep = sorted(k for k in secondaries if "_T" not in k)[:1]
    kept = protect(cells, domains, finest, rules=RULES,
                   priority=_priority(cells, keep, never_hide=True))
    assert not set(keep) & _hidden(kept)
    assert safe(COUNTS, _hidden(kept))
    assert safe(COUNTS, _hidden(plain))


def test_a_weight_steers_secondary_suppression_away_from_a_cell():
    cells, domains, finest = table_cells(COUNTS)
    plain = protect(cells, domains, finest, rules=RULES)
    chosen = sorted(plain.filter(pl.col("status") == "secondary")["key"].to_list())
    weighted = protect(cells, domains, finest, rules=RULES,
                       priority=_priority(cells, chosen, weight=50.0))
    assert set(chosen) - _hidden(weighted)
    assert safe(COUNTS, _hidden(weighted))


def test_a_never_hide_cell_no_pattern_can_spare_is_hidden_and_reported():
    # A 2 x 2 table whose margins may not be hidden: the small cell's row partner can only
    # be kept by publishing the small cell's value.
    counts = np.array([[2, 6], [7, 8]])
    cells, domains, finest = table_cells(counts)
    margins = [k for k in cells["key"].to_list() if "_T" in k]
    keep = [_cell(0, 1), *margins]
    result = protect(cells, domains, finest, rules=RULES,
                     priority=_priority(cells, keep, never_hide=True))
    hidden = _hidden(result)
    assert _cell(0, 1) in hidden
    assert safe(counts, hidden)
    # The oracle: no pattern that keeps every never-hide cell published is safe.
    others = [k for k in cells["key"].to_list() if k not in keep and k != _cell(0, 0)]
    for r in range(len(others) + 1):
        for extra in itertools.combinations(others, r):
            assert not safe(counts, {_cell(0, 0), *extra})
    report = never_hide_report({"p": result}, [Priority("t", {}, never_hide=True)])
    row = report.filter(pl.col("key") == _cell(0, 1)).to_dicts()[0]
    assert row["status"] == "secondary" and row["reason"]


def test_a_primary_never_hide_cell_stays_hidden_and_is_reported():
    cells, domains, finest = table_cells(COUNTS)
    result = protect(cells, domains, finest, rules=RULES,
                     priority=_priority(cells, [_cell(0, 0)], never_hide=True))
    assert _cell(0, 0) in _hidden(result)
    report = never_hide_report({"p": result}, [Priority("t", {"d0": frozenset({"d00"}),
                                                              "d1": frozenset({"d10"})},
                                                         never_hide=True, why="headline")])
    assert report.to_dicts() == [{"table": "t", "key": _cell(0, 0), "status": "primary",
                                  "reason": report["reason"][0], "why": "headline"}]


def test_costs_per_cell_and_per_unit():
    facts = {"value": np.array([1, 10, 100]), "cells": np.array([1, 1, 2]),
             "grand_total": np.array([False, False, False])}
    by_cells = weights(facts, SuppressionRules(cell_cost=1, unit_cost=0))
    by_units = weights(facts, SuppressionRules(cell_cost=0, unit_cost=1))
    assert list(np.argsort(by_cells)) == [0, 1, 2]
    assert by_units[2] > 10 * by_units[1] > 10 * by_units[0]
    # Fewer cells always win under the default costs, whatever the persons.
    few = weights({"value": np.array([1000, 1]), "cells": np.array([1, 2]),
                   "grand_total": np.array([False, False])})
    assert few[0] < few[1]
    with pytest.raises(ValueError, match="both 0"):
        SuppressionRules(cell_cost=0, unit_cost=0)


def test_policy_reads_the_costs(tmp_path):
    text = (REPO / "policies" / "default.toml").read_text(encoding="utf-8")
    path = tmp_path / "p.toml"
    path.write_text(text.replace("unit_cost = 0", "unit_cost = 0.5"), encoding="utf-8")
    rules = read_policy(path).suppression_rules()
    assert (rules.cell_cost, rules.unit_cost) == (1, 0.5)


def test_the_shipped_catalogue_declares_priorities_that_select_cells():
    catalogue = read_catalogue()
    assert catalogue.priorities
    ids = {t.id for t in catalogue.tables}
    assert {p.table for p in catalogue.priorities} <= ids


@pytest.mark.parametrize(("entry", "message"), [
    ('table = "nope"\nweight = 2', "priorities[0] (line"),
    ('table = "new_clients"\ncells = { colour = "X" }', "not a dimension"),
    ('table = "new_clients"\ncells = { sex = "Q" }', "code 'Q'"),
    ('table = "new_clients"\nweight = -1', "positive number"),
])
def test_a_wrong_priority_is_refused_naming_the_catalogue_line(tmp_path, entry, message):
    text = (REPO / "data" / "catalogue.toml").read_text(encoding="utf-8")
    text = text.split("\n[[priorities]]", 1)[0]
    path = tmp_path / "catalogue.toml"
    path.write_text(f"{text}\n[[priorities]]\n{entry}\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        read_catalogue(path)
    result = CliRunner().invoke(app, ["publish", "2025", "--catalogue", str(path),
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "priorities[0]" in result.output
    assert not (tmp_path / "out" / "2025").exists()


def test_priority_frame_multiplies_weights_of_overlapping_entries():
    cells, _, _ = table_cells(COUNTS)
    frame = priority_frame(cells, [Priority("t", {"d0": frozenset({"_T"})}, weight=3.0),
                                   Priority("t", {"d1": frozenset({"_T"})}, weight=2.0)])
    both = frame.filter(pl.col("key") == _cell(None, None))
    assert both["weight"].to_list() == [6.0]
    assert frame.height == 7


def test_the_embedded_release_keeps_its_never_hide_cells_and_says_so(embedded_release):
    """The shipped catalogue's never-hide cells of 2025 are all published, and the privacy
    officer's page and restricted/never_hide.csv list each with its fate."""
    restricted = embedded_release.target / "restricted"
    report = pl.read_csv(restricted / "never_hide.csv")
    assert report.height == 3 and set(report["status"]) == {"published"}
    for table, key in report.select("table", "key").iter_rows():
        spec = read_catalogue().table(table)
        codes = dict(part.split("=") for part in key.split(";"))
        published = pl.read_csv(embedded_release.target / "open" / f"{table}.csv",
                                infer_schema=False)
        row = published.filter(*[pl.col(d) == codes[d] for d in spec.dimensions])
        assert row["value"].to_list()[0] not in (None, "")
    page = (restricted / "review.html").read_text(encoding="utf-8")
    assert "never to hide" in page and page.count("<code>sex=") >= 3
