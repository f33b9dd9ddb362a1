"""Vectorised draws of a synthetic register, and :func:`scaled_register`.

Every function here draws whole columns at once (numpy), never one row at a time, so
that millions of persons take seconds. The distributions follow the embedded register
(:mod:`suoja.synth`); the code lists and the array form are in :mod:`suoja._synth_base`.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from suoja.synth._base import (
    AGE_HIGH,
    AGE_LOW,
    CIT_COUNTRY,
    COUNTRIES,
    COUNTRY_FIN,
    END_REASONS,
    FIN,
    IS_EU,
    NONE,
    OPEN,
    OWN_COUNTRY_SHARE,
    P_AGE,
    P_CITIZENSHIP,
    P_FORM,
    P_MONTHS,
    P_REFERRER,
    P_RESIDENCE,
    P_SECTOR,
    P_SEX,
    REFERRERS,
    RESIDENCES,
    TRANSIT,
    Arrays,
    Register,
    adult_first_periods,
    by_group,
    combine,
    day,
    jan1,
    no_clients,
    spread,
    to_frames,
    year_of,
)


def draw_people(rng: np.random.Generator, start_year: np.ndarray, finland: np.ndarray) -> Arrays:
    """Sex, birth year (NONE = unknown) and citizenship of victims or applicants."""
    n = start_year.size
    f = finland.astype(np.int8)
    sex = by_group(rng, f, {0: P_SEX[0], 1: P_SEX[1]}).astype(np.int8)
    group = rng.choice(6, size=n, p=P_AGE)
    age = rng.integers(AGE_LOW[group], AGE_HIGH[group] + 1)
    birth = np.where(rng.random(n) < 0.02, NONE, np.maximum(start_year - age, 1900))
    cit = by_group(rng, f, {0: P_CITIZENSHIP[1], 1: P_CITIZENSHIP[0]})
    return {"sex": sex, "birth_year": birth.astype(np.int64), "citizenship": cit}


def draw_residence(
    rng: np.random.Generator, cit: np.ndarray, finland: np.ndarray, start_year: np.ndarray
) -> np.ndarray:
    """Residence status at the start of a period; FINNISH_CITIZEN exactly for FIN citizens."""
    res = by_group(rng, finland.astype(np.int8), {0: P_RESIDENCE[0], 1: P_RESIDENCE[1]}) + 1
    res = np.where(
        IS_EU[cit] & (rng.random(cit.size) < 0.85), RESIDENCES.index("EU_OR_VISA_FREE"), res
    )
    res = np.where((start_year < 2016) & (rng.random(cit.size) < 0.08), NONE, res)
    return np.where(cit == FIN, 0, res).astype(np.int8)


def draw_ends(
    rng: np.random.Generator, start: np.ndarray, last_day: int, mean_years: float
) -> tuple[np.ndarray, np.ndarray]:
    """End date (OPEN when after ``last_day``) and end reason of client periods."""
    end = start + 14 + rng.exponential(mean_years * 365.25, start.size).astype(np.int64)
    end = np.where(end > last_day, OPEN, end)
    reason = rng.choice(4, size=start.size, p=(0.55, 0.35, 0.06, 0.04))
    return end, np.where(end == OPEN, NONE, reason).astype(np.int8)


def draw_victims(
    rng: np.random.Generator,
    counts: np.ndarray,
    first_year: int,
    last_day: int,
    p_finland: np.ndarray,
    mean_years: float = 7.0,
    repeat_share: float = 0.03,
) -> tuple[Arrays, Arrays]:
    """Victims who became clients: ``counts[i]`` first periods start in ``first_year + i``.

    A few victims whose period ended come back for a second period (never overlapping).

    Returns:
        persons (sex, birth_year, citizenship) and periods (person, start, end, end_reason,
        residence, finland, prev_end: the end of the person's previous period or NONE).
    """
    years = np.repeat(np.arange(first_year, first_year + len(counts)), counts)
    n = years.size
    start = jan1(years) + (rng.random(n) * (jan1(years + 1) - jan1(years))).astype(np.int64)
    start = np.minimum(start, last_day)
    finland = rng.random(n) < p_finland[years - first_year]
    people = draw_people(rng, years, finland)
    end, reason = draw_ends(rng, start, last_day, mean_years)
    back = np.flatnonzero((end != OPEN) & (rng.random(n) < repeat_share))
    start2 = end[back] + 61 + rng.integers(0, 1500, back.size)
    back, start2 = back[start2 <= last_day], start2[start2 <= last_day]
    end2, reason2 = draw_ends(rng, start2, last_day, mean_years)
    fin2 = rng.random(back.size) < p_finland[year_of(start2) - first_year]
    person = np.concatenate([np.arange(n), back])
    start = np.concatenate([start, start2])
    fin = np.concatenate([finland, fin2])
    residence = draw_residence(rng, people["citizenship"][person], fin, year_of(start))
    periods = {
        "person": person,
        "start": start,
        "end": np.concatenate([end, end2]),
        "end_reason": np.concatenate([reason, reason2]),
        "residence": residence,
        "finland": fin,
        "prev_end": np.concatenate([np.full(n, NONE), end[back]]),
    }
    return people, periods


def draw_children(
    rng: np.random.Generator,
    parent: np.ndarray,
    per_parent: np.ndarray,
    periods: Arrays,
    people: Arrays,
    last_day: int,
    born_from: int = 0,
    born_until: int = 9999,
) -> tuple[Arrays, Arrays]:
    """Minor children who come with their parent's client period.

    Args:
        parent: rows of ``periods`` (first periods of adult victims) that bring children.
        per_parent: number of children of each of those.
        periods: the victims' periods; ``people`` the victims (indexed by periods["person"]).
        last_day: a child ages out (period ends) on a day of the year it turns 18 if that
            comes before its parent's end and not after ``last_day``.
        born_from, born_until: bounds on the children's birth years (callers make them
            feasible: within start year - 17 .. start year, and 16+ years after the parent).

    Returns:
        persons (parent = victim person row, sex, birth_year, citizenship) and periods.
    """
    row = np.repeat(parent, per_parent)
    who = periods["person"][row]
    s_year = year_of(periods["start"][row])
    pby = people["birth_year"][who]
    low = np.maximum(np.maximum(s_year - 17, np.where(pby == NONE, 0, pby + 16)), born_from)
    high = np.minimum(s_year, born_until)
    birth = low + (rng.random(row.size) * (high - low + 1)).astype(np.int64)
    age_out = jan1(birth + 18) + rng.integers(0, 365, row.size)
    p_end = periods["end"][row]
    aged = (age_out <= last_day) & (age_out < p_end)
    end = np.where(aged, age_out, p_end)
    reason = np.where(aged, END_REASONS.index("OTHER"), periods["end_reason"][row]).astype(np.int8)
    kids = {
        "parent": who,
        "sex": rng.integers(0, 2, row.size).astype(np.int8),
        "birth_year": birth,
        "citizenship": people["citizenship"][who],
    }
    kid_periods = {
        "start": periods["start"][row],
        "end": end,
        "end_reason": reason,
        "residence": periods["residence"][row],
    }
    return kids, kid_periods


def draw_referrers(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """Who made each application; wellbeing services counties exist from 2023 on."""
    ref = rng.choice(len(REFERRERS), size=years.size, p=P_REFERRER).astype(np.int8)
    share = np.select([years == 2023, years == 2024, years >= 2025], [0.015, 0.03, 0.06], 0.0)
    return np.where(rng.random(years.size) < share, REFERRERS.index("WELLBEING_SERVICES"), ref)


def accepted_received(
    rng: np.random.Generator, start: np.ndarray, prev_end: np.ndarray
) -> np.ndarray:
    """Received dates of the accepted applications decided on the periods' start days."""
    window = np.minimum(60, start - np.maximum(jan1(year_of(start)), prev_end + 1))
    return start - (rng.random(start.size) * (window + 1)).astype(np.int64)


