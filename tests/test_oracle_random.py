"""The joint audit against oracles that share no code with it, on random small releases.

Random declared facts (an ``iff`` identity or none) are checked against brute-force
enumeration of every integer table that fits what is published; random earlier releases
(the stock identity between years) against the independent intruder of ``tests/intruder``,
itself checked by brute force in ``test_intruder.py``. The audit must report the same range
for every hidden cell, so it reaches the same verdict.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intruder import attack
from test_intruder import T, brute_force, publish_tiny, write_csv

from suoja.policy import read_policy
from suoja.protect.release_audit import (
    audit_open,
    audit_views,
    read_open_tables,
    views_from_tables,
)
from suoja.tables.catalogue import read_catalogue

X, Y = "ACCEPTED", "REJECTED"
P, Q, R = "NO_NEED", "LEFT_COUNTRY", "OTHER"
DIMS = {"decision": [X, Y], "end_reason": [P, Q, R]}
TABLES = [("ab", ("decision", "end_reason"), {}), ("b_in_x", ("end_reason",), {"decision": X})]
FORBIDDEN_BY_IFF = {(X, Q), (X, R), (Y, P)}
"""Cells the fact "decision = X exactly when end_reason = P" makes structurally zero."""
IFF = f"""
[[facts]]
id = "x_iff_p"
kind = "iff"
population = "decisions"
left = {{ decision = ["{X}"] }}
right = {{ end_reason = ["{P}"] }}
"""
TEXTS = '{ fi = "t", sv = "t", en = "t" }'


def _list(items) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"


def catalogue_text(dims: dict[str, list[str]], populations: dict[str, tuple[str, ...]],
                   tables: list[tuple], facts: str = "") -> str:
    """A catalogue both suoja and the intruder read: code lists of the contract with a
    fixed subset of codes; tables are (id, population, dimensions, where)."""
    text = [f"[release]\ntitle = {TEXTS}\npublisher = {TEXTS}\nunit = {TEXTS}"]
    text += [f"[dimensions.{d}]\ncodelist = \"{d}\"\ncodes = {_list(codes)}\nlabel = {TEXTS}"
             for d, codes in dims.items()]
    text += [f"[populations.{p}]\ndimensions = {_list(pd)}\n"
             'unit = { fi = "henkilöä", sv = "personer", en = "persons" }'
             for p, pd in populations.items()]
    for tid, population, tdims, where in tables:
        w = ", ".join(f'{k} = "{v}"' for k, v in where.items())
        text.append(f'[[tables]]\nid = "{tid}"\npopulation = "{population}"\n'
                    f"dimensions = {_list(tdims)}\nwhere = {{ {w} }}\n"
                    f"title = {TEXTS}\nnote = {TEXTS}")
    return "\n".join(text) + "\n" + facts


def write_spec(folder: Path, catalogue: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalogue.toml").write_text(catalogue, encoding="utf-8")
    (folder / "policy.toml").write_text(
        f'[threshold]\nmin_count = {T}\n[pooling]\ndimensions = []\n'
        '[secondary]\ninterval = "threshold"\n', encoding="utf-8")
    return folder / "catalogue.toml", folder / "policy.toml"

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def suoja_ranges(release: Path, catalogue: Path, policy: Path,
                 previous: dict[int, Path] | None = None, year: int = 2025) -> dict:
    cat = read_catalogue(catalogue)
    earlier = {y: read_open_tables(p, cat) for y, p in (previous or {}).items()}
    found = audit_open(release, cat, read_policy(policy), earlier, year)
    return {(r["table"], r["key"]): (r["lo"], r["hi"])
            for r in found.iter_rows(named=True) if r["kind"] == "hidden" and r["year"] == year}


def assert_verdicts_agree(release: Path, catalogue: Path, policy: Path,
                          previous: dict[int, Path] | None = None, year: int = 2025) -> None:
    """The audit settled only as far as its verdicts need (what publish runs) reaches the
    exact audit's verdict on every quantity, within the exact audit's bounds."""
    cat, pol = read_catalogue(catalogue), read_policy(policy)
    views = views_from_tables(read_open_tables(release, cat), cat, pol, year)
    for y, folder in (previous or {}).items():
        views += views_from_tables(read_open_tables(folder, cat), cat, pol, y)
    exact = audit_views(views, cat, pol, year)
    quick = audit_views(views, cat, pol, year, exact=False)
    assert quick.select("table", "key", "ok").equals(exact.select("table", "key", "ok"))
    for e, q in zip(exact.iter_rows(named=True), quick.iter_rows(named=True), strict=True):
        if q["finding"].endswith("(at least this wide)"):
            assert e["lo"] <= q["lo"] and (e["hi"] is None or e["hi"] >= q["hi"])
        elif q["finding"].endswith("(or narrower)"):
            assert e["lo"] >= q["lo"] and (q["hi"] is None or e["hi"] <= q["hi"])


@st.composite
def iff_releases(draw):
    """A random cube of a x b (structural zeros kept when the fact is declared), with a
    random set of hidden cells; the grand total stays published (the enumeration needs it)."""
    fact = draw(st.booleans())
    finest = [(x, y) for x in DIMS["decision"] for y in DIMS["end_reason"]]
    counts = draw(st.lists(st.integers(0, 3), min_size=len(finest), max_size=len(finest)))
    cube = Counter({cell: n for cell, n in zip(finest, counts, strict=True)
                    if n and not (fact and cell in FORBIDDEN_BY_IFF)})
    a, b = DIMS
    keys = [("ab", f"{a}={x};{b}={y}") for x in [*DIMS[a], "_T"] for y in [*DIMS[b], "_T"]
            if (x, y) != ("_T", "_T")] + [("b_in_x", f"{b}={y}") for y in [*DIMS[b], "_T"]]
    hidden = draw(st.lists(st.booleans(), min_size=len(keys), max_size=len(keys)))
    return fact, cube, {k for k, h in zip(keys, hidden, strict=True) if h}


@SETTINGS
@given(case=iff_releases())
def test_random_releases_with_random_facts_agree_with_brute_force(tmp_path_factory, case):
    fact, cube, hide = case
    folder = tmp_path_factory.mktemp("iff")
    tables = [(tid, "decisions", tdims, where) for tid, tdims, where in TABLES]
    catalogue, policy = write_spec(folder / "spec", catalogue_text(
        DIMS, {"decisions": tuple(DIMS)}, tables, IFF if fact else ""))
    cells = publish_tiny(folder / "open", DIMS, TABLES, cube, hide)
    iff = [({"decision": [X]}, {"end_reason": [P]})] if fact else []
    expected = brute_force(DIMS, cells, {"pooled": [], "shown": []}, iff)
    assert suoja_ranges(folder / "open", catalogue, policy) == expected
    assert_verdicts_agree(folder / "open", catalogue, policy)


CODES = ["AFG", "ALB", "DZA"]
STOCK = """
[[facts]]
id = "stock"
kind = "stock"
stock = "year_end"
inflow = "new_clients"
outflow = "clients_ended"
dimensions = ["citizenship"]
"""


@st.composite
def stock_releases(draw):
    """Two years of stock = last year's stock + inflow - outflow (per citizenship c, the
    outflow published as a total only), each cell hidden at random; totals published."""
    codes = CODES
    small = st.integers(0, 4)
    before = {c: draw(small) for c in codes}
    inflow = {c: draw(small) for c in codes}
    ended = {c: draw(st.integers(0, before[c] + inflow[c])) for c in codes}
    stock = {c: before[c] + inflow[c] - ended[c] for c in codes}
    old_inflow = {c: draw(small) for c in codes}
    hides = {(year, table, c): draw(st.booleans())
             for year in (2024, 2025) for table in ("stock", "inflow") for c in codes}
    return before, old_inflow, stock, inflow, sum(ended.values()), hides


def write_stock_year(folder: Path, year: int, stock: dict, inflow: dict, ended: int,
                     hides: dict) -> None:
    header = "year,citizenship,value,status"
    for table, counts in (("stock", stock), ("inflow", inflow)):
        rows = [f"{year},_T,{sum(counts.values())},"]
        rows += [f"{year},{c},,C" if hides[year, table, c] else f"{year},{c},{n},"
                 for c, n in counts.items()]
        write_csv(folder / f"{table}.csv", header, rows)
    write_csv(folder / "ended.csv", "year,value,status", [f"{year},{ended},"])


@SETTINGS
@given(case=stock_releases())
def test_random_releases_beside_last_years_agree_with_the_intruder(tmp_path_factory, case):
    before, old_inflow, stock, inflow, ended, hides = case
    folder = tmp_path_factory.mktemp("stock")
    catalogue, policy = write_spec(folder / "spec", catalogue_text(
        {"citizenship": CODES}, {"year_end": ("citizenship",), "new_clients": ("citizenship",),
                                 "clients_ended": ()},
        [("stock", "year_end", ("citizenship",), {}),
         ("inflow", "new_clients", ("citizenship",), {}),
         ("ended", "clients_ended", (), {})], STOCK))
    write_stock_year(folder / "2024", 2024, before, old_inflow, 0, hides)
    write_stock_year(folder / "2025", 2025, stock, inflow, ended, hides)
    oracle = {(f.table, f.key): (f.lo, f.hi)
              for f in attack(folder / "2025", catalogue, policy, [folder / "2024"])
              if f.year == 2025 and f.kind == "hidden"}
    mine = suoja_ranges(folder / "2025", catalogue, policy, {2024: folder / "2024"})
    assert mine == oracle
    assert_verdicts_agree(folder / "2025", catalogue, policy, {2024: folder / "2024"})


def test_a_sure_outer_range_passes_with_every_range_inside_it():
    """``_sure``: an outer range it accepts holds no range that ``_judge`` would fail, for
    every kind of quantity and both interval rules."""
    from suoja.protect.release_audit import _judge, _sure
    from suoja.protect.rules import SuppressionRules

    for interval in ("exact", "threshold"):
        rules = SuppressionRules(threshold=5, interval=interval)
        for kind in ("hidden", "implicit", "pooled"):
            for lo in range(9):
                for hi in range(lo, 9):
                    if _sure(kind, lo, hi, rules):
                        assert all(_judge(kind, a, b, rules)
                                   for a in range(lo, hi + 1) for b in range(a, hi + 1))
