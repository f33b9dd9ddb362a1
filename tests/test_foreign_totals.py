"""Tables from other tools name their totals ``Total`` (tau-ARGUS, sdcTable,
GaussSuppression, a spreadsheet's pivot table). Taken for a category, such a row was
summed into the margins a second time, and the published grand total (doubled) gave a
hidden cell back. ``suoja protect`` now refuses a code that is the sum of the others and
reads it as the total when told so with ``--total``.

The oracle is independent of suoja's audit: scipy's LP gives, from the published cells
alone and the sums an outsider knows, the lowest and highest value of each hidden cell.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linprog
from typer.testing import CliRunner

from suoja.cli import app
from suoja.protect.generic import disguised_totals, protect_frequency_table

runner = CliRunner()
INNER = {("A", "F"): 3, ("A", "M"): 10, ("B", "F"): 12, ("B", "M"): 7, ("C", "F"): 1,
         ("C", "M"): 20}


def _with_totals(total: str = "Total") -> list[str]:
    """The table as tau-ARGUS users write it: inner cells, then every margin."""
    lines = ["region,sex,count"] + [f"{r},{s},{v}" for (r, s), v in INNER.items()]
    regions, sexes = sorted({r for r, _ in INNER}), sorted({s for _, s in INNER})
    for r in regions:
        lines.append(f"{r},{total},{sum(v for (a, _), v in INNER.items() if a == r)}")
    for s in sexes:
        lines.append(f"{total},{s},{sum(v for (_, b), v in INNER.items() if b == s)}")
    lines.append(f"{total},{total},{sum(INNER.values())}")
    return lines


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _lp_ranges(published: pl.DataFrame, total: str) -> dict[tuple[str, str], tuple[float, float]]:
    """Lowest and highest value of each hidden inner cell given every published cell, the
    table's sums and counts >= 0 (scipy only; nothing from suoja)."""
    keys = list(INNER)
    shown = {(r, s): int(v) for r, s, v in published.select("region", "sex", "value")
             .iter_rows() if v is not None}
    rows, rhs = [], []
    for r, s in itertools.chain(keys, [(r, total) for r in "ABC"], [(total, s) for s in "FM"],
                                [(total, total)]):
        if (r, s) not in shown:
            continue
        rows.append([1.0 if (r in (k[0], total)) and (s in (k[1], total)) else 0.0
                     for k in keys])
        rhs.append(shown[(r, s)])
    out = {}
    for i, key in enumerate(keys):
        if key in shown:
            continue
        c = np.zeros(len(keys))
        c[i] = 1.0
        lo = linprog(c, A_eq=rows, b_eq=rhs, bounds=(0, None)).fun
        hi = -linprog(-c, A_eq=rows, b_eq=rhs, bounds=(0, None)).fun
        out[key] = (lo, hi)
    return out


def test_a_total_under_another_name_is_refused_naming_row_and_code(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", _with_totals())
    for extra in ([], ["--margins-given"]):
        done = runner.invoke(app, ["protect", str(table), "--out", str(tmp_path / "o"), *extra])
        assert done.exit_code == 2, done.output
        assert "column sex: 'Total' is the sum of the other codes" in done.stderr
        assert "--total Total" in done.stderr and "Traceback" not in done.stderr
        assert not (tmp_path / "o").exists()


def test_a_one_way_table_with_a_total_row_is_refused(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,count", "A,3", "B,10", "C,8", "Yhteensä,21"])
    done = runner.invoke(app, ["protect", str(table), "--out", str(tmp_path / "o")])
    assert done.exit_code == 2, done.output
    assert "row 5, column region: 'Yhteensä'" in done.stderr


def test_with_total_named_the_release_keeps_the_code_and_hides_what_it_must(
        tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", _with_totals())
    done = runner.invoke(app, ["protect", str(table), "--total", "Total", "--margins-given",
                               "--out", str(tmp_path / "o")])
    assert done.exit_code == 0, done.output
    out = pl.read_csv(tmp_path / "o" / "t.csv", schema_overrides={"value": pl.Int64})
    assert "_T" not in set(out["region"]) | set(out["sex"])
    assert out.height == 12  # 3 x 2 inner cells, 3 + 2 margins and the grand total
    grand = out.filter((pl.col("region") == "Total") & (pl.col("sex") == "Total"))
    assert grand["value"].to_list() == [sum(INNER.values())]
    log = pl.read_csv(tmp_path / "o" / "restricted" / "suppression_log.csv")
    assert not log["cell"].str.contains("_T").any()
    assert not log["reason"].str.contains("=_T").any()
    ranges = _lp_ranges(out, "Total")
    for key, value in INNER.items():
        if value < 5:
            lo, hi = ranges[key]
            assert hi - lo > 0.5, f"{key} = {value} is computable: {lo}..{hi}"


def test_the_code_of_the_total_must_not_also_hold_the_default(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", [*_with_totals(), "_T,F,1"])
    done = runner.invoke(app, ["protect", str(table), "--total", "Total", "--margins-given",
                               "--out", str(tmp_path / "o")])
    assert done.exit_code == 2
    assert "row 14, column region: _T is a code here, but --total 'Total'" in done.stderr


def test_an_unnamed_total_is_found_by_its_sums(tmp_path: Path) -> None:
    """Koko maa ("the whole country") in three slices of sex: found by the sums alone."""
    lines = ["region,sex,count"]
    for sex, values in {"F": (3, 10, 8), "M": (5, 6, 7), "X": (2, 2, 1)}.items():
        lines += [f"{r},{sex},{v}" for r, v in zip(("A", "B", "Whole"), (*values[:2],
                                                                         sum(values[:2])),
                                                    strict=True)]
    table = _write(tmp_path / "t.csv", lines)
    done = runner.invoke(app, ["protect", str(table), "--out", str(tmp_path / "o")])
    assert done.exit_code == 2, done.output
    assert "column region: 'Whole' is the sum of the other codes" in done.stderr


@pytest.mark.parametrize("lines", [
    # one slice where C = A + B by chance, another where it is not
    ["region,sex,count", "A,F,3", "B,F,4", "C,F,7", "A,M,5", "B,M,6", "C,M,2"],
    # two slices where C = A + B by chance: a category still
    ["region,sex,count", "A,F,3", "B,F,4", "C,F,7", "A,M,5", "B,M,6", "C,M,11"],
    # two codes equal (M = F) in every slice: no third code, never a total
    ["region,sex,count", "A,F,6", "A,M,6", "B,F,9", "B,M,9"],
    # one slice where C = A + B, and C is not called a total
    ["region,count", "A,3", "B,10", "C,13"],
])
def test_a_category_that_is_a_sum_by_chance_is_accepted(tmp_path: Path, lines) -> None:
    table = _write(tmp_path / "t.csv", lines)
    done = runner.invoke(app, ["protect", str(table), "--out", str(tmp_path / "o")])
    assert done.exit_code == 0, done.output


def test_the_library_refuses_a_disguised_total_too() -> None:
    frame = pl.DataFrame({"region": ["A", "B", "C", "Total"] * 2,
                          "sex": ["F"] * 4 + ["M"] * 4,
                          "n": [3, 10, 8, 21, 5, 6, 7, 18]})
    assert disguised_totals(frame, ["region", "sex"], "n", {}) == [(3, "region", "Total")]
    with pytest.raises(ValueError, match="row 4, column region: 'Total'"):
        protect_frequency_table(frame, ["region", "sex"], "n")
