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
from suoja.register import FILES

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
