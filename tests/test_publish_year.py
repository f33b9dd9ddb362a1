"""A year outside the register (issue 14, point 2): refused unless asked for on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import UsageError
from suoja.pipeline import publish
from suoja.register.reader import dated_years

runner = CliRunner()


def test_year_without_data_is_refused_naming_the_years_covered(tiny_register: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["publish", "2026", "--register", str(tiny_register),
                                 "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "nothing in the register extract is dated in 2026" in result.stderr
    assert "its dates cover 2024–2025" in result.stderr
    assert "--allow-empty-year" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_library_refuses_an_empty_year_too(tiny_register: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="dated in 2030"):
        publish(2030, tiny_register, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_deliberate_zero_year_is_allowed(tiny_register: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["publish", "2026", "--register", str(tiny_register),
                                 "--out", str(out), "--allow-empty-year"])
    assert result.exit_code == 0, result.output
    assert (out / "2026" / "open").is_dir()


def test_every_dated_column_counts(tiny_register: Path) -> None:
    from suoja.register import read_register

    frames = read_register(tiny_register).frames
    assert dated_years(frames) == [2024, 2025]
    only_reflection = {"reflection_periods": frames["reflection_periods"]}
    assert dated_years(only_reflection) == [2025]