def draw_other_applications(
    rng: np.random.Generator,
    counts: np.ndarray,
    first_year: int,
    last_day: int,
    pending: bool = True,
) -> tuple[Arrays, Arrays]:
    """Applications that did not make a client: rejected, withdrawn, pending (recent only).

    With ``pending`` false, every application is decided in the year it was received.

    Returns:
        persons (one new applicant per application) and applications (person row,
        received, decision, decided, rejection_reason; referrer left to the caller).
    """
    years = np.repeat(np.arange(first_year, first_year + len(counts)), counts)
    n = years.size
    received = jan1(years) + (rng.random(n) * (jan1(years + 1) - jan1(years))).astype(np.int64)
    received = np.minimum(received, last_day)
    decision = rng.choice([1, 2, 3], size=n, p=(0.79, 0.11, 0.10))
    late = (received >= last_day - 100) & pending
    decision = np.where(
        (decision == 3) & ~late, rng.choice([1, 2], size=n, p=(0.87, 0.13)), decision
    )
    decided = np.minimum(received + rng.integers(5, 121, n), jan1(years + 1) - 1)
    decided = np.where(decision == 3, OPEN, decided)
    reason = np.where(decision == 1, rng.choice(3, size=n, p=(0.49, 0.40, 0.11)), NONE)
    people = draw_people(rng, years, rng.random(n) < 0.4)
    apps = {
        "person": np.arange(n),
        "received": received,
        "decision": decision.astype(np.int8),
        "decided": decided,
        "rejection_reason": reason.astype(np.int8),
    }
    return people, apps


