"""Every figure of the 2025 review, recomputed straight from ``data/register/*.csv``.

Plain Polars only (no suoja code): the files are read with an explicit schema and each
figure of ``figures-2025.md`` is counted by the project's definitions. A failure here
means the embedded register no longer reproduces the published review.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "register"
# fmt: off
S, D, N = pl.String, pl.Date, pl.Int64
SCHEMAS = {
    "persons": {"person_id": S, "role": S, "parent_id": S, "sex": S, "birth_year": N,
                "citizenship": S},
    "applications": {"application_id": S, "person_id": S, "received": D, "referrer": S,
                     "decision": S, "decided": D, "rejection_reason": S},
    "client_periods": {"person_id": S, "start": D, "end": D, "end_reason": S,
                       "residence_status": S},
    "exploitation": {"event_id": S, "person_id": S, "form": S, "rank": S, "country": S,
                     "sector": S, "identified": D},
    "reflection_periods": {"person_id": S, "granted": D, "months": N},
}
# fmt: on
DEC31 = date(2025, 12, 31)


@pytest.fixture(scope="module")
def reg() -> dict[str, pl.DataFrame]:
    return {n: pl.read_csv(DATA / f"{n}.csv", schema=s) for n, s in SCHEMAS.items()}


def counts(frame: pl.DataFrame, col: str) -> dict:
    return dict(frame.group_by(col).len().iter_rows())


def pct(part: int, whole: int) -> int:
    return round(100 * part / whole)


@pytest.fixture(scope="module")
def periods(reg) -> pl.DataFrame:
    """Client periods with the person's role, sex, birth year and citizenship."""
    return reg["client_periods"].join(reg["persons"], on="person_id", how="left")


@pytest.fixture(scope="module")
def new_victims(periods) -> pl.DataFrame:
    return periods.filter((pl.col("role") == "VICTIM") & (pl.col("start").dt.year() == 2025))


@pytest.fixture(scope="module")
def events(reg, periods) -> pl.DataFrame:
    """Events with the start of the period they belong to: the person's earliest period
    that had not ended before the event was identified."""
    return (
        reg["exploitation"]
        .join(
            periods.select("person_id", "start", "end", "sex", "citizenship", "residence_status"),
            on="person_id",
        )
        .filter(pl.col("end").is_null() | (pl.col("end") >= pl.col("identified")))
        .sort("event_id", "start")
        .unique("event_id", keep="first", maintain_order=True)
    )


@pytest.fixture(scope="module")
def new_events(events) -> pl.DataFrame:
    return events.filter(pl.col("start").dt.year() == 2025)


@pytest.fixture(scope="module")
def finland(new_victims, new_events) -> pl.DataFrame:
    """New clients of 2025 exploited in Finland (at least one event in FIN)."""
    keys = new_events.filter(pl.col("country") == "FIN").select("person_id", "start").unique()
    return new_victims.join(keys, on=["person_id", "start"])


def test_applications(reg):
    apps = reg["applications"]
    a25 = apps.filter(pl.col("received").dt.year() == 2025)
    a24 = apps.filter(pl.col("received").dt.year() == 2024)
    by = counts(a25, "referrer")
    assert a25.height == 467
    assert by["MIGRI"] + by["RECEPTION_CENTRE"] == 233 and pct(233, 467) == 50
    assert by["SELF"] == 93 and pct(93, 467) == 20
    assert all(by[r] >= 5 for r in ("POLICE", "NGO", "OTHER"))
    assert sum(by.values()) == 467 and set(by) <= {
        "MIGRI",
        "RECEPTION_CENTRE",
        "SELF",
        "WELLBEING_SERVICES",
        "POLICE",
        "NGO",
        "OTHER",
    }
    share25 = by["WELLBEING_SERVICES"] / a25.height
    share24 = counts(a24, "referrer")["WELLBEING_SERVICES"] / a24.height
    assert round(share25 / share24, 1) == 2.0
    assert (
        apps.filter(pl.col("received").dt.year() < 2023)["referrer"]
        .to_list()
        .count("WELLBEING_SERVICES")
        == 0
    )


