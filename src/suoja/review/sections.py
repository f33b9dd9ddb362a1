"""The facts of each section of the review, and the data of its charts, in no language.

Each function returns plain values (``Figure``, ``Item``, ``Change``, code lists) that the
templates phrase through the message catalogues. Nothing here reads more than ``Facts``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from suoja.codelists import AGE_GROUPS, OTHER, TOTAL, UNKNOWN
from suoja.review.figures import Facts, Figure, Item, share

FEMALE, MALE, SEX_UNKNOWN = "F", "M", "U"
PERMITS = ("SEASONAL_WORK", "WORK", "FAMILY", "OTHER_PERMIT", "INTERNATIONAL_PROTECTION")
"""Residence statuses that make a stay in Finland lawful (besides citizenship, EU, visa-free)."""
YEAR_END_CHART_TOP = 15


@dataclass(frozen=True)
class Chart:
    """One chart: categories (codes of ``codelist``) by series (codes of ``series_list``).

    The table under the chart shows every category; the chart draws ``drawn`` of them.
    """

    id: str
    table: str
    codelist: str
    categories: tuple[str, ...]
    series_list: str
    series: tuple[tuple[str, tuple[Figure, ...]], ...]
    plotted: tuple[str, ...] = ()
    table_only: tuple[str, ...] = ()

    @property
    def drawn(self) -> tuple[str, ...]:
        """The categories the chart draws, in order."""
        return self.plotted or self.categories

    @property
    def drawn_series(self) -> tuple[tuple[str, tuple[Figure, ...]], ...]:
        """The series the chart draws (the table under it may show a total as well)."""
        return tuple(s for s in self.series if s[0] not in self.table_only)

    def figure(self, series: str, category: str) -> Figure:
        """The figure of one category in one series."""
        for code, figures in self.series:
            if code == series:
                return figures[self.categories.index(category)]
        raise KeyError((series, category))


def item(facts: Facts, table: str, dim: str, code: str, **fixed: str) -> Item:
    """One category of a table with its share of the margin."""
    figure = facts.get(table, **{**fixed, dim: code})
    return Item(code, figure, share(figure, facts.get(table, **fixed)))


def _shown(items: list[Item], keep_zero: bool = False) -> list[Item]:
    """Categories worth showing: any but published zeros of 'not known' (or any zero)."""
    return [i for i in items
            if i.figure.value != 0 or (keep_zero and i.code not in (UNKNOWN, SEX_UNKNOWN))]


def _by_size(items: list[Item]) -> list[Item]:
    """Published categories largest first, then hidden ones, then pooled and not known."""
    special = {OTHER: 1, UNKNOWN: 2, "XXX": 2}
    return sorted(items, key=lambda i: (special.get(i.code, 0), i.figure.hidden,
                                        -(i.figure.value or 0)))


def _chart(facts: Facts, chart_id: str, table: str, dim: str, items: list[Item],
           series: tuple[str, ...] = (TOTAL,), **fixed: str) -> Chart:
    codes = tuple(i.code for i in items)
    data = []
    for s in series:
        codes_fixed = {**fixed} if s == TOTAL else {**fixed, "sex": s}
        data.append((s, tuple(facts.get(table, **{**codes_fixed, dim: c}) for c in codes)))
    return Chart(chart_id, table, dim, codes, "sex", tuple(data))


def applications(facts: Facts) -> dict[str, Any]:
    """Applications, decisions, rejections and ended client relationships."""
    return {
        "total": facts.get("applications"),
        "change": facts.change("applications"),
        "referrers": facts.ranking("applications", "referrer", top=3),
        "self": item(facts, "applications", "referrer", "SELF"),
        "wellbeing": item(facts, "applications", "referrer", "WELLBEING_SERVICES"),
        "wellbeing_change": facts.share_change("applications", referrer="WELLBEING_SERVICES"),
        "accepted": facts.get("decisions", decision="ACCEPTED"),
        "rejected": facts.get("decisions", decision="REJECTED"),
        "reasons": facts.ranking("rejections", "rejection_reason", top=2),
        "ended": facts.get("clients_ended"),
        "ended_change": facts.change("clients_ended"),
        "end_reasons": facts.ranking("clients_ended", "end_reason", top=2),
    }


def _sex_split(facts: Facts, table: str, **fixed: str) -> dict[str, Any]:
    women = item(facts, table, "sex", FEMALE, **fixed)
    men = item(facts, table, "sex", MALE, **fixed)
    unknown = item(facts, table, "sex", SEX_UNKNOWN, **fixed)
    return {"women": women, "men": men,
            "unknown": unknown if unknown.figure.value != 0 else None}


def _citizenship(facts: Facts, table: str, **fixed: str) -> dict[str, Any]:
    items = facts.items(table, "citizenship", **fixed)
    codes = [i.code for i in items]
    return {
        "citizenships": _distinct(facts, table),
        "leaders": facts.ranking(table, "citizenship", top=3, **fixed),
        "largest": facts.largest(table, "citizenship", top=3, **fixed),
        "finnish": item(facts, table, "citizenship", "FIN", **fixed) if "FIN" in codes else None,
        "other": item(facts, table, "citizenship", OTHER, **fixed) if OTHER in codes else None,
    }


def _distinct(facts: Facts, table: str) -> Figure | None:
    """The published count of distinct codes of ``table`` (None if none or withheld)."""
    counts = [s.id for s in facts.release.catalogue.distinct if s.of == table]
    if not counts or counts[0] not in facts.release.tables:
        return None
    figure = facts.get(counts[0])
    return None if figure.hidden else figure


def new_clients(facts: Facts) -> dict[str, Any]:
    """Victims who became clients: sex, age groups, citizenships; their children."""
    ages = _shown(facts.items("new_clients", "age_group"), keep_zero=True)
    return {
        "total": facts.get("new_clients"),
        "change": facts.change("new_clients"),
        "children": facts.get("new_children"),
        "children_change": facts.change("new_children"),
        **_sex_split(facts, "new_clients"),
        "ages": [i for i in ages if i.code != UNKNOWN],
        "ages_withheld": [i.code for i in ages
                          if i.code != UNKNOWN and i.figure.hidden and not i.figure.few],
        "age_unknown": next((i for i in ages if i.code == UNKNOWN), None),
        "minors": item(facts, "new_clients", "age_group", "Y_LT18"),
        "ages_combined": _ages_combined(facts, [i.code for i in ages if i.figure.hidden]),
        **_citizenship(facts, "new_clients_citizenship"),
    }


def _ages_combined(facts: Facts, hidden: list[str]) -> dict[str, Any] | None:
    """Hidden neighbouring age groups as one range, when the published figures give its sum.

    ``low`` and ``high`` are the range's ages (``high`` None: open-ended); ``item`` is the
    sum with its share of all new clients.
    """
    order = [code for code, _, _ in AGE_GROUPS]
    if len(hidden) < 2 or any(c not in order for c in hidden):
        return None
    at = sorted(order.index(c) for c in hidden)
    if at != list(range(at[0], at[0] + len(at))):
        return None  # not one range of ages
    if len(at) == len(order):
        return None  # every age: the total, said elsewhere
    figure = facts.subtotal("new_clients", "age_group", tuple(hidden))
    part = share(figure, facts.get("new_clients"))
    if figure.value is None or part is None:
        return None  # the sentence gives the number with its share of all new clients
    return {"low": AGE_GROUPS[at[0]][1], "high": AGE_GROUPS[at[-1]][2],
            "item": Item(OTHER, figure, part)}


def _extra_events(facts: Facts, events: str, persons: str) -> Item | None:
    """The one sex that all events beyond one per person belong to, when published figures
    show it: events minus persons is published for every sex and positive for just one."""
    if facts.noisy:
        return None
    extra = {}
    for sex in (FEMALE, MALE, SEX_UNKNOWN):
        n_events, n_persons = facts.get(events, sex=sex).value, facts.get(persons, sex=sex).value
        if n_events is None or n_persons is None:
            return None
        extra[sex] = n_events - n_persons
    owners = [sex for sex, n in extra.items() if n > 0]
    if len(owners) != 1 or any(n < 0 for n in extra.values()):
        return None
    return Item(owners[0], Figure(extra[owners[0]], threshold=facts.threshold), None)


def _forms_by_sex(facts: Facts, table: str, **fixed: str) -> dict[str, list[str]]:
    """Forms that mostly concern women and girls, or men and boys.

    A form is said to concern one sex mostly when that sex's share is above one half for
    every value an outsider can deduce from the published figures: the sex's smallest
    possible count (``Facts.floor``) exceeds the largest possible counts (ceilings) of the
    other sexes together. With the split published this is its share above one half; with
    it hidden, it is still said when the margins leave no other possibility (93 events of
    sexual exploitation, at most 8 of them men's: at least 85 were women's).
    """
    out: dict[str, list[str]] = {"women": [], "men": []}
    sexes = (FEMALE, MALE, SEX_UNKNOWN)
    for form in facts.items(table, "form", **fixed):
        cells = {sex: {**fixed, "form": form.code, "sex": sex} for sex in sexes}
        ceilings = {sex: facts.get(table, **c).ceiling for sex, c in cells.items()}
        for key, sex in (("women", FEMALE), ("men", MALE)):
            floor = facts.floor(table, **cells[sex])
            others = sum(ceilings[s] for s in sexes if s != sex)
            size = max(form.figure.value or 0, facts.floor(table, **fixed, form=form.code))
            if floor > others and size >= facts.threshold:
                out[key].append(form.code)
    return out


def forms(facts: Facts) -> dict[str, Any]:
    """Forms of exploitation of new clients, primary and secondary."""
    events, persons = facts.get("exploitation_forms"), facts.get("new_clients")
    several = events.value is not None and persons.value is not None \
        and events.value > persons.value
    return {
        "events": events, "persons": persons, "several": several,
        "leader": facts.leader("exploitation_forms", "form"),
        "mostly": _forms_by_sex(facts, "exploitation_forms"),
    }


def finland(facts: Facts) -> dict[str, Any]:
    """New clients exploited in Finland: sex, events, forms, sectors, citizenship, residence."""
    persons, events = facts.get("finland_victims"), facts.get("finland_forms")
    residence = {i.code: i for i in facts.items("finland_residence", "residence_status")}
    return {
        "persons": persons, "change": facts.change("finland_victims"),
        **_sex_split(facts, "finland_victims"),
        "events": events,
        "several": events.value is not None and persons.value is not None
        and events.value > persons.value,
        "extra": _extra_events(facts, "finland_forms", "finland_victims"),
        "labour": item(facts, "finland_forms", "form", "FORCED_LABOUR"),
        "labour_change": facts.change("finland_forms", form="FORCED_LABOUR"),
        "sectors": facts.ranking("finland_forced_labour_sectors", "sector", top=4),
        **_citizenship(facts, "finland_victims_citizenship"),
        "reflection": facts.get("reflection_periods"),
        "reflection_change": facts.change("reflection_periods"),
        "lawful": _lawful(facts, persons),
        "permits": [residence[c] for c in ("SEASONAL_WORK", "WORK", "FAMILY")],
        "residence": residence,
    }


def _lawful(facts: Facts, persons: Figure) -> Item | None:
    """Those staying lawfully on a permit, only when every permit's figure is published."""
    figure = facts.subtotal("finland_residence", "residence_status", PERMITS)
    return None if figure.hidden else Item(OTHER, figure, share(figure, persons))