def abroad_countries(rng: np.random.Generator, form: np.ndarray, cit: np.ndarray) -> np.ndarray:
    """Country of events outside Finland: the victim's own country or a transit/destination."""
    out = np.zeros(form.size, dtype=np.int16)
    for f, places in TRANSIT.items():
        rows = np.flatnonzero(form == f)
        out[rows] = np.array([COUNTRIES.index(c) for c in places])[
            rng.integers(0, len(places), rows.size)
        ]
    own = CIT_COUNTRY[cit]
    use_own = (
        (own != NONE) & (own != COUNTRY_FIN) & (rng.random(form.size) < OWN_COUNTRY_SHARE[form])
    )
    return np.where(use_own, own, out).astype(np.int16)


def draw_sectors(rng: np.random.Generator, form: np.ndarray, in_finland: np.ndarray) -> np.ndarray:
    """NACE division of forced-labour events; NONE for every other form."""
    sector = by_group(rng, in_finland.astype(np.int8), {0: P_SECTOR[0], 1: P_SECTOR[1]})
    return np.where(form == 0, sector, NONE).astype(np.int16)


def draw_events(
    rng: np.random.Generator,
    periods: Arrays,
    received: np.ndarray,
    sex: np.ndarray,
    cit: np.ndarray,
) -> Arrays:
    """One PRIMARY event per victim period and 0..2 SECONDARY ones.

    A primary event is identified between the application and the period start; a
    secondary one later, but never after the period end nor after the start year.
    """
    n = periods["start"].size
    n_sec = rng.choice(3, size=n, p=(0.86, 0.12, 0.02))
    row = np.concatenate([np.arange(n), np.repeat(np.arange(n), n_sec)])
    rank = np.concatenate([np.zeros(n, np.int8), np.ones(row.size - n, np.int8)])
    fin_p = periods["finland"]
    where = np.concatenate([fin_p, fin_p[row[n:]] & (rng.random(row.size - n) < 0.12)])
    form = by_group(rng, sex[row] * 2 + where, {k[0] * 2 + k[1]: v for k, v in P_FORM.items()})
    country = np.where(where, COUNTRY_FIN, abroad_countries(rng, form, cit[row]))
    start, end = periods["start"][row], periods["end"][row]
    first = received + (rng.random(n) * (periods["start"] - received + 1)).astype(np.int64)
    later = np.minimum(
        np.minimum(start + rng.integers(0, 91, row.size), end), jan1(year_of(start) + 1) - 1
    )
    return {
        "person": periods["person"][row],
        "form": form.astype(np.int8),
        "rank": rank,
        "country": country.astype(np.int16),
        "sector": draw_sectors(rng, form, where),
        "identified": np.concatenate([first, later[n:]]),
    }


def draw_reflections(
    rng: np.random.Generator, person: np.ndarray, received: np.ndarray, last_day: int
) -> Arrays:
    """Reflection periods granted to ``person`` soon after their application."""
    granted = np.minimum(
        received + rng.integers(0, 22, person.size), jan1(year_of(received) + 1) - 1
    )
    months = rng.choice(6, size=person.size, p=P_MONTHS) + 1
    return {"person": person, "granted": np.minimum(granted, last_day), "months": months}


def children_counts(rng: np.random.Generator, sex: np.ndarray) -> np.ndarray:
    """How many minor children come with each (adult) victim of the given sex."""
    return by_group(
        rng, sex, {0: (0.84, 0.09, 0.05, 0.02), 1: (0.95, 0.03, 0.015, 0.005), 2: (1.0,)}
    )