def test_decisions(reg):
    apps = reg["applications"]
    d25 = apps.filter(pl.col("decided").dt.year() == 2025)
    assert counts(d25, "decision") == {"ACCEPTED": 271, "REJECTED": 154, "WITHDRAWN": 17}
    rej = counts(d25.filter(pl.col("decision") == "REJECTED"), "rejection_reason")
    assert rej == {"NO_NEED": 75, "NOT_TRAFFICKING": 62, "OTHER": 17}
    assert pct(75, 154) == 49 and pct(62, 154) == 40
    a25 = apps.filter(pl.col("received").dt.year() == 2025)
    rest = a25.filter(~pl.col("decision").is_in(["ACCEPTED", "REJECTED"]))
    assert rest.height == 467 - 271 - 154 == 42
    assert set(rest["decision"]) == {"WITHDRAWN", "PENDING"}
    # earlier years: all decided in the year received
    old = apps.filter(pl.col("received").dt.year() < 2025)
    assert (old["decided"].dt.year() == old["received"].dt.year()).all()


def test_new_clients(new_victims, periods):
    assert new_victims.height == 271
    assert counts(new_victims, "sex") == {"F": 165, "M": 106} and pct(165, 271) == 61
    age = pl.col("start").dt.year() - pl.col("birth_year")
    groups = new_victims.select(
        pl.when(pl.col("birth_year").is_null())
        .then(pl.lit("_U"))
        .when(age < 18)
        .then(pl.lit("Y_LT18"))
        .when(age < 30)
        .then(pl.lit("Y18T29"))
        .when(age < 40)
        .then(pl.lit("Y30T39"))
        .when(age < 50)
        .then(pl.lit("Y40T49"))
        .when(age < 60)
        .then(pl.lit("Y50T59"))
        .otherwise(pl.lit("Y_GE60"))
        .alias("g")
    )
    assert counts(groups, "g") == {
        "Y_LT18": 10,
        "Y18T29": 114,
        "Y30T39": 95,
        "Y40T49": 41,
        "Y50T59": 8,
        "Y_GE60": 3,
    }
    assert [pct(n, 271) for n in (10, 114, 95, 41, 8)] == [4, 42, 35, 15, 3]
    kids = periods.filter((pl.col("role") == "CHILD") & (pl.col("start").dt.year() == 2025))
    assert kids.height == 32


def test_citizenship(new_victims):
    by = new_victims.group_by("citizenship").len().sort("len", descending=True)
    sizes = dict(by.iter_rows())
    assert by.height == 50
    assert by["citizenship"][:2].to_list() == ["NPL", "SOM"] and by["len"][1] > by["len"][2]
    assert sizes["FIN"] == 18 and pct(18, 271) == 7
    small = by.filter(pl.col("len") < 5)
    assert small["len"].sum() == 70 and pct(70, 271) == 26
    assert by.height - small.height >= 8
    assert {1, 2, 3, 4} <= set(small["len"])


def test_events(new_events):
    assert new_events.height == 314
    assert (new_events["rank"] == "PRIMARY").sum() == 271
    cells = dict(((f, s), n) for f, s, n in new_events.group_by("form", "sex").len().iter_rows())
    forms = {
        "FORCED_LABOUR",
        "SEXUAL_EXPLOITATION",
        "FORCED_MARRIAGE",
        "FORCED_CRIMINALITY",
        "BEGGING",
        "OTHER",
    }
    assert {f for f, _ in cells} == forms
    for form in ("FORCED_MARRIAGE", "SEXUAL_EXPLOITATION"):
        assert cells[(form, "F")] > 2 * cells.get((form, "M"), 0)
    assert cells[("FORCED_LABOUR", "M")] > cells[("FORCED_LABOUR", "F")]
    assert any(1 <= n <= 4 for n in cells.values())


