"""The populations of the release: one row per counted unit, with its cube dimensions.

Each function takes the register's frames and a year and returns a LazyFrame with one row
per unit: ``person_id`` (the privacy unit, for contribution bounding) and the population's
cube dimensions (codes as strings). Every table of a population is a margin of the
population's finest cross-classification, so these are the only places where the register
is read for statistics.

The client periods that matter for a year (started, ended or open at its end) are joined
to the persons once, in a ``YearScope``: at ten million persons that join dominates the
run time, so every population cuts its rows from the same joined frame.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property

import polars as pl

from suoja import codelists
from suoja.register.consistency import event_periods

Frames = Mapping[str, pl.DataFrame | pl.LazyFrame]
PERSON_COLUMNS = ("person_id", "role", "sex", "birth_year", "citizenship")


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


class YearScope(Mapping[str, pl.DataFrame | pl.LazyFrame]):
    """The register's frames seen from one year, with the joins every population shares."""

    def __init__(self, frames: Frames, year: int) -> None:
        self.frames = frames
        self.year = year
        self.last_day = dt.date(year, 12, 31)

    def __getitem__(self, name: str) -> pl.DataFrame | pl.LazyFrame:
        return self.frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.frames)

    def __len__(self) -> int:
        return len(self.frames)

    @cached_property
    def periods(self) -> pl.DataFrame:
        """Periods started or ended in the year or open at its end, with the person."""
        relevant = (
            _in_year("start", self.year) | _in_year("end", self.year)
            | ((pl.col("start") <= self.last_day)
               & (pl.col("end").is_null() | (pl.col("end") > self.last_day)))
        )
        periods = self.frames["client_periods"].lazy().filter(relevant)
        persons = self.frames["persons"].lazy().select(PERSON_COLUMNS)
        return periods.join(persons, on="person_id", how="inner").collect()

    @cached_property
    def new_victim_periods(self) -> pl.DataFrame:
        """Victims' periods that started in the year."""
        return self.periods.filter(_in_year("start", self.year) & (pl.col("role") == "VICTIM"))

    @cached_property
    def new_client_events(self) -> pl.DataFrame:
        """Events belonging to the victims' periods that started in the year."""
        starts = self.new_victim_periods.select("person_id", "start", "sex")
        persons = starts.select("person_id").unique().lazy()
        # Only the new clients' events and periods take part: filter before the as-of join.
        events = self.frames["exploitation"].lazy().join(persons, on="person_id", how="semi")
        periods = self.frames["client_periods"].lazy().join(persons, on="person_id", how="semi")
        return event_periods(events, periods).join(
            starts.lazy(), left_on=["person_id", "period_start"],
            right_on=["person_id", "start"], how="inner").collect()


def scope(frames: Frames, year: int) -> YearScope:
    """``frames`` as a ``YearScope`` of ``year`` (itself when it already is one)."""
    if isinstance(frames, YearScope) and frames.year == year:
        return frames
    return YearScope(frames, year)


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
        .select("person_id", "decision",
                pl.col("rejection_reason").fill_null(codelists.NOT_APPLICABLE))
    )


def clients_ended(frames: Frames, year: int) -> pl.LazyFrame:
    """Victims' client relationships that ended in the year, by reason."""
    periods = scope(frames, year).periods.lazy()
    return periods.filter(_in_year("end", year) & (pl.col("role") == "VICTIM")).select(
        "person_id", "end_reason"
    )


def new_clients(frames: Frames, year: int) -> pl.LazyFrame:
    """Victims who became clients in the year (one row per period started)."""
    year_scope = scope(frames, year)
    in_finland = (
        year_scope.new_client_events.lazy()
        .group_by("person_id", "period_start")
        .agg((pl.col("country") == "FIN").any().alias("_fin"))
    )
    return (
        year_scope.new_victim_periods.lazy()
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
    return scope(frames, year).new_client_events.lazy().select(
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
    periods = scope(frames, year).periods.lazy()
    return periods.filter(_in_year("start", year) & (pl.col("role") == "CHILD")).select(
        "person_id"
    )


def reflection_periods(frames: Frames, year: int) -> pl.LazyFrame:
    """Reflection periods granted in the year."""
    return frames["reflection_periods"].lazy().filter(_in_year("granted", year)).select(
        "person_id"
    )


def minor(year: int) -> pl.Expr:
    """Whether a client on 31 December of ``year`` is a minor then, was one when the client
    period started (and is of age now), or was of age then; ``_U`` without a birth year.
    Ages are years minus the birth year, as for new clients."""
    born = pl.col("birth_year")
    return (pl.when(born.is_null()).then(pl.lit(codelists.UNKNOWN))
            .when(year - born < 18).then(pl.lit("MINOR"))
            .when(pl.col("start").dt.year() - born < 18).then(pl.lit("MINOR_AT_START"))
            .otherwise(pl.lit("ADULT_AT_START")))


def year_end(frames: Frames, year: int) -> pl.LazyFrame:
    """Persons (victims and their children) who are clients on 31 December of the year."""
    last_day = dt.date(year, 12, 31)
    periods = scope(frames, year).periods.lazy()
    return periods.filter(
        (pl.col("start") <= last_day) & (pl.col("end").is_null() | (pl.col("end") > last_day))
    ).select("person_id", "role", "sex", "citizenship", minor(year).alias("minor"))


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
