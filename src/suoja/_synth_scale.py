"""Vectorised building blocks of the synthetic register, and :func:`scaled_register`.

A register is first built as plain numpy arrays of small integer codes: one dict of
arrays per table, persons referred to by their row number in ``persons``, a null date
stored as :data:`OPEN` and a null code or reference as :data:`NONE`. :func:`to_frames`
turns it into Polars frames with the contract's string codes, dates and ids. Every
function here draws whole columns at once (numpy), never one row at a time, so that
millions of persons take seconds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

Arrays = dict[str, np.ndarray]
Register = dict[str, Arrays]

OPEN = np.iinfo(np.int32).max  # a date that is not set: an open period, a pending decision
NONE = -1  # a code or a person reference that is not set

ROLES = ("VICTIM", "CHILD")
SEXES = ("F", "M", "U")
REFERRERS = ("MIGRI", "RECEPTION_CENTRE", "SELF", "WELLBEING_SERVICES", "POLICE", "NGO", "OTHER")
DECISIONS = ("ACCEPTED", "REJECTED", "WITHDRAWN", "PENDING")
REJECTION_REASONS = ("NO_NEED", "NOT_TRAFFICKING", "OTHER")
END_REASONS = ("NO_NEED", "LEFT_COUNTRY", "OWN_WISH", "OTHER")
RESIDENCES = (
    "FINNISH_CITIZEN", "SEASONAL_WORK", "WORK", "FAMILY", "INTERNATIONAL_PROTECTION",
    "OTHER_PERMIT", "EU_OR_VISA_FREE", "NO_RIGHT",
)
FORMS = (
    "FORCED_LABOUR", "SEXUAL_EXPLOITATION", "FORCED_MARRIAGE", "FORCED_CRIMINALITY",
    "BEGGING", "OTHER",
)
RANKS = ("PRIMARY", "SECONDARY")
SECTORS = ("01", "02", "03", "08", "10", "14", "41", "42", "43", "49", "56", "81", "96", "97")

# citizenship: weight among victims exploited in Finland, weight among those exploited abroad
_CITIZENSHIP_WEIGHTS = {
    "NPL": (40, 4), "SOM": (1, 18), "FIN": (13, 1), "THA": (10, 2), "NGA": (1, 12),
    "UKR": (6, 3), "IRQ": (2, 8), "LKA": (5, 2), "AFG": (1, 7), "VNM": (4, 3), "UZB": (4, 2),
    "PHL": (2, 4), "CHN": (2, 2), "RUS": (1, 3), "ROU": (2, 2), "BGR": (2, 2), "EST": (1, 1),
    "POL": (1, 1), "IND": (2, 1), "BGD": (1, 3), "PAK": (1, 1), "SYR": (1, 2), "ERI": (1, 3),
    "ETH": (0.5, 3), "CMR": (0.3, 2), "GHA": (0.3, 2), "KEN": (0.3, 1), "COD": (0.2, 1.5),
    "CIV": (0.2, 1), "GIN": (0.2, 0.8), "SEN": (0.2, 0.5), "IRN": (1, 1), "TUR": (1, 1),
    "MAR": (0.5, 0.5), "MMR": (0.3, 1.5), "IDN": (0.5, 0.5), "MNG": (0.2, 0.5), "KGZ": (1, 0.3),
    "BLR": (0.3, 0.5), "GEO": (0.5, 0.3), "MDA": (0.5, 0.5), "ALB": (0.3, 0.5), "LVA": (0.5, 0.3),
    "LTU": (0.5, 0.3), "HUN": (0.5, 0.2), "SVK": (0.3, 0.2), "COL": (0.2, 1), "BRA": (0.2, 0.5),
    "VEN": (0.2, 0.5), "DOM": (0.1, 0.5), "GMB": (0.2, 0.8), "SDN": (0.2, 1), "YEM": (0.1, 0.5),
    "TJK": (0.3, 0.2), "AZE": (0.2, 0.2), "ARM": (0.1, 0.2), "EGY": (0.2, 0.3), "TUN": (0.1, 0.2),
    "XXA": (0.2, 0.6), "XXX": (0.3, 0.8),
}
CITIZENSHIPS = tuple(_CITIZENSHIP_WEIGHTS)
_W_CIT = np.array(list(_CITIZENSHIP_WEIGHTS.values())).T
_P_CIT = (_W_CIT[0] / _W_CIT[0].sum(), _W_CIT[1] / _W_CIT[1].sum())
EU_OR_VISA_FREE = ("ROU", "BGR", "EST", "POL", "LVA", "LTU", "HUN", "SVK", "MDA", "GEO", "ALB")
_EU = np.isin(np.array(CITIZENSHIPS), EU_OR_VISA_FREE)
FIN = CITIZENSHIPS.index("FIN")

# where victims exploited abroad were exploited, when not in their own country, by form
_TRANSIT = {
    0: ("ARE", "QAT", "SAU", "KWT", "MYS", "RUS", "POL", "SWE", "ITA", "ESP"),
    1: ("ITA", "ESP", "GRC", "FRA", "DEU", "NLD", "BEL", "AUT", "SWE", "EST", "LBY", "TUR"),
    2: ("TUR", "DEU", "SWE", "IRN", "SAU", "GBR"),
    3: ("ITA", "DEU", "SWE", "FRA", "ESP", "GRC", "EST", "NOR"),
    4: ("ITA", "FRA", "SWE", "DEU", "DNK"),
    5: ("ITA", "DEU", "SWE", "LBY", "TUR", "GRC", "ARE"),
}
_OWN_COUNTRY_SHARE = np.array([0.4, 0.3, 0.8, 0.3, 0.2, 0.4])
COUNTRIES = tuple(
    dict.fromkeys([c for c in CITIZENSHIPS if c not in ("XXA", "XXX")]
                  + [c for t in _TRANSIT.values() for c in t])
)
_CIT_COUNTRY = np.array([COUNTRIES.index(c) if c in COUNTRIES else NONE for c in CITIZENSHIPS])
COUNTRY_FIN = COUNTRIES.index("FIN")

# probabilities by (sex F/M/U, 0 abroad / 1 in Finland) over FORMS
_P_FORM = {
    (0, 0): (0.14, 0.45, 0.30, 0.04, 0.02, 0.05), (0, 1): (0.35, 0.45, 0.05, 0.05, 0.02, 0.08),
    (1, 0): (0.70, 0.06, 0.04, 0.12, 0.04, 0.04), (1, 1): (0.88, 0.02, 0.00, 0.06, 0.02, 0.02),
    (2, 0): (0.40, 0.30, 0.10, 0.10, 0.05, 0.05), (2, 1): (0.60, 0.20, 0.05, 0.07, 0.03, 0.05),
}
_P_SECTOR = (  # over SECTORS, abroad / in Finland
    (0.20, 0.02, 0.05, 0.05, 0.05, 0.08, 0.12, 0.0, 0.0, 0.04, 0.12, 0.0, 0.04, 0.23),
    (0.19, 0.27, 0.0, 0.0, 0.05, 0.0, 0.06, 0.02, 0.07, 0.02, 0.24, 0.04, 0.04, 0.0),
)
_P_RESIDENCE = (  # over RESIDENCES[1:], abroad / in Finland
    (0.03, 0.05, 0.12, 0.55, 0.10, 0.05, 0.10),
    (0.33, 0.16, 0.09, 0.07, 0.03, 0.10, 0.12),
)
_P_SEX = ((0.84, 0.15, 0.01), (0.40, 0.59, 0.01))  # abroad / in Finland
_AGE_LOW = np.array([12, 18, 30, 40, 50, 60])
_AGE_HIGH = np.array([17, 29, 39, 49, 59, 72])
_P_AGE = (0.04, 0.42, 0.35, 0.15, 0.03, 0.01)
_P_REFERRER = np.array([0.21, 0.28, 0.19, 0.0, 0.12, 0.13, 0.07])
_P_MONTHS = (0.10, 0.15, 0.20, 0.15, 0.10, 0.30)


def jan1(years: np.ndarray | int) -> np.ndarray:
    """Days since 1970-01-01 of 1 January of each year."""
    y = np.asarray(years, dtype=np.int64) - 1970
    return y.astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each day number (days since 1970-01-01)."""
    return np.asarray(days).astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def day(y: int, m: int = 1, d: int = 1) -> int:
    """Day number (days since 1970-01-01) of one date."""
    return int(np.datetime64(f"{y:04d}-{m:02d}-{d:02d}").astype(np.int64))


