"""``suoja publish --privacy dp``: the DP path end to end, budget refusal, stated error."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from suoja.cli import app, default_register
from suoja.protect.dp import verify_ledger
from suoja.protect.dp.anchor import default_ledger
from suoja.tables.catalogue import read_catalogue

runner = CliRunner()
CATALOGUE = read_catalogue()


def test_dp_release_states_its_error_and_spends_its_budget(tmp_path: Path) -> None:
    result = runner.invoke(app, ["publish", "2025", "--privacy", "dp", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    open_dir = tmp_path / "2025" / "open"
    package = json.loads((open_dir / "datapackage.json").read_text(encoding="utf-8"))
    assert all(r["error_bound_95"] > 0 for r in package["resources"])
    for lang, suffix in (("fi", ""), ("sv", ".sv"), ("en", ".en")):
        data = json.loads((open_dir / f"new_clients{suffix}.json").read_text(encoding="utf-8"))
        assert data["extension"]["error_bound_95"] > 0 and data["extension"]["language"] == lang
    for spec in CATALOGUE.tables:
        values = pl.read_csv(open_dir / f"{spec.id}.csv", infer_schema=False)["value"]
        assert (values.drop_nulls().cast(pl.Int64) >= 0).all()
    ledger = default_ledger(default_register())
    assert f"ledger: {ledger}" in result.stdout and not (tmp_path / "restricted").exists()
    assert verify_ledger(ledger, [tmp_path]) == []
    entry = json.loads((tmp_path / "2025" / "restricted" / "privacy_budget.json").read_text())
    assert entry["hash"] == json.loads(ledger.read_text().splitlines()[-1])["hash"]
    for lang in ("fi", "en"):
        page = (tmp_path / "2025" / "review" / f"review.{lang}.html").read_text(encoding="utf-8")
        assert "ε" in page or "epsilon" in page.lower()


def test_publish_beyond_the_yearly_cap_is_refused(tmp_path: Path) -> None:
    args = ["publish", "2025", "--privacy", "dp", "--out", str(tmp_path), "--force"]
    assert runner.invoke(app, args).exit_code == 0
    assert runner.invoke(app, args).exit_code == 0  # 2 + 2 of the cap of 4
    before = (tmp_path / "2025" / "open" / "new_clients.csv").read_bytes()
    ledger = default_ledger(default_register()).read_bytes()
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert "yearly cap" in result.stderr and "nothing was written" in result.stderr
    assert (tmp_path / "2025" / "open" / "new_clients.csv").read_bytes() == before
    assert default_ledger(default_register()).read_bytes() == ledger


def test_dp_policy_errors_exit_2(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('[threshold]\nmin_count = 5\n[privacy]\nmode = "dp"\n'
                      "[dp]\nepsilon = -1\nyearly_epsilon_cap = 4\n", encoding="utf-8")
    result = runner.invoke(app, ["publish", "2025", "--policy", str(policy), "--out",
                                 str(tmp_path / "o")])
    assert result.exit_code == 2 and "dp.epsilon" in result.stderr
