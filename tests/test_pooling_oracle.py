"""Each table pools its own small codes: the joint audit against brute force.

Two tables of one population, all new clients by citizenship and those exploited in
Finland by citizenship, each list the codes with at least T units in their own slice and
count the rest in their own ``_O`` (``suoja.protect.pooling``). A code can then be listed
in the wider table and pooled in the narrower one. The audit's range of every hidden cell
and of every pooled code (per table) must be the range found by enumerating every integer
cube that fits what is published and the pooling rule; the enumeration shares no code with
suoja (``test_intruder.brute_force``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_intruder import T, brute_force, pooled_rule, publish_tiny, shown_codes
from test_oracle_random import catalogue_text

from suoja.policy import read_policy
from suoja.protect.release_audit import audit_open
from suoja.tables.catalogue import read_catalogue

DIMS = {"in_finland": ["Y", "N"], "citizenship": ["AFG", "ALB", "DZA"]}
TABLES = [("all", ("citizenship",), {}), ("fin", ("citizenship",), {"in_finland": "Y"})]
POPULATION = "new_clients"


def write_spec(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    tables = [(tid, POPULATION, tdims, where) for tid, tdims, where in TABLES]
    (folder / "catalogue.toml").write_text(
        catalogue_text(DIMS, {POPULATION: tuple(DIMS)}, tables), encoding="utf-8")
    (folder / "policy.toml").write_text(
        f'[threshold]\nmin_count = {T}\n[pooling]\ndimensions = ["citizenship"]\n'
        '[secondary]\ninterval = "threshold"\n', encoding="utf-8")
    return folder / "catalogue.toml", folder / "policy.toml"


def suoja_ranges(release: Path, catalogue: Path, policy: Path) -> tuple[dict, dict]:
    """The audit's ranges, pooled codes keyed as the enumeration keys them (the table whose
    slice the code is pooled in, ``citizenship=CODE``); and the verdict on the codes no
    table lists (one group per table, whose sum alone the audit bounds)."""
    found = audit_open(release, read_catalogue(catalogue), read_policy(policy), {}, 2025)
    out, rest = {}, {}
    for r in found.iter_rows(named=True):
        if r["kind"] == "hidden":
            out[r["table"], r["key"]] = (r["lo"], r["hi"])
            continue
        coords = dict(part.split("=") for part in r["key"].split(";"))
        where = {d: c for d, c in coords.items() if d != "citizenship" and c != "_T"}
        table = next((t for t, _, w in TABLES if w == where), None)
        if r["kind"] == "pooled":
            out[table, f"citizenship={coords['citizenship']}"] = (r["lo"], r["hi"])
        elif r["kind"].startswith("pooled rest"):
            rest[table] = r["ok"]
    return out, rest


@st.composite
def releases(draw):
    """A random cube (up to 3 units per finest cell) and a random set of hidden cells;
    the grand total stays published (the enumeration needs it)."""
    finest = [(f, c) for f in DIMS["in_finland"] for c in DIMS["citizenship"]]
    counts = draw(st.lists(st.integers(0, 3), min_size=len(finest), max_size=len(finest)))
    cube = Counter({cell: n for cell, n in zip(finest, counts, strict=True) if n})
    shown = shown_codes(cube, DIMS, TABLES, ("citizenship",))
    keys = [(tid, f"citizenship={c}") for tid, _, _ in TABLES
            for c in [*shown[tid, "citizenship"], "_O"]] + [("fin", "citizenship=_T")]
    hidden = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    return cube, {k for k, h in zip(keys, hidden, strict=True) if h}


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=releases())
def test_per_table_pooling_agrees_with_brute_force(tmp_path_factory, case):
    cube, hide = case
    folder = tmp_path_factory.mktemp("pool")
    catalogue, policy = write_spec(folder / "spec")
    cells = publish_tiny(folder / "open", DIMS, TABLES, cube, hide, ("citizenship",))
    shown = shown_codes(cube, DIMS, TABLES, ("citizenship",))
    expected = brute_force(DIMS, cells, pooled_rule(DIMS, TABLES, shown, ("citizenship",)))
    # A code no table lists is one of the rest that only their sum bounds (as in the
    # intruder): no range of its own.
    listed = {f"citizenship={c}" for key, codes in shown.items() for c in codes}
    ranges, rest = suoja_ranges(folder / "open", catalogue, policy)
    assert ranges == {(t, k): r for (t, k), r in expected.items()
                      if k in listed or (t, k) in hide}
    # A code no table lists stays safe when its count is not known exactly (a pooled
    # category is below the threshold by the rule: only its exact size is protected).
    for table, ok in rest.items():
        pinned = [r for (t, k), r in expected.items()
                  if t == table and k not in listed and (t, k) not in hide
                  and r[0] == r[1] >= 1]
        assert ok == (not pinned), (table, pinned)


def test_a_code_listed_among_all_and_pooled_in_finland(tmp_path):
    """ALB has 3 new clients, 1 of them exploited in Finland: listed in ``all``, counted in
    ``_O`` of ``fin`` (1 unit). The rule allows ALB 0 to 2 in Finland; ``_O`` narrows it to
    0 or 1, and nothing more."""
    cube = Counter({("Y", "AFG"): 3, ("N", "AFG"): 1, ("Y", "ALB"): 1, ("N", "ALB"): 2,
                    ("N", "DZA"): 1})
    shown = shown_codes(cube, DIMS, TABLES, ("citizenship",))
    assert shown["all", "citizenship"] == ["AFG", "ALB"]
    assert shown["fin", "citizenship"] == ["AFG"]
    catalogue, policy = write_spec(tmp_path / "spec")
    publish_tiny(tmp_path / "open", DIMS, TABLES, cube, set(), ("citizenship",))
    ranges, _ = suoja_ranges(tmp_path / "open", catalogue, policy)
    assert ranges["fin", "citizenship=ALB"] == (0, 1)


def test_codes_no_table_lists_are_pinned_when_other_countries_is_full(tmp_path):
    """AFG is listed; ALB and DZA have 2 each (T = 3) and are listed nowhere: Other
    countries (4) can only be 2 + 2, so each is known exactly. The audit's group of the
    codes no table lists must fail, as brute force says."""
    cube = Counter({("N", "AFG"): 3, ("N", "ALB"): 2, ("N", "DZA"): 2})
    catalogue, policy = write_spec(tmp_path / "spec")
    cells = publish_tiny(tmp_path / "open", DIMS, TABLES, cube, set(), ("citizenship",))
    shown = shown_codes(cube, DIMS, TABLES, ("citizenship",))
    expected = brute_force(DIMS, cells, pooled_rule(DIMS, TABLES, shown, ("citizenship",)))
    assert expected["all", "citizenship=ALB"] == (2, 2)
    _, rest = suoja_ranges(tmp_path / "open", catalogue, policy)
    assert rest["all"] is False