def spread(total: int, weights: np.ndarray) -> np.ndarray:
    """Split ``total`` into integer parts proportional to ``weights`` (largest remainder)."""
    share = np.asarray(weights, dtype=float) / np.sum(weights) * total
    parts = np.floor(share).astype(np.int64)
    parts[np.argsort(parts - share, kind="stable")[: total - parts.sum()]] += 1
    return parts


def by_group(rng: np.random.Generator, group: np.ndarray, probs: dict) -> np.ndarray:
    """Draw one code per row from the distribution ``probs[group]`` of the row's group."""
    out = np.zeros(group.size, dtype=np.int16)
    for g, p in probs.items():
        rows = np.flatnonzero(group == g)
        if rows.size:
            out[rows] = rng.choice(len(p), size=rows.size, p=np.asarray(p) / np.sum(p))
    return out


def draw_people(rng: np.random.Generator, start_year: np.ndarray, finland: np.ndarray) -> Arrays:
    """Sex, birth year (NONE = unknown) and citizenship of victims or applicants."""
    n = start_year.size
    f = finland.astype(np.int8)
    sex = by_group(rng, f, {0: _P_SEX[0], 1: _P_SEX[1]}).astype(np.int8)
    group = rng.choice(6, size=n, p=_P_AGE)
    age = rng.integers(_AGE_LOW[group], _AGE_HIGH[group] + 1)
    birth = np.where(rng.random(n) < 0.02, NONE, start_year - age)
    cit = by_group(rng, f, {0: _P_CIT[1], 1: _P_CIT[0]})
    return {"sex": sex, "birth_year": birth.astype(np.int64), "citizenship": cit}


