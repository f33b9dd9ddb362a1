"""Property tests on random small registers: consistency, non-negativity, sensitivity.

Whatever the register and the noise, a differentially private release publishes
non-negative integers; every margin is the sum of its parts; a cell shared by linked tables
(the same total, the same slice) is one number; and one person moves every table's vector
of counts by at most the sensitivity the noise is calibrated to.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suoja.policy import Policy
from suoja.protect.dp import parse_dp_settings
from suoja.protect.dp.engine import DPPlan, assemble, plan_release, release_figures
from suoja.protect.dp.mechanism import add_noise
from suoja.protect.dp.postprocess import project, round_to
from suoja.protect.protected import ProtectedRelease
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue

CATALOGUE = read_catalogue()
SCHEMA = {
    "persons": {"person_id": pl.String, "role": pl.String, "parent_id": pl.String,
                "sex": pl.String, "birth_year": pl.Int64, "citizenship": pl.String},
    "applications": {"application_id": pl.String, "person_id": pl.String,
                     "received": pl.Date, "referrer": pl.String, "decision": pl.String,
                     "decided": pl.Date, "rejection_reason": pl.String},
    "client_periods": {"person_id": pl.String, "start": pl.Date, "end": pl.Date,
                       "end_reason": pl.String, "residence_status": pl.String},
    "exploitation": {"event_id": pl.String, "person_id": pl.String, "form": pl.String,
                     "rank": pl.String, "country": pl.String, "sector": pl.String,
                     "identified": pl.Date},
    "reflection_periods": {"person_id": pl.String, "granted": pl.Date, "months": pl.Int64},
}
D = dt.date
FORMS = ["FORCED_LABOUR", "SEXUAL_EXPLOITATION", "FORCED_MARRIAGE", "FORCED_CRIMINALITY",
         "BEGGING", "OTHER"]
RESIDENCE = ["SEASONAL_WORK", "WORK", "FAMILY", "INTERNATIONAL_PROTECTION", "NO_RIGHT", None]


@st.composite
def registers(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    """A small register: victims with periods (some two in the year), events, applications,
    reflection periods, and children."""
    rows: dict[str, list[dict]] = {name: [] for name in SCHEMA}
    n = draw(st.integers(1, 10))
    for i in range(n):
        pid = f"V{i}"
        cit = draw(st.sampled_from(["NPL", "FIN", "THA", "SOM", "XXA", "XXX", "ABW"]))
        rows["persons"].append({"person_id": pid, "role": "VICTIM", "parent_id": None,
                                "sex": draw(st.sampled_from("FMU")),
                                "birth_year": draw(st.one_of(st.none(), st.integers(1950, 2012))),
                                "citizenship": cit})
        residence = "FINNISH_CITIZEN" if cit == "FIN" else draw(st.sampled_from(RESIDENCE))
        kind = draw(st.integers(0, 3))
        periods = {0: [], 1: [(D(2025, 3, 1), None)], 2: [(D(2024, 5, 1), D(2025, 8, 1))],
                   3: [(D(2025, 1, 10), D(2025, 4, 1)), (D(2025, 6, 1), None)]}[kind]
        for start, end in periods:
            rows["client_periods"].append({
                "person_id": pid, "start": start, "end": end,
                "end_reason": None if end is None else draw(st.sampled_from(
                    ["NO_NEED", "LEFT_COUNTRY", "OWN_WISH", "OTHER"])),
                "residence_status": residence})
            events = draw(st.integers(1, 4))
            for e in range(events):
                form = draw(st.sampled_from(FORMS))
                rows["exploitation"].append({
                    "event_id": f"E{i}-{start}-{e}", "person_id": pid, "form": form,
                    "rank": "PRIMARY" if e == 0 else "SECONDARY",
                    "country": draw(st.sampled_from(["FIN", "NPL"])),
                    "sector": draw(st.sampled_from(["01", "02", "41", None]))
                    if form == "FORCED_LABOUR" else None,
                    "identified": start})
        for a in range(draw(st.integers(0, 2))):
            decision = draw(st.sampled_from(["ACCEPTED", "REJECTED", "WITHDRAWN", "PENDING"]))
            rows["applications"].append({
                "application_id": f"A{i}-{a}", "person_id": pid, "received": D(2025, 1, 5 + a),
                "referrer": draw(st.sampled_from(["MIGRI", "SELF", "NGO", "POLICE"])),
                "decision": decision,
                "decided": None if decision == "PENDING" else D(2025, 2, 1 + a),
                "rejection_reason": draw(st.sampled_from(["NO_NEED", "NOT_TRAFFICKING"]))
                if decision == "REJECTED" else None})
        for r in range(draw(st.integers(0, 2))):
            rows["reflection_periods"].append({"person_id": pid, "granted": D(2025, 3, 1 + r),
                                               "months": 3})
        if periods and draw(st.booleans()):
            cid = f"C{i}"
            rows["persons"].append({"person_id": cid, "role": "CHILD", "parent_id": pid,
                                    "sex": "F", "birth_year": 2018, "citizenship": cit})
            rows["client_periods"].append({"person_id": cid, "start": periods[-1][0],
                                           "end": None, "end_reason": None,
                                           "residence_status": residence})
    return {name: pl.DataFrame(rows[name], schema=SCHEMA[name], orient="row")
            for name in SCHEMA}


def check_release(release: ProtectedRelease, plan: DPPlan) -> None:
    """Non-negative integers, margins equal to the sum of their parts, linked cells equal."""
    for table in plan.tables:
        spec, frame = table.spec, release.tables[table.spec.id]
        values = frame["value"]
        assert values.dtype == pl.Int64 and values.null_count() == 0
        assert (values >= 0).all(), spec.id
        for dim in spec.dimensions:
            others = [d for d in spec.dimensions if d != dim]
            parts = frame.filter(pl.col(dim) != "_T")
            sums = (parts.group_by(others).agg(pl.col("value").sum()) if others
                    else parts.select(pl.col("value").sum()))
            totals = frame.filter(pl.col(dim) == "_T").select(*others, "value")
            joined = (totals.join(sums, on=others, suffix="_sum") if others
                      else totals.with_columns(sums["value"].alias("value_sum")))
            assert joined.height == totals.height
            assert (joined["value"] == joined["value_sum"]).all(), (spec.id, dim)
    for population in plan.populations.values():
        seen: dict[tuple, tuple[str, int]] = {}
        for table in population.tables:
            values = release.tables[table.spec.id]["value"].to_list()
            for coord, value in zip(table.coords, values, strict=True):
                if coord in seen:
                    assert seen[coord][1] == value, (seen[coord][0], table.spec.id, coord)
                seen[coord] = (table.spec.id, value)


SETTINGS = [
    parse_dp_settings({"epsilon": 0.2, "yearly_epsilon_cap": 1}),
    parse_dp_settings({"epsilon": 5, "yearly_epsilon_cap": 5, "max_events_per_person": 1,
                       "categories": {"citizenship": ["NPL", "FIN"], "sector": ["01"]}}),
    parse_dp_settings({"epsilon": 1, "yearly_epsilon_cap": 1, "mechanism": "gaussian",
                       "delta": 1e-6, "yearly_delta_cap": 1e-6, "max_records_per_person": 2}),
]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=registers(), which=st.integers(0, len(SETTINGS) - 1), seed=st.integers(0, 2**32))
def test_published_tables_are_consistent_and_non_negative(frames: dict, which: int,
                                                          seed: int) -> None:
    plan = plan_release(frames, 2025, CATALOGUE, SETTINGS[which])
    noisy = add_noise(plan.counted(), plan.budget, np.random.default_rng(seed))
    release = assemble(plan, CATALOGUE, Policy(mode="dp"), release_figures(plan, noisy), noisy)
    check_release(release, plan)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=registers(), which=st.integers(0, len(SETTINGS) - 1))
def test_one_person_moves_a_table_by_at_most_its_sensitivity(frames: dict, which: int) -> None:
    plan = plan_release(frames, 2025, CATALOGUE, SETTINGS[which])
    everyone = plan.person_ids
    for table in plan.tables:
        full = table.count(everyone)
        for person in everyone.to_list():
            change = full - table.count(everyone.filter(everyone != person))
            assert np.abs(change).sum() <= table.l1, (table.spec.id, person)
            assert float(np.sqrt((change.astype(float) ** 2).sum())) <= table.l2 + 1e-9


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.floats(0, 50, allow_nan=False), min_size=1, max_size=30),
       shift=st.integers(-3, 3))
def test_rounding_keeps_the_total(values: list[float], shift: int) -> None:
    array = np.array(values)
    target = max(0, round(array.sum()) + shift)
    rounded = round_to(array, target)
    assert rounded.sum() == target and (rounded >= 0).all()
    if shift == 0 and abs(array.sum() - round(array.sum())) < 1e-6:
        # an integer total: every value goes to its floor or its ceiling
        assert (np.abs(rounded - array) < 1 + 1e-9).all()


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_projection_is_feasible_and_nearest(data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 12))
    groups = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    v = np.array(data.draw(st.lists(st.floats(-20, 20), min_size=n, max_size=n)))
    totals = np.array(data.draw(st.lists(st.floats(0, 30), min_size=3, max_size=3)))
    x = project(v, groups, totals)
    assert (x >= 0).all()
    for g in set(groups.tolist()):
        assert abs(x[groups == g].sum() - totals[g]) < 1e-6
    # no feasible point nearby is closer: compare with random feasible moves
    rng = np.random.default_rng(0)
    best = np.sum((x - v) ** 2)
    for _ in range(20):
        y = x.copy()
        i, j = rng.choice(n, 2) if n > 1 else (0, 0)
        if groups[i] == groups[j] and i != j and y[i] > 0:
            step = min(y[i], 0.5)
            y[i] -= step
            y[j] += step
            assert np.sum((y - v) ** 2) >= best - 1e-9


def test_linked_tables_share_cells(tiny_register: Path) -> None:
    """The linked cells the property test compares really exist in this catalogue."""
    frames = read_register(tiny_register).frames
    plan = plan_release(frames, 2025, CATALOGUE, SETTINGS[0])
    coords = {}
    for population in plan.populations.values():
        for table in population.tables:
            for coord in table.coords:
                coords.setdefault((population.name, coord), set()).add(table.spec.id)
    shared = {k: v for k, v in coords.items() if len(v) > 1}
    tables = set(itertools.chain.from_iterable(shared.values()))
    assert {"new_clients", "new_clients_citizenship", "finland_victims",
            "finland_victims_citizenship", "finland_residence", "decisions", "rejections",
            "finland_forms", "finland_forced_labour_sectors", "clients_year_end",
            "clients_year_end_citizenship"} <= tables
