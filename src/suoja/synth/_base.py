"""Code lists, date helpers and the array form of a synthetic register.

A register is first built as plain numpy arrays of small integer codes: one dict of
arrays per table, persons referred to by their row number in ``persons``, a null date
stored as :data:`OPEN` and a null code or reference as :data:`NONE`. :func:`to_frames`
turns it into Polars frames with the contract's string codes, dates and ids.
"""

from __future__ import annotations

import numpy as np
import polars as pl

Arrays = dict[str, np.ndarray]
Register = dict[str, Arrays]

OPEN = np.iinfo(np.int32).max  # a date that is not set: an open period, a pending decision
NONE = -1  # a code or a person reference that is not set

# fmt: off
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
_W = np.array(list(_CITIZENSHIP_WEIGHTS.values())).T
P_CITIZENSHIP = (_W[0] / _W[0].sum(), _W[1] / _W[1].sum())
EU_OR_VISA_FREE = ("ROU", "BGR", "EST", "POL", "LVA", "LTU", "HUN", "SVK", "MDA", "GEO", "ALB")
IS_EU = np.isin(np.array(CITIZENSHIPS), EU_OR_VISA_FREE)
FIN = CITIZENSHIPS.index("FIN")

# where victims exploited abroad were exploited, when not in their own country, by form
TRANSIT = {
    0: ("ARE", "QAT", "SAU", "KWT", "MYS", "RUS", "POL", "SWE", "ITA", "ESP"),
    1: ("ITA", "ESP", "GRC", "FRA", "DEU", "NLD", "BEL", "AUT", "SWE", "EST", "LBY", "TUR"),
    2: ("TUR", "DEU", "SWE", "IRN", "SAU", "GBR"),
    3: ("ITA", "DEU", "SWE", "FRA", "ESP", "GRC", "EST", "NOR"),
    4: ("ITA", "FRA", "SWE", "DEU", "DNK"),
    5: ("ITA", "DEU", "SWE", "LBY", "TUR", "GRC", "ARE"),
}
OWN_COUNTRY_SHARE = np.array([0.4, 0.3, 0.8, 0.3, 0.2, 0.4])
COUNTRIES = tuple(
    dict.fromkeys([c for c in CITIZENSHIPS if c not in ("XXA", "XXX")]
                  + [c for t in TRANSIT.values() for c in t])
)
CIT_COUNTRY = np.array([COUNTRIES.index(c) if c in COUNTRIES else NONE for c in CITIZENSHIPS])
COUNTRY_FIN = COUNTRIES.index("FIN")
# fmt: on


# fmt: off
# probabilities by (sex F/M/U, 0 abroad / 1 in Finland) over FORMS
P_FORM = {
    (0, 0): (0.14, 0.45, 0.30, 0.04, 0.02, 0.05), (0, 1): (0.35, 0.45, 0.05, 0.05, 0.02, 0.08),
    (1, 0): (0.70, 0.06, 0.04, 0.12, 0.04, 0.04), (1, 1): (0.88, 0.02, 0.00, 0.06, 0.02, 0.02),
    (2, 0): (0.40, 0.30, 0.10, 0.10, 0.05, 0.05), (2, 1): (0.60, 0.20, 0.05, 0.07, 0.03, 0.05),
}
P_SECTOR = (  # over SECTORS, abroad / in Finland
    (0.20, 0.02, 0.05, 0.05, 0.05, 0.08, 0.12, 0.0, 0.0, 0.04, 0.12, 0.0, 0.04, 0.23),
    (0.19, 0.27, 0.0, 0.0, 0.05, 0.0, 0.06, 0.02, 0.07, 0.02, 0.24, 0.04, 0.04, 0.0),
)
P_RESIDENCE = (  # over RESIDENCES[1:], abroad / in Finland
    (0.03, 0.05, 0.12, 0.55, 0.10, 0.05, 0.10),
    (0.33, 0.16, 0.09, 0.07, 0.03, 0.10, 0.12),
)
P_SEX = ((0.84, 0.15, 0.01), (0.40, 0.59, 0.01))  # abroad / in Finland
AGE_LOW = np.array([12, 18, 30, 40, 50, 60])
AGE_HIGH = np.array([17, 29, 39, 49, 59, 72])
P_AGE = (0.04, 0.42, 0.35, 0.15, 0.03, 0.01)
P_REFERRER = np.array([0.21, 0.28, 0.19, 0.0, 0.12, 0.13, 0.07])
P_MONTHS = (0.10, 0.15, 0.20, 0.15, 0.10, 0.30)
# fmt: on


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


def adult_first_periods(periods: Arrays, people: Arrays, min_age: int = 20) -> np.ndarray:
    """Rows of first periods whose victim is at least ``min_age`` (or of unknown age)."""
    by = people["birth_year"][periods["person"]]
    adult = (by == NONE) | (year_of(periods["start"]) - by >= min_age)
    return np.flatnonzero(adult & (periods["prev_end"] == NONE))


def no_clients() -> Register:
    """Empty client_periods, exploitation and reflection_periods tables."""
    cols = {
        "client_periods": ("person", "start", "end", "end_reason", "residence"),
        "exploitation": ("person", "form", "rank", "country", "sector", "identified"),
        "reflection_periods": ("person", "granted", "months"),
    }
    return {t: {c: np.zeros(0, np.int64) for c in cs} for t, cs in cols.items()}