def draw_residence(
    rng: np.random.Generator, cit: np.ndarray, finland: np.ndarray, start_year: np.ndarray
) -> np.ndarray:
    """Residence status at the start of a period; FINNISH_CITIZEN exactly for FIN citizens."""
    res = by_group(rng, finland.astype(np.int8), {0: _P_RESIDENCE[0], 1: _P_RESIDENCE[1]}) + 1
    res = np.where(_EU[cit] & (rng.random(cit.size) < 0.85), RESIDENCES.index("EU_OR_VISA_FREE"), res)
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
    rng: np.random.Generator, counts: np.ndarray, first_year: int, last_day: int,
    p_finland: np.ndarray, mean_years: float = 7.0, repeat_share: float = 0.03,
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
        "person": person, "start": start, "end": np.concatenate([end, end2]),
        "end_reason": np.concatenate([reason, reason2]), "residence": residence,
        "finland": fin, "prev_end": np.concatenate([np.full(n, NONE), end[back]]),
    }
    return people, periods


def draw_children(
    rng: np.random.Generator, parent: np.ndarray, per_parent: np.ndarray, periods: Arrays,
    people: Arrays, last_day: int, born_from: int = 0, born_until: int = 9999,
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
        "parent": who, "sex": rng.integers(0, 2, row.size).astype(np.int8),
        "birth_year": birth, "citizenship": people["citizenship"][who],
    }
    kid_periods = {
        "start": periods["start"][row], "end": end, "end_reason": reason,
        "residence": periods["residence"][row],
    }
    return kids, kid_periods


