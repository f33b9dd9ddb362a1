"""The populations of ``suoja.populations`` as Ibis expressions: one definition, any engine.

Each function takes the register's tables (typed Ibis tables, see ``suoja.tables.engines._sources``)
and a year and returns a table with one row per counted unit and the population's cube
dimensions as strings, exactly as the Polars functions of the same name do. Ibis compiles
the expression for DuckDB, Spark or Polars; ``tests/test_engines.py`` checks that every
engine's cubes equal the Polars cubes.

The one construct Polars has and SQL engines do not share is the as-of join that attaches
an event to its client period (the first period not ended before the event). Here it is a
join on ``identified <= end`` followed by the smallest such end per event; with the
contract's rule that a person's periods do not overlap, the two agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir

from suoja import codelists

Tables = Mapping[str, ir.Table]
FOREVER = dt.date(9999, 12, 31)
PERSON_COLUMNS = ("person_id", "role", "sex", "birth_year", "citizenship")


def age_group(age: ir.IntegerValue) -> ir.StringValue:
    """The contract's age group of an age in whole years (null gives ``_U``)."""
    branches = []
    for code, low, high in codelists.AGE_GROUPS:
        if low is None:
            condition = age <= high
        elif high is None:
            condition = age >= low
        else:
            condition = age.between(low, high)
        branches.append((condition, code))
    return ibis.cases((age.isnull(), codelists.UNKNOWN), *branches, else_=codelists.UNKNOWN)


def _yes_no(condition: ir.BooleanValue) -> ir.StringValue:
    return ibis.cases((condition, "Y"), else_="N")


def _as_is(table: ir.Table, name: str) -> ir.Table:
    return table


@dataclass
class YearScope:
    """The register's tables seen from one year, with the joins every population shares.

    ``keep`` lets the engine materialise those shared joins once (a temporary table in
    DuckDB, a cached frame in Spark), as the Polars path collects them once.
    """

    tables: Tables
    year: int
    keep: Callable[[ir.Table, str], ir.Table] = _as_is
    _kept: dict[str, ir.Table] = field(default_factory=dict)

    def _once(self, name: str, make: Callable[[], ir.Table]) -> ir.Table:
        if name not in self._kept:
            self._kept[name] = self.keep(make(), name)
        return self._kept[name]

    @property
    def last_day(self) -> ir.DateValue:
        return ibis.date(self.year, 12, 31)

    def periods(self) -> ir.Table:
        """Periods started or ended in the year or open at its end, with the person."""
        return self._once("periods", self._periods)

    def _periods(self) -> ir.Table:
        p = self.tables["client_periods"]
        relevant = ((p.start.year() == self.year) | (p.end.year() == self.year)
                    | ((p.start <= self.last_day) & (p.end.isnull() | (p.end > self.last_day))))
        persons = self.tables["persons"].select(*PERSON_COLUMNS)
        return p.filter(relevant).join(persons, "person_id", how="inner")

    def new_victim_periods(self) -> ir.Table:
        """Victims' periods that started in the year."""
        p = self.periods()
        return p.filter((p.start.year() == self.year) & (p.role == "VICTIM"))

    def new_client_events(self) -> ir.Table:
        """Events of the victims' periods that started in the year, with the period's start
        (``period_start``) and the person's sex."""
        return self._once("new_client_events", self._new_client_events)

    def _new_client_events(self) -> ir.Table:
        starts = self.new_victim_periods().select("person_id", "start", "sex")
        persons = starts.select("person_id").distinct()
        events = self.tables["exploitation"].semi_join(persons, "person_id")
        events = events.filter(events.identified.notnull())
        periods = self.tables["client_periods"].semi_join(persons, "person_id")
        periods = periods.filter(periods.start.notnull()).select(
            p_person=periods.person_id, period_start=periods.start,
            until=periods.end.fill_null(ibis.literal(FOREVER)))
        # An equality join, then the inequality (Ibis on Polars joins on equalities only).
        joined = events.join(periods, events.person_id == periods.p_person)
        joined = joined.filter(joined.identified <= joined.until)
        # The period of an event: the smallest end not before it (an aggregate and a join
        # rather than a window, which Ibis on Polars lacks).
        ends = joined.group_by(k_event="event_id").aggregate(k_until=joined.until.min())
        first = joined.join(ends, [joined.event_id == ends.k_event,
                                   joined.until == ends.k_until])
        first = first.drop("p_person", "until", "k_event", "k_until")
        return first.join(starts, [first.person_id == starts.person_id,
                                   first.period_start == starts.start]).drop("start")