def victims_register(
    rng: np.random.Generator,
    people: Arrays,
    periods: Arrays,
    last_day: int,
    kids: tuple[Arrays, Arrays] | None = None,
) -> Register:
    """Everything that follows from victims' client periods: applications, events,
    reflection periods and (unless given) the children who come with them."""
    who = periods["person"]
    received = accepted_received(rng, periods["start"], periods["prev_end"])
    apps = {
        "person": who,
        "received": received,
        "referrer": draw_referrers(rng, year_of(received)),
        "decision": np.zeros(who.size, np.int8),
        "decided": periods["start"],
        "rejection_reason": np.full(who.size, NONE, np.int8),
    }
    events = draw_events(rng, periods, received, people["sex"][who], people["citizenship"][who])
    no_right = np.flatnonzero(
        (periods["residence"] == RESIDENCES.index("NO_RIGHT")) & (rng.random(who.size) < 0.6)
    )
    reflections = draw_reflections(rng, who[no_right], received[no_right], last_day)
    if kids is None:
        rows = adult_first_periods(periods, people)
        k = children_counts(rng, people["sex"][periods["person"][rows]])
        kids = draw_children(rng, rows, k, periods, people, last_day)
    n = people["sex"].size
    m = kids[0]["sex"].size
    persons = {
        "role": np.concatenate([np.zeros(n, np.int8), np.ones(m, np.int8)]),
        "parent": np.concatenate([np.full(n, NONE), kids[0]["parent"]]),
        **{
            c: np.concatenate([people[c], kids[0][c]]) for c in ("sex", "birth_year", "citizenship")
        },
    }
    cols = ("start", "end", "end_reason", "residence")
    client_periods = {
        "person": np.concatenate([who, n + np.arange(m)]),
        **{c: np.concatenate([periods[c], kids[1][c]]) for c in cols},
    }
    return {
        "persons": persons,
        "applications": apps,
        "client_periods": client_periods,
        "exploitation": events,
        "reflection_periods": reflections,
    }


def others_register(
    rng: np.random.Generator,
    counts: np.ndarray,
    first_year: int,
    last_day: int,
    pending: bool = True,
) -> Register:
    """Applicants who did not become clients, ``counts[i]`` applications in ``first_year + i``."""
    people, apps = draw_other_applications(rng, counts, first_year, last_day, pending)
    apps["referrer"] = draw_referrers(rng, year_of(apps["received"]))
    n = apps["person"].size
    pick = np.flatnonzero(rng.random(n) < 0.04)
    return {
        "persons": {"role": np.zeros(n, np.int8), "parent": np.full(n, NONE), **people},
        "applications": apps,
        **no_clients(),
        "reflection_periods": draw_reflections(rng, pick, apps["received"][pick], last_day),
    }


def scaled_register(
    n_persons: int, seed: int = 0, years: tuple[int, int] = (2006, 2025)
) -> dict[str, pl.DataFrame]:
    """A contract-valid synthetic register of about ``n_persons`` persons.

    The assistance system grows over the years like the real one (about 13 % a year);
    about half of the persons become clients, four in ten are applicants who did not,
    the rest are victims' children. Distributions follow the embedded register.

    Args:
        n_persons: roughly how many persons (victims, applicants and children).
        seed: seed of the random generator; the same seed gives the same register.
        years: first and last year of the history (inclusive).

    Returns:
        The five tables keyed by name, as :func:`suoja.synth.embedded_register` gives them.

    Raises:
        ValueError: when ``n_persons`` is not positive, or the years are reversed or
            outside 1970-2100.
    """
    y0, y1 = years
    if n_persons < 1 or not 1970 <= y0 <= y1 <= 2100:
        raise ValueError(f"need n_persons >= 1 and 1970 <= years <= 2100, got {n_persons}, {years}")
    rng = np.random.default_rng([seed, 20060101])
    growth = 1.13 ** np.arange(y1 - y0 + 1)
    last = day(y1, 12, 31)
    p_fin = np.linspace(0.25, 0.52, y1 - y0 + 1)
    people, periods = draw_victims(
        rng, spread(max(1, round(0.5 * n_persons)), growth), y0, last, p_fin
    )
    victims = victims_register(rng, people, periods, last)
    del people, periods
    others = others_register(rng, spread(round(0.42 * n_persons), growth), y0, last)
    reg = combine([victims, others])
    del victims, others
    return to_frames(reg)