def combine(parts: list[Register]) -> Register:
    """Concatenate registers (emptying them), renumbering the person rows of each part."""
    out: Register = {}
    offsets = np.cumsum([0] + [p["persons"]["sex"].size for p in parts])
    for table in list(parts[0]):
        out[table] = {}
        for c in list(parts[0][table]):
            pieces = []
            for off, p in zip(offsets, parts, strict=False):
                a = np.asarray(p[table].pop(c))
                if c == "person":
                    a = (a + off).astype(np.int32)
                elif c == "parent":
                    a = np.where(a == NONE, NONE, a + off).astype(np.int32)
                pieces.append(a)
            out[table][c] = np.concatenate(pieces)
            del pieces
    return out


def _ids(prefix: str, n: int) -> pl.Series:
    width = max(6, len(str(n)))
    return pl.select(
        pl.format(prefix + "{}", pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
    ).to_series()


def _codes(name: str, codes: tuple[str, ...], idx: np.ndarray) -> pl.Series:
    ii = pl.Series(np.asarray(idx, dtype=np.int32))
    if (np.asarray(idx) == NONE).any():
        ii = pl.select(pl.when(ii >= 0).then(ii)).to_series()
    return pl.Series(name, codes, dtype=pl.String).gather(ii).alias(name)


def _dates(name: str, days: np.ndarray) -> pl.Series:
    d = pl.Series(name, np.asarray(days, dtype=np.int64))
    if (np.asarray(days) == OPEN).any():
        d = pl.select(pl.when(d != OPEN).then(d)).to_series().alias(name)
    return d.cast(pl.Int32).cast(pl.Date)


def _ints(name: str, values: np.ndarray) -> pl.Series:
    v = pl.Series(name, np.asarray(values, dtype=np.int64))
    if (np.asarray(values) == NONE).any():
        v = pl.select(pl.when(v != NONE).then(v)).to_series().alias(name)
    return v


def to_frames(reg: Register) -> dict[str, pl.DataFrame]:
    """Polars frames of the contract from a register of arrays (emptied on the way).

    Persons are numbered in the order they first appear (first application received or
    client period started); every other table is ordered by its date, then person.
    """
    p = reg.pop("persons")
    n = p["sex"].size
    first = np.full(n, OPEN, dtype=np.int32)
    np.minimum.at(
        first, reg["applications"]["person"], reg["applications"]["received"].astype(np.int32)
    )
    np.minimum.at(
        first, reg["client_periods"]["person"], reg["client_periods"]["start"].astype(np.int32)
    )
    order = np.argsort(first, kind="stable")
    del first
    new = np.empty(n, dtype=np.int32)
    new[order] = np.arange(n, dtype=np.int32)
    for k in p:
        p[k] = p[k][order]
    del order
    pid = _ids("P", n)
    has_parent = pl.Series(p["parent"] >= 0)
    parent = pl.Series(new[np.maximum(p.pop("parent"), 0)])
    frames = {
        "persons": pl.DataFrame(
            [
                pid.alias("person_id"),
                _codes("role", ROLES, p.pop("role")),
                pid.gather(pl.select(pl.when(has_parent).then(parent)).to_series()).alias(
                    "parent_id"
                ),
                _codes("sex", SEXES, p.pop("sex")),
                _ints("birth_year", p.pop("birth_year")),
                _codes("citizenship", CITIZENSHIPS, p.pop("citizenship")),
            ]
        )
    }
    del has_parent, parent

    def rows(table: str, date: str, *extra: str) -> tuple[Arrays, pl.Series]:
        t = reg.pop(table)
        t["person"] = new[t["person"]]
        o = np.lexsort((*(t[c] for c in extra), t["person"], t[date]))
        for k in t:
            t[k] = t[k][o]
        return t, pid.gather(pl.Series(t.pop("person")))

    a, who = rows("applications", "received")
    frames["applications"] = pl.DataFrame(
        [
            _ids("A", who.len()).alias("application_id"),
            who.alias("person_id"),
            _dates("received", a.pop("received")),
            _codes("referrer", REFERRERS, a.pop("referrer")),
            _codes("decision", DECISIONS, a.pop("decision")),
            _dates("decided", a.pop("decided")),
            _codes("rejection_reason", REJECTION_REASONS, a.pop("rejection_reason")),
        ]
    )
    c, who = rows("client_periods", "start")
    frames["client_periods"] = pl.DataFrame(
        [
            who.alias("person_id"),
            _dates("start", c.pop("start")),
            _dates("end", c.pop("end")),
            _codes("end_reason", END_REASONS, c.pop("end_reason")),
            _codes("residence_status", RESIDENCES, c.pop("residence")),
        ]
    )
    e, who = rows("exploitation", "identified", "rank")
    frames["exploitation"] = pl.DataFrame(
        [
            _ids("E", who.len()).alias("event_id"),
            who.alias("person_id"),
            _codes("form", FORMS, e.pop("form")),
            _codes("rank", RANKS, e.pop("rank")),
            _codes("country", COUNTRIES, e.pop("country")),
            _codes("sector", SECTORS, e.pop("sector")),
            _dates("identified", e.pop("identified")),
        ]
    )
    r, who = rows("reflection_periods", "granted")
    frames["reflection_periods"] = pl.DataFrame(
        [
            who.alias("person_id"),
            _dates("granted", r.pop("granted")),
            _ints("months", r.pop("months")),
        ]
    )
    return frames
