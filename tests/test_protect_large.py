"""Large tables (issue 13): Gaussian elimination, the linear audit, limits, optimality.

The oracles here share no code with the engine: integer fillings of tiny tables are
enumerated with itertools/numpy, and ranks are computed with numpy.linalg.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from suoja.cli import app
from suoja.protect import SuppressionRules, build_model, protect
from suoja.protect.audit_linear import audit_linear
from suoja.protect.primary import form_facts, weights
from suoja.protect.suppress import choose_pattern

EXACT = SuppressionRules(singleton_protection=False, interval="exact")


def _mask(code: str, size: int) -> np.ndarray:
    return np.ones(size, bool) if code == "_T" else np.arange(size) == int(code[1:])


def table_2d(counts: np.ndarray) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """A 2-D table with margins: cells, domains and finest counts."""
    rows, cols = counts.shape
    domains = {"r": [f"r{i}" for i in range(rows)], "c": [f"c{j}" for j in range(cols)]}
    records = [("t", f"r={r};c={c}", r, c,
                int(counts[np.ix_(_mask(r, rows), _mask(c, cols))].sum()))
               for r in [*domains["r"], "_T"] for c in [*domains["c"], "_T"]]
    cells = pl.DataFrame(records, schema=["table", "key", "r", "c", "value"], orient="row")
    finest = pl.DataFrame(
        [(domains["r"][i], domains["c"][j], int(counts[i, j]))
         for i in range(rows) for j in range(cols) if counts[i, j] > 0],
        schema=["r", "c", "value"], orient="row")
    return cells, domains, finest


def cell_values(cube: np.ndarray, cells: pl.DataFrame) -> np.ndarray:
    """Each cell's value in every filling (fillings x cells)."""
    _, rows, cols = cube.shape
    out = np.zeros((len(cube), cells.height), dtype=np.int64)
    for k, (r, c) in enumerate(zip(cells["r"], cells["c"], strict=True)):
        out[:, k] = cube[:, _mask(r, rows)][:, :, _mask(c, cols)].sum(axis=(1, 2))
    return out


def fillings(cells: pl.DataFrame, hidden: np.ndarray, rows: int, cols: int,
             limit: int = 300_000) -> np.ndarray | None:
    """Every non-negative integer inner table agreeing with the published cells, or None
    when there are too many to list. An unknown no published cell bounds gets up to the
    total plus 3 (enough to show it is not determined)."""
    values = cells["value"].to_numpy()
    index = {(r, c): k for k, (r, c) in enumerate(zip(cells["r"], cells["c"], strict=True))}
    total = int(values[index[("_T", "_T")]])
    choices: list = []
    for i in range(rows):
        for j in range(cols):
            k = index[(f"r{i}", f"c{j}")]
            if not hidden[k]:
                choices.append([int(values[k])])
                continue
            caps = [int(values[index[key]]) for key in [(f"r{i}", "_T"), ("_T", f"c{j}"),
                                                         ("_T", "_T")]
                    if not hidden[index[key]]]
            choices.append(range(min(caps, default=total + 3) + 1))
    if np.prod([len(ch) for ch in choices], dtype=float) > limit:
        return None
    cube = np.array(list(itertools.product(*choices)), dtype=np.int64).reshape(-1, rows, cols)
    published = np.flatnonzero(~hidden)
    found = cell_values(cube, cells[published])
    return cube[(found == values[published]).all(axis=1)]


def safe_by_fillings(cells: pl.DataFrame, hidden: np.ndarray,
                     shape: tuple[int, int]) -> bool | None:
    """Whether every hidden cell has two or more possible values (None: too many)."""
    cube = fillings(cells, hidden, *shape)
    if cube is None:
        return None
    values = cell_values(cube, cells)
    spread = values.max(axis=0) > values.min(axis=0)
    return bool(spread[hidden].all())


small_tables = st.tuples(st.integers(2, 3), st.integers(2, 3), st.integers(0, 10**6)).map(
    lambda t: np.random.default_rng(t[2]).choice([0, 1, 2, 3, 5, 6, 8], size=(t[0], t[1]))
)


def _hidden(result: pl.DataFrame) -> np.ndarray:
    return (result["status"] != "published").to_numpy()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables)
def test_gauss_pattern_is_safe_by_integer_fillings(counts):
    """Every hidden cell of the Gaussian-elimination pattern has two possible values."""
    cells, domains, finest = table_2d(counts)
    result = protect(cells, domains, finest, rules=replace(EXACT, method="gauss"))
    safe = safe_by_fillings(cells.sort("table", "key"), _hidden(result), counts.shape)
    assume(safe is not None)
    assert safe