def year_end(facts: Facts) -> dict[str, Any]:
    """Everyone who was a client on 31 December."""
    return {
        "total": facts.get("clients_year_end"),
        "change": facts.change("clients_year_end"),
        "victims": facts.get("clients_year_end", role="VICTIM"),
        "children": facts.get("clients_year_end", role="CHILD"),
        "women": item(facts, "clients_year_end", "sex", FEMALE, role="VICTIM"),
        **_citizenship(facts, "clients_year_end_citizenship"),
        **_minors(facts),
    }


MINORS_TABLE = "clients_year_end_minors"


def _minors(facts: Facts) -> dict[str, Figure | None]:
    """Victims at year end taken in as minors (the minors now and those of age since) and
    those still minors: each only when published (or, for the first, when the published
    figures give the sum)."""
    if MINORS_TABLE not in facts.release.tables:
        return {"taken_as_minors": None, "minors_now": None}
    taken = facts.subtotal(MINORS_TABLE, "minor", ("MINOR", "MINOR_AT_START"))
    now = facts.get(MINORS_TABLE, minor="MINOR")
    return {"taken_as_minors": None if taken.hidden else taken,
            "minors_now": None if now.hidden else now}


def methods(facts: Facts) -> dict[str, Any]:
    """The policy behind the figures: threshold, pooling, zeros, noise."""
    release = facts.release
    policy = release.policy
    bounds = [(spec.id, release.error_bounds[spec.id]) for spec in release.catalogue.tables
              if spec.id in release.error_bounds]
    dp = policy.mode == "dp"
    threshold = int(policy.dp.get("suppress_below", 0)) if dp else policy.min_count
    return {"threshold": threshold, "pool": list(policy.pool),
            "zeros_sensitive": policy.zeros == "sensitive", "dp": dp,
            "distinct": any(s.id in release.tables for s in release.catalogue.distinct),
            "bounds": bounds, "epsilon": policy.dp.get("epsilon"),
            "yearly_cap": policy.dp.get("yearly_epsilon_cap")}


