"""The independent intruder (tests/intruder) checked by brute force on tiny releases."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path

import pytest
from intruder import attack

T = 3  # threshold of the tiny cases: small cells are 1 and 2


def write_case(folder: Path, dims: dict[str, list[str]], tables: list[tuple], facts: str = "",
               pooling: tuple[str, ...] = (), interval: str = "threshold") -> tuple[Path, Path]:
    """A one-population catalogue ("p") and its policy; tables are (id, dims, where)."""
    text = []
    for d, codes in dims.items():
        text.append(f"[dimensions.{d}]\ncodes = {list(codes)!r}\n".replace("'", '"'))
    text.append(f"[populations.p]\ndimensions = {list(dims)!r}\n".replace("'", '"'))
    for tid, tdims, where in tables:
        w = ", ".join(f'{k} = "{v}"' for k, v in where.items())
        text.append(f'[[tables]]\nid = "{tid}"\npopulation = "p"\n'
                    f"dimensions = {list(tdims)!r}\nwhere = {{ {w} }}\n".replace("'", '"'))
    folder.mkdir(parents=True, exist_ok=True)
    catalogue = folder / "catalogue.toml"
    catalogue.write_text("\n".join(text) + facts, encoding="utf-8")
    policy = folder / "policy.toml"
    policy.write_text(f"[threshold]\nmin_count = {T}\n[pooling]\ndimensions = {list(pooling)!r}\n"
                      f'[secondary]\ninterval = "{interval}"\n'.replace("'", '"'), encoding="utf-8")
    return catalogue, policy


def margin(cube: Counter, dims: list[str], fixed: dict[str, set[str]]) -> int:
    return sum(n for cell, n in cube.items()
               if all(cell[dims.index(d)] in a for d, a in fixed.items()))


def rule_tables(tables, d: str) -> list[tuple]:
    """The tables that list a pooled dimension's codes by their own counts: each table when
    their slices nest (one where holds the other), else the widest table for all."""
    with_d = [t for t in tables if d in t[1]]
    items = [set(t[2].items()) for t in with_d]
    if all(a <= b or b <= a for a in items for b in items):
        return with_d
    return [min(with_d, key=lambda t: len(t[2]))]


def shown_codes(cube: Counter, dims: dict[str, list[str]], tables,
                pooling) -> dict[tuple[str, str], list[str]]:
    """The publication rule, per (table, dimension): a pooled dimension lists the codes with
    at least T in the deciding table's slice (``rule_tables``)."""
    names, out = list(dims), {}
    for d, codes in dims.items():
        deciders = rule_tables(tables, d) if d in pooling else []
        for t in (t for t in tables if d in t[1]):
            decider = t if t in deciders else (deciders[0] if deciders else None)
            if decider is None:
                out[t[0], d] = list(codes)
                continue
            where = {k: {v} for k, v in decider[2].items()}
            out[t[0], d] = [c for c in codes if margin(cube, names, {**where, d: {c}}) >= T]
    return out


def table_cells(dims, tables, shown, pooling):
    """Every published cell as (table id, codes, fixed sets of finest codes)."""
    for tid, tdims, where in tables:
        options = [[*shown[tid, d], "_O", "_T"] if d in pooling else [*shown[tid, d], "_T"]
                   for d in tdims]
        for combo in itertools.product(*options):
            codes = dict(zip(tdims, combo, strict=True))
            fixed = {k: {v} for k, v in where.items()}
            for d, c in codes.items():
                if c == "_O":
                    fixed[d] = set(dims[d]) - set(shown[tid, d])
                elif c != "_T":
                    fixed[d] = {c}
            yield tid, codes, fixed


