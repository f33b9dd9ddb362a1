"""A straightforward pandas implementation of the catalogue's tables, for comparison.

Written the way an analyst would: one DataFrame per population, a groupby per margin.
It computes the same numbers as suoja.tables (the benchmark checks that), without pooling
or protection, which are not part of the comparison.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

AGE_BINS = [-1000, 17, 29, 39, 49, 59, 1000]
AGE_CODES = ["Y_LT18", "Y18T29", "Y30T39", "Y40T49", "Y50T59", "Y_GE60"]


def read(folder: Path) -> dict[str, pd.DataFrame]:
    """The register's Parquet files as pandas frames."""
    names = ["persons", "applications", "client_periods", "exploitation", "reflection_periods"]
    return {n: pd.read_parquet(folder / f"{n}.parquet") for n in names}


def _period_of_events(events: pd.DataFrame, periods: pd.DataFrame) -> pd.DataFrame:
    right = periods[["person_id", "start", "end"]].copy()
    right["until"] = right["end"].fillna(pd.Timestamp("2262-01-01"))
    right = right.sort_values("until")
    left = events.dropna(subset=["identified"]).sort_values("identified")
    merged = pd.merge_asof(left, right[["person_id", "start", "until"]], left_on="identified",
                           right_on="until", by="person_id", direction="forward")
    return merged.rename(columns={"start": "period_start"})


def populations(r: dict[str, pd.DataFrame], year: int) -> dict[str, pd.DataFrame]:
    """One frame of units per population."""
    persons, apps, periods = r["persons"], r["applications"], r["client_periods"]
    for frame, cols in ((apps, ["received", "decided"]), (periods, ["start", "end"]),
                        (r["exploitation"], ["identified"]), (r["reflection_periods"], ["granted"])):
        for c in cols:
            frame[c] = pd.to_datetime(frame[c])
    victims = periods.merge(persons[persons["role"] == "VICTIM"], on="person_id")
    new = victims[victims["start"].dt.year == year].copy()
    events = _period_of_events(r["exploitation"], periods)
    events = events.merge(new[["person_id", "start", "sex"]], left_on=["person_id", "period_start"],
                          right_on=["person_id", "start"])
    fin = events.assign(fin=events["country"] == "FIN").groupby(["person_id", "period_start"])["fin"].any()
    new = new.merge(fin.rename("fin").reset_index(), left_on=["person_id", "start"],
                    right_on=["person_id", "period_start"], how="left")
    age = new["start"].dt.year - new["birth_year"]
    new["age_group"] = pd.cut(age, AGE_BINS, labels=AGE_CODES).astype(object).fillna("_U")
    new["in_finland"] = np.where(new["fin"].fillna(False).astype(bool), "Y", "N")
    new["residence_status"] = new["residence_status"].fillna("_U")
    events["in_finland"] = np.where(events["country"] == "FIN", "Y", "N")
    events["sector"] = np.where(events["form"] != "FORCED_LABOUR", "_Z",
                                events["sector"].fillna("_U"))
    decided = apps[(apps["decided"].dt.year == year) & apps["decision"].isin(["ACCEPTED", "REJECTED"])].copy()
    decided["rejection_reason"] = decided["rejection_reason"].fillna("_Z")
    last = pd.Timestamp(year, 12, 31)
    stock = periods[(periods["start"] <= last) & (periods["end"].isna() | (periods["end"] > last))]
    children = periods.merge(persons[persons["role"] == "CHILD"], on="person_id")
    return {
        "applications": apps[apps["received"].dt.year == year],
        "decisions": decided,
        "clients_ended": victims[victims["end"].dt.year == year],
        "new_clients": new,
        "new_client_events": events,
        "new_children": children[children["start"].dt.year == year],
        "reflection_periods": r["reflection_periods"][r["reflection_periods"]["granted"].dt.year == year],
        "year_end": stock.merge(persons, on="person_id"),
    }


def table(units: pd.DataFrame, dims: list[str], where: dict[str, str],
          codes: dict[str, list[str]]) -> pd.DataFrame:
    """One table with every margin, all categories present."""
    for dim, code in where.items():
        units = units[units[dim] == code]
    if not dims:
        return pd.DataFrame({"value": [len(units)]})
    parts = []
    for size in range(len(dims) + 1):
        for subset in itertools.combinations(dims, size):
            if subset:
                part = units.groupby(list(subset)).size().rename("value").reset_index()
            else:
                part = pd.DataFrame({"value": [len(units)]})
            for d in dims:
                if d not in subset:
                    part[d] = "_T"
            parts.append(part[[*dims, "value"]])
    margins = pd.concat(parts)
    grid = pd.DataFrame(list(itertools.product(*[["_T", *codes[d]] for d in dims])), columns=dims)
    out = grid.merge(margins, on=dims, how="left")
    out["value"] = out["value"].fillna(0).astype("int64")
    return out


def all_tables(folder: Path, catalogue, year: int) -> dict[str, pd.DataFrame]:
    """Every table of the catalogue, in pandas."""
    units = populations(read(folder), year)
    codes = {name: list(d.codes) for name, d in catalogue.dimensions.items()}
    return {spec.id: table(units[spec.population], list(spec.dimensions), spec.where, codes)
            for spec in catalogue.tables}
