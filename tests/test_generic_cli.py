"""``suoja protect`` on any frequency table: output, log, hierarchies, bad input."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from suoja.cli import app

runner = CliRunner()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_protect_writes_table_and_log_and_hides_small_cells(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,sex,count", "A,F,3", "A,M,10", "B,F,12",
                                         "B,M,7", "C,F,1", "C,M,9"])
    result = runner.invoke(app, ["protect", str(table), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = pl.read_csv(tmp_path / "out" / "t.csv", infer_schema=False)
    assert out.columns == ["region", "sex", "value", "status"]
    values = out["value"].drop_nulls().cast(pl.Int64)
    assert not values.is_between(1, 4).any()
    assert out.filter((pl.col("region") == "_T") & (pl.col("sex") == "_T"))["value"][0] == "42"
    assert not (tmp_path / "out" / "suppression_log.csv").exists()
    restricted = tmp_path / "out" / "restricted"
    log_path = restricted / "suppression_log.csv"
    assert restricted.stat().st_mode & 0o777 == 0o700
    assert log_path.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "out" / "t.csv").stat().st_mode & 0o777 == 0o644
    assert f"restricted: {log_path}" in result.stdout
    log = pl.read_csv(log_path, infer_schema=False)
    hidden = out.filter(pl.col("status") == "C").height
    assert log.height == hidden and log["reason"].null_count() == 0
    assert set(log.filter(pl.col("original").cast(pl.Int64) < 5)["rule"]) == {"primary"}


def test_protect_with_an_hrc_hierarchy(tmp_path: Path) -> None:
    hrc = _write(tmp_path / "region.hrc", ["North", "@N1", "@N2", "South", "@S1", "@S2"])
    table = _write(tmp_path / "t.csv", ["region,count", "N1,2", "N2,20", "S1,15", "S2,30"])
    result = runner.invoke(app, ["protect", str(table), "--hierarchy", f"region={hrc}",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = pl.read_csv(tmp_path / "out" / "t.csv", infer_schema=False)
    assert set(out["region"]) == {"N1", "N2", "S1", "S2", "North", "South", "_T"}
    north = out.filter(pl.col("region").is_in(["N1", "N2", "North"]))
    assert north.filter(pl.col("status") == "C").height >= 2


def test_protect_refuses_bad_counts_with_row_and_column(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,count", "A,7", "B,x"])
    result = runner.invoke(app, ["protect", str(table)])
    assert result.exit_code == 2
    assert "t.csv, row 3, column count: 'x'" in result.stderr
    assert not (tmp_path / "t-protected").exists()


def test_protect_refuses_margins_that_do_not_add_up(tmp_path: Path) -> None:
    table = _write(tmp_path / "t.csv", ["region,count", "A,7", "B,9", "_T,17"])
    result = runner.invoke(app, ["protect", str(table), "--margins-given"])
    assert result.exit_code == 2, result.output
    assert "_T" in result.stderr


def test_protect_reads_the_first_sheet_of_an_excel_workbook(tmp_path: Path) -> None:
    """A table saved from a spreadsheet as .xlsx is read as the CSV would be, and the
    protected table is written beside its log as NAME.csv."""
    frame = pl.DataFrame({"region": ["A", "A", "B", "B", "C", "C"],
                          "sex": ["F", "M"] * 3, "count": [3, 10, 12, 7, 1, 9]})
    frame.write_excel(tmp_path / "t.xlsx")
    frame.write_csv(tmp_path / "t.csv")
    for name in ("t.xlsx", "t.csv"):
        result = runner.invoke(app, ["protect", str(tmp_path / name),
                                     "--out", str(tmp_path / f"out-{name}")])
        assert result.exit_code == 0, result.output
    from_excel = pl.read_csv(tmp_path / "out-t.xlsx" / "t.csv", infer_schema=False)
    from_csv = pl.read_csv(tmp_path / "out-t.csv" / "t.csv", infer_schema=False)
    assert from_excel.equals(from_csv)
    assert from_excel["value"].null_count() > 0


def test_protect_names_a_broken_workbook(tmp_path: Path) -> None:
    (tmp_path / "t.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    result = runner.invoke(app, ["protect", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2
    assert "t.xlsx: not a readable Excel file" in result.stderr
    assert "Traceback" not in result.stderr