def publish_tiny(folder: Path, dims, tables, cube: Counter, hide: set[tuple[str, str]],
                 pooling=(), year: int = 2025) -> list[tuple]:
    """Write open/*.csv; ``hide`` holds (table, key) pairs. Returns the cells with their values."""
    shown = shown_codes(cube, dims, tables, pooling)
    names, cells = list(dims), []
    for tid, codes, fixed in table_cells(dims, tables, shown, pooling):
        key = ";".join(f"{d}={c}" for d, c in codes.items()) or "_T"
        cells.append((tid, key, codes, fixed, margin(cube, names, fixed), (tid, key) in hide))
    folder.mkdir(parents=True, exist_ok=True)
    for tid, tdims, _ in tables:
        rows = [",".join(["year", *tdims, "value", "status"])]
        for t, _, codes, _, value, hidden in cells:
            if t == tid:
                v = "" if hidden else str(value)
                rows.append(",".join([str(year), *codes.values(), v, "C" if hidden else ""]))
        (folder / f"{tid}.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return cells


def compositions(total: int, parts: int):
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        yield tuple(edges[i + 1] - edges[i] - 1 for i in range(parts))


def brute_force(dims, cells, pooled_rule, iff=(), total_max=None):
    """Ranges of every hidden cell and pooled code over all cubes that fit what is published."""
    names = list(dims)
    finest = list(itertools.product(*dims.values()))
    published = [(fixed, value) for _, _, _, fixed, value, hidden in cells if not hidden]
    grand = total_max if total_max is not None else next(v for _, k, c, f, v, h in cells
                                                        if not f and not h)
    wanted = [(t, k, f) for t, k, _, f, _, h in cells if h] + [
        (ref, f"{d}={c}", {**where, d: {c}}) for ref, d, c, where in pooled_rule["pooled"]]
    ranges: dict = {}
    for counts in compositions(grand, len(finest)):
        cube = Counter(dict(zip(finest, counts, strict=True)))
        if any(margin(cube, names, f) != v for f, v in published):
            continue
        if any(margin(cube, names, {**w, d: {c}}) > T - 1 for _, d, c, w in pooled_rule["pooled"]):
            continue
        if any(margin(cube, names, {**w, d: {c}}) < T for d, c, w in pooled_rule["shown"]):
            continue
        if any(cube[cell] and (all(cell[names.index(d)] in v for d, v in left.items())
                               != all(cell[names.index(d)] in v for d, v in right.items()))
               for left, right in iff for cell in finest):
            continue
        for t, k, f in wanted:
            v = margin(cube, names, f)
            lo, hi = ranges.get((t, k), (v, v))
            ranges[t, k] = (min(lo, v), max(hi, v))
    return ranges


def pooled_rule(dims, tables, shown, pooling):
    rule = {"pooled": [], "shown": []}
    for d in pooling:
        for ref in rule_tables(tables, d):
            where = {k: {v} for k, v in ref[2].items()}
            listed = shown[ref[0], d]
            rule["pooled"] += [(ref[0], d, c, where) for c in dims[d] if c not in listed]
            rule["shown"] += [(d, c, where) for c in listed if c != "_U"]
    return rule


def check_against_brute_force(tmp_path, dims, tables, cube, hide, pooling=(), facts="", iff=()):
    catalogue, policy = write_case(tmp_path / "spec", dims, tables, facts, pooling)
    cells = publish_tiny(tmp_path / "open", dims, tables, cube, hide, pooling)
    shown = shown_codes(cube, dims, tables, pooling)
    expected = brute_force(dims, cells, pooled_rule(dims, tables, shown, pooling), iff)
    found = {(f.table, f.key): (f.lo, f.hi) for f in attack(tmp_path / "open", catalogue, policy)
             if f.kind in ("hidden", "pooled")}
    assert found == expected
    return found


AB = {"a": ["X", "Y"], "b": ["P", "Q"]}
AB_TABLE = [("ab", ("a", "b"), {})]
AB_CUBE = Counter({("X", "P"): 1, ("X", "Q"): 3, ("Y", "P"): 2, ("Y", "Q"): 2})


def test_one_hidden_cell_with_margins_is_recovered(tmp_path):
    found = check_against_brute_force(tmp_path, AB, AB_TABLE, AB_CUBE, {("ab", "a=X;b=P")})
    assert found[("ab", "a=X;b=P")] == (1, 1)
    f = attack(tmp_path / "open", tmp_path / "spec/catalogue.toml", tmp_path / "spec/policy.toml")
    assert [x.ok for x in f if x.kind == "hidden"] == [False]


def test_four_hidden_cells_with_margins_are_safe(tmp_path):
    hide = {("ab", f"a={a};b={b}") for a in "XY" for b in "PQ"}
    found = check_against_brute_force(tmp_path, AB, AB_TABLE, AB_CUBE, hide)
    assert found[("ab", "a=X;b=P")] == (0, 3)
    f = attack(tmp_path / "open", tmp_path / "spec/catalogue.toml", tmp_path / "spec/policy.toml")
    assert all(x.ok for x in f)


IFF = """
[[facts]]
id = "x_iff_p"
kind = "iff"
population = "p"
left = { a = ["X"] }
right = { b = ["P"] }
"""


def test_an_iff_fact_pins_a_cell(tmp_path):
    tables = [("by_a", ("a",), {}), ("by_b", ("b",), {})]
    cube = Counter({("X", "P"): 2, ("Y", "Q"): 5})
    hide = {("by_a", "a=X"), ("by_a", "a=Y")}
    found = check_against_brute_force(tmp_path, AB, tables, cube, hide, facts=IFF,
                                      iff=[({"a": ["X"]}, {"b": ["P"]})])
    assert found[("by_a", "a=X")] == (2, 2)
    # Without the fact, the same release hides it well.
    found = check_against_brute_force(tmp_path / "nofact", AB, tables, cube, hide)
    assert found[("by_a", "a=X")] == (0, 7)


def test_three_two_way_tables_need_a_triangulated_model(tmp_path):
    dims = {"a": ["X", "Y"], "b": ["P", "Q"], "c": ["K", "L"]}
    tables = [("ab", ("a", "b"), {}), ("bc", ("b", "c"), {}), ("ac", ("a", "c"), {})]
    cube = Counter({("X", "P", "K"): 1, ("Y", "Q", "L"): 2, ("X", "Q", "K"): 1, ("Y", "P", "L"): 1})
    hide = {("ab", "a=X;b=P"), ("ab", "a=Y;b=P"), ("ab", "a=X;b=Q"), ("ab", "a=Y;b=Q"),
            ("bc", "b=P;c=K"), ("bc", "b=Q;c=L")}
    check_against_brute_force(tmp_path, dims, tables, cube, hide)


@pytest.mark.parametrize("seed", range(8))
def test_random_tiny_releases_agree_with_brute_force(tmp_path, seed):
    rng = random.Random(seed)
    dims = {"a": ["X", "Y"], "c": ["A", "B", "C"]}
    tables = [("ac", ("a", "c"), {}), ("c_in_x", ("c",), {"a": "X"})]
    finest = list(itertools.product(*dims.values()))
    cube = Counter(rng.choice(finest) for _ in range(rng.randint(3, 7)))
    shown = shown_codes(cube, dims, tables, ("c",))
    keys = [(t, ";".join(f"{d}={x}" for d, x in c.items()))
            for t, c, fixed in table_cells(dims, tables, shown, ("c",)) if fixed]  # total shown
    hide = set(rng.sample(keys, k=min(len(keys), rng.randint(1, 5))))
    check_against_brute_force(tmp_path, dims, tables, cube, hide, pooling=("c",))


STOCK = """
[populations.stock]
dimensions = ["c"]
[populations.inflow]
dimensions = ["c"]
[populations.ended]
dimensions = []
[[tables]]
id = "stock"
population = "stock"
dimensions = ["c"]
[[tables]]
id = "inflow"
population = "inflow"
dimensions = ["c"]
[[tables]]
id = "ended"
population = "ended"
dimensions = []
[[facts]]
id = "stock"
kind = "stock"
stock = "stock"
inflow = "inflow"
outflow = "ended"
dimensions = ["c"]
"""


def write_csv(path: Path, header: str, rows: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_a_stock_relation_pins_a_pooled_country(tmp_path):
    """B joins _O among new units (<= 2 each), but the stock grows by 2 while nobody left."""
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text('[dimensions.c]\ncodes = ["A", "B", "C"]\n' + STOCK, encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text('[threshold]\nmin_count = 3\n[pooling]\ndimensions = ["c"]\n'
                      '[secondary]\ninterval = "threshold"\n', encoding="utf-8")
    header = "year,c,value,status"
    write_csv(tmp_path / "2024/stock.csv", header, ["2024,_T,13,", "2024,A,10,", "2024,B,3,",
                                                    "2024,_O,0,"])
    # 2024 flows are not needed (no 2023 release) but a release has every table.
    write_csv(tmp_path / "2024/inflow.csv", header, ["2024,_T,0,"])
    write_csv(tmp_path / "2024/ended.csv", "year,value,status", ["2024,0,"])
    write_csv(tmp_path / "2025/stock.csv", header, ["2025,_T,19,", "2025,A,14,", "2025,B,5,",
                                                    "2025,_O,0,"])
    write_csv(tmp_path / "2025/inflow.csv", header, ["2025,_T,6,", "2025,A,4,", "2025,_O,2,"])
    write_csv(tmp_path / "2025/ended.csv", "year,value,status", ["2025,0,"])
    alone = {(f.table, f.key): f for f in attack(tmp_path / "2025", catalogue, policy)}
    assert (alone["inflow", "c=B"].lo, alone["inflow", "c=B"].hi) == (0, 2)
    linked = {(f.year, f.table, f.key): f
              for f in attack(tmp_path / "2025", catalogue, policy, [tmp_path / "2024"])}
    b = linked[2025, "inflow", "c=B"]
    assert (b.lo, b.hi, b.ok) == (2, 2, False)
    assert (linked[2025, "inflow", "c=C"].lo, linked[2025, "inflow", "c=C"].hi) == (0, 0)
    assert (linked[2024, "stock", "c=C"].lo, linked[2024, "stock", "c=C"].hi) == (0, 0)


def test_an_unbounded_cell_has_no_upper_bound(tmp_path):
    catalogue, policy = write_case(tmp_path / "spec", {}, [("one", (), {})])
    write_csv(tmp_path / "open/one.csv", "year,value,status", ["2025,,C"])
    [f] = attack(tmp_path / "open", catalogue, policy)
    assert (f.key, f.lo, f.hi, f.ok) == ("_T", 0, None, True)


def test_a_complement_cell_known_to_be_small_fails(tmp_path):
    tables = [("by_b", ("b",), {}), ("by_b_in_x", ("b",), {"a": "X"})]
    cube = Counter({("X", "P"): 3, ("Y", "P"): 1, ("X", "Q"): 4, ("Y", "Q"): 5})
    catalogue, policy = write_case(tmp_path / "spec", AB, tables)
    publish_tiny(tmp_path / "open", AB, tables, cube, set())
    found = {(f.kind, f.table, f.key): f for f in attack(tmp_path / "open", catalogue, policy)}
    bad = found["complement", "by_b_in_x", "b=P;a=Y"]
    assert (bad.lo, bad.hi, bad.ok) == (1, 1, False)
    assert found["complement", "by_b_in_x", "b=Q;a=Y"].ok


AT_LEAST = """
[dimensions.s]
codes = ["F", "M"]
[populations.clients]
dimensions = ["s"]
[populations.events]
dimensions = ["s"]
[[tables]]
id = "clients"
population = "clients"
dimensions = ["s"]
[[tables]]
id = "events"
population = "events"
dimensions = ["s"]
[[facts]]
id = "events_per_client"
kind = "at_least"
population = "events"
than = "clients"
dimensions = ["s"]
"""


@pytest.mark.parametrize(("interval", "ok"), [("threshold", False), ("exact", True)])
def test_an_at_least_fact_bounds_a_cell(tmp_path, interval, ok):
    """Men have 1 event, so at most 1 man is a client: women are 3 or 4 of the 4 clients."""
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(AT_LEAST, encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[threshold]\nmin_count = 5\n[secondary]\ninterval = "{interval}"\n',
                      encoding="utf-8")
    write_csv(tmp_path / "open/clients.csv", "year,s,value,status",
              ["2025,_T,4,", "2025,F,,C", "2025,M,,C"])
    write_csv(tmp_path / "open/events.csv", "year,s,value,status",
              ["2025,_T,9,", "2025,F,8,", "2025,M,1,"])
    found = {f.key: f for f in attack(tmp_path / "open", catalogue, policy)}
    assert (found["s=F"].lo, found["s=F"].hi, found["s=F"].ok) == (3, 4, ok)
    assert (found["s=M"].lo, found["s=M"].hi, found["s=M"].ok) == (0, 1, True)
