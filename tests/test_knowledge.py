"""What an outsider knows besides one table: declared facts, other populations, the
releases already published (issue 12).

The cases that broke the guarantee are checked here with arithmetic an outsider would do
by hand on the published files, independently of the audit that the engine shares; the
independent intruder (tests/intruder, CP-SAT) checks whole releases in
test_intruder_release.py.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from conftest import protected_once
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import CatalogueError
from suoja.pipeline import protect_release, publish
from suoja.policy import read_policy
from suoja.protect.release_audit import audit_views, read_open_tables, views_from_tables
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue

REPO = Path(__file__).resolve().parents[1]
REGISTER = REPO / "data" / "register"
CATALOGUE = read_catalogue()
POLICY = read_policy()
runner = CliRunner()


@pytest.fixture(scope="module")
def sequence(embedded_release) -> Path:
    """The embedded register's 2024 and 2025 releases, published in order into one root
    (the session's release: conftest publishes 2024, then 2025)."""
    return embedded_release.target.parent


def value(root: Path, year: int, table: str, **codes: str) -> int | None:
    frame = pl.read_csv(root / str(year) / "open" / f"{table}.csv", infer_schema_length=0)
    for dim in CATALOGUE.table(table).dimensions:
        frame = frame.filter(pl.col(dim) == codes.get(dim, "_T"))
    assert frame.height == 1
    raw = frame["value"][0]
    return None if raw in (None, "") else int(raw)


@pytest.mark.slow
@pytest.mark.parametrize("year", [2024, 2025])
def test_finns_exploited_in_finland_are_one_figure(sequence: Path, year: int) -> None:
    """FINNISH_CITIZEN holds exactly for FIN: the residence table and the citizenship table
    of those exploited in Finland show the same figure, or both hide it."""
    residence = value(sequence, year, "finland_residence", residence_status="FINNISH_CITIZEN")
    finns = value(sequence, year, "finland_victims_citizenship", citizenship="FIN")
    assert residence == finns


@pytest.mark.slow
@pytest.mark.parametrize("year", [2024, 2025])
def test_finns_exploited_abroad_cannot_be_computed_small(sequence: Path, year: int) -> None:
    """Finnish new clients minus Finns in Finland (by either table) must not be 1 to 4."""
    everyone = value(sequence, year, "new_clients_citizenship", citizenship="FIN")
    for in_finland in (
        value(sequence, year, "finland_residence", residence_status="FINNISH_CITIZEN"),
        value(sequence, year, "finland_victims_citizenship", citizenship="FIN"),
    ):
        if everyone is not None and in_finland is not None:
            assert not 1 <= everyone - in_finland <= POLICY.min_count - 1


@pytest.mark.slow
def test_the_sequence_passes_the_audit_with_the_earlier_release(sequence: Path) -> None:
    result = runner.invoke(app, ["audit", str(sequence / "2025")])
    assert result.exit_code == 0, result.output
    assert "earlier releases taken as known: 2024" in result.output


@pytest.mark.slow
def test_the_review_compares_with_the_published_year_before(sequence: Path,
                                                           embedded_release) -> None:
    """Last year's figures in the review are those published last year, never recomputed."""
    from suoja.review.figures import Facts

    facts = Facts(embedded_release.release)
    for table, codes in (("applications", {}), ("decisions", {"decision": "ACCEPTED"}),
                         ("clients_year_end", {"role": "VICTIM"})):
        published = value(sequence, 2024, table, **codes)
        assert facts.previous(table, **codes).value == published
    html = (sequence / "2025" / "review" / "review.en.html").read_text(encoding="utf-8")
    assert f"{value(sequence, 2024, 'applications'):,}" in html


def _tables(catalogue, rows: dict[str, list[tuple]], year: int) -> dict[str, pl.DataFrame]:
    """Published tables from (codes..., value) rows; value None means hidden."""
    out = {}
    for table, values in rows.items():
        dims = catalogue.table(table).dimensions
        frame = pl.DataFrame(values, schema={**{d: pl.String for d in dims}, "value": pl.Int64},
                             orient="row")
        out[table] = frame.select(pl.lit(year, pl.Int64).alias("year"), *dims, "value",
                                  pl.when(pl.col("value").is_null()).then(pl.lit("C"))
                                  .otherwise(None).alias("status"))
    return out


def test_a_code_that_cannot_occur_does_not_absorb_a_difference() -> None:
    """Rejections 25 = NO_NEED 10 + OTHER 12 + NOT_TRAFFICKING: the reason 'not applicable'
    exists only for accepted decisions, so the hidden reason is exactly 3."""
    tables = _tables(CATALOGUE, {
        "decisions": [("_T", 100), ("ACCEPTED", 75), ("REJECTED", 25)],
        "rejections": [("_T", 25), ("NO_NEED", 10), ("NOT_TRAFFICKING", None), ("OTHER", 12)],
    }, 2025)
    found = audit_views(views_from_tables(tables, CATALOGUE, POLICY, 2025), CATALOGUE, POLICY,
                        2025)
    cell = found.filter((pl.col("table") == "rejections")
                        & (pl.col("key") == "rejection_reason=NOT_TRAFFICKING")).row(0, named=True)
    assert (cell["lo"], cell["hi"], cell["ok"]) == (3, 3, False)
    assert "reason_iff_rejected" in cell["knowledge"]


def _stock_tables(catalogue, year: int, stock: dict[str, int], new: dict[str, int],
                  ended: int) -> dict[str, pl.DataFrame]:
    """A release of a catalogue with only the stock, the new clients and the ended ones."""
    victims = sum(stock.values())
    return _tables(catalogue, {
        "clients_year_end_citizenship": [("_T", victims), *stock.items(), ("_O", 0)],
        "new_clients_citizenship": [("_T", sum(new.values())), *new.items()],
        "clients_ended": [(ended,)],
    }, year)


def test_last_years_stock_pins_a_pooled_country(tmp_path: Path) -> None:
    """A stock of 10 Thai victims last year and 14 now, no relationship ended: 4 Thai new
    clients, though they are pooled (fewer than five) among this year's new clients."""
    catalogue = _small_catalogue(tmp_path)
    earlier = _stock_tables(catalogue, 2024, {"THA": 10, "NPL": 20}, {"NPL": 30, "_O": 0}, 0)
    now = _stock_tables(catalogue, 2025, {"THA": 14, "NPL": 50}, {"NPL": 30, "_O": 4}, 0)
    views = (views_from_tables(now, catalogue, POLICY, 2025)
             + views_from_tables(earlier, catalogue, POLICY, 2024))
    found = audit_views(views, catalogue, POLICY, 2025)
    tha = found.filter(pl.col("key").str.contains("citizenship=THA")
                       & (pl.col("kind") == "pooled") & (pl.col("year") == 2025))
    assert tha.height == 1
    assert (tha["lo"][0], tha["hi"][0], tha["ok"][0]) == (4, 4, False)
    assert "victims_stock" in tha["knowledge"][0]
    alone = audit_views(views_from_tables(now, catalogue, POLICY, 2025), catalogue, POLICY, 2025)
    assert alone["ok"].all(), "without last year's release nothing pins Thailand"


SMALL_CATALOGUE = """
[release]
title = { fi = "t", sv = "t", en = "t" }
publisher = { fi = "p", sv = "p", en = "p" }
unit = { fi = "u", sv = "u", en = "u" }
[dimensions.citizenship]
codelist = "citizenship"
label = { fi = "k", sv = "m", en = "c" }
[dimensions.role]
codelist = "role"
label = { fi = "r", sv = "r", en = "r" }
[dimensions.end_reason]
codelist = "end_reason"
label = { fi = "s", sv = "s", en = "r" }
[populations.new_clients]
dimensions = ["citizenship"]
unit = { fi = "henkilöä", sv = "personer", en = "persons" }
[populations.year_end]
dimensions = ["role", "citizenship"]
unit = { fi = "henkilöä", sv = "personer", en = "persons" }
[populations.clients_ended]
dimensions = ["end_reason"]
unit = { fi = "asiakkuutta", sv = "klientskap", en = "client relationships" }
[[tables]]
id = "new_clients_citizenship"
population = "new_clients"
dimensions = ["citizenship"]
title = { fi = "t", sv = "t", en = "t" }
note = { fi = "n", sv = "n", en = "n" }
[[tables]]
id = "clients_year_end_citizenship"
population = "year_end"
dimensions = ["citizenship"]
where = { role = "VICTIM" }
title = { fi = "t", sv = "t", en = "t" }
note = { fi = "n", sv = "n", en = "n" }
[[tables]]
id = "clients_ended"
population = "clients_ended"
dimensions = []
title = { fi = "t", sv = "t", en = "t" }
note = { fi = "n", sv = "n", en = "n" }
[[facts]]
id = "victims_stock"
kind = "stock"
stock = "year_end"
where = { role = "VICTIM" }
inflow = "new_clients"
outflow = "clients_ended"
dimensions = ["citizenship"]
"""


def _small_catalogue(folder: Path):
    """The stock, the new clients by citizenship and the ended relationships, with the
    stock fact of the shipped catalogue."""
    path = folder / "catalogue.toml"
    path.write_text(SMALL_CATALOGUE, encoding="utf-8")
    return read_catalogue(path)


def test_a_fact_with_an_unknown_code_is_refused_naming_its_line(tmp_path: Path) -> None:
    text = (REPO / "data" / "catalogue.toml").read_text(encoding="utf-8")
    bad = text.replace('left = { citizenship = ["FIN"] }', 'left = { citizenship = ["FINX"] }')
    path = tmp_path / "catalogue.toml"
    path.write_text(bad, encoding="utf-8")
    line = next(i + 1 for i, row in enumerate(bad.splitlines()) if row.strip() == "[[facts]]")
    with pytest.raises(CatalogueError, match=rf"facts\[0\] \(line {line}\).*FINX"):
        read_catalogue(path)
    result = runner.invoke(app, ["publish", "2025", "--catalogue", str(path),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert f"line {line}" in result.output and "FINX" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "2025").exists()


@pytest.mark.slow
def test_last_years_release_makes_the_engine_hide_more(tmp_path: Path,
                                                      embedded_release) -> None:
    """A pattern that is safe alone is made unsafe by last year's release; suoja then hides
    more. Last year's release is the real 2024 one with two stock figures shifted, so that
    a country pooled among this year's new clients grew by exactly 4."""
    frames = read_register(REGISTER).frames
    # The real 2024 release: the one the session published (conftest).
    earlier = {2024: read_open_tables(embedded_release.target.parent / "2024" / "open",
                                      CATALOGUE)}
    alone = protected_once(frames, 2025, CATALOGUE, POLICY)  # computed once per worker
    shown_now = set(alone.tables["new_clients_citizenship"]["citizenship"].to_list())
    stock_now = alone.tables["clients_year_end_citizenship"].drop_nulls("value")
    stock_before = earlier[2024]["clients_year_end_citizenship"].drop_nulls("value")
    before = dict(zip(stock_before["citizenship"], stock_before["value"], strict=True))
    candidates = [(c, v) for c, v in zip(stock_now["citizenship"], stock_now["value"],
                                         strict=True)
                  if c not in shown_now and c in before and v - 4 >= POLICY.min_count]
    assert candidates, "the embedded register has no country for this case"
    country, now_value = candidates[0]
    donor = next(c for c in before if c not in (country, "_T", "_O")
                 and before[c] + before[country] - (now_value - 4) >= POLICY.min_count)
    shift = before[country] - (now_value - 4)
    table = earlier[2024]["clients_year_end_citizenship"].with_columns(
        pl.when(pl.col("citizenship") == country).then(pl.col("value") - shift)
        .when(pl.col("citizenship") == donor).then(pl.col("value") + shift)
        .otherwise(pl.col("value")).alias("value"))
    crafted = {2024: {**earlier[2024], "clients_year_end_citizenship": table}}
    views = views_from_tables(alone.tables, CATALOGUE, POLICY, 2025) + views_from_tables(
        crafted[2024], CATALOGUE, POLICY, 2024)
    verdict = audit_views(views, CATALOGUE, POLICY, 2025, exact=False)  # verdicts exact
    assert not verdict["ok"].all(), "the crafted release must expose the pattern made alone"
    guarded = protect_release(frames, 2025, CATALOGUE, POLICY, crafted)
    assert guarded.restricted.audit["ok"].all()

    def hidden(release) -> int:
        return sum(t["value"].null_count() for t in release.tables.values())

    assert hidden(guarded) > hidden(alone)
    written = tmp_path / "written"
    written.mkdir()
    for name, frame in guarded.tables.items():
        frame.write_csv(written / f"{name}.csv")
    assert set(read_open_tables(written, CATALOGUE)) == set(guarded.tables)


@pytest.mark.slow
@pytest.mark.sequence
def test_every_year_of_the_embedded_register_in_order(tmp_path: Path) -> None:
    """2015 to 2025 protected in order, each year against every release before it: the
    joint audit passes every year, and the independent intruder (CP-SAT, no shared code)
    finds nothing in the last two years given the four releases before them."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    from intruder import attack

    frames = read_register(REGISTER).frames
    published: dict[int, dict[str, pl.DataFrame]] = {}
    for year in range(2015, 2026):
        release = protect_release(frames, year, CATALOGUE, POLICY, dict(published))
        failed = release.restricted.audit.filter(~pl.col("ok"))
        assert failed.is_empty(), (year, failed.to_dicts())
        published[year] = release.tables
        folder = tmp_path / str(year) / "open"
        folder.mkdir(parents=True)
        for name, frame in release.tables.items():
            frame.write_csv(folder / f"{name}.csv")
    earlier = [tmp_path / str(y) / "open" for y in range(2021, 2025)]
    findings = attack(tmp_path / "2025" / "open", REPO / "data" / "catalogue.toml",
                      REPO / "policies" / "default.toml", earlier, REPO / "data" / "codelists")
    assert [f for f in findings if not f.ok and f.year >= 2024] == []


@pytest.mark.slow
def test_a_corrected_register_does_not_change_last_years_figures(tmp_path: Path,
                                                               embedded_release) -> None:
    """The review's figures of the year before are those published then: correcting the
    register afterwards (one application of 2024 removed) changes none of them."""
    import shutil

    from suoja.review.figures import Facts

    out = tmp_path / "out"
    # The 2024 release of the embedded register, as the session published it.
    shutil.copytree(embedded_release.target.parent / "2024", out / "2024")
    corrected = tmp_path / "register"
    shutil.copytree(REGISTER, corrected)
    lines = (corrected / "applications.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    received = header.index("received")
    drop = next(i for i, row in enumerate(lines[1:], 1)
                if row.split(",")[received].startswith("2024"))
    (corrected / "applications.csv").write_text(
        "\n".join(lines[:drop] + lines[drop + 1:]) + "\n", encoding="utf-8")
    result = publish(2025, corrected, out)
    published_2024 = value(out, 2024, "applications")
    # The corrected register counts one application of 2024 fewer (the cube's total; the
    # table of applications is large, so protection would publish it as it is).
    from suoja.tables.cubes import compute_cubes

    cube = compute_cubes(read_register(corrected).frames, CATALOGUE, 2024)["applications"]
    assert cube.finest["value"].sum() == published_2024 - 1
    assert Facts(result.release).previous("applications").value == published_2024


def test_a_solver_limit_in_the_joint_audit_is_a_refusal(monkeypatch) -> None:
    """Running out of the solver's time in the joint audit is exit 3 with the reason."""
    from suoja.errors import SolverLimitError
    from suoja.protect import joint_ranges

    tables = _tables(CATALOGUE, {
        "decisions": [("_T", 100), ("ACCEPTED", 75), ("REJECTED", 25)],
        "rejections": [("_T", 25), ("NO_NEED", None), ("NOT_TRAFFICKING", None), ("OTHER", 12)],
    }, 2025)
    monkeypatch.setattr(joint_ranges, "outcome", lambda _highs: "limit")
    with pytest.raises(SolverLimitError, match="time limit") as raised:
        audit_views(views_from_tables(tables, CATALOGUE, POLICY, 2025), CATALOGUE, POLICY, 2025)
    assert raised.value.exit_code == 3


def test_figures_that_contradict_a_fact_are_the_users_to_fix() -> None:
    """Rejections that add up only if an accepted decision had a reason: exit status 2."""
    from suoja.errors import SuojaError

    tables = _tables(CATALOGUE, {
        "decisions": [("_T", 100), ("ACCEPTED", 75), ("REJECTED", 25)],
        "rejections": [("_T", 25), ("NO_NEED", 10), ("NOT_TRAFFICKING", 10), ("OTHER", 1)],
    }, 2025)
    with pytest.raises(SuojaError, match="contradict") as raised:
        audit_views(views_from_tables(tables, CATALOGUE, POLICY, 2025), CATALOGUE, POLICY, 2025)
    assert raised.value.exit_code == 2


def test_a_node_limit_in_the_joint_audit_is_deterministic_and_never_laxer(monkeypatch) -> None:
    """The joint audit's MIPs stop at a node limit, not a clock: with the limit cut to one
    node the verdicts are the same on every run, and never laxer than without it."""
    from suoja.protect import joint_ranges

    tables = _tables(CATALOGUE, {
        "decisions": [("_T", 100), ("ACCEPTED", 75), ("REJECTED", 25)],
        "rejections": [("_T", 25), ("NO_NEED", None), ("NOT_TRAFFICKING", None), ("OTHER", 12)],
    }, 2025)
    views = views_from_tables(tables, CATALOGUE, POLICY, 2025)
    full = audit_views(views, CATALOGUE, POLICY, 2025)
    monkeypatch.setattr(joint_ranges, "MIP_NODES", 1)
    first = audit_views(views, CATALOGUE, POLICY, 2025)
    second = audit_views(views, CATALOGUE, POLICY, 2025)
    assert first.equals(second)
    joined = full.join(first, on=["year", "table", "key"], suffix="_cut")
    assert joined.height == full.height
    assert joined.filter(pl.col("ok_cut") & ~pl.col("ok")).is_empty()
