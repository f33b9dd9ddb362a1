"""Disclosure control of whole releases: other years, other policies, unseen registers."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import EMBEDDED, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from suoja.pipeline import publish
from suoja.policy import read_policy
from suoja.protect.release_audit import audit_open
from suoja.synth import scaled_register, write_register
from suoja.tables.catalogue import read_catalogue

CATALOGUE = read_catalogue()


def _policy(tmp_path: Path, **changes: str) -> Path:
    text = (REPO / "policies" / "default.toml").read_text(encoding="utf-8")
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _published_values(open_dir: Path) -> pl.Series:
    """The published counts of persons (a count of distinct codes counts codes, not persons:
    2 citizenships is no small cell)."""
    return pl.concat([pl.read_csv(open_dir / f"{spec.id}.csv", infer_schema=False)["value"]
                      for spec in CATALOGUE.tables])


def _assert_safe(result, threshold: int) -> None:
    open_dir = result.target / "open"
    values = _published_values(open_dir).drop_nulls().cast(pl.Int64)
    assert not values.is_between(1, threshold - 1).any()
    independent = audit_open(open_dir, CATALOGUE, read_policy(Path(result.release.policy.source)))
    real = independent.filter(~pl.col("table").str.contains("[", literal=True))
    assert independent["ok"].all() and not real["exact"].any()
    assert independent.filter(~pl.col("table").str.contains("[", literal=True)).height \
        == result.hidden


@pytest.mark.slow
@pytest.mark.parametrize("year", [2012, 2019])
def test_other_years_are_safe(tmp_path: Path, year: int) -> None:
    _assert_safe(publish(year, EMBEDDED, tmp_path), 5)


@pytest.mark.slow
@pytest.mark.parametrize(("changes", "threshold"), [
    ({"min_count = 5": "min_count = 3"}, 3),
    ({"min_count = 5": "min_count = 10"}, 10),
    ({'zeros = "publish"': 'zeros = "sensitive"'}, 5),
    ({'interval = "threshold"': 'interval = "exact"', "singletons = true": "singletons = false"}, 5),
])
def test_policy_variants_are_safe(tmp_path: Path, changes: dict, threshold: int) -> None:
    policy = _policy(tmp_path, **changes)
    _assert_safe(publish(2025, EMBEDDED, tmp_path / "out", policy_path=policy), threshold)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(persons=st.integers(300, 3000), seed=st.integers(0, 10_000))
def test_unseen_registers_give_safe_releases(tmp_path_factory, persons: int, seed: int) -> None:
    folder = tmp_path_factory.mktemp("register")
    write_register(scaled_register(persons, seed=seed), folder)
    _assert_safe(publish(2025, folder, tmp_path_factory.mktemp("out")), 5)


def test_every_hidden_cell_has_a_range_in_the_restricted_audit(embedded_release) -> None:
    import json

    audit = json.loads((embedded_release.target / "restricted" / "audit.json").read_text())
    assert len([a for a in audit if "[" not in a["table"]]) == embedded_release.hidden
    for entry in audit:
        assert entry["lo"] is not None and entry["ok"] is True


def test_privacy_officer_page(embedded_release) -> None:
    page = (embedded_release.target / "restricted" / "review.html").read_text(encoding="utf-8")
    assert page.count("PASSED") >= 1 and "FAILED" not in page
    assert embedded_release.release.restricted.register_fingerprint in page
    assert embedded_release.release.policy.fingerprint in page
    log = pl.read_csv(embedded_release.target / "restricted" / "suppression_log.csv",
                      infer_schema=False)
    for reason in log["reason"].to_list()[:20]:
        assert reason.replace('"', "&#34;") in page or reason in page


def test_two_tables_that_pass_alone_leak_by_differencing() -> None:
    """new_clients_citizenship and finland_victims_citizenship, each protected alone, give
    away the Finnish client exploited abroad (18 - 17); protected together they do not."""
    from suoja.protect import protect
    from suoja.protect.audit import audit
    from suoja.protect.pooling import pool
    from suoja.protect.release_audit import judge_implicit, published_only
    from suoja.register import read_register
    from suoja.tables.cubes import cells_frame, compute_cubes, compute_tables, implicit_cells

    policy = read_policy()
    rules = policy.suppression_rules()
    frames = read_register(EMBEDDED).frames
    cube = pool(compute_cubes(frames, CATALOGUE, 2025)["new_clients"], CATALOGUE, policy.pool,
                policy.min_count).cube
    tables = compute_tables({"new_clients": cube}, read_catalogue_subset(), 2025)
    cells = cells_frame(tables, cube, CATALOGUE)
    pair = ["new_clients_citizenship", "finland_victims_citizenship"]

    def audited(protected: pl.DataFrame) -> pl.DataFrame:
        public = published_only(protected)
        derived = implicit_cells(public, CATALOGUE, "new_clients", cube.domains, "published")
        everything = pl.concat([public, derived.with_columns(pl.lit(None, pl.Int64)
                                                             .alias("published"))])
        return judge_implicit(audit(everything, cube.domains, cube.hierarchies, rules=rules),
                              policy)

    alone = [protect(cells.filter(pl.col("table") == t), cube.domains, cube.finest,
                     cube.hierarchies, rules=rules) for t in pair]
    for one in alone:
        assert audit(published_only(one), cube.domains, cube.hierarchies, rules=rules)["ok"].all()
    leaked = audited(pl.concat(alone).filter(pl.col("table").is_in(pair)))
    assert not leaked.filter(pl.col("key") == "citizenship=FIN")["ok"].all()

    together = cells.filter(pl.col("table").is_in(pair))
    together = pl.concat([together, implicit_cells(together, CATALOGUE, "new_clients",
                                                   cube.domains, "value")])
    joint = protect(together, cube.domains, cube.finest, cube.hierarchies, rules=rules)
    assert audited(joint.filter(~pl.col("table").str.contains("[", literal=True)))["ok"].all()


def read_catalogue_subset():
    """The catalogue with only the new clients' tables."""
    from dataclasses import replace

    return replace(CATALOGUE, tables=CATALOGUE.tables_of("new_clients"))


