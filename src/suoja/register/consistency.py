"""The contract's rules that span rows or files: ids, references, conditions, dates."""

from __future__ import annotations

from typing import Protocol, TypeVar

import polars as pl

from suoja.register.reader import ROW

FIRST_BIRTH_YEAR = 1900
OLDEST_AGE = 110
FOREVER = pl.date(9999, 12, 31)
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


class _Collector(Protocol):
    """Where the rules put what they find (``suoja.register.validate._Collector``)."""

    def add_rows(self, file: str, bad: pl.DataFrame, column: str | None, rule: str) -> None:
        """Add one problem per row of ``bad``."""


def _unique(frame: pl.DataFrame, file: str, column: str, out: _Collector) -> None:
    bad = frame.filter(pl.col(column).is_not_null() & pl.col(column).is_duplicated())
    out.add_rows(file, bad, column, f"{column} is not unique (each value may appear once)")


def _references(frame: pl.DataFrame, file: str, column: str, persons: pl.DataFrame,
                out: _Collector, *, role: str | None = None) -> None:
    targets = persons if role is None else persons.filter(pl.col("role") == role)
    bad = frame.filter(pl.col(column).is_not_null()).join(
        targets.select(pl.col("person_id").alias(column)), on=column, how="anti"
    ).sort(ROW)
    what = "a person" if role is None else f"a {role} person"
    out.add_rows(file, bad, column, f"does not refer to {what} in persons")


def _conditional(frame: pl.DataFrame, file: str, column: str, required: pl.Expr,
                 condition: str, out: _Collector) -> None:
    missing = frame.filter(required & pl.col(column).is_null())
    out.add_rows(file, missing, column, f"required when {condition}")
    extra = frame.filter(~required & pl.col(column).is_not_null())
    out.add_rows(file, extra, column, f"must be empty unless {condition}")


def _persons_rules(persons: pl.DataFrame, file: str, out: _Collector) -> None:
    _unique(persons, file, "person_id", out)
    _conditional(persons, file, "parent_id", pl.col("role") == "CHILD", "role is CHILD", out)
    _references(persons.filter(pl.col("role") == "CHILD"), file, "parent_id", persons, out,
                role="VICTIM")
    bad = persons.filter(pl.col("birth_year") < FIRST_BIRTH_YEAR)
    out.add_rows(file, bad, "birth_year", f"implausible birth year (before {FIRST_BIRTH_YEAR})")


def _applications_rules(apps: pl.DataFrame, file: str, persons: pl.DataFrame,
                        out: _Collector) -> None:
    _unique(apps, file, "application_id", out)
    _references(apps, file, "person_id", persons, out)
    _conditional(apps, file, "decided", pl.col("decision") != "PENDING",
                 "decision is not PENDING", out)
    _conditional(apps, file, "rejection_reason", pl.col("decision") == "REJECTED",
                 "decision is REJECTED", out)
    bad = apps.filter(pl.col("decided") < pl.col("received"))
    out.add_rows(file, bad, "decided", "decided is before received")


def _periods_rules(periods: pl.DataFrame, file: str, persons: pl.DataFrame,
                   out: _Collector) -> None:
    _references(periods, file, "person_id", persons, out)
    _conditional(periods, file, "end_reason", pl.col("end").is_not_null(), "end is set", out)
    out.add_rows(file, periods.filter(pl.col("end") < pl.col("start")), "end",
                 "end is before start")
    ordered = periods.filter(pl.col("start").is_not_null()).sort("person_id", "start", ROW)
    overlap = ordered.filter(
        (pl.col("person_id") == pl.col("person_id").shift(1))
        & (pl.col("start") <= pl.col("end").shift(1).fill_null(FOREVER))
    ).sort(ROW)
    out.add_rows(file, overlap, "start", "overlaps an earlier period of the same person")
    joined = periods.join(persons.select("person_id", "role", "birth_year", "citizenship"),
                          on="person_id", how="inner")
    age = pl.col("start").dt.year() - pl.col("birth_year")
    out.add_rows(file, joined.filter((age < 0) | (age > OLDEST_AGE)).sort(ROW), "start",
                 f"implausible birth year for this period (age must be 0..{OLDEST_AGE})")
    out.add_rows(file, joined.filter((pl.col("role") == "CHILD") & (age >= 18)).sort(ROW),
                 "start", "a CHILD must be a minor (under 18) at the start of the period")
    finnish = pl.col("citizenship") == "FIN"
    status = pl.col("residence_status")
    bad = joined.filter(status.is_not_null() & (finnish != (status == "FINNISH_CITIZEN")))
    out.add_rows(file, bad.sort(ROW), "residence_status",
                 "FINNISH_CITIZEN exactly when the person's citizenship is FIN")


