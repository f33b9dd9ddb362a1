"""Synthetic registers of the assistance system for victims of human trafficking.

:func:`embedded_register` is the register shipped in ``data/register/``: the whole
history 2006-2025, built so that every figure of the 2025 review comes out exactly
(the year 2025 from explicit count tables, the earlier years drawn at random and then
adjusted to the stocks the review implies). :func:`scaled_register` draws registers of
any size for benchmarks and property tests. :func:`write_register` writes either;
:func:`write_embedded_register` regenerates ``data/register/``. No person in them is real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from suoja.synth import _base as sb
from suoja.synth import _scale as sc
from suoja.synth._base import NONE, OPEN, day, year_of
from suoja.synth._scale import scaled_register

__all__ = [
    "TABLES",
    "embedded_register",
    "scaled_register",
    "write_embedded_register",
    "write_register",
]

TABLES = ("persons", "applications", "client_periods", "exploitation", "reflection_periods")
SEED = 20_251_231

# fmt: off
_RES = {"FC": 0, "SW": 1, "WO": 2, "FA": 3, "IP": 4, "OP": 5, "EU": 6, "NR": 7}
_F = {f: i for i, f in enumerate(("FL", "SEX", "FM", "FC", "BEG", "OTH"))}  # FORMS order

# 2025 new clients exploited in Finland: citizenship -> (men, women, residence statuses)
_FINLAND_2025 = {
    "NPL": (38, 21, "SW22 WO15 FA10 OP2 NR10"), "FIN": (5, 12, "FC17"), "THA": (9, 4, "SW13"),
    "UKR": (7, 1, "EU3 SW2 OP1 WO2"), "LKA": (6, 1, "SW5 WO2"), "VNM": (4, 1, "WO1 FA1 NR1 SW2"),
    "UZB": (5, 0, "SW5"), "PHL": (0, 3, "WO1 FA1 NR1"), "IRQ": (1, 1, "IP2"), "AFG": (1, 0, "IP1"),
    "NGA": (0, 1, "IP1"), "SOM": (0, 1, "IP1"), "ROU": (1, 0, "EU1"), "LVA": (1, 0, "EU1"),
    "LTU": (1, 0, "EU1"), "POL": (1, 0, "EU1"), "SVK": (1, 0, "EU1"), "GEO": (1, 0, "EU1"),
    "BGR": (0, 1, "EU1"), "EST": (0, 1, "EU1"), "HUN": (0, 1, "EU1"), "MDA": (0, 1, "EU1"),
    "ALB": (0, 1, "EU1"), "SYR": (1, 0, "IP1"), "TUR": (1, 0, "IP1"), "ERI": (0, 1, "IP1"),
    "IRN": (0, 1, "IP1"), "MAR": (1, 0, "NR1"), "PAK": (0, 1, "NR1"), "KGZ": (1, 0, "SW1"),
    "IND": (0, 1, "FA1"),
}
# 2025 new clients exploited only abroad: citizenship -> (men, women)
_ABROAD_2025 = {
    "NPL": (4, 1), "SOM": (2, 19), "FIN": (0, 1), "THA": (0, 3), "NGA": (0, 13), "UKR": (2, 2),
    "IRQ": (1, 8), "LKA": (2, 1), "AFG": (2, 6), "VNM": (2, 2), "UZB": (2, 1), "PHL": (0, 5),
    "ROU": (1, 2), "BGR": (0, 2), "EST": (0, 1), "POL": (0, 1), "SYR": (0, 2), "ERI": (0, 2),
    "IRN": (0, 1), "PAK": (0, 1), "IND": (0, 1), "CMR": (0, 3), "GHA": (0, 3), "KEN": (0, 1),
    "ETH": (0, 4), "COD": (0, 2), "GIN": (0, 1), "CIV": (0, 2), "SEN": (0, 1), "BGD": (2, 2),
    "MMR": (0, 3), "IDN": (0, 1), "CHN": (0, 2), "MNG": (0, 1), "RUS": (0, 3), "BLR": (0, 1),
    "COL": (0, 2), "BRA": (0, 1), "VEN": (0, 1), "XXA": (0, 1),
}
# event plans: "FORM" primary, then secondaries "FORM@FIN" or "FORM@X" (abroad); "*k" repeats
_PLANS_2025 = {
    "fin_men": "FL+FL@X*4 FL*74 FC*5 SEX BEG OTH",
    "fin_women": "FL+SEX@FIN*3 FL*19 SEX+FL@FIN SEX+FC@FIN*2 SEX+SEX@FIN SEX+SEX@X*2 SEX*18 "
                 "FC FM+SEX@FIN FM*2 BEG OTH*4",
    "abroad_men": "FL+FC@X*2 FL+SEX@X FL*10 FC*3 BEG OTH SEX FM",
    "abroad_women": "FM+SEX@X*10 FM+OTH@X*2 FM*26 SEX+FL@X*6 SEX+FC@X*3 SEX+BEG@X SEX*35 FC*3 "
                    "BEG*2 OTH*7 FL+SEX@X*4 FL*11",
}
_FM_FIRST = {"SOM", "AFG", "IRQ", "SYR", "ERI", "ETH", "BGD", "PAK", "IND", "XXA", "IRN"}
_FL_FIRST = {"NPL", "PHL", "LKA", "VNM", "UZB", "IDN", "MMR", "THA", "CHN", "KGZ"}
_SECTOR_QUOTA = {"02": 30, "56": 24, "01": 19, "43": 7, "41": 6, "10": 5, "81": 4, "96": 4, "42": 2}
_SECTOR_TASTE = {
    "THA": "02 01", "LKA": "02 01", "UZB": "43 02 41 42", "UKR": "02 43 41 42", "VNM": "96 01 56",
    "PHL": "81 56 96", "NPL": "56 01 10 81 96 02", "FIN": "41 81 56 43 10",
}
_AGES_2025 = (10, 114, 95, 41, 8, 3)  # Y_LT18, Y18T29, ..., Y_GE60
_AGE_SPAN = ((14, 17), (18, 29), (30, 39), (40, 49), (50, 59), (60, 66))
_REFERRERS_2025 = (98, 135, 93, 28, 52, 44, 17)  # REFERRERS order
_HISTORY = (8, 13, 18, 24, 30, 36, 44, 52, 60, 82, 130, 150, 150, 200, 140, 190, 200, 250, 205)
_OPEN_END_2024, _ENDED_2025, _ENDED_2025_REASONS = 1322, 169, (98, 61, 6, 4)
_DECISIONS_2025 = (154, 17, 25)  # REJECTED, WITHDRAWN, PENDING (besides 271 ACCEPTED)
_REJECTIONS_2025 = (75, 62, 17)  # REJECTION_REASONS order
_REFLECTIONS_2025 = 35
_NEW_FAMILIES = (14, 6, 2)  # victims of 2025 with 1, 2, 3 children: 32 children
_STOCK_FAMILIES = (80, 31, 12)  # with 1, 2, 3 children still minors: 178 = 210 - 32 of 2025
_STOCK_WOMEN, _STOCK_TAKEN_AS_MINORS = 869, 85  # 869 / 1424 = 61 %
_WELLBEING_2024, _APPLICATIONS_2024, _FORCED_LABOUR_FIN_2024 = 12, 400, 54
# fmt: on
_NEW_WOMEN = sum(f for _, f, _ in _FINLAND_2025.values()) + sum(f for _, f in _ABROAD_2025.values())


def _plans(spec: str, home: bool) -> list[list[tuple[int, bool]]]:
    """Event plans [(form, in Finland)]; an event without "@" is in Finland iff ``home``."""
    out = []
    for word in spec.split():
        plan, _, times = word.partition("*")
        events = [
            (_F[e.split("@")[0]], home if "@" not in e else e.endswith("@FIN"))
            for e in plan.split("+")
        ]
        out += [events] * int(times or 1)
    return out


def _clients_2025(rng: np.random.Generator) -> tuple[sb.Arrays, sb.Arrays, sb.Arrays]:
    """The 271 victims who became clients in 2025: persons, periods, events."""
    cit, sex, fin, res = [], [], [], []
    for c, (men, women, spec) in _FINLAND_2025.items():
        codes = [_RES[w[:2]] for w in spec.split() for _ in range(int(w[2:]))]
        cit += [c] * (men + women)
        sex += [1] * men + [0] * women
        fin += [True] * (men + women)
        res += list(rng.permutation(codes))
    for c, (men, women) in _ABROAD_2025.items():
        cit += [c] * (men + women)
        sex += [1] * men + [0] * women
        fin += [False] * (men + women)
    ci = np.array([sb.CITIZENSHIPS.index(c) for c in cit])
    fin_a, sex_a = np.array(fin), np.array(sex, dtype=np.int8)
    abroad = sc.draw_residence(rng, ci[~fin_a], fin_a[~fin_a], np.full((~fin_a).sum(), 2025))
    res_a = np.concatenate([np.array(res), abroad]).astype(np.int8)
    n = ci.size
    plan: list[list[tuple[int, bool]]] = [[]] * n
    worker = np.isin(res_a, [1, 2, 3, 5])
    taste = np.array([0 if c in _FM_FIRST else 2 if c in _FL_FIRST else 1 for c in cit])
    groups = {
        "fin_men": (fin_a & (sex_a == 1), ~worker),
        "fin_women": (fin_a & (sex_a == 0), ~worker),
        "abroad_men": (~fin_a & (sex_a == 1), 2 - taste),
        "abroad_women": (~fin_a & (sex_a == 0), taste),
    }
    for name, (rows, key) in groups.items():
        who = np.flatnonzero(rows)
        who = who[np.argsort(key[who] + rng.uniform(0, 0.9 if "men" in name else 1.3, who.size))]
        for w, p in zip(who, _plans(_PLANS_2025[name], name.startswith("fin")), strict=True):
            plan[w] = p
    # ages: minors only among those not in (seasonal) work in Finland
    fl_fin = np.array([p[0] == (0, True) for p in plan])
    can_be_minor = np.flatnonzero(~fl_fin & ~np.isin(res_a, [1, 2, 5]))
    group = np.full(n, NONE)
    group[rng.choice(can_be_minor, _AGES_2025[0], replace=False)] = 0
    rest = np.flatnonzero(group == NONE)
    group[rest] = rng.permutation(np.repeat(np.arange(1, 6), _AGES_2025[1:]))
    low, high = np.array(_AGE_SPAN).T
    age = rng.integers(low[group], high[group] + 1)
    people = {"sex": sex_a, "birth_year": (2025 - age).astype(np.int64), "citizenship": ci}
    start = np.sort(rng.integers(day(2025, 1, 8), day(2025, 12, 31) + 1, n))[rng.permutation(n)]
    periods = {
        "person": np.arange(n),
        "start": start,
        "end": np.full(n, OPEN),
        "finland": fin_a,
        "end_reason": np.full(n, NONE, np.int8),
        "residence": res_a,
        "prev_end": np.full(n, NONE),
    }
    return people, periods, _events_2025(rng, plan, periods, ci)


def _events_2025(
    rng: np.random.Generator, plan: list[list[tuple[int, bool]]], periods: sb.Arrays, ci: np.ndarray
) -> sb.Arrays:
    """Events of the 2025 clients from their plans; sectors of forced labour in Finland by quota."""
    row = np.array([i for i, p in enumerate(plan) for _ in p])
    form = np.array([f for p in plan for f, _ in p], dtype=np.int8)
    in_fin = np.array([w for p in plan for _, w in p])
    rank = np.array([int(k > 0) for p in plan for k in range(len(p))], dtype=np.int8)
    country = np.where(in_fin, sb.COUNTRY_FIN, sc.abroad_countries(rng, form, ci[row]))
    sector = sc.draw_sectors(rng, form, in_fin)
    quota = dict(_SECTOR_QUOTA)
    order = list(_SECTOR_TASTE) + [c for c in sb.CITIZENSHIPS if c not in _SECTOR_TASTE]
    fl = np.flatnonzero((form == 0) & in_fin)
    fl = fl[np.argsort([order.index(sb.CITIZENSHIPS[c]) for c in ci[row[fl]]], kind="stable")]
    for e in fl:
        taste = _SECTOR_TASTE.get(sb.CITIZENSHIPS[ci[row[e]]], "43 41 42 02 01 10 81 96 56").split()
        pick = next((s for s in taste if quota[s] > 0), max(quota, key=quota.__getitem__))
        quota[pick] -= 1
        sector[e] = sb.SECTORS.index(pick)
    start = periods["start"][row]
    received = sc.accepted_received(rng, periods["start"], periods["prev_end"])
    periods["received"] = received
    first = received[row] + (rng.random(row.size) * (start - received[row] + 1)).astype(np.int64)
    later = np.minimum(start + rng.integers(0, 61, row.size), day(2025, 12, 31))
    return {
        "person": row,
        "form": form,
        "rank": rank,
        "country": country.astype(np.int16),
        "sector": sector,
        "identified": np.where(rank == 0, first, later),
    }


def _register_2025(rng: np.random.Generator) -> sb.Register:
    """Everything of 2025: the new clients, their children, all applications and reflections."""
    people, periods, events = _clients_2025(rng)
    n, last = people["sex"].size, day(2025, 12, 31)
    adult = sb.adult_first_periods(periods, people, 22)
    weight = np.where(people["sex"][adult] == 0, 4.0, 1.0) * np.where(
        periods["finland"][adult], 1, 2
    )
    parents = rng.choice(adult, sum(_NEW_FAMILIES), replace=False, p=weight / weight.sum())
    per_parent = np.repeat([1, 2, 3], _NEW_FAMILIES)
    kids = sc.draw_children(rng, parents, per_parent, periods, people, last, born_from=2008)
    clients = sc.victims_register(rng, people, periods, last, kids)
    clients["exploitation"] = events
    clients["applications"]["received"] = periods["received"]
    # the applications of 2025 that made no client: rejected, withdrawn, pending
    decision = np.repeat([1, 2, 3], _DECISIONS_2025)
    k = decision.size
    received = np.where(
        decision == 3,
        rng.integers(day(2025, 8, 1), last + 1, k),
        rng.integers(day(2025, 1, 1), day(2025, 11, 30) + 1, k),
    )
    decided = np.minimum(received + rng.integers(10, 121, k), last)
    rejected = rng.permutation(np.repeat([0, 1, 2], _REJECTIONS_2025))
    others = {
        "persons": {
            "role": np.zeros(k, np.int8),
            "parent": np.full(k, NONE),
            **sc.draw_people(rng, np.full(k, 2025), rng.random(k) < 0.4),
        },
        "applications": {
            "person": np.arange(k),
            "received": received,
            "referrer": np.zeros(k, np.int8),
            "decision": decision,
            "decided": np.where(decision == 3, OPEN, decided),
            "rejection_reason": np.concatenate([rejected, np.full(k - rejected.size, NONE)]),
        },
        **sb.no_clients(),
    }
    reg = sb.combine([clients, others])
    apps = reg["applications"]
    apps["referrer"] = rng.permutation(np.repeat(np.arange(7), _REFERRERS_2025))
    # reflection periods: the clients without a right of residence, then other applicants
    no_right = np.flatnonzero(periods["residence"] == _RES["NR"])
    extra = rng.choice(np.arange(n, n + k), _REFLECTIONS_2025 - no_right.size, replace=False)
    rows = np.concatenate([no_right, extra])  # rows of applications
    who = apps["person"][rows]
    reg["reflection_periods"] = sc.draw_reflections(rng, who, apps["received"][rows], last)
    return reg


def _history(rng: np.random.Generator) -> sb.Register:
    """Victims and applicants of 2006-2024, adjusted to the stocks of 2024 and 2025."""
    last24, last = day(2024, 12, 31), day(2025, 12, 31)
    counts = np.array(_HISTORY)
    people, periods = sc.draw_victims(
        rng, counts, 2006, last24, np.linspace(0.2, 0.5, counts.size), 11.0
    )
    start, end, reason = periods["start"], periods["end"], periods["end_reason"]
    who = periods["person"]
    n_periods = np.bincount(who)[who]
    # exactly 1322 victim periods open on 31 Dec 2024: close (older first), reopen (recent first)
    surplus = int((end == OPEN).sum()) - _OPEN_END_2024
    if surplus > 0:
        rows = np.flatnonzero(end == OPEN)
        w = (last24 - start[rows]) + 1.0
        rows = rng.choice(rows, surplus, replace=False, p=w / w.sum())
        end[rows] = start[rows] + (rng.random(surplus) * (last24 - start[rows] + 1)).astype(
            np.int64
        )
        reason[rows] = rng.choice(4, surplus, p=(0.55, 0.35, 0.06, 0.04))
    elif surplus < 0:
        rows = np.flatnonzero((end != OPEN) & ((n_periods == 1) | (periods["prev_end"] != NONE)))
        w = (end[rows] - day(2006)) ** 2.0
        rows = rng.choice(rows, -surplus, replace=False, p=w / w.sum())
        end[rows], reason[rows] = OPEN, NONE
    # 169 of them end in 2025, for the review's reasons
    rows = rng.choice(np.flatnonzero(end == OPEN), _ENDED_2025, replace=False)
    end[rows] = rng.integers(day(2025, 1, 1), last + 1, rows.size)
    reason[rows] = rng.permutation(np.repeat(np.arange(4), _ENDED_2025_REASONS))
    stock = np.flatnonzero(end == OPEN)
    # women and those taken in as minors among the victims still clients on 31 Dec 2025
    sex, by, sw = people["sex"], people["birth_year"], who[stock]
    need = (_STOCK_WOMEN - _NEW_WOMEN) - int((sex[sw] == 0).sum())
    flip = rng.choice(sw[sex[sw] == (1 if need > 0 else 0)], abs(need), replace=False)
    sex[flip] = 0 if need > 0 else 1
    s_year = year_of(start[stock])
    minor = (by[sw] != NONE) & (s_year - by[sw] < 18)
    need = (_STOCK_TAKEN_AS_MINORS - _AGES_2025[0]) - int(minor.sum())
    if need < 0:
        rows = rng.choice(np.flatnonzero(minor), -need, replace=False)
        by[sw[rows]] = s_year[rows] - rng.integers(18, 36, rows.size)
    else:
        cand = np.flatnonzero(
            ~minor & (n_periods[stock] == 1) & (by[sw] != NONE) & (s_year >= 2007)
        )
        rows = rng.choice(cand, need, replace=False)
        by[sw[rows]] = s_year[rows] - rng.integers(12, 18, rows.size)
    minor = (by[sw] != NONE) & (s_year - by[sw] < 18)
    by[sw[minor]] = np.minimum(by[sw[minor]], 2007)  # adults by 31 Dec 2025
    # children: 178 still minors with a parent in the stock, some who aged out, the others'
    first = sb.adult_first_periods(periods, people)
    sy, pby = year_of(start[first]), by[who[first]]
    in_stock, kin = end[first] == OPEN, np.where(sex[who[first]] == 0, 3.0, 1.0)
    rows = first[in_stock & (sy >= 2008)]
    w = kin[in_stock & (sy >= 2008)]
    kids_a = sc.draw_children(
        rng,
        rng.choice(rows, sum(_STOCK_FAMILIES), replace=False, p=w / w.sum()),
        np.repeat([1, 2, 3], _STOCK_FAMILIES),
        periods,
        people,
        last,
        born_from=2008,
    )
    ok = in_stock & (
        np.maximum(sy - 17, np.where(pby == NONE, 0, pby + 16)) <= np.minimum(sy, 2007)
    )
    kids_b = sc.draw_children(
        rng,
        rng.choice(first[ok], 15, replace=False),
        np.ones(15, np.int64),
        periods,
        people,
        last,
        born_until=2007,
    )
    rows = first[~in_stock]
    kids_c = sc.draw_children(
        rng, rows, sc.children_counts(rng, sex[who[rows]]), periods, people, last
    )
    kids = tuple(
        {c: np.concatenate([k[i][c] for k in (kids_a, kids_b, kids_c)]) for c in kids_a[i]}
        for i in (0, 1)
    )
    victims = sc.victims_register(rng, people, periods, last, kids)
    others = np.round(counts * 0.75).astype(np.int64)
    others[-1] = _APPLICATIONS_2024 - int((year_of(start) == 2024).sum())
    reg = sb.combine([victims, sc.others_register(rng, others, 2006, last24, pending=False)])
    _fix_2024(rng, reg)
    return reg


def _fix_2024(rng: np.random.Generator, reg: sb.Register) -> None:
    """Exactly 12 applications of 2024 from wellbeing services, 54 forced-labour events in
    Finland among the 2024 new clients (their events are those identified in 2024)."""
    apps = reg["applications"]
    in_2024 = year_of(apps["received"]) == 2024
    well = sb.REFERRERS.index("WELLBEING_SERVICES")
    surplus = int((in_2024 & (apps["referrer"] == well)).sum()) - _WELLBEING_2024
    rows = rng.choice(
        np.flatnonzero(in_2024 & ((apps["referrer"] == well) == (surplus > 0))),
        abs(surplus),
        replace=False,
    )
    apps["referrer"][rows] = rng.choice([0, 1, 2, 4, 5, 6], rows.size) if surplus > 0 else well
    ev = reg["exploitation"]
    in_2024 = year_of(ev["identified"]) == 2024
    fl_fin = (ev["form"] == 0) & (ev["country"] == sb.COUNTRY_FIN)
    surplus = int((in_2024 & fl_fin).sum()) - _FORCED_LABOUR_FIN_2024
    if surplus > 0:
        rows = rng.choice(np.flatnonzero(in_2024 & fl_fin), surplus, replace=False)
        cit = reg["persons"]["citizenship"][ev["person"][rows]]
        ev["country"][rows] = sc.abroad_countries(rng, ev["form"][rows], cit)
        ev["sector"][rows] = sc.draw_sectors(rng, ev["form"][rows], np.zeros(rows.size, bool))
    elif surplus < 0:
        cand = np.flatnonzero(in_2024 & ~fl_fin)
        rows = cand[np.argsort(ev["form"][cand] != 0, kind="stable")[:-surplus]]
        ev["form"][rows], ev["country"][rows] = 0, sb.COUNTRY_FIN
        ev["sector"][rows] = sc.draw_sectors(rng, ev["form"][rows], np.ones(rows.size, bool))


def embedded_register() -> dict[str, pl.DataFrame]:
    """The embedded register: 2006-2025, reproducing every figure of the 2025 review.

    Deterministic: a fixed seed, so every call gives the same frames (and the files in
    ``data/register/`` are these frames written by :func:`write_register`).

    Returns:
        The five tables of the contract keyed by name: persons, applications,
        client_periods, exploitation, reflection_periods.
    """
    rng = np.random.default_rng(SEED)
    return sb.to_frames(sb.combine([_history(rng), _register_2025(rng)]))


def write_register(frames: dict[str, pl.DataFrame], folder: Path, fmt: str = "csv") -> None:
    """Write a register as one file per table: ``NAME.csv`` or ``NAME.parquet``.

    CSV files are UTF-8 with a header row, ISO 8601 dates and an empty field for null.

    Args:
        frames: the tables keyed by name (as :func:`embedded_register` gives them).
        folder: where to write; created if missing; files of the same names are replaced.
        fmt: ``"csv"`` or ``"parquet"``.

    Raises:
        ValueError: for another format.
    """
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown register format {fmt!r}: use 'csv' or 'parquet'")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        if fmt == "csv":
            frame.write_csv(folder / f"{name}.csv", null_value="", date_format="%Y-%m-%d")
        else:
            frame.write_parquet(folder / f"{name}.parquet")


def write_embedded_register(folder: Path | None = None) -> Path:
    """(Re)write the embedded register as CSV files and return the folder.

    Args:
        folder: where to write; by default the shipped ``data/register/``.
    """
    from suoja._resources import data_dir

    target = Path(folder) if folder is not None else data_dir() / "register"
    write_register(embedded_register(), target)
    return target