def test_finland(finland, new_events, new_victims):
    assert finland.height == 141 and counts(finland, "sex") == {"M": 86, "F": 55}
    cit = counts(finland, "citizenship")
    assert len(cit) == 31 and cit["NPL"] == 59 and cit["FIN"] == 17
    assert pct(59, 141) == 42 and pct(17, 141) == 12
    fin_citizens = new_victims.filter(pl.col("citizenship") == "FIN")
    assert fin_citizens.height == 18 and fin_citizens.height - cit["FIN"] == 1
    in_fin = new_events.filter(pl.col("country") == "FIN")
    assert in_fin.height == 149
    per_person = in_fin.group_by("person_id", "sex").len()
    assert per_person.filter(pl.col("sex") == "M")["len"].to_list() == [1] * 86
    twice = per_person.filter(pl.col("len") > 1)
    assert twice.height == 8 and set(twice["sex"]) == {"F"} and set(twice["len"]) == {2}
    labour = in_fin.filter(pl.col("form") == "FORCED_LABOUR")
    assert labour.height == 101 and pct(101, 149) == 68
    sectors = counts(labour, "sector")
    construction = sum(sectors.get(s, 0) for s in ("41", "42", "43"))
    assert sectors["02"] > sectors["56"] > sectors["01"] > construction
    others = {s: n for s, n in sectors.items() if s not in ("02", "56", "01", "41", "42", "43")}
    assert others and max(others.values()) < construction and sum(sectors.values()) == 101


def test_residence(finland):
    assert counts(finland, "residence_status") == {
        "SEASONAL_WORK": 50,
        "WORK": 21,
        "FAMILY": 13,
        "INTERNATIONAL_PROTECTION": 9,
        "OTHER_PERMIT": 3,
        "FINNISH_CITIZEN": 17,
        "NO_RIGHT": 14,
        "EU_OR_VISA_FREE": 14,
    }
    assert pct(50 + 21 + 13 + 9 + 3, 141) == 68 and pct(9, 141) == 6


def test_reflection(reg):
    refl = reg["reflection_periods"]
    r25 = refl.filter(pl.col("granted").dt.year() == 2025)
    assert r25.height == 35
    assert refl["months"].is_between(1, 6).all()
    assert refl.filter(pl.col("granted").dt.year() < 2025).height > 0


def test_ended(periods):
    ended = periods.filter((pl.col("role") == "VICTIM") & (pl.col("end").dt.year() == 2025))
    assert ended.height == 169
    why = counts(ended, "end_reason")
    assert why["NO_NEED"] == 98 and why["LEFT_COUNTRY"] == 61
    assert why.get("OWN_WISH", 0) + why.get("OTHER", 0) == 10
    assert pct(98, 169) == 58 and pct(61, 169) == 36
    assert (ended["start"].dt.year() < 2025).all()


def test_stock(periods):
    stock = periods.filter(
        (pl.col("start") <= DEC31) & (pl.col("end").is_null() | (pl.col("end") > DEC31))
    )
    assert stock.height == 1634 and stock["person_id"].n_unique() == 1634
    assert counts(stock, "role") == {"VICTIM": 1424, "CHILD": 210}
    victims = stock.filter(pl.col("role") == "VICTIM")
    assert pct((victims["sex"] == "F").sum(), 1424) == 61
    taken_minor = victims.filter(pl.col("start").dt.year() - pl.col("birth_year") < 18)
    assert taken_minor.height == 85
    assert victims.filter(2025 - pl.col("birth_year") < 18).height == 10


def test_2024(periods, events):
    dec31 = date(2024, 12, 31)
    stock = periods.filter(
        (pl.col("role") == "VICTIM")
        & (pl.col("start") <= dec31)
        & (pl.col("end").is_null() | (pl.col("end") > dec31))
    )
    assert stock.height == 1322 == 1424 - 271 + 169
    ev24 = events.filter(pl.col("start").dt.year() == 2024)
    assert (
        ev24.filter((pl.col("country") == "FIN") & (pl.col("form") == "FORCED_LABOUR")).height == 54
    )
    new = periods.filter((pl.col("role") == "VICTIM") & (pl.col("start").dt.year() == 2024))
    assert 150 <= new.height <= 250
