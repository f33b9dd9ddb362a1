"""What spreadsheets write when asked for CSV: semicolons or tabs (comma-decimal locales),
trailing empty rows and columns, digit groups with spaces, whole numbers with a zero
fraction. suoja reads them as the same table; what is not a count stays an error."""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import pytest
from conftest import EMBEDDED
from typer.testing import CliRunner

from suoja.cli import app
from suoja.register import FILES, read_register

runner = CliRunner()
PLAIN = "region,sex,count\nA,F,12\nA,M,3\nB,F,7\nB,M,9\n"


def _protect(tmp_path: Path, name: str, text: str) -> tuple[int, str, pl.DataFrame | None]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = tmp_path / f"out-{name}"
    result = runner.invoke(app, ["protect", str(path), "--out", str(out)])
    assert "Traceback" not in result.output
    table = pl.read_csv(out / name, infer_schema=False) if result.exit_code == 0 else None
    return result.exit_code, result.output, table


@pytest.mark.parametrize(("name", "text"), [
    ("semicolons.csv", PLAIN.replace(",", ";")),
    ("tabs.csv", PLAIN.replace(",", "\t")),
    ("crlf.csv", PLAIN.replace("\n", "\r\n")),
    ("blank_rows.csv", PLAIN + ",,\n,,\n"),
    ("trailing_separator.csv", PLAIN.replace("\n", ",\n")),
    ("grouped.csv", PLAIN.replace("A,F,12", 'A,F,"12"').replace("B,M,9", "B,M,9.0")),
])
def test_a_spreadsheet_export_protects_as_the_plain_table(tmp_path, name, text):
    _, _, expected = _protect(tmp_path, "plain.csv", PLAIN)
    code, output, table = _protect(tmp_path, name, text)
    assert code == 0, output
    assert table.equals(expected)


def test_digit_groups_with_spaces_are_one_count(tmp_path):
    text = 'region,sex,count\nA,F,"1 234"\nA,M,3\nB,F,"1\u00a0007,0"\nB,M,9\n'
    code, output, table = _protect(tmp_path, "groups.csv", text)
    assert code == 0, output
    total = table.filter((pl.col("region") == "_T") & (pl.col("sex") == "_T"))["value"]
    assert total.to_list() == [str(1234 + 3 + 1007 + 9)]


@pytest.mark.parametrize("value", ["1.5", "12 34", "1,234", "-3", "1e3", ".."])
def test_what_is_not_a_whole_count_is_still_refused(tmp_path, value):
    text = f'region,sex,count\nA,F,"{value}"\nA,M,3\nB,F,7\nB,M,9\n'
    code, output, _ = _protect(tmp_path, "bad.csv", text)
    assert code == 2
    assert "row 2, column count" in output


def test_a_register_exported_with_semicolons_reads_as_the_embedded_one(tmp_path):
    for name in FILES:
        rows = list(csv.reader((EMBEDDED / f"{name}.csv").open(encoding="utf-8", newline="")))
        with (tmp_path / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, delimiter=";").writerows(rows)
    ours, theirs = read_register(tmp_path).frames, read_register(EMBEDDED).frames
    for name in FILES:
        assert ours[name].equals(theirs[name]), name
