"""The 2025 release of the embedded register: figures, formats, safety of the write."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import polars as pl
import pytest
from conftest import EMBEDDED, REPO
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import UsageError
from suoja.pipeline import publish
from suoja.tables.catalogue import read_catalogue

CATALOGUE = read_catalogue()
runner = CliRunner()


def open_value(open_dir: Path, table: str, **codes: str) -> int | None:
    spec = CATALOGUE.table(table)
    frame = pl.read_csv(open_dir / f"{table}.csv", infer_schema=False)
    for dim in spec.dimensions:
        frame = frame.filter(pl.col(dim) == codes.get(dim, "_T"))
    assert frame.height == 1, (table, codes)
    value = frame["value"][0]
    return None if value is None else int(value)


# The review's figures (figures-2025.md) that are not small cells, where the contract puts them.
HEADLINE = [
    ("applications", {}, 467),
    ("applications", {"referrer": "SELF"}, 93),
    ("decisions", {"decision": "ACCEPTED"}, 271),
    ("decisions", {"decision": "REJECTED"}, 154),
    ("rejections", {"rejection_reason": "NO_NEED"}, 75),
    ("rejections", {"rejection_reason": "NOT_TRAFFICKING"}, 62),
    ("clients_ended", {}, 169),
    ("clients_ended", {"end_reason": "NO_NEED"}, 98),
    ("clients_ended", {"end_reason": "LEFT_COUNTRY"}, 61),
    ("new_clients", {}, 271),
    ("new_clients", {"sex": "F"}, 165),
    ("new_clients", {"sex": "M"}, 106),
    ("new_clients", {"age_group": "Y18T29"}, 114),
    ("new_clients", {"age_group": "Y30T39"}, 95),
    ("new_clients", {"age_group": "Y40T49"}, 41),
    # Y50T59 (8) is hidden: the row total would otherwise give away Y_GE60 (3).
    ("new_clients_citizenship", {}, 271),
    # FIN (18) and FIN in Finland (17) are hidden: their difference is the one Finnish
    # client exploited abroad.
    ("new_clients_citizenship", {"citizenship": "_O"}, 70),
    ("new_children", {}, 32),
    ("exploitation_forms", {}, 314),
    ("finland_victims", {}, 141),
    ("finland_victims", {"sex": "M"}, 86),
    ("finland_victims", {"sex": "F"}, 55),
    ("finland_victims_citizenship", {"citizenship": "NPL"}, 59),
    ("finland_forms", {}, 149),
    ("finland_forms", {"form": "FORCED_LABOUR"}, 101),
    ("finland_forced_labour_sectors", {}, 101),
    ("finland_residence", {"residence_status": "SEASONAL_WORK"}, 50),
    ("finland_residence", {"residence_status": "WORK"}, 21),
    ("finland_residence", {"residence_status": "FAMILY"}, 13),
    # INTERNATIONAL_PROTECTION (9) is hidden: the total would give away OTHER_PERMIT (3).
    ("finland_residence", {"residence_status": "NO_RIGHT"}, 14),
    # FINNISH_CITIZEN (17) is hidden: it is the Finns exploited in Finland (a declared
    # fact), whose difference from the 18 Finnish new clients is the one exploited abroad.
    ("reflection_periods", {}, 35),
    ("clients_year_end", {}, 1634),
    ("clients_year_end", {"role": "VICTIM"}, 1424),
    ("clients_year_end", {"role": "CHILD"}, 210),
]


@pytest.mark.parametrize(("table", "codes", "expected"), HEADLINE)
def test_headline_figures_are_published(embedded_release, table: str, codes: dict,
                                        expected: int) -> None:
    assert open_value(embedded_release.target / "open", table, **codes) == expected


def test_young_and_old_age_groups_published_or_hidden(embedded_release) -> None:
    """60+ (3) is hidden, and with it one or both of under 18 (10) and 50-59 (8)."""
    open_dir = embedded_release.target / "open"
    assert open_value(open_dir, "new_clients", age_group="Y_GE60") is None
    young = open_value(open_dir, "new_clients", age_group="Y_LT18")
    older = open_value(open_dir, "new_clients", age_group="Y50T59")
    assert young in (10, None) and older in (8, None)


def test_most_common_sectors_in_order(embedded_release) -> None:
    frame = pl.read_csv(embedded_release.target / "open" / "finland_forced_labour_sectors.csv",
                        infer_schema=False).filter(~pl.col("sector").is_in(["_T", "_O", "_U"]))
    ranked = frame.with_columns(pl.col("value").cast(pl.Int64)).sort("value", descending=True)
    assert ranked["sector"].to_list()[:3] == ["02", "56", "01"]


def test_no_published_value_is_small(embedded_release) -> None:
    for path in (embedded_release.target / "open").glob("*.csv"):
        values = pl.read_csv(path, infer_schema=False)["value"].drop_nulls().cast(pl.Int64)
        assert not values.is_between(1, 4).any(), path.name


def test_hidden_cells_are_empty_with_status_c(embedded_release) -> None:
    frame = pl.read_csv(embedded_release.target / "open" / "new_clients.csv", infer_schema=False)
    hidden = frame.filter(pl.col("status") == "C")
    assert hidden.height > 0 and hidden["value"].null_count() == hidden.height
    assert frame.filter(pl.col("status").is_null())["value"].null_count() == 0
    gone = frame.filter((pl.col("sex") == "_T") & (pl.col("age_group") == "Y_GE60"))
    assert gone["value"][0] is None and gone["status"][0] == "C"


def test_every_csv_has_year_value_status(embedded_release) -> None:
    for spec in CATALOGUE.tables:
        frame = pl.read_csv(embedded_release.target / "open" / f"{spec.id}.csv", infer_schema=False)
        assert frame.columns == ["year", *spec.dimensions, "value", "status"]
        assert set(frame["year"]) == {"2025"}


def test_jsonstat_read_by_a_real_client(embedded_release) -> None:
    import jsonstat  # a declared dependency: missing, the test fails rather than skip
    for spec in CATALOGUE.tables:
        path = embedded_release.target / "open" / f"{spec.id}.json"
        dataset = jsonstat.from_file(str(path))
        csv = pl.read_csv(embedded_release.target / "open" / f"{spec.id}.csv", infer_schema=False)
        assert len(dataset.data(0) and [dataset.data(i) for i in range(csv.height)]) == csv.height
        total = dataset.data(**{"year": "2025", **{d: "_T" for d in spec.dimensions},
                                "measure": "value"})
        assert total.value == open_value(embedded_release.target / "open", spec.id)


def test_datapackage_is_valid_for_frictionless(embedded_release) -> None:
    from frictionless import Package, validate

    report = validate(embedded_release.target / "open" / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])
    package = Package(embedded_release.target / "open" / "datapackage.json")
    # The tables and the counts of distinct codes (suoja.distinct), each a resource.
    assert {r.name for r in package.resources} == {t.id for t in CATALOGUE.tables
                                                   + CATALOGUE.distinct}


def _stable_json(path: Path) -> dict:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("updated", None)
    return data


@pytest.mark.parametrize("table", ["new_clients", "finland_residence"])
def test_golden_csv_and_jsonstat(embedded_release, update_golden: bool, table: str) -> None:
    golden = REPO / "tests" / "golden" / "release"
    csv = (embedded_release.target / "open" / f"{table}.csv").read_text(encoding="utf-8")
    data = _stable_json(embedded_release.target / "open" / f"{table}.json")
    if update_golden:
        (golden / f"{table}.csv").write_text(csv, encoding="utf-8")
        (golden / f"{table}.json").write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                              encoding="utf-8")
    assert csv == (golden / f"{table}.csv").read_text(encoding="utf-8")
    assert data == json.loads((golden / f"{table}.json").read_text(encoding="utf-8"))


def test_restricted_is_owner_only(embedded_release) -> None:
    restricted = embedded_release.target / "restricted"
    assert stat.S_IMODE(restricted.stat().st_mode) == 0o700
    for path in restricted.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_suppression_log_explains_every_hidden_cell(embedded_release) -> None:
    log = pl.read_csv(embedded_release.target / "restricted" / "suppression_log.csv",
                      infer_schema=False)
    assert log.columns == ["table", "cell", "original", "published", "rule", "reason"]
    assert log["reason"].null_count() == 0
    logged = set(zip(log["table"], log["cell"], strict=True))
    for spec in CATALOGUE.tables:
        frame = pl.read_csv(embedded_release.target / "open" / f"{spec.id}.csv", infer_schema=False)
        for row in frame.filter(pl.col("status") == "C").iter_rows(named=True):
            key = ";".join(f"{d}={row[d]}" for d in spec.dimensions) or "_T"
            assert (spec.id, key) in logged, (spec.id, key)


def test_existing_release_is_not_overwritten(embedded_release) -> None:
    out = embedded_release.target.parent
    before = (embedded_release.target / "open" / "new_clients.csv").stat().st_mtime_ns
    with pytest.raises(UsageError, match="exists; use --force"):
        publish(2025, EMBEDDED, out)
    result = runner.invoke(app, ["publish", "2025", "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.stderr
    assert (embedded_release.target / "open" / "new_clients.csv").stat().st_mtime_ns == before


def test_failed_publish_leaves_nothing_behind(tmp_path: Path, protect_once,
                                             monkeypatch) -> None:
    import suoja.release.write

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(suoja.release.write, "write_restricted", broken)
    with pytest.raises(RuntimeError):
        publish(2025, EMBEDDED, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_a_release_atomically(tmp_path: Path, protect_once) -> None:
    target = tmp_path / "2025"
    (target / "open").mkdir(parents=True)
    (target / "open" / "stale.csv").write_text("old", encoding="utf-8")
    publish(2025, EMBEDDED, tmp_path, force=True)
    assert not (target / "open" / "stale.csv").exists()
    assert (target / "open" / "new_clients.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025"]


def test_publish_cli_summary(tmp_path: Path, protect_once) -> None:
    result = runner.invoke(app, ["publish", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Published 2025: 17 tables" in result.stdout
    assert "counts of distinct codes: 2 (" in result.stdout
    assert str(tmp_path / "2025" / "open") in result.stdout
    assert os.path.isdir(tmp_path / "2025" / "restricted")
