"""Issue 15: counts of distinct citizenships, a figure of their own with their own rule."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import polars as pl
import pytest
from test_review import page_text, render, with_cells

from suoja.protect.distinct import Outsider, distinct_figure, with_distinct, withheld_because


@pytest.fixture(scope="module")
def release(embedded_release):
    """The published release as the protection left it, before ``with_distinct``."""
    done = embedded_release.release
    ids = [s.id for s in done.catalogue.distinct]
    log = done.restricted.log.filter(pl.col("rule") != "distinct")
    return replace(done, tables={k: v for k, v in done.tables.items() if k not in ids},
                   restricted=replace(done.restricted, log=log))


def _feasible(distinct: int, known: int, unknown: int, other: int, top: int) -> set[tuple]:
    """Every (H, P) an outsider holds possible given the distinct count (brute force)."""
    fewest = math.ceil(other / top) if other else 0
    return {(h, p) for h, p in itertools.product(range(unknown + 1), range(other + 1))
            if known + h + p == distinct and fewest <= p <= other and (p > 0 or other == 0)}


def _one_country(other: int, pooled: int, top: int) -> set[int]:
    """The counts one of ``pooled`` countries can have when they share ``other`` persons."""
    return {x for x in range(1, top + 1)
            if pooled - 1 <= other - x <= top * (pooled - 1)}


@pytest.mark.parametrize("top", [2, 4])
def test_rule_reveals_nothing_about_any_cell_when_it_publishes(top):
    """Brute force over small tables: whenever the rule publishes, the hidden listed cells
    may still be zero or not in every combination, and one pooled country's possible counts
    are those it has without the figure, even for an outsider who knows every listed cell."""
    published = 0
    for known, unknown, other in itertools.product(range(3), range(4), range(10)):
        fewest = math.ceil(other / top) if other else 0
        prior_country = set().union(*(_one_country(other, p, top)
                                      for p in range(max(fewest, 1), other + 1)))
        for h_true, p_true in itertools.product(range(unknown + 1), range(fewest, other + 1)):
            if other and p_true == 0:
                continue
            distinct, listed = known + h_true + p_true, known + h_true
            why = withheld_because(distinct, listed, Outsider(known, unknown, other, top))
            if why is not None:
                continue
            published += 1
            holes = {h for h, _ in _feasible(distinct, known, unknown, other, top)}
            assert holes == set(range(unknown + 1)), (known, unknown, other, h_true, p_true)
            if other:
                assert _one_country(other, p_true, top) == prior_country
    assert published > 0


def test_every_pooled_country_with_one_person_is_withheld():
    """D - S = T: each country of Other countries would have exactly one person."""
    assert withheld_because(10 + 7, 10, Outsider(10, 0, 7, 4)) is not None
    assert withheld_because(10 + 4, 10, Outsider(10, 0, 7, 4)) is None


def test_hidden_other_countries_withholds():
    assert withheld_because(20, 10, Outsider(10, 0, None, 4)) is not None


def test_embedded_new_clients_have_fifty_citizenships(release):
    spec = release.catalogue.table("new_clients_citizenships")
    assert distinct_figure(release, spec) == (50, None)
    assert with_distinct(release).tables["new_clients_citizenships"]["value"][0] == 50


def test_embedded_finland_thirty_one_is_published(release):
    """31 citizenships among 141 persons exploited in Finland. The Finland table pools its
    own small countries, so each of its 7 listed countries has at least 5 persons there
    (hidden or not, none is 0), and 24 countries share the 27 persons of Other countries:
    one of them may still have anything from 1 to 4. Published, nothing logged."""
    table = release.tables["finland_victims_citizenship"]
    listed = table.filter(~pl.col("citizenship").is_in(["_T", "_O"]))
    assert listed.height == 7
    assert table.filter(pl.col("citizenship") == "_O")["value"][0] == 27
    spec = release.catalogue.table("finland_victims_citizenships")
    assert distinct_figure(release, spec) == (31, None)
    done = with_distinct(release)
    assert done.tables["finland_victims_citizenships"]["value"][0] == 31
    assert done.restricted.log.filter(done.restricted.log["rule"] == "distinct").height == 0


def test_finland_withheld_when_each_pooled_country_would_be_alone(release):
    """The case D - S = T through the release: were Other countries 24 persons, 31 would
    say each of the 24 pooled countries has exactly one: withheld."""
    shown = with_cells(release, "finland_victims_citizenship", {("_O",): 24})
    assert distinct_figure(shown, shown.catalogue.table("finland_victims_citizenships"))[1]


def test_review_says_the_new_clients_citizenships(release, tmp_path):
    pages = {lang: page_text(h)
             for lang, h in render(with_distinct(release), tmp_path).items()}
    assert "Between them, the new clients held 50 different citizenships." in pages["en"]
    assert "Uusilla asiakkailla oli yhteensä 50 eri kansalaisuutta." in pages["fi"]
    assert "De nya klienterna hade sammanlagt 50 olika medborgarskap." in pages["sv"]
    assert "Those exploited in Finland held 31 different citizenships" in pages["en"]
    assert "The number of different citizenships is a figure of its own" in pages["en"]
    assert "Eri kansalaisuuksien määrä on oma lukunsa" in pages["fi"]
    assert "Antalet olika medborgarskap är en uppgift för sig" in pages["sv"]


def test_review_leaves_out_the_count_when_other_countries_is_hidden(release, tmp_path):
    hidden = with_distinct(with_cells(release, "new_clients_citizenship", {("_O",): None}))
    assert hidden.tables["new_clients_citizenships"]["value"][0] is None
    en = page_text(render(hidden, tmp_path, ("en",))["en"])
    assert "new clients held" not in en


def test_review_without_the_distinct_step_says_nothing_of_it(release, tmp_path):
    en = page_text(render(release, tmp_path, ("en",))["en"])
    assert "different citizenships" not in en


# ---- the counts in publish: open/, the audit, the officer's page, the review ----

def _open_value(target, table: str) -> tuple[int | None, str | None]:
    frame = pl.read_csv(target / "open" / f"{table}.csv", infer_schema=False)
    assert frame.columns == ["year", "value", "status"] and frame.height == 1
    value, status = frame["value"][0], frame["status"][0]
    return (None if value in (None, "") else int(value)), (status or None)


def test_publish_writes_the_counts_to_open_in_every_format(embedded_release):
    """Both counts are tables of open/: CSV, JSON-stat in three languages, PX and a data
    package resource; 50 and 31 are published."""
    target = embedded_release.target
    assert _open_value(target, "new_clients_citizenships") == (50, None)
    assert _open_value(target, "finland_victims_citizenships") == (31, None)
    names = {p.name for p in (target / "open").iterdir()}
    package = json.loads((target / "open" / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"] for r in package["resources"]}
    for table in ("new_clients_citizenships", "finland_victims_citizenships"):
        assert {f"{table}.csv", f"{table}.json", f"{table}.sv.json", f"{table}.en.json",
                f"{table}.px"} <= names
        assert table in resources
    stat = json.loads((target / "open" / "new_clients_citizenships.en.json")
                      .read_text(encoding="utf-8"))
    assert stat["value"] == [50]
    assert stat["dimension"]["measure"]["category"]["unit"]["value"]["label"] == "citizenships"
    finland = json.loads((target / "open" / "finland_victims_citizenships.json")
                         .read_text(encoding="utf-8"))
    assert finland["value"] == [31] and not finland.get("status")
    assert embedded_release.distinct == {"new_clients_citizenships": 50,
                                         "finland_victims_citizenships": 31}


def test_the_counts_are_no_cells_of_the_audit(embedded_release):
    """A count of distinct codes is no sum of cells: the audit's model never holds it, and
    the audit read back from open/ (the count files beside the tables) still passes."""
    from suoja.protect.release_audit import audit_open

    ids = {s.id for s in embedded_release.release.catalogue.distinct}
    assert not ids & {s.id for s in embedded_release.release.catalogue.tables}
    audited = set(embedded_release.audit["table"].to_list())
    assert not any(t.split("[")[0] in ids for t in audited)
    again = audit_open(embedded_release.target / "open", embedded_release.release.catalogue,
                       embedded_release.release.policy)
    assert again["ok"].all() and not any(t.split("[")[0] in ids for t in again["table"])
    log = pl.read_csv(embedded_release.target / "restricted" / "suppression_log.csv")
    assert log.filter(pl.col("rule") == "distinct").height == 0


def test_the_officer_page_lists_the_counts(embedded_release):
    page = page_text((embedded_release.target / "restricted" / "review.html")
                     .read_text(encoding="utf-8"))
    part = page.split("Counts of distinct codes")[1]
    words = " ".join(part.split())
    assert "new_clients_citizenships new_clients_citizenship 50 yes" in words, words
    assert "finland_victims_citizenships finland_victims_citizenship 31 yes" in words


def test_the_published_review_says_the_published_cell(embedded_release):
    """The numbers in the review are the cells of open/ (the review reads the release
    only)."""
    value, _ = _open_value(embedded_release.target, "new_clients_citizenships")
    finland, _ = _open_value(embedded_release.target, "finland_victims_citizenships")
    folder = embedded_release.target / "review"
    pages = {lang: page_text((folder / f"review.{lang}.html").read_text(encoding="utf-8"))
             for lang in ("fi", "sv", "en")}
    assert f"the new clients held {value} different citizenships" in pages["en"]
    assert f"Uusilla asiakkailla oli yhteensä {value} eri kansalaisuutta" in pages["fi"]
    assert f"De nya klienterna hade sammanlagt {value} olika medborgarskap" in pages["sv"]
    assert f"exploited in Finland held {finland} different" in pages["en"]
    assert f"Suomessa hyväksikäytetyillä oli yhteensä {finland} eri" in pages["fi"]
    assert f"De som utnyttjats i Finland hade sammanlagt {finland} olika" in pages["sv"]
    assert "a figure of its own" in pages["en"]


def test_review_says_the_finland_count_when_it_is_published(release, tmp_path):
    """Under a release whose Finland count passes the rule, the exploitation-in-Finland
    section says it, from the published table."""
    done = with_distinct(release)
    shown = dict(done.tables)
    shown["finland_victims_citizenships"] = shown["finland_victims_citizenships"].with_columns(
        pl.lit(31, pl.Int64).alias("value"), pl.lit(None, pl.String).alias("status"))
    pages = render(replace(done, tables=shown), tmp_path)
    assert "Those exploited in Finland held 31 different citizenships between them." \
        in page_text(pages["en"])
    assert "Suomessa hyväksikäytetyillä oli yhteensä 31 eri kansalaisuutta." \
        in page_text(pages["fi"])
    assert "De som utnyttjats i Finland hade sammanlagt 31 olika medborgarskap." \
        in page_text(pages["sv"])


def test_no_counts_under_noise(release):
    from suoja.policy import with_privacy

    noisy = replace(release, policy=with_privacy(release.policy, "dp"))
    done = with_distinct(noisy)
    assert not {s.id for s in done.catalogue.distinct} & set(done.tables)
    assert done.open_tables == done.catalogue.tables