def draw_referrers(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    """Who made each application; wellbeing services counties exist from 2023 on."""
    ref = rng.choice(len(REFERRERS), size=years.size, p=_P_REFERRER).astype(np.int8)
    share = np.select([years == 2023, years == 2024, years >= 2025], [0.015, 0.03, 0.06], 0.0)
    return np.where(rng.random(years.size) < share, REFERRERS.index("WELLBEING_SERVICES"), ref)


def accepted_received(rng: np.random.Generator, start: np.ndarray, prev_end: np.ndarray) -> np.ndarray:
    """Received dates of the accepted applications decided on the periods' start days."""
    received = np.maximum(start - rng.integers(0, 61, start.size), jan1(year_of(start)))
    return np.maximum(received, prev_end + 1)


def draw_other_applications(
    rng: np.random.Generator, counts: np.ndarray, first_year: int, last_day: int
) -> tuple[Arrays, Arrays]:
    """Applications that did not make a client: rejected, withdrawn, pending (recent only).

    Returns:
        persons (one new applicant per application) and applications (person row,
        received, decision, decided, rejection_reason; referrer left to the caller).
    """
    years = np.repeat(np.arange(first_year, first_year + len(counts)), counts)
    n = years.size
    received = jan1(years) + (rng.random(n) * (jan1(years + 1) - jan1(years))).astype(np.int64)
    received = np.minimum(received, last_day)
    decision = rng.choice([1, 2, 3], size=n, p=(0.79, 0.11, 0.10))
    late = received >= last_day - 100
    decision = np.where((decision == 3) & ~late, rng.choice([1, 2], size=n, p=(0.87, 0.13)), decision)
    decided = np.minimum(received + rng.integers(5, 121, n), jan1(years + 1) - 1)
    decided = np.where(decision == 3, OPEN, decided)
    reason = np.where(decision == 1, rng.choice(3, size=n, p=(0.49, 0.40, 0.11)), NONE)
    people = draw_people(rng, years, rng.random(n) < 0.4)
    apps = {
        "person": np.arange(n), "received": received, "decision": decision.astype(np.int8),
        "decided": decided, "rejection_reason": reason.astype(np.int8),
    }
    return people, apps


def abroad_countries(rng: np.random.Generator, form: np.ndarray, cit: np.ndarray) -> np.ndarray:
    """Country of events outside Finland: the victim's own country or a transit/destination."""
    out = np.zeros(form.size, dtype=np.int16)
    for f, places in _TRANSIT.items():
        rows = np.flatnonzero(form == f)
        out[rows] = np.array([COUNTRIES.index(c) for c in places])[rng.integers(0, len(places), rows.size)]
    own = _CIT_COUNTRY[cit]
    use_own = (own != NONE) & (own != COUNTRY_FIN) & (rng.random(form.size) < _OWN_COUNTRY_SHARE[form])
    return np.where(use_own, own, out).astype(np.int16)


def draw_sectors(rng: np.random.Generator, form: np.ndarray, in_finland: np.ndarray) -> np.ndarray:
    """NACE division of forced-labour events; NONE for every other form."""
    sector = by_group(rng, in_finland.astype(np.int8), {0: _P_SECTOR[0], 1: _P_SECTOR[1]})
    return np.where(form == 0, sector, NONE).astype(np.int16)


def draw_events(
    rng: np.random.Generator, periods: Arrays, received: np.ndarray, sex: np.ndarray,
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
    form = by_group(rng, sex[row] * 2 + where, {k[0] * 2 + k[1]: v for k, v in _P_FORM.items()})
    country = np.where(where, COUNTRY_FIN, abroad_countries(rng, form, cit[row]))
    start, end = periods["start"][row], periods["end"][row]
    first = received + (rng.random(n) * (periods["start"] - received + 1)).astype(np.int64)
    later = np.minimum(np.minimum(start + rng.integers(0, 91, row.size), end), jan1(year_of(start) + 1) - 1)
    return {
        "person": periods["person"][row], "form": form.astype(np.int8), "rank": rank,
        "country": country.astype(np.int16), "sector": draw_sectors(rng, form, where),
        "identified": np.concatenate([first, later[n:]]),
    }