def applications(scope: YearScope) -> ir.Table:
    """Applications received in the year, by who made them."""
    a = scope.tables["applications"]
    return a.filter(a.received.year() == scope.year).select("person_id", "referrer")


def decisions(scope: YearScope) -> ir.Table:
    """Decisions (accepted or rejected) made in the year, with the reason of a rejection."""
    a = scope.tables["applications"]
    made = a.filter((a.decided.year() == scope.year)
                    & a.decision.isin(["ACCEPTED", "REJECTED"]))
    return made.select("person_id", "decision",
                       rejection_reason=made.rejection_reason.fill_null(
                           codelists.NOT_APPLICABLE))


def clients_ended(scope: YearScope) -> ir.Table:
    """Victims' client relationships that ended in the year, by reason."""
    p = scope.periods()
    return p.filter((p.end.year() == scope.year) & (p.role == "VICTIM")).select(
        "person_id", "end_reason")


def new_clients(scope: YearScope) -> ir.Table:
    """Victims who became clients in the year (one row per period started)."""
    events = scope.new_client_events()
    in_finland = events.group_by(f_person="person_id", f_start="period_start").aggregate(
        fin=(events.country == "FIN").any())
    p = scope.new_victim_periods()
    joined = p.left_join(in_finland, [p.person_id == in_finland.f_person,
                                      p.start == in_finland.f_start])
    return joined.select(
        "person_id", "sex",
        age_group=age_group(joined.start.year() - joined.birth_year),
        citizenship=joined.citizenship,
        in_finland=_yes_no(joined.fin.fill_null(False)),
        residence_status=joined.residence_status.fill_null(codelists.UNKNOWN),
    )


def new_client_events(scope: YearScope) -> ir.Table:
    """Exploitation events (primary and secondary) of the victims who became clients."""
    e = scope.new_client_events()
    sector = ibis.cases((e.form != "FORCED_LABOUR", codelists.NOT_APPLICABLE),
                        else_=e.sector.fill_null(codelists.UNKNOWN))
    return e.select("person_id", "event_id", "form", "sex",
                    in_finland=_yes_no(e.country == "FIN"), sector=sector)


def new_children(scope: YearScope) -> ir.Table:
    """Minor children of victims who became clients in the year."""
    p = scope.periods()
    return p.filter((p.start.year() == scope.year) & (p.role == "CHILD")).select("person_id")


def reflection_periods(scope: YearScope) -> ir.Table:
    """Reflection periods granted in the year."""
    r = scope.tables["reflection_periods"]
    return r.filter(r.granted.year() == scope.year).select("person_id")


def year_end(scope: YearScope) -> ir.Table:
    """Persons (victims and their children) who are clients on 31 December of the year."""
    p = scope.periods()
    open_ = p.filter((p.start <= scope.last_day)
                     & (p.end.isnull() | (p.end > scope.last_day)))
    born = open_.birth_year
    minor = ibis.cases((born.isnull(), codelists.UNKNOWN),
                       (scope.year - born < 18, "MINOR"),
                       (open_.start.year() - born < 18, "MINOR_AT_START"),
                       else_="ADULT_AT_START")
    return open_.select("person_id", "role", "sex", "citizenship", minor=minor)


POPULATIONS: dict[str, Callable[[YearScope], ir.Table]] = {
    "applications": applications,
    "decisions": decisions,
    "clients_ended": clients_ended,
    "new_clients": new_clients,
    "new_client_events": new_client_events,
    "new_children": new_children,
    "reflection_periods": reflection_periods,
    "year_end": year_end,
}
"""Every population of ``suoja.populations``, as Ibis."""
