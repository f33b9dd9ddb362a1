"""Careless register input (issue 14, point 1): every bad value is a listed problem.

Whatever text lands in whatever cell of whatever file, and whatever bytes replace a file,
``validate`` and ``publish`` end with exit status 0 or 2, never a traceback, and
``publish`` writes nothing when it refuses.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
from conftest import EMBEDDED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from suoja.cli import app
from suoja.register.reader import FILES

runner = CliRunner()
ROWS = {name: sum(1 for _ in (EMBEDDED / f"{name}.csv").open(encoding="utf-8"))
        for name in FILES}
WIDTHS = {name: len((EMBEDDED / f"{name}.csv").open(encoding="utf-8").readline().split(","))
          for name in FILES}


def _no_traceback(result: object) -> None:
    output = result.output  # type: ignore[attr-defined]
    assert result.exit_code in (0, 2), (result.exit_code, output[-2000:],  # type: ignore[attr-defined]
                                        result.exception)  # type: ignore[attr-defined]
    assert "Traceback" not in output


def _put_text(folder: Path, name: str, row: int, column: int, text: str, raw: bool) -> None:
    """Put ``text`` into one cell: properly quoted, or pasted raw into the line."""
    path = folder / f"{name}.csv"
    if raw:
        lines = path.read_text(encoding="utf-8").split("\n")
        cells = lines[row].split(",")
        cells[column] = text
        lines[row] = ",".join(cells)
        path.write_text("\n".join(lines), encoding="utf-8")
        return
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[row][column] = text
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _convert(folder: Path, name: str, fmt: str) -> None:
    """Rewrite one CSV file as Parquet or Excel, every column as text."""
    if fmt == "csv":
        return
    path = folder / f"{name}.csv"
    frame = pl.read_csv(path, infer_schema=False, truncate_ragged_lines=True)
    if fmt == "parquet":
        frame.write_parquet(folder / f"{name}.parquet")
    else:
        frame.write_excel(folder / f"{name}.xlsx")
    path.unlink()


careless_cell = st.tuples(
    st.sampled_from(FILES).flatmap(lambda name: st.tuples(
        st.just(name), st.integers(0, ROWS[name] - 1), st.integers(0, WIDTHS[name] - 1))),
    st.text(max_size=80),
    st.booleans(),
)


def _careless_copy(tmp: Path, cell: tuple, fmt: str = "csv") -> Path:
    (name, row, column), text, raw = cell
    folder = tmp / "register"
    shutil.copytree(EMBEDDED, folder)
    try:
        _put_text(folder, name, row, column, text, raw)
        _convert(folder, name, fmt)
    except (pl.exceptions.PolarsError, csv.Error):
        pass  # the careless file could not even be converted: keep it as CSV
    return folder


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=careless_cell)
def test_any_text_in_any_csv_cell_is_a_listed_problem_or_valid(cell: tuple) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _no_traceback(runner.invoke(app, ["validate", str(_careless_copy(Path(tmp), cell))]))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=careless_cell, fmt=st.sampled_from(["parquet", "xlsx"]))
def test_any_text_in_parquet_or_excel_is_a_listed_problem_or_valid(cell: tuple, fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _no_traceback(runner.invoke(app, ["validate", str(_careless_copy(Path(tmp), cell, fmt))]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(FILES), ext=st.sampled_from([".csv", ".parquet", ".xlsx"]),
       data=st.binary(max_size=400))
def test_arbitrary_bytes_as_a_file_are_refused_without_traceback(name: str, ext: str,
                                                                 data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "register"
        shutil.copytree(EMBEDDED, folder)
        (folder / f"{name}.csv").unlink()
        (folder / f"{name}{ext}").write_bytes(data)
        _no_traceback(runner.invoke(app, ["validate", str(folder)]))


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cell=careless_cell)
def test_publish_of_careless_input_exits_0_or_2_and_writes_nothing_on_2(cell: tuple) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = _careless_copy(Path(tmp), cell)
        out = Path(tmp) / "out"
        result = runner.invoke(app, ["publish", "2025", "--register", str(folder),
                                     "--out", str(out)])
        _no_traceback(result)
        if result.exit_code == 2:
            assert not out.exists() or not any(out.rglob("*"))


def _validate(folder: Path) -> object:
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result


def _edited(tmp_path: Path, name: str, line: int, old: str, new: str) -> Path:
    folder = tmp_path / "register"
    if not folder.exists():
        shutil.copytree(EMBEDDED, folder)
    path = folder / f"{name}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")
    return folder


def test_non_iso_and_impossible_dates_are_listed_with_place_and_type(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "applications", 2, "2006-02-26", "31.12.2025")
    _edited(tmp_path, "client_periods", 3, "2006-06-22", "2025-02-30")
    _edited(tmp_path, "reflection_periods", 4, "-03,2", "-03,six")
    err = _validate(folder).stderr
    assert "applications.csv, row 2, column received: '31.12.2025': not a date" in err
    assert "client_periods.csv, row 3, column start: '2025-02-30': not a date" in err
    assert "reflection_periods.csv, row 4, column months: 'six': not a whole number" in err
    assert "YYYY-MM-DD" in err and "expected an integer" in err
    # the failed cast is not reported a second time as a missing value or a missing event
    assert err.count("client_periods.csv, row 3") == 1


def test_unclosed_quote_names_the_row_and_quotes_little(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "applications", 7, "A000006,", '"A000006,')
    err = _validate(folder).stderr
    assert "applications.csv, row 7: a quote opens in this row and never closes" in err
    assert "A000100" not in err and len(err) < 600


def test_duplicated_header_column_is_refused(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "persons", 1, "citizenship", "citizenship,sex")
    err = _validate(folder).stderr
    assert "persons.csv, row 1: column 'sex' appears 2 times in the header" in err


def test_ragged_rows_name_row_and_rule_not_parser_advice(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "applications", 7, "MIGRI,", "MIGRI,x,")
    _edited(tmp_path, "persons", 9, ",M,", ",")
    err = _validate(folder).stderr
    assert "applications.csv, row 7 has 8 field(s), the header has 7" in err
    assert "truncate_ragged_lines" not in err and "Consider" not in err
    folder = _edited(tmp_path, "applications", 7, "MIGRI,x,", 'MIGRI,"x",')  # quoted path
    assert "row 7 has 8 field(s), the header has 7" in _validate(folder).stderr


def test_short_row_is_refused(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "persons", 9, ",M,", ",")
    assert "persons.csv, row 9 has 5 field(s), the header has 6" in _validate(folder).stderr


def test_long_values_are_clipped_in_messages(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "persons", 2, ",SYR", "," + "Z" * 5000)
    err = _validate(folder).stderr
    assert "persons.csv, row 2, column citizenship: 'ZZZZ" in err
    assert "(5000 characters)" in err and "Z" * 61 not in err


def test_parquet_with_wrong_column_types_lists_problems(tmp_path: Path) -> None:
    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    persons = pl.read_csv(folder / "persons.csv", infer_schema=False)
    persons.with_columns(pl.col("birth_year").cast(pl.Float64) + 0.5,
                         pl.col("sex").map_elements(lambda s: [s], return_dtype=pl.List(pl.String))
                         ).write_parquet(folder / "persons.parquet")
    (folder / "persons.csv").unlink()
    result = runner.invoke(app, ["validate", "--json", str(folder)])
    assert result.exit_code == 2
    err = _validate(folder).stderr
    assert "persons.parquet, row 2, column birth_year: '1971.5': not a whole number" in err
    assert "persons.parquet, column sex: the column's Parquet type List(String)" in err


def test_excel_cells_of_the_wrong_type_are_listed(tmp_path: Path) -> None:
    import datetime as dt

    import xlsxwriter

    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    rows = list(csv.reader((folder / "reflection_periods.csv").open(encoding="utf-8")))
    book = xlsxwriter.Workbook(folder / "reflection_periods.xlsx")
    sheet = book.add_worksheet()
    for i, row in enumerate(rows):
        sheet.write_row(i, 0, row)
    sheet.write_number(1, 1, 45000)  # a date column holding a number
    sheet.write_datetime(2, 2, dt.datetime(2025, 3, 1), book.add_format({"num_format": "d.m.yyyy"}))
    sheet.write_boolean(3, 2, True)
    book.close()
    (folder / "reflection_periods.csv").unlink()
    err = _validate(folder).stderr
    assert "reflection_periods.xlsx, row 2, column granted: '45000': not a date" in err
    assert "reflection_periods.xlsx, row 3, column months: '2025-03-01': not a whole number" in err
    assert "reflection_periods.xlsx, row 4, column months: 'true': not a whole number" in err


def test_excel_duplicated_header_is_refused(tmp_path: Path) -> None:
    import xlsxwriter

    folder = tmp_path / "register"
    shutil.copytree(EMBEDDED, folder)
    book = xlsxwriter.Workbook(folder / "reflection_periods.xlsx")
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["person_id", "granted", "months", "months"])
    sheet.write_row(1, 0, ["P000012", "2006-09-22", "6", "5"])
    book.close()
    (folder / "reflection_periods.csv").unlink()
    err = _validate(folder).stderr
    assert "reflection_periods.xlsx, row 1: column 'months' appears 2 times" in err
