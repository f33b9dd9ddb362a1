"""The synthetic registers: deterministic, and valid under every rule of the data contract.

The contract rules are checked here with plain Polars (not with suoja's own validator),
so that the generator and the validator are held against each other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pycountry
import pytest
from polars.testing import assert_frame_equal
from test_embedded_figures import SCHEMAS  # the plain-Polars schemas, independent of suoja

from suoja.synth import TABLES, embedded_register, scaled_register, write_register

DATA = Path(__file__).resolve().parents[1] / "data" / "register"
# fmt: off
CODES = {
    ("persons", "role"): {"VICTIM", "CHILD"},
    ("persons", "sex"): {"F", "M", "U"},
    ("applications", "referrer"): {"MIGRI", "RECEPTION_CENTRE", "SELF", "WELLBEING_SERVICES",
                                   "POLICE", "NGO", "OTHER"},
    ("applications", "decision"): {"ACCEPTED", "REJECTED", "WITHDRAWN", "PENDING"},
    ("applications", "rejection_reason"): {"NO_NEED", "NOT_TRAFFICKING", "OTHER", None},
    ("client_periods", "end_reason"): {"NO_NEED", "LEFT_COUNTRY", "OWN_WISH", "OTHER", None},
    ("client_periods", "residence_status"): {
        "FINNISH_CITIZEN", "SEASONAL_WORK", "WORK", "FAMILY", "INTERNATIONAL_PROTECTION",
        "OTHER_PERMIT", "EU_OR_VISA_FREE", "NO_RIGHT", None},
    ("exploitation", "form"): {"FORCED_LABOUR", "SEXUAL_EXPLOITATION", "FORCED_MARRIAGE",
                               "FORCED_CRIMINALITY", "BEGGING", "OTHER"},
    ("exploitation", "rank"): {"PRIMARY", "SECONDARY"},
}
# fmt: on
ALPHA3 = {c.alpha_3 for c in pycountry.countries}


def rows(frame: pl.DataFrame, condition: pl.Expr) -> int:
    return frame.filter(condition).height


def contract_problems(f: dict[str, pl.DataFrame]) -> list[str]:
    """Every broken contract rule, as a short sentence (empty: the register is valid)."""
    bad: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            bad.append(what)

    check(list(f) == list(TABLES), f"tables {list(f)}")
    for name, schema in SCHEMAS.items():
        check(dict(f[name].schema) == schema and f[name].columns == list(schema), f"{name} schema")
    for (table, col), allowed in CODES.items():
        check(set(f[table][col].unique().to_list()) <= allowed, f"{table}.{col} codes")
    P, A, C, E, R = (f[t] for t in TABLES)
    ids = P["person_id"]
    check(ids.is_unique().all() and (ids.str.len_chars() > 0).all(), "person ids")
    check(set(P["citizenship"]) <= ALPHA3 | {"XXA", "XXX"}, "citizenship codes")
    check(
        rows(P, pl.col("parent_id").is_null() != (pl.col("role") == "VICTIM")) == 0,
        "parent_id iff CHILD",
    )
    victims = P.filter(pl.col("role") == "VICTIM")["person_id"].implode()
    kids = P.filter(pl.col("role") == "CHILD")
    check(kids["parent_id"].is_in(victims).all(), "parent is a victim")
    for name, t in (("applications", A), ("client_periods", C), ("reflection_periods", R)):
        check(t["person_id"].is_in(ids.implode()).all(), f"{name}.person_id in persons")
    check(E["person_id"].is_in(victims).all(), "events of victims")
    check(A["application_id"].is_unique().all() and E["event_id"].is_unique().all(), "unique ids")
    check(
        rows(A, pl.col("decided").is_null() != (pl.col("decision") == "PENDING")) == 0,
        "decided iff not PENDING",
    )
    check(rows(A, pl.col("decided") < pl.col("received")) == 0, "decided >= received")
    check(
        rows(A, pl.col("rejection_reason").is_null() != (pl.col("decision") != "REJECTED")) == 0,
        "rejection_reason iff REJECTED",
    )
    check(rows(C, pl.col("end") < pl.col("start")) == 0, "end >= start")
    check(
        rows(C, pl.col("end").is_null() != pl.col("end_reason").is_null()) == 0,
        "end_reason iff end",
    )
    cp = C.join(P, on="person_id")
    check(
        rows(
            cp,
            (pl.col("citizenship") == "FIN")
            != (pl.col("residence_status") == "FINNISH_CITIZEN").fill_null(False),
        )
        == 0,
        "FIN <-> FINNISH_CITIZEN",
    )
    age = pl.col("start").dt.year() - pl.col("birth_year")
    check(rows(cp, (pl.col("birth_year") < 1900) | (age < 0)) == 0, "plausible birth years")
    check(
        rows(cp.filter(pl.col("role") == "CHILD"), pl.col("birth_year").is_null() | (age >= 18))
        == 0,
        "children are minors at their start",
    )
    nxt = C.sort("person_id", "start").with_columns(
        pl.col("start").shift(-1).over("person_id").alias("next")
    )
    check(
        rows(
            nxt,
            pl.col("next").is_not_null()
            & (pl.col("end").is_null() | (pl.col("end") >= pl.col("next"))),
        )
        == 0,
        "periods do not overlap",
    )
    check(R["months"].is_between(1, 6).all(), "reflection months 1..6")
    check(
        rows(E, pl.col("sector").is_null() != (pl.col("form") != "FORCED_LABOUR")) == 0,
        "sector iff FL",
    )
    check(E["sector"].drop_nulls().str.contains(r"^\d\d$").all(), "sector is a NACE division")
    check(set(E["country"]) <= ALPHA3, "event countries")
    # each event belongs to a period; each victim period has exactly one PRIMARY event
    owner = (
        E.join(C.select("person_id", "start", "end"), on="person_id")
        .filter(pl.col("end").is_null() | (pl.col("end") >= pl.col("identified")))
        .sort("event_id", "start")
        .unique("event_id", keep="first")
    )
    check(owner.height == E.height, "every event belongs to a period")
    vp = cp.filter(pl.col("role") == "VICTIM").select("person_id", "start")
    primaries = vp.join(
        owner.filter(pl.col("rank") == "PRIMARY").group_by("person_id", "start").len(),
        on=["person_id", "start"],
        how="left",
    )
    check(rows(primaries, pl.col("len").fill_null(0) != 1) == 0, "one PRIMARY per victim period")
    check(
        rows(
            cp.filter(pl.col("role") == "CHILD"),
            pl.col("person_id").is_in(E["person_id"].implode()),
        )
        == 0,
        "children have no events",
    )
    accepted = A.filter(pl.col("decision") == "ACCEPTED").select(
        "person_id", pl.col("decided").alias("start")
    )
    check(
        vp.join(accepted, on=["person_id", "start"], how="anti").height == 0,
        "an ACCEPTED application decided on each victim period's start",
    )
    return bad


@pytest.fixture(scope="module")
def embedded() -> dict[str, pl.DataFrame]:
    return embedded_register()


@pytest.fixture(scope="module")
def scaled() -> dict[str, pl.DataFrame]:
    return scaled_register(20_000, seed=7)


def assert_registers_equal(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    assert list(a) == list(b)
    for name in a:
        assert_frame_equal(a[name], b[name])


def test_embedded_is_deterministic(embedded):
    assert_registers_equal(embedded, embedded_register())


def test_embedded_matches_committed_files(embedded):
    files = {n: pl.read_csv(DATA / f"{n}.csv", schema=s) for n, s in SCHEMAS.items()}
    assert_registers_equal(embedded, files)


def test_embedded_keeps_the_contract(embedded):
    assert contract_problems(embedded) == []


def test_scaled_keeps_the_contract(scaled):
    assert contract_problems(scaled) == []


def test_scaled_is_deterministic_per_seed(scaled):
    assert_registers_equal(scaled, scaled_register(20_000, seed=7))
    other = scaled_register(20_000, seed=8)
    assert not other["persons"].equals(scaled["persons"])


def test_scaled_size_and_shape(scaled):
    n = scaled["persons"].height
    assert 18_000 <= n <= 22_000
    roles = dict(scaled["persons"].group_by("role").len().iter_rows())
    assert 0.05 < roles["CHILD"] / n < 0.12
    years = scaled["client_periods"]["start"].dt.year()
    assert years.min() == 2006 and years.max() == 2025
    per_year = years.value_counts().sort("start")["count"]
    assert per_year[-1] > 4 * per_year[0]  # the system grows
    fin = scaled["exploitation"].filter(pl.col("country") == "FIN")["form"].value_counts()
    assert fin.sort("count")["form"][-1] == "FORCED_LABOUR"


@pytest.mark.parametrize(
    ("n", "years"), [(1, (2025, 2025)), (300, (2020, 2025)), (5_000, (1970, 2030))]
)
def test_scaled_small_and_odd_spans_keep_the_contract(n, years):
    frames = scaled_register(n, seed=3, years=years)
    assert contract_problems(frames) == []
    dates = pl.concat([frames["applications"]["received"], frames["client_periods"]["start"]])
    assert dates.dt.year().is_between(*years).all()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        scaled_register(0)
    with pytest.raises(ValueError):
        scaled_register(10, years=(2025, 2006))
    with pytest.raises(ValueError):
        scaled_register(10, years=(1900, 2025))
    with pytest.raises(ValueError):
        write_register(embedded_register(), Path("unused"), fmt="xlsx")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write_register_round_trips(tmp_path, fmt):
    frames = scaled_register(2_000, seed=1)
    write_register(frames, tmp_path, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.{fmt}" for n in TABLES)
    for name, schema in SCHEMAS.items():
        path = tmp_path / f"{name}.{fmt}"
        back = pl.read_csv(path, schema=schema) if fmt == "csv" else pl.read_parquet(path)
        assert_frame_equal(back, frames[name])
    if fmt == "csv":
        text = (tmp_path / "persons.csv").read_text(encoding="utf-8").splitlines()
        assert text[0] == "person_id,role,parent_id,sex,birth_year,citizenship"
        assert ",," in "\n".join(text)  # null is an empty field
        assert np.all([len(line.split(",")) == 6 for line in text])


def _broken(frames: dict[str, pl.DataFrame], table: str, expr: pl.Expr) -> dict:
    out = dict(frames)
    out[table] = frames[table].with_row_index("_i").with_columns(expr).drop("_i")
    return out


@pytest.mark.parametrize(
    ("table", "expr", "rule"),
    [
        (
            "persons",
            pl.when(pl.col("_i") == 3)
            .then(pl.lit("P000001"))
            .otherwise("person_id")
            .alias("person_id"),
            "person ids",
        ),
        (
            "applications",
            pl.when(pl.col("decision") == "REJECTED")
            .then(None)
            .otherwise("rejection_reason")
            .alias("rejection_reason"),
            "rejection_reason iff REJECTED",
        ),
        (
            "client_periods",
            pl.when(pl.col("residence_status") == "FINNISH_CITIZEN")
            .then(pl.lit("WORK"))
            .otherwise("residence_status")
            .alias("residence_status"),
            "FIN <-> FINNISH_CITIZEN",
        ),
        (
            "client_periods",
            pl.when(pl.col("end").is_not_null())
            .then(pl.col("start") - pl.duration(days=1))
            .otherwise("end")
            .alias("end"),
            "end >= start",
        ),
        ("client_periods", pl.lit(None, pl.Date).alias("end"), "periods do not overlap"),
        ("exploitation", pl.lit("PRIMARY").alias("rank"), "one PRIMARY per victim period"),
        (
            "exploitation",
            pl.when(pl.col("form") == "BEGGING")
            .then(pl.lit("01"))
            .otherwise("sector")
            .alias("sector"),
            "sector iff FL",
        ),
        ("reflection_periods", pl.lit(7, pl.Int64).alias("months"), "reflection months 1..6"),
    ],
)
def test_the_contract_check_catches_breaks(embedded, table, expr, rule):
    assert rule in contract_problems(_broken(embedded, table, expr))


def test_partitioned_parts_keep_the_contract_together(tmp_path):
    from suoja.synth import write_scaled_parts

    rows = write_scaled_parts(3_000, tmp_path, parts=3, seed=5)
    frames = {name: pl.read_parquet(sorted((tmp_path / name).glob("part-*.parquet")))
              for name in TABLES}
    # One part file per table and part; the parts together are one contract-valid register
    # (identifiers unique across parts, every reference within its own part).
    assert all(len(list((tmp_path / name).glob("part-*.parquet"))) == 3 for name in TABLES)
    assert {name: f.height for name, f in frames.items()} == rows
    assert contract_problems(frames) == []
    assert 2_700 <= frames["persons"].height <= 3_300
    with pytest.raises(ValueError):
        write_scaled_parts(2, tmp_path, parts=3)


def test_synth_parts_needs_scale_and_parquet(tmp_path):
    from typer.testing import CliRunner

    from suoja.cli import app

    result = CliRunner().invoke(app, ["synth", "--parts", "4", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert "--parts needs --scale" in result.output