def _rank_determined(result: pl.DataFrame, counts: np.ndarray) -> int:
    """Hidden cells in the row space of the published ones (numpy ranks, 3-D table)."""
    shape = counts.shape
    names = ["a", "b", "c"]
    rows, hidden = [], []
    for row in result.iter_rows(named=True):
        masks = [_mask(row[n], shape[d]) for d, n in enumerate(names)]
        vec = np.einsum("i,j,k->ijk", *masks).ravel().astype(float)
        rows.append(vec)
        hidden.append(row["status"] != "published")
    matrix, hidden = np.array(rows), np.array(hidden)
    zero_inner = (counts.ravel() == 0)
    published = matrix[~hidden][:, ~zero_inner]
    base = np.linalg.matrix_rank(published)
    return sum(np.linalg.matrix_rank(np.vstack([published, matrix[k][~zero_inner]])) == base
               for k in np.flatnonzero(hidden))


def table_3d(counts: np.ndarray):
    from suoja.protect.cube import Dimension
    from suoja.protect.generic import complete_table

    names = ["a", "b", "c"]
    domains = {n: [f"{n}{i}" for i in range(s)] for n, s in zip(names, counts.shape,
                                                                   strict=True)}
    index = np.argwhere(counts > 0)
    finest = pl.DataFrame({n: [domains[n][i] for i in index[:, k]] for k, n in enumerate(names)}
                          | {"value": counts[counts > 0].astype(np.int64)})
    dims = [Dimension.build(n, domains[n], None) for n in names]
    cells = complete_table(finest.rename({"value": "n"}), dims, "n").rename({"n": "value"})
    return cells.select("table", "key", *names, "value"), domains, finest


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6))
def test_gauss_pattern_passes_a_numpy_rank_check_on_3d_tables(seed):
    """Medium 3-D tables: no hidden cell lies in the row space of the published cells."""
    counts = np.random.default_rng(seed).choice([0, 1, 2, 4, 6, 9, 15], size=(4, 4, 3))
    cells, domains, finest = table_3d(counts)
    result = protect(cells, domains, finest, rules=replace(EXACT, method="gauss"))
    assert _rank_determined(result, counts) == 0
    public = result.select("table", "key", *domains, "published")
    assert audit_linear(public, domains)["ok"].all()


def test_linear_audit_flags_a_computable_cell():
    """Publishing the other cells of a row makes the hidden one computable."""
    counts = np.array([[2, 7, 9], [8, 6, 5]])
    cells, domains, _finest = table_2d(counts)
    public = cells.with_columns(
        pl.when(pl.col("key") == "r=r0;c=c0").then(None).otherwise(pl.col("value"))
        .alias("published"))
    found = audit_linear(public, domains)
    assert found["key"].to_list() == ["r=r0;c=c0"]
    assert found["exact"].to_list() == [True]


def _cost(model, rules):
    state, _, _ = choose_pattern(model, rules)
    return float(weights(form_facts(model))[state.hidden].sum()), state.hidden


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables)
def test_optimal_never_costlier_than_heuristic(counts):
    cells, domains, finest = table_2d(counts)
    model = build_model(cells, domains, finest)
    heuristic, _ = _cost(model, EXACT)
    optimal, _ = _cost(model, replace(EXACT, method="optimal"))
    assert optimal <= heuristic + 1e-9


@pytest.mark.parametrize("seed", [1, 2, 3, 5, 8])
def test_optimal_equals_brute_force_minimum(seed):
    """Enumerate every pattern of a tiny table; the optimal one hides the fewest cells."""
    counts = np.random.default_rng(seed).choice([0, 1, 2, 3, 6, 8], size=(2, 3))
    cells, domains, finest = table_2d(counts)
    cells = cells.sort("table", "key")
    model = build_model(cells, domains, finest)
    _, hidden_forms = _cost(model, replace(EXACT, method="optimal"))
    found = int(hidden_forms[model.form_of_row].sum())
    values = cells["value"].to_numpy()
    primary = (values >= 1) & (values < EXACT.threshold)
    optional = np.flatnonzero(~primary & (values > 0))
    best = None
    for k in range(len(optional) + 1):
        for extra in itertools.combinations(optional.tolist(), k):
            hidden = primary.copy()
            hidden[list(extra)] = True
            if not hidden.any() or safe_by_fillings(cells, hidden, counts.shape):
                best = int(hidden.sum())
                break
        if best is not None:
            break
    assert found == best


def test_same_input_gives_the_same_pattern():
    counts = np.random.default_rng(4).choice([0, 1, 2, 4, 6, 9, 15], size=(5, 4, 3))
    cells, domains, finest = table_3d(counts)
    for rules in (replace(EXACT, method="gauss"), SuppressionRules(method="gauss")):
        first = protect(cells, domains, finest, rules=rules)["status"]
        second = protect(cells, domains, finest, rules=rules)["status"]
        assert first.to_list() == second.to_list()


