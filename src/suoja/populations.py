"""The populations of the release: one row per counted unit, with its cube dimensions.

Each function takes the register's frames and a year and returns a LazyFrame with one row
per unit: ``person_id`` (the privacy unit, for contribution bounding) and the population's
cube dimensions (codes as strings). Every table of a population is a
margin of the population's finest cross-classification, so these are the only places
where the register is read for statistics.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import polars as pl

from suoja import codelists
from suoja._rules import event_periods

Frames = Mapping[str, pl.DataFrame]


def _in_year(column: str, year: int) -> pl.Expr:
    return pl.col(column).dt.year() == year


def age_group(age: pl.Expr) -> pl.Expr:
    """The contract's age group of an age in whole years (null age gives ``_U``)."""
    expr = pl.when(age.is_null()).then(pl.lit(codelists.UNKNOWN))
    for code, low, high in codelists.AGE_GROUPS:
        if low is None:
            condition = age <= high
        elif high is None:
            condition = age >= low
        else:
            condition = age.is_between(low, high)
        expr = expr.when(condition).then(pl.lit(code))
    return expr.otherwise(pl.lit(codelists.UNKNOWN))


def _victim_periods(frames: Frames) -> pl.LazyFrame:
    victims = frames["persons"].lazy().filter(pl.col("role") == "VICTIM")
    return frames["client_periods"].lazy().join(victims, on="person_id", how="inner")


def applications(frames: Frames, year: int) -> pl.LazyFrame:
    """Applications received in the year, by who made them."""
    return frames["applications"].lazy().filter(_in_year("received", year)).select(
        "person_id", "referrer"
    )


def decisions(frames: Frames, year: int) -> pl.LazyFrame:
    """Decisions (accepted or rejected) made in the year, with the reason of a rejection."""
    return (
        frames["applications"].lazy()
        .filter(_in_year("decided", year) & pl.col("decision").is_in(["ACCEPTED", "REJECTED"]))
        .select("person_id", "decision", pl.col("rejection_reason").fill_null(codelists.NOT_APPLICABLE))
    )


def clients_ended(frames: Frames, year: int) -> pl.LazyFrame:
    """Victims' client relationships that ended in the year, by reason."""
    return _victim_periods(frames).filter(_in_year("end", year)).select(
        "person_id", "end_reason"
    )


def _new_client_periods(frames: Frames, year: int) -> pl.LazyFrame:
    return _victim_periods(frames).filter(_in_year("start", year))


def _new_client_events(frames: Frames, year: int) -> pl.LazyFrame:
    events = event_periods(frames["exploitation"], frames["client_periods"]).lazy()
    starts = _new_client_periods(frames, year).select("person_id", "start", "sex")
    return events.join(starts, left_on=["person_id", "period_start"],
                       right_on=["person_id", "start"], how="inner")


def new_clients(frames: Frames, year: int) -> pl.LazyFrame:
    """Victims who became clients in the year (one row per period started)."""
    in_finland = (
        _new_client_events(frames, year)
        .group_by("person_id", "period_start")
        .agg((pl.col("country") == "FIN").any().alias("_fin"))
    )
    return (
        _new_client_periods(frames, year)
        .join(in_finland, left_on=["person_id", "start"],
              right_on=["person_id", "period_start"], how="left")
        .select(
            "person_id",
            "sex",
            age_group(pl.col("start").dt.year() - pl.col("birth_year")).alias("age_group"),
            "citizenship",
            pl.when(pl.col("_fin").fill_null(False)).then(pl.lit("Y")).otherwise(pl.lit("N"))
            .alias("in_finland"),
            pl.col("residence_status").fill_null(codelists.UNKNOWN),
        )
    )


def new_client_events(frames: Frames, year: int) -> pl.LazyFrame:
    """Exploitation events (primary and secondary) of the victims who became clients."""
    sector = (
        pl.when(pl.col("form") != "FORCED_LABOUR").then(pl.lit(codelists.NOT_APPLICABLE))
        .otherwise(pl.col("sector").fill_null(codelists.UNKNOWN))
    )
    return _new_client_events(frames, year).select(
        "person_id",
        "event_id",
        "form",
        "sex",
        pl.when(pl.col("country") == "FIN").then(pl.lit("Y")).otherwise(pl.lit("N"))
        .alias("in_finland"),
        sector.alias("sector"),
    )


def new_children(frames: Frames, year: int) -> pl.LazyFrame:
    """Minor children of victims who became clients in the year."""
    children = frames["persons"].lazy().filter(pl.col("role") == "CHILD")
    return (
        frames["client_periods"].lazy().join(children, on="person_id", how="inner")
        .filter(_in_year("start", year)).select("person_id")
    )


def reflection_periods(frames: Frames, year: int) -> pl.LazyFrame:
    """Reflection periods granted in the year."""
    return frames["reflection_periods"].lazy().filter(_in_year("granted", year)).select(
        "person_id"
    )


def year_end(frames: Frames, year: int) -> pl.LazyFrame:
    """Persons (victims and their children) who are clients on 31 December of the year."""
    last_day = dt.date(year, 12, 31)
    open_periods = frames["client_periods"].lazy().filter(
        (pl.col("start") <= last_day) & (pl.col("end").is_null() | (pl.col("end") > last_day))
    )
    return open_periods.join(frames["persons"].lazy(), on="person_id", how="inner").select(
        "person_id", "role", "sex", "citizenship"
    )


POPULATIONS: dict[str, Callable[[Frames, int], pl.LazyFrame]] = {
    "applications": applications,
    "decisions": decisions,
    "clients_ended": clients_ended,
    "new_clients": new_clients,
    "new_client_events": new_client_events,
    "new_children": new_children,
    "reflection_periods": reflection_periods,
    "year_end": year_end,
}
"""Every population a catalogue may name."""