def charts(facts: Facts) -> dict[str, Chart]:
    """Every chart of the review, by id."""
    out = [
        _chart(facts, "new_clients_sex", "new_clients", "sex",
               _shown(facts.items("new_clients", "sex"))),
        _chart(facts, "new_clients_age", "new_clients", "age_group",
               _shown(facts.items("new_clients", "age_group"))),
        _chart(facts, "new_clients_citizenship", "new_clients_citizenship", "citizenship",
               _by_size(_shown(facts.items("new_clients_citizenship", "citizenship")))),
        _forms_chart(facts, "exploitation_forms"),
        _forms_chart(facts, "finland_forms"),
        _chart(facts, "finland_sectors", "finland_forced_labour_sectors", "sector",
               _by_size(_shown(facts.items("finland_forced_labour_sectors", "sector")))),
        _chart(facts, "finland_citizenship", "finland_victims_citizenship", "citizenship",
               _by_size(_shown(facts.items("finland_victims_citizenship", "citizenship")))),
        _chart(facts, "finland_residence", "finland_residence", "residence_status",
               _shown(facts.items("finland_residence", "residence_status"), keep_zero=True)),
        _year_end_chart(facts),
    ]
    return {c.id: c for c in out}


def _forms_chart(facts: Facts, table: str) -> Chart:
    items = _shown(facts.items(table, "form"), keep_zero=True)
    unknown = facts.get(table, sex=SEX_UNKNOWN)
    series = (FEMALE, MALE, SEX_UNKNOWN) if unknown.value != 0 else (FEMALE, MALE)
    chart = _chart(facts, table, table, "form", items, (*series, TOTAL))
    return replace(chart, table_only=(TOTAL,))


def _year_end_chart(facts: Facts) -> Chart:
    table = "clients_year_end_citizenship"
    everything = _by_size(_shown(facts.items(table, "citizenship")))
    top = [i for i in everything if i.code not in (OTHER, UNKNOWN, "XXX")][:YEAR_END_CHART_TOP]
    top += [i for i in everything if i.code == OTHER]
    chart = _chart(facts, "year_end_citizenship", table, "citizenship", everything)
    return replace(chart, plotted=tuple(i.code for i in top))