def test_work_limit_gives_a_safe_pattern_or_exit_3(tmp_path):
    """A tiny work limit on a large-ish table never crashes (exit 0 with a safe pattern,
    or 3 with the reason), and the published pattern passes the linear audit."""
    rng = np.random.default_rng(7)
    counts = rng.choice([0, 1, 2, 4, 6, 9, 15], size=(12, 8, 6))
    rows = [(f"a{i}", f"b{j}", f"c{k}", int(counts[i, j, k]))
            for i, j, k in itertools.product(*map(range, counts.shape))]
    table = tmp_path / "t.csv"
    pl.DataFrame(rows, schema=["a", "b", "c", "count"], orient="row").write_csv(table)
    for singletons in ("false", "true"):
        policy = tmp_path / f"p{singletons}.toml"
        policy.write_text(f'[threshold]\nmin_count = 5\n[secondary]\nmethod = "gauss"\n'
                          f'singletons = {singletons}\ninterval = "exact"\nwork_limit = 50\n')
        out = tmp_path / f"out{singletons}"
        result = CliRunner().invoke(app, ["protect", str(table), "--policy", str(policy),
                                          "--out", str(out)])
        assert result.exit_code in (0, 3), result.output
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            written = pl.read_csv(out / "t.csv")
            assert written["status"].null_count() < written.height


def test_the_filling_oracle_sees_a_lone_hidden_cell():
    counts = np.array([[2, 7, 9], [8, 6, 5]])
    cells, _, _ = table_2d(counts)
    cells = cells.sort("table", "key")
    hidden = (cells["key"] == "r=r0;c=c0").to_numpy()
    assert safe_by_fillings(cells, hidden, counts.shape) is False


def _covers(cells: pl.DataFrame, outer: int, inner: int, hidden=None) -> bool:
    """Whether cell ``outer`` contains cell ``inner``: every inner cell of ``inner`` not
    published as 0 (with ``hidden``: known to be empty) is an inner cell of ``outer``."""
    a, b = cells.row(outer, named=True), cells.row(inner, named=True)
    if all(a[d] in ("_T", b[d]) for d in ("r", "c")):
        return True
    if hidden is None:
        return False
    rows = cells.with_row_index("i").filter((pl.col("r") != "_T") & (pl.col("c") != "_T"))
    empty = {(r, c) for i, r, c, v in rows.select("i", "r", "c", "value").iter_rows()
             if v == 0 and not hidden[i]}

    def support(x: dict) -> set:
        return {(r, c) for _, r, c, _ in rows.select("i", "r", "c", "value").iter_rows()
                if x["r"] in ("_T", r) and x["c"] in ("_T", c)} - empty

    return support(b) <= support(a)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts=small_tables)
def test_gauss_singleton_protection_by_integer_fillings(counts):
    """The unit alone in a hidden cell still finds two values for every other hidden cell
    (except a cell inside its own, or one holding only it)."""
    cells, domains, finest = table_2d(counts)
    cells = cells.sort("table", "key")
    rules = replace(EXACT, method="gauss", singleton_protection=True)
    hidden = _hidden(protect(cells, domains, finest, rules=rules))
    cube = fillings(cells, hidden, *counts.shape)
    assume(cube is not None)
    values = cell_values(cube, cells)
    truth = cells["value"].to_numpy()
    for s in np.flatnonzero(hidden & (truth == 1)):
        seen = values[values[:, s] == 1]
        for h in np.flatnonzero(hidden):
            if h == s or _covers(cells, s, h, hidden) or (
                    _covers(cells, h, s, hidden) and truth[h] == 1):
                continue
            assert seen[:, h].max() > seen[:, h].min(), (s, h)


def test_optimal_states_its_proof_or_gap_in_the_log(caplog, monkeypatch):
    """The optimal method logs "proven optimal" or, at its node limit, the gap; the same
    input gives the same pattern (a work limit decides, not the clock)."""
    import logging

    import suoja.protect.optimal as optimal

    counts = np.random.default_rng(4).choice([0, 1, 2, 3, 6, 8, 12], size=(4, 5))
    cells, domains, finest = table_2d(counts)
    model = build_model(cells, domains, finest)
    rules = replace(EXACT, method="optimal")
    with caplog.at_level(logging.INFO, logger="suoja.protect.optimal"):
        _, first = _cost(model, rules)
    assert any("proven optimal" in r.getMessage() for r in caplog.records)
    caplog.clear()
    monkeypatch.setattr(optimal, "NODE_LIMIT", 1)
    with caplog.at_level(logging.INFO, logger="suoja.protect.optimal"):
        _, limited = _cost(model, rules)
        _, again = _cost(model, rules)
    messages = [r.getMessage() for r in caplog.records]
    assert messages and all(("gap" in m) or ("proven optimal" in m) or ("no pattern" in m)
                            for m in messages)
    assert (limited == again).all()