def event_periods(events: Frame, periods: Frame) -> Frame:
    """Attach to each event the period it belongs to: the first not ended before it.

    Adds ``period_start`` (null when the event falls after every period of the person).
    Works on eager and lazy frames alike.
    """
    right = periods.select(
        "person_id",
        pl.col("start").alias("period_start"),
        pl.col("end").fill_null(pl.date(9999, 12, 31)).alias("_until"),
    ).filter(pl.col("period_start").is_not_null()).sort("_until")
    left = events.filter(pl.col("identified").is_not_null()).sort("identified")
    return left.join_asof(right, left_on="identified", right_on="_until", by="person_id",
                          strategy="forward", check_sortedness=False).drop("_until")


def _events_rules(events: pl.DataFrame, file: str, persons: pl.DataFrame,
                  periods: pl.DataFrame, periods_file: str, out: _Collector) -> None:
    _unique(events, file, "event_id", out)
    _references(events, file, "person_id", persons, out, role="VICTIM")
    bad = events.filter((pl.col("form") != "FORCED_LABOUR") & pl.col("sector").is_not_null())
    out.add_rows(file, bad, "sector", "sector is given only for FORCED_LABOUR events")
    primaries = (
        event_periods(events, periods).filter(pl.col("rank") == "PRIMARY")
        .group_by("person_id", "period_start").agg(pl.len().alias("primaries"),
                                                    pl.col(ROW).min().alias("_event_row"))
    )
    # A period without a valid start is already a listed problem; it cannot hold events.
    victim_periods = periods.filter(pl.col("start").is_not_null()).join(persons.filter(pl.col("role") == "VICTIM").select("person_id"),
                                  on="person_id", how="semi")
    counted = victim_periods.join(primaries, left_on=["person_id", "start"],
                                  right_on=["person_id", "period_start"], how="left")
    none = counted.filter(pl.col("primaries").is_null()).sort(ROW)
    out.add_rows(periods_file, none, "person_id",
                 f"this victim's period has no PRIMARY event in {file} (exactly one required)")
    many = counted.filter(pl.col("primaries") > 1).sort(ROW)
    out.add_rows(periods_file, many, "person_id",
                 f"this victim's period has several PRIMARY events in {file} (exactly one required)")


def check_relations(frames: dict[str, pl.DataFrame], names: dict[str, str],
                    out: _Collector) -> None:
    """Check the rules that relate rows and files to each other."""
    persons = frames["persons"]
    _persons_rules(persons, names["persons"], out)
    _applications_rules(frames["applications"], names["applications"], persons, out)
    _periods_rules(frames["client_periods"], names["client_periods"], persons, out)
    _events_rules(frames["exploitation"], names["exploitation"], persons,
                  frames["client_periods"], names["client_periods"], out)
    reflection = frames["reflection_periods"]
    _references(reflection, names["reflection_periods"], "person_id", persons, out)
    bad = reflection.filter((pl.col("months") < 1) | (pl.col("months") > 6))
    out.add_rows(names["reflection_periods"], bad, "months", "months must be 1..6")
