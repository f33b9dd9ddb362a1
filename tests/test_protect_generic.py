"""Any frequency table: hierarchy files, computed or checked margins, the optimal method."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_protect_support import failures, table_cells

from suoja.protect import SuppressionRules, protect
from suoja.protect.generic import protect_frequency_table, read_code_parent_csv, read_hrc


def test_read_hrc(tmp_path):
    path = tmp_path / "region.hrc"
    path.write_text("N\n@N1\n@N2\n@@N2a\nS\n@S1\n", encoding="utf-8")
    assert read_hrc(path) == {"N": "_T", "N1": "N", "N2": "N", "N2a": "N2", "S": "_T",
                              "S1": "S"}


def test_read_hrc_refuses_a_jump_in_depth(tmp_path):
    path = tmp_path / "bad.hrc"
    path.write_text("N\n@@N1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_hrc(path)


def test_read_code_parent_csv(tmp_path):
    path = tmp_path / "region.csv"
    path.write_text("code,parent\nN,\nN1,N\nN2,N\nS,_T\n", encoding="utf-8")
    assert read_code_parent_csv(path) == {"N": "_T", "N1": "N", "N2": "N", "S": "_T"}
    (tmp_path / "bad.csv").write_text("code,up\nN,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="code and parent"):
        read_code_parent_csv(tmp_path / "bad.csv")


def _leaves() -> pl.DataFrame:
    rows = [("N1", "F", 3), ("N1", "M", 9), ("N2", "F", 7), ("N2", "M", 8),
            ("S1", "F", 12), ("S1", "M", 1), ("S2", "F", 6), ("S2", "M", 10)]
    return pl.DataFrame(rows, schema=["region", "sex", "persons"], orient="row")


HIERARCHY = {"region": {"N1": "N", "N2": "N", "S1": "S", "S2": "S"}}


def test_margins_and_parents_are_computed_and_protected():
    rules = SuppressionRules()
    result = protect_frequency_table(_leaves(), ["region", "sex"], "persons", HIERARCHY,
                                     False, rules)
    assert result.height == 7 * 3  # 4 leaves + 2 parents + total, by F, M, total
    values = dict(zip(result["key"], result["persons"], strict=True))
    assert values["region=N;sex=F"] == 10 and values["region=_T;sex=_T"] == 56
    domains = {"region": ["N1", "N2", "S1", "S2"], "sex": ["F", "M"]}
    assert failures(result.rename({"persons": "value"}), domains, rules, HIERARCHY) == []


def test_given_margins_are_checked():
    full = protect_frequency_table(_leaves(), ["region", "sex"], "persons", HIERARCHY)
    given = full.select("region", "sex", "persons")
    again = protect_frequency_table(given, ["region", "sex"], "persons", HIERARCHY, True)
    assert again.select("key", "status").equals(full.select("key", "status"))
    wrong = given.with_columns(
        pl.when((pl.col("region") == "S") & (pl.col("sex") == "_T")).then(40)
        .otherwise(pl.col("persons")).alias("persons"))
    with pytest.raises(ValueError, match=r"region=S, sex=_T\): persons is 40 but its parts add "
                                         r"up to 29"):
        protect_frequency_table(wrong, ["region", "sex"], "persons", HIERARCHY, True)


def test_margins_without_the_flag_are_refused():
    with_total = pl.concat([_leaves(), pl.DataFrame({"region": ["_T"], "sex": ["F"],
                                                     "persons": [28]})])
    with pytest.raises(ValueError, match=r"row 9 \(region=_T, sex=F\) is a total"):
        protect_frequency_table(with_total, ["region", "sex"], "persons")


@pytest.mark.parametrize("seed", range(4))
def test_optimal_is_no_worse_than_the_heuristic(seed):
    counts = np.random.default_rng(seed).choice([0, 1, 2, 4, 7, 10, 20], size=(4, 5))
    cells, domains, finest = table_cells(counts)
    costs = {}
    for method in ("heuristic", "optimal"):
        rules = SuppressionRules(method=method, singleton_protection=False)
        result = protect(cells, domains, finest, rules=rules)
        assert failures(result, domains, rules) == []
        costs[method] = (result["status"] == "secondary").sum()
    assert costs["optimal"] <= costs["heuristic"]


def test_optimal_with_singletons_passes_the_audit():
    counts = np.array([[1, 1, 7, 9], [3, 8, 6, 12], [10, 2, 9, 11]])
    cells, domains, finest = table_cells(counts)
    rules = SuppressionRules(method="optimal")
    assert failures(protect(cells, domains, finest, rules=rules), domains, rules) == []
