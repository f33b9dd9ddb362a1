"""The command line: help for every command, exit codes, audit/check/verify on a release."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import REPO
from typer.testing import CliRunner

from suoja.cli import app

runner = CliRunner()
COMMANDS = ["validate", "publish", "audit", "protect", "synth", "check", "verify"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout and f"suoja {command}" in result.stdout


def _copy(release: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "2025"
    shutil.copytree(release, copy)
    return copy


def _reveal_all_but_one_primary(release: Path) -> None:
    """Publish the true value of every hidden cell of ``new_clients`` but one primary inner
    cell: that one is then its row total minus the rest."""
    log = pl.read_csv(release / "restricted" / "suppression_log.csv", infer_schema=False)
    hidden = log.filter((pl.col("table") == "new_clients") & (pl.col("rule") != "published"))
    kept = hidden.filter(
        (pl.col("rule") == "primary") & ~pl.col("cell").str.contains("_T")).row(0, named=True)
    path = release / "open" / "new_clients.csv"
    table = pl.read_csv(path, infer_schema=False)
    for row in hidden.filter(pl.col("cell") != kept["cell"]).iter_rows(named=True):
        codes = dict(part.split("=") for part in row["cell"].split(";"))
        match = pl.all_horizontal(pl.col(d) == c for d, c in codes.items())
        table = table.with_columns(
            pl.when(match).then(pl.lit(row["original"])).otherwise(pl.col("value"))
            .alias("value"),
            pl.when(match).then(None).otherwise(pl.col("status")).alias("status"))
    table.write_csv(path)


def test_audit_passes_on_the_release(embedded_release) -> None:
    result = runner.invoke(app, ["audit", str(embedded_release.target)])
    assert result.exit_code == 0, result.output
    assert "Audit passed" in result.stdout


def test_audit_refuses_a_release_with_a_revealed_cell(embedded_release, tmp_path: Path) -> None:
    copy = _copy(embedded_release.target, tmp_path)
    _reveal_all_but_one_primary(copy)
    result = runner.invoke(app, ["audit", str(copy)])
    assert result.exit_code == 3, result.output
    assert "DISCLOSED 2025 new_clients" in result.stdout and "Audit FAILED" in result.stdout


def test_audit_of_tables_pooling_sets_that_do_not_nest_is_exit_2(embedded_release,
                                                                  tmp_path: Path) -> None:
    """A foreign or hand-edited release whose nested tables pool citizenships that no
    pooling rule gives (new clients pool a country that those exploited in Finland list)
    is input to fix: exit 2 naming the tables, not a traceback."""
    copy = _copy(embedded_release.target, tmp_path)
    finland = pl.read_csv(copy / "open" / "finland_victims_citizenship.csv", infer_schema=False)
    listed = [c for c in finland["citizenship"].to_list() if not c.startswith("_")]
    path = copy / "open" / "new_clients_citizenship.csv"
    table = pl.read_csv(path, infer_schema=False)
    table.filter(pl.col("citizenship") != listed[0]).write_csv(path)
    result = runner.invoke(app, ["audit", str(copy)])
    assert result.exit_code == 2, result.output
    assert "new_clients_citizenship" in result.output
    assert "finland_victims_citizenship" in result.output
    assert "Traceback" not in result.output


def test_audit_json_lists_every_hidden_cell(embedded_release) -> None:
    import json

    result = runner.invoke(app, ["audit", "--json", str(embedded_release.target)])
    ranges = [r for r in json.loads(result.stdout) if "[" not in r["table"]]
    assert len(ranges) == embedded_release.hidden
    assert all(r["ok"] and not r["exact"] for r in ranges)


def test_check_and_verify(embedded_release, tmp_path: Path) -> None:
    assert runner.invoke(app, ["check", str(embedded_release.target)]).exit_code == 0
    assert runner.invoke(app, ["verify", str(embedded_release.target)]).exit_code == 0
    copy = _copy(embedded_release.target, tmp_path)
    path = copy / "open" / "decisions.csv"
    path.write_bytes(path.read_bytes().replace(b"271", b"272"))
    result = runner.invoke(app, ["verify", str(copy)])
    assert result.exit_code == 2 and "decisions.csv" in result.stdout


def test_missing_release_folder_is_exit_2(tmp_path: Path) -> None:
    for command in ("audit", "check", "verify"):
        result = runner.invoke(app, [command, str(tmp_path / "nope")])
        assert result.exit_code == 2, command


def test_a_bug_exits_1_with_a_plea_to_report(tmp_path: Path) -> None:
    code = ("import suoja.pipeline, sys\n"
            "def boom(*a, **k): raise RuntimeError('boom')\n"
            "suoja.pipeline.publish = boom\n"
            f"sys.argv = ['suoja', 'publish', '2025', '--out', {str(tmp_path)!r}]\n"
            "from suoja.cli import main\nmain()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=False)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "please report" in done.stderr


def test_bad_year_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["publish", "1999", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "year must be between" in result.stderr


def test_bad_policy_is_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[threshold]\nmin_count = 5\nsurprise = 1\n", encoding="utf-8")
    result = runner.invoke(app, ["publish", "2025", "--out", str(tmp_path / "o"),
                                 "--policy", str(policy)])
    assert result.exit_code == 2 and "unknown key 'surprise'" in result.stderr
    assert not (tmp_path / "o").exists()


def test_synth_is_deterministic_through_the_cli(tmp_path: Path) -> None:
    for name in ("a", "b"):
        result = runner.invoke(app, ["synth", "--scale", "500", "--seed", "3", "--out",
                                     str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes()


def test_readme_commands_are_the_ones_ci_runs() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "suoja publish 2025" in readme
    assert ".venv/bin/python -m pytest" in readme and ".venv/bin/python -m pytest" in ci


# ---- issue 15: the terminal ----

@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_no_type_placeholder_for_flags_or_braces_for_arguments(command: str) -> None:
    result = runner.invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "list[" not in result.stdout
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage


def test_publish_usage_names_the_year() -> None:
    result = runner.invoke(app, ["publish", "--help"], terminal_width=200)
    assert "[OPTIONS] YEAR" in result.stdout
    assert "--force" in result.stdout and "[privacy]" in result.stdout


def test_check_prints_failures_and_a_count(embedded_release, tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(embedded_release.target)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("all passed.")
    assert re.match(r"\d+ checks of .*open: all passed\.", lines[0])
    copy = _copy(embedded_release.target, tmp_path)
    (copy / "open" / "decisions.json").write_text("{not json", encoding="utf-8")
    broken = runner.invoke(app, ["check", str(copy)])
    assert broken.exit_code == 2
    lines = broken.stdout.strip().splitlines()
    assert all(line.startswith("FAIL") for line in lines[:-1]) and len(lines) >= 2
    assert "decisions.json" in broken.stdout and not any(ln.startswith("ok") for ln in lines)
    assert re.search(rf"{len(lines) - 1} failed\.$", lines[-1])


def test_publish_stages_are_lines_when_not_on_a_terminal(capsys) -> None:
    import io

    from rich.console import Console

    from suoja.cli import stages

    with stages(Console(file=io.StringIO(), force_terminal=False)) as progress:
        progress("Reading and validating the register")
        progress("Writing the review")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert re.fullmatch(r"\[\s*\d+\.\d s\] Reading and validating the register", err[0])
    assert err[1].endswith("] Writing the review")


def test_the_release_states_the_proven_lower_bound_of_its_loss(embedded_release) -> None:
    """restricted/bound.csv: per population the cost of the secondary suppressions and
    the proven least cost; never below it, and the summary line agrees."""
    from suoja.protect.loss import bound_summary

    bound = pl.read_csv(embedded_release.target / "restricted" / "bound.csv")
    assert set(bound.columns) >= {"population", "cost", "lower_bound", "proven", "gap"}
    assert bound.height >= 5 and (bound["cost"] >= bound["lower_bound"] - 1e-9).all()
    log = pl.read_csv(embedded_release.target / "restricted" / "suppression_log.csv",
                      infer_schema=False)
    assert (bound["cost"].sum() > 0) == (log["rule"] == "secondary").any()
    assert "no safe pattern costs less than" in bound_summary(bound)