@pytest.mark.parametrize("table_id", ["new_clients_citizenship", "finland_victims_citizenship"])
def test_each_table_pools_its_own_small_countries(embedded_release, table_id: str) -> None:
    """As the seed review does chart by chart, each table counts its own small countries in
    its own Other countries: among those exploited in Finland, Somalia (1 person) is in
    Other countries, not a primary suppression, while the table of all new clients lists
    it. Checked against the true counts: every listed country has at least 5 persons in
    the table, every pooled one fewer, and Other countries is the sum of the pooled ones."""
    target = embedded_release.target
    table = pl.read_csv(target / "open" / f"{table_id}.csv", infer_schema_length=0)
    log = pl.read_csv(target / "restricted" / "suppression_log.csv",
                      schema_overrides={"original": pl.Int64}).filter(pl.col("table") == table_id)
    cells = embedded_release.release.restricted.cells["new_clients"]
    truth = dict(cells.filter(pl.col("table") == table_id).select("key", "value").iter_rows())
    listed = [c for c in table["citizenship"] if c not in ("_T", "_O")]
    assert all(truth[f"citizenship={c}"] >= 5 for c in listed)
    pooled = log.filter(pl.col("rule") == "pooled")
    assert (pooled["original"] < 5).all() and pooled["published"].eq("_O").all()
    assert not set(pooled["cell"].str.strip_prefix("citizenship=")) & set(listed)
    assert truth["citizenship=_O"] == pooled["original"].sum()
    assert not log.filter(pl.col("rule") == "primary", pl.col("cell") != "citizenship=_O").height
    somalia = "SOM" in listed
    assert somalia == (table_id == "new_clients_citizenship")
    if not somalia:
        row = pooled.filter(pl.col("cell") == "citizenship=SOM")
        assert row["original"].to_list() == [1]
        assert row["reason"][0].startswith("1 person, below the threshold of 5")


