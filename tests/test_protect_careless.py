"""Careless tables given to ``suoja protect`` (issue 14, point 3; cases in tests/cases/)."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from suoja.cli import app

runner = CliRunner()
CASES = Path(__file__).parent / "cases" / "protect"


def _case(tmp_path: Path, folder: str) -> Path:
    shutil.copytree(CASES / folder, tmp_path / folder)
    return tmp_path / folder


def _refused(args: list[str], out: Path) -> str:
    result = runner.invoke(app, ["protect", *args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert "margins_given" not in result.stderr
    return result.stderr


def _protected(args: list[str], out: Path) -> pl.DataFrame:
    result = runner.invoke(app, ["protect", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    name = Path(args[0]).name
    return pl.read_csv(out / name, infer_schema=False)


def test_duplicate_rows_are_refused_naming_both_rows_and_codes(tmp_path: Path) -> None:
    case = _case(tmp_path, "06_duplicate_rows")
    err = _refused([str(case / "table.csv")], tmp_path / "out")
    assert "table.csv, rows 2 and 3 hold the same cell (municipality '091', sex 'F')" in err
    assert "table.csv, rows 5 and 6 hold the same cell (municipality '049', sex 'F')" in err
    err = _refused([str(case / "table_b.csv"), "--margins-given"], tmp_path / "out")
    assert "table_b.csv, rows 5 and 6 hold the same cell (municipality '_T')" in err


def test_a_hierarchy_code_without_rows_is_a_zero_category(tmp_path: Path) -> None:
    case = _case(tmp_path, "09_hierarchy_leaf_without_rows")
    hierarchy = f"region={case / 'g_hier.csv'}"
    out = _protected([str(case / "h_table.csv"), "--hierarchy", hierarchy], tmp_path / "a")
    cells = dict(zip(out["region"], out["value"], strict=True))
    assert cells["Kainuu"] == "0" and cells["Itä-Suomi"] == "20" and cells["_T"] == "27"
    again = _protected([str(case / "j_zero_row.csv"), "--hierarchy", hierarchy], tmp_path / "b")
    assert again.equals(out)


@pytest.mark.parametrize("hierarchy", ["g_hier.csv", "g_hier.hrc"])
def test_a_code_missing_from_the_hierarchy_is_refused(tmp_path: Path, hierarchy: str) -> None:
    case = _case(tmp_path, "10_code_missing_from_hierarchy")
    err = _refused([str(case / "i_table.csv"), "--hierarchy", f"region={case / hierarchy}"],
                   tmp_path / "out")
    assert f"i_table.csv, row 5, column region: 'Kainu' is not a code of the hierarchy " \
           f"{case / hierarchy}" in err


@pytest.mark.parametrize(("name", "count", "dims"), [
    ("a_status.csv", "count", ["status", "sex"]),
    ("b_table.csv", "count", ["table", "sex"]),
    ("c_key.csv", "count", ["key", "sex"]),
    ("d_value_count.csv", "value", ["region", "sex"]),
    ("e_reason_published.csv", "count", ["reason", "published"]),
])
def test_internal_column_names_are_protected_like_any_other(tmp_path: Path, name: str,
                                                           count: str, dims: list[str]) -> None:
    case = _case(tmp_path, "16_internal_column_names")
    out = _protected([str(case / name), "--count", count], tmp_path / "out")
    assert out.columns[:2] == dims and len(out.columns) == 4
    value, status = out.columns[2:]
    assert out.height == 9 and out[status].drop_nulls().unique().to_list() == ["C"]
    total = out.filter((pl.col(dims[0]) == "_T") & (pl.col(dims[1]) == "_T"))
    assert total[value].to_list() == ["44"]
    log = pl.read_csv(tmp_path / "out" / "restricted" / "suppression_log.csv", infer_schema=False)
    assert all(cell.startswith(f"{dims[0]}=") for cell in log["cell"])
    assert not any("__dim" in reason for reason in log["reason"])


def test_an_empty_extra_column_is_refused_with_a_hint(tmp_path: Path) -> None:
    case = _case(tmp_path, "16_internal_column_names")
    err = _refused([str(case / "f_extra_status_col.csv")], tmp_path / "out")
    assert "column status is empty on every row" in err and "--dims region" in err
    out = _protected([str(case / "f_extra_status_col.csv"), "--dims", "region"],
                     tmp_path / "ok")
    assert out.columns == ["region", "value", "status"]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_codes_are_stripped_of_surrounding_spaces(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,sex,count", "Kainuu ,F,3", " Kainuu,M,9",
                                        "Lappi,F,12", "Lappi ,M, 20"])
    out = _protected([str(table)], tmp_path / "out")
    assert set(out["region"]) == {"Kainuu", "Lappi", "_T"} and out.height == 9
    table = _write(tmp_path / "d.csv", ["region,count", "Kainuu ,3", "Kainuu,9"])
    err = _refused([str(table)], tmp_path / "out2")
    assert "d.csv, rows 2 and 3 hold the same cell (region 'Kainuu')" in err


def test_empty_codes_and_bad_counts_name_row_column_and_value(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,sex,count", "A,F,3", ",M,9", "B, ,4",
                                        "B,F,-1"])
    err = _refused([str(table)], tmp_path / "out")
    assert "t.csv, row 3, column region: the code is empty" in err
    assert "t.csv, row 4, column sex: the code is empty" in err
    assert "t.csv, row 5, column count: '-1' is not a count" in err


def test_totals_without_margins_given_name_the_row_and_the_option(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,count", "A,7", "B,9", "_T,16"])
    err = _refused([str(table)], tmp_path / "out")
    assert "t.csv, row 4, column region: '_T' is the total" in err
    assert "--margins-given" in err


def test_margin_errors_name_the_spreadsheet_row(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,count", "A,7", "B,9", "_T,17"])
    err = _refused([str(table), "--margins-given"], tmp_path / "out")
    assert "row 4 (region=_T): count is 17 but its parts add up to 16" in err


def test_broken_csv_structure_is_refused_by_row(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,region,count", "A,B,7"])
    assert "row 1: column 'region' appears 2 times" in _refused([str(table)], tmp_path / "o")
    table = _write(tmp_path / "r.csv", ["region,count", "A,7,1", "B,9"])
    err = _refused([str(table)], tmp_path / "o")
    assert "row 2 has 3 field(s), the header has 2" in err and "truncate" not in err


def test_a_spreadsheets_nameless_empty_columns_are_left_out(tmp_path: Path) -> None:
    """Excel writes ``a;b;;`` when empty columns beside the table were ever formatted: the
    table is read without them, the same as without the separators; a value in such a
    column is refused naming its row."""
    plain = _write(tmp_path / "plain.csv", ["region;sex;count", "A;F;3", "A;M;12", "B;F;7",
                                            "B;M;1", "C;F;9", "C;M;20"])
    trailing = _write(tmp_path / "trailing.csv",
                      ["region;sex;count;;;", "A;F;3;;;", "A;M;12;;;", "B;F;7;;;", "B;M;1;;;",
                       "C;F;9;;;", "C;M;20;;;", ";;;;;"])
    expected = _protected([str(plain)], tmp_path / "out1")
    assert _protected([str(trailing)], tmp_path / "out2").equals(expected)
    stray = _write(tmp_path / "stray.csv", ["region;sex;count;;", "A;F;3;;", "A;M;12;x;"])
    assert "row 3: a value stands in a column with no name" in \
        _refused([str(stray)], tmp_path / "out3")
    one = _write(tmp_path / "one.csv", ["region,sex,count,", "A,F,3,", "A,M,12,x"])
    assert "row 3: a value stands in a column with no name" in \
        _refused([str(one)], tmp_path / "out4")


def test_a_header_without_rows_is_refused_as_such(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,sex,count"])
    assert "t.csv: the table has a header but no rows" in _refused([str(table)], tmp_path / "o")


def test_a_hierarchy_file_is_read_as_the_tables_are(tmp_path: Path) -> None:
    """A ``code,parent`` file saved by a comma-decimal spreadsheet (semicolons) gives the
    same protection as with commas; one that is not UTF-8 is refused naming the byte, and
    a broken one names its file once."""
    table = _write(tmp_path / "t.csv", ["region,sex,count", "A1,F,3", "A1,M,12", "A2,F,7",
                                        "A2,M,9", "B1,F,9", "B1,M,20"])
    comma = _write(tmp_path / "h.csv", ["code,parent", "A1,A", "A2,A", "B1,B"])
    semi = _write(tmp_path / "s.csv", ["code;parent", "A1;A", "A2;A", "B1;B"])
    expected = _protected([str(table), "--hierarchy", f"region={comma}"], tmp_path / "o1")
    assert _protected([str(table), "--hierarchy", f"region={semi}"], tmp_path / "o2") \
        .equals(expected)
    latin = tmp_path / "l.csv"
    latin.write_bytes(b"code,parent\nA1,A\nA2,\xe4\nB1,B\n")
    err = _refused([str(table), "--hierarchy", f"region={latin}"], tmp_path / "o3")
    assert "byte 0xe4 is not UTF-8" in err
    twice = _write(tmp_path / "d.csv", ["code,parent", "A1,A", "A1,B", "A2,A", "B1,B"])
    err = _refused([str(table), "--hierarchy", f"region={twice}"], tmp_path / "o4")
    assert "line 3: code 'A1' is listed twice" in err and err.count("d.csv") == 1