def test_large_countries_are_published_among_new_clients(embedded_release) -> None:
    """Somalia and Nigeria have many new clients but one each exploited in Finland: the
    engine protects that one without hiding the countries' totals (issue 13), since
    knowing how many were exploited abroad (not a small number) reveals nothing."""
    table = pl.read_csv(embedded_release.target / "open" / "new_clients_citizenship.csv")
    log = pl.read_csv(embedded_release.target / "restricted" / "suppression_log.csv")
    for code in ("SOM", "NGA"):
        value = table.filter(pl.col("citizenship") == code)["value"]
        assert value.len() == 1 and value[0] is not None, f"{code} is not published"
        assert not log.filter(pl.col("cell") == f"citizenship={code}",
                              pl.col("table") == "new_clients_citizenship").height


@pytest.mark.slow
def test_the_optimal_method_never_hides_more_than_the_heuristic() -> None:
    """On the embedded 2025 release (issue 13 found optimal 51 cells against 50): the
    optimal method's release costs no more than the heuristic's by the policy's cost (cells
    hidden by secondary suppression, here); it costs exactly the proven least cost of the
    whole release, and the heuristic is within the stated margin of it."""
    from dataclasses import replace

    from suoja.pipeline import protect_release
    from suoja.protect.loss import STATED_MARGIN, release_bound
    from suoja.register import read_register

    frames = read_register(EMBEDDED).frames
    policy = read_policy()

    def protected(method: str) -> tuple[int, tuple[float, float, bool]]:
        release = protect_release(frames, 2025, CATALOGUE, replace(policy, method=method))
        log = release.restricted.log.filter(pl.col("rule") == "secondary")
        return log.height, release_bound(release.restricted.extra["bound"])

    (heuristic, h_bound), (optimal, o_bound) = protected("heuristic"), protected("optimal")
    assert optimal <= heuristic
    # Proven optimal: the release costs what the cut generation over the whole release
    # proves no pattern the audit passes can go below (issue 13, point 3) ...
    cost, least, proven = o_bound
    assert proven and cost == pytest.approx(least)
    # ... both methods prove the same least cost, and the heuristic is within the margin.
    assert h_bound[1] == pytest.approx(least)
    assert h_bound[0] <= (1 + STATED_MARGIN) * least


@pytest.mark.slow
@pytest.mark.parametrize(("persons", "seed"), [(250, 1), (1500, 5)])
def test_the_optimal_release_of_an_unseen_register_is_proven_and_cheaper(
        tmp_path: Path, persons: int, seed: int) -> None:
    """Registers where the heuristic's 2025 release costs 32 % and 62 % above the proven
    least cost (benchmarks/bench_unseen.py): the optimal method's release costs exactly
    that least cost, hides fewer persons, and passes the audit from open/ (the independent
    intruder attacks the same releases in ``test_intruder_release``)."""
    from suoja.protect.loss import release_bound

    register = tmp_path / "register"
    write_register(scaled_register(persons, seed=seed), register)
    heuristic = _policy(tmp_path, **{'method = "optimal"': 'method = "heuristic"'})
    publish(2024, register, tmp_path / "h", policy_path=heuristic)
    shutil.copytree(tmp_path / "h" / "2024", tmp_path / "o" / "2024")
    by_heuristic = publish(2025, register, tmp_path / "h", policy_path=heuristic)
    optimal = publish(2025, register, tmp_path / "o")
    cost, least, proven = release_bound(optimal.release.restricted.extra["bound"])
    assert proven and cost == pytest.approx(least)
    h_cost, h_least, _ = release_bound(by_heuristic.release.restricted.extra["bound"])
    assert h_least == pytest.approx(least) and h_cost > cost

    def persons_hidden(result) -> int:
        log = result.release.restricted.log
        return int(log.filter(pl.col("rule").is_in(["primary", "secondary"]))["original"].sum())

    assert persons_hidden(optimal) < persons_hidden(by_heuristic)
    _assert_safe(optimal, 5)
