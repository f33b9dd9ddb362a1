"""The audit of a written release, from ``open/`` alone.

An outsider who has every published figure and knows the catalogue (which tables count
which population, by which dimensions) tries to recover every hidden cell. For each hidden
cell this computes the range of values consistent with everything published (non-negative
integers), and fails the release if a cell is exact or narrower than the policy allows.
It does not look at the register, at the suppression log or at how cells were chosen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl

from suoja.codelists import OTHER, TOTAL, UNKNOWN
from suoja.errors import ReleaseRefused, UsageError
from suoja.policy import Policy
from suoja.protect.audit import finding
from suoja.protect.highs import INF
from suoja.protect.joint import REST_KIND, JointModel, View, build_joint, rest_pinned
from suoja.protect.joint_ranges import JointAttacker
from suoja.protect.pooling import per_table, reference_table
from suoja.protect.protected import ProtectedRelease
from suoja.protect.rules import SuppressionRules
from suoja.tables.catalogue import Catalogue
from suoja.tables.cubes import (
    cell_key,
    cube_coordinates,
    implicit_cells,
    is_implicit,
    other_hierarchy,
)

SCHEMA = {"year": pl.Int64, "table": pl.String, "key": pl.String, "kind": pl.String,
          "lo": pl.Int64, "hi": pl.Int64, "exact": pl.Boolean, "ok": pl.Boolean,
          "finding": pl.String, "knowledge": pl.String}


def read_open_table(folder: Path, table_id: str, dims: tuple[str, ...]) -> pl.DataFrame:
    """One published CSV with codes kept as text."""
    schema = {"year": pl.Int64, **{d: pl.String for d in dims}, "value": pl.Int64,
              "status": pl.String}
    return pl.read_csv(folder / f"{table_id}.csv", schema=schema)


def published_cells(folder: Path, catalogue: Catalogue,
                    population: str) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The population's published cells in cube coordinates, and each dimension's codes."""
    dims = catalogue.populations[population].dimensions
    parts = []
    seen: dict[str, list[str]] = {d: [] for d in dims}
    for spec in catalogue.tables_of(population):
        table = read_open_table(folder, spec.id, spec.dimensions)
        for dim in spec.dimensions:
            seen[dim] += [c for c in table[dim].unique(maintain_order=True).to_list()
                          if c != TOTAL and c not in seen[dim]]
        coords = [pl.col(d) if d in spec.dimensions else pl.lit(spec.where.get(d, TOTAL)).alias(d)
                  for d in dims]
        parts.append(table.select(pl.lit(spec.id).alias("table"), cell_key(spec).alias("key"),
                                  *coords, pl.col("value").alias("published")))
    domains = {}
    for dim in dims:
        extra = list(catalogue.dimensions[dim].cube_only)
        domains[dim] = (seen[dim] or list(catalogue.dimensions[dim].codes)) + extra
    cells = pl.concat(parts)
    implicit = implicit_cells(cells, catalogue, population, domains, "published")
    return pl.concat([cells, implicit.with_columns(pl.lit(None, pl.Int64).alias("published"))]), \
        domains


def published_only(cells: pl.DataFrame) -> pl.DataFrame:
    """What an outsider sees of a protected cells frame: no true values, ``published`` only."""
    return cells.drop("value", "status", "reason", "protects_table", "protects_key", strict=False)


def _single_counts(cells: pl.DataFrame) -> pl.DataFrame:
    """A hidden count published alone: nothing bounds it from above."""
    return cells.filter(pl.col("published").is_null()).select(
        "table", "key", pl.lit(0, pl.Int64).alias("lo"), pl.lit(None, pl.Int64).alias("hi"),
        pl.lit(False).alias("exact"), pl.lit(True).alias("ok"),
        pl.lit("published alone: no other figure bounds it").alias("finding"))


def judge_implicit(found: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """An implicit cell (no table shows it) is disclosed only when it is known to be small.

    Its value is public by design when both figures it is the difference of are published;
    that is a disclosure only if the outsider can tell it holds 1..min_count-1 units.
    """
    small = policy.min_count - 1
    known_small = (pl.col("lo") >= 1) & (pl.col("hi") <= small) & pl.col("hi").is_not_null()
    if policy.interval == "exact":
        known_small = known_small & pl.col("exact")
    implicit = is_implicit(pl.col("table"))
    return found.with_columns(
        pl.when(implicit).then(~known_small).otherwise(pl.col("ok")).alias("ok"),
        pl.when(implicit & ~known_small).then(pl.lit("implicit cell: not known to be small"))
        .otherwise(pl.col("finding")).alias("finding"),
    )


ONE = "_one"
JOINT_YEARS = 1
"""How many earlier years enter the joint model beside the release's own year. The stock
identity links each year to the one before; the earlier years' figures reach this year
only through last year's hidden cells (a known simplification, checked by the tests
against an intruder that holds every earlier release)."""


def joint_earlier(previous: Mapping[int, Mapping[str, pl.DataFrame]] | None,
                  year: int) -> dict[int, Mapping[str, pl.DataFrame]]:
    """The earlier releases that enter the joint model of ``year``."""
    return {y: t for y, t in (previous or {}).items() if year - JOINT_YEARS <= y < year}
"""The single dimension given to a population published as one count."""


def read_open_tables(folder: Path, catalogue: Catalogue) -> dict[str, pl.DataFrame]:
    """Every table of the catalogue as published in ``folder`` (an ``open/``)."""
    return {spec.id: read_open_table(folder, spec.id, spec.dimensions)
            for spec in catalogue.tables}


def _pooling(tables: Mapping[str, pl.DataFrame], catalogue: Catalogue, population: str,
             dim: str, domain: Sequence[str]) -> tuple[frozenset[str], list, dict[str, tuple]]:
    """What the pooling rule tells an outsider of one dimension of one population.

    Returns the codes no table shows (pooled everywhere), the slices the rule holds in
    (``where`` coordinates, the codes pooled there, the codes shown there: pooled ones have
    fewer than threshold units in the slice, shown ones at least threshold), and per table
    the codes it pools beyond those pooled everywhere (``suoja.protect.pooling``).
    """
    listed = set(catalogue.dimensions[dim].codes) - {UNKNOWN, OTHER, TOTAL}
    everywhere = frozenset(listed - set(domain))
    free = [s for s in catalogue.tables_of(population) if dim in s.dimensions]
    slices, extra, seen = [], {}, set()
    for spec in free if per_table(free) else [reference_table(free)]:
        shown = set(tables[spec.id][dim].to_list()) - {TOTAL, OTHER}
        own = frozenset(listed - shown)
        if own - everywhere:
            extra[spec.id] = tuple(sorted(own - everywhere))
        where = tuple(sorted(spec.where.items()))
        if where not in seen:
            seen.add(where)
            slices.append((dict(spec.where), own, frozenset(shown - {UNKNOWN})))
    return everywhere, slices, extra


def implicit_truth(tables: Mapping[str, pl.DataFrame], log: pl.DataFrame,
                   catalogue: Catalogue, policy: Policy, year: int) -> dict[tuple[str, str], int]:
    """The true value of each implicit cell (``T[dim=code]``, a difference of figures) of
    a release: its published ``tables`` with the hidden cells' true values from the
    suppression ``log`` (``table``, ``cell``, ``original``)."""
    originals = log.select("table", pl.col("cell").alias("__key"), "original")
    filled = {}
    for spec in catalogue.tables:
        if spec.id not in tables:
            continue
        frame = tables[spec.id].with_columns(cell_key(spec).alias("__key")).join(
            originals.filter(pl.col("table") == spec.id).drop("table"), on="__key", how="left")
        filled[spec.id] = frame.with_columns(
            pl.coalesce(pl.col("value").cast(pl.Int64), pl.col("original")).alias("value"),
        ).drop("__key", "original")
    truth = {}
    for view in views_from_tables(filled, catalogue, policy, year, implicit_values=True):
        implicit = view.cells.filter(is_implicit(pl.col("table")))
        truth.update({(t, k): v for t, k, v in implicit.select("table", "key", "published")
                      .iter_rows() if v is not None})
    return truth


def views_from_tables(tables: Mapping[str, pl.DataFrame], catalogue: Catalogue,
                      policy: Policy, year: int, *,
                      implicit_values: bool = False) -> list[View]:
    """What an outsider sees of each population in one year's published tables.

    With ``implicit_values`` the implicit cells keep the differences they are (for
    ``implicit_truth``, from true tables); an outsider's view has them unknown (null).
    """
    views = []
    for population, spec in catalogue.populations.items():
        specs = catalogue.tables_of(population)
        if not specs or not all(s.id in tables for s in specs):
            continue
        dims = spec.dimensions
        seen = {d: [] for d in dims}
        for table_spec in specs:
            table = tables[table_spec.id]
            for dim in table_spec.dimensions:
                seen[dim] += [c for c in table[dim].unique(maintain_order=True).to_list()
                              if c != TOTAL and c not in seen[dim]]
        domains = {d: (seen[d] or list(catalogue.dimensions[d].codes))
                   + list(catalogue.dimensions[d].cube_only) for d in dims}
        pooled, slices, extra = {}, {}, {}
        for dim in dims:
            if dim in policy.pool and OTHER in domains[dim]:
                pooled[dim], slices[dim], more = _pooling(tables, catalogue, population, dim,
                                                          domains[dim])
                for table_id, codes in more.items():
                    extra.setdefault(table_id, {})[dim] = codes
        try:
            others, alias = other_hierarchy(extra)
        except ValueError as error:
            raise UsageError(
                f"the {year} tables of population {population} cannot come from suoja's "
                f"pooling rule: {error} (each table pools the codes it does not list, and "
                "the tables of nested slices must pool nested sets)") from None
        parts = [tables[s.id].select(
            pl.lit(s.id).alias("table"), cell_key(s).alias("key"),
            *cube_coordinates(s, dims, alias), pl.col("value").cast(pl.Int64).alias("published"))
            for s in specs]
        cells = pl.concat(parts)
        if dims:
            implicit = implicit_cells(cells, catalogue, population, domains, "published")
            if not implicit_values:
                implicit = implicit.with_columns(pl.lit(None, pl.Int64).alias("published"))
            cells = pl.concat([cells, implicit])
        else:
            cells = cells.with_columns(pl.lit(TOTAL).alias(ONE)).select(
                "table", "key", ONE, "published")
            domains = {ONE: ["x"]}
        views.append(View(year, population, cells, domains, pooled, slices, others))
    return views


def _judge(kind: str, lo: float, hi: float, rules: SuppressionRules) -> bool:
    """Whether an outsider's range of one quantity passes the rules.

    A hidden cell passes the rules (``SuppressionRules.range_ok``). An implicit cell (a
    difference of two figures) must not be known to be small. A pooled category is small
    by the pooling rule itself (it is below the threshold in the table that pools it), so
    its exact size is what must stay unknown: it fails when known exactly and not 0. The
    codes no table lists are one group (``pooled rest:N``): it fails when its range pins
    each of its codes (``joint.rest_pinned``).
    """
    if kind == "hidden":
        return rules.range_ok(lo, hi)
    if kind.startswith(REST_KIND):
        return not rest_pinned(kind, lo, hi, rules.threshold)
    known_small = lo >= 1 and hi <= rules.threshold - 1
    if rules.interval == "exact" or kind == "pooled":
        known_small = known_small and lo == hi
    return not known_small


def _sure(kind: str, lo: float, hi: float, rules: SuppressionRules) -> bool:
    """Whether every non-empty range within [lo, hi] passes ``_judge``: an implicit cell or
    pooled category whose range misses 1..threshold-1 cannot be known to be small."""
    if kind.startswith(REST_KIND):
        # A group of one code is pinned by an exact range, which the outer one may hold.
        return hi <= 0 or (not kind.endswith(":1") and not rest_pinned(kind, hi, hi,
                                                                         rules.threshold))
    return kind != "hidden" and (lo >= rules.threshold or hi <= 0)


def _finding(kind: str, lo: float, hi: float, ok: bool, rules: SuppressionRules) -> str:
    if kind == "hidden":
        return finding(lo, hi, rules)
    top = "or more" if hi == INF else f"to {int(hi)}"
    if kind.startswith(REST_KIND):
        n = kind.rpartition(":")[2]
        if ok:
            return (f"{n} pooled categories no table lists: not each known (together "
                    f"{int(lo)} {top})")
        return (f"{n} pooled categories no table lists: each known to have "
                f"{rules.threshold - 1}")
    what = "implicit cell" if kind == "implicit" else "pooled category"
    if ok:
        return f"{what}: not known to be small (anything from {int(lo)} {top})"
    return f"{what}: known to lie between {int(lo)} and {int(hi)}, below the threshold"


def _knowledge(joint: JointModel, attacker: JointAttacker, row, year: int) -> str:
    """The kinds of knowledge in the linked system of one quantity."""
    labels = attacker.components_of(row)
    used = {joint.row_facts[i] for i in np.flatnonzero(np.isin(attacker.row_label, list(labels)))}
    years = sorted({int(u.split()[1]) for u in used if u.startswith("tables ")})
    facts = {u for u in used if not u.startswith("tables ")}
    for block in joint.blocks.values():
        span = attacker.label[block.offset:block.offset + block.model.n_vars]
        if block.facts and np.isin(span, list(labels)).any():
            facts.update(block.facts)
    facts = sorted(facts)
    parts = [f"tables of {', '.join(map(str, years))}"] if years else ["nothing published"]
    return "; ".join(parts + facts)


def audit_views(views: Sequence[View], catalogue: Catalogue, policy: Policy,
                year: int, exact: bool = True) -> pl.DataFrame:
    """The joint audit of ``year`` given every view an outsider has (earlier years too).

    With ``exact`` False only the verdicts are exact: a range is settled only as far as
    its verdict needs (``JointAttacker.range`` with a judge), so ``lo`` and ``hi`` may be
    narrower than the outsider's for a range that passes, or wider for one that fails.
    """
    rules = policy.suppression_rules()
    all_codes = {d: dim.cube_codes for d, dim in catalogue.dimensions.items()}
    all_codes[ONE] = ("x",)
    joint = build_joint(views, catalogue.facts, rules, all_codes, [year, year - 1])
    attacker = JointAttacker(joint, rules.time_limit)
    earlier = None
    rows = []
    for y, table, key, kind, row in joint.targets:
        if y != year and not _touches(attacker, row, joint, year):
            continue
        judge = None if exact else partial(_judge, kind, rules=rules)
        sure = None if exact else partial(_sure, kind, rules=rules)
        attacker.limited = False
        lo, hi = attacker.range(row, judge, sure)
        ok = _judge(kind, lo, hi, rules)
        text = _finding(kind, lo, hi, ok, rules)
        if attacker.settled != "exact":
            # Settled only as far as the verdict: the outsider's range holds the inner one
            # and lies within the outer one.
            text += " (at least this wide)" if attacker.settled == "inner" else " (or narrower)"
        if attacker.limited:
            text += " (the solver stopped at its time limit: the range may be wider)"
        if not ok and y != year:
            if earlier is None:
                earlier = _earlier(views, catalogue, rules, all_codes, year)
            before = earlier.get((table, key))
            if before is not None and not _judge(kind, *before, rules):
                ok, text = True, text + " (already known from the earlier releases alone)"
        rows.append((y, table, key, kind, int(lo), None if hi == INF else int(hi),
                     lo == hi, ok, text, _knowledge(joint, attacker, row, year)))
    return pl.DataFrame(rows, schema=SCHEMA, orient="row").sort("year", "table", "key",
                                                                  descending=[True, False, False])


def _touches(attacker: JointAttacker, row, joint: JointModel, year: int) -> bool:
    """Whether an earlier year's quantity is linked to a figure of ``year``."""
    labels = attacker.components_of(row)
    rows = np.flatnonzero(np.isin(attacker.row_label, list(labels)))
    return any(joint.row_facts[i] == f"tables {year}" for i in rows)


def _earlier(views: Sequence[View], catalogue: Catalogue, rules: SuppressionRules,
             all_codes: Mapping[str, Sequence[str]], year: int) -> dict:
    """Ranges of the previous year's quantities from the earlier releases alone."""
    before = [v for v in views if v.year < year]
    joint = build_joint(before, catalogue.facts, rules, all_codes, [year - 1])
    attacker = JointAttacker(joint, rules.time_limit)
    return {(t, k): attacker.range(row) for _, t, k, _, row in joint.targets}


def read_previous(out: Path | None, year: int, catalogue: Catalogue,
                  folders: Sequence[Path] = ()) -> dict[int, dict[str, pl.DataFrame]]:
    """Earlier releases an outsider holds: ``OUT/YEAR/open`` for every earlier year present
    under ``out``, and any release folders given (``--previous``).

    Raises:
        UsageError: A given folder is not a release of an earlier year of this catalogue.
    """
    found: dict[int, Path] = {}
    if out is not None and out.is_dir():
        for child in out.iterdir():
            if child.name.isdigit() and int(child.name) < year and (child / "open").is_dir():
                found[int(child.name)] = child / "open"
    for folder in folders:
        open_dir = folder / "open" if (folder / "open").is_dir() else folder
        csvs = sorted(open_dir.glob("*.csv"))
        if not csvs:
            raise UsageError(f"{folder}: not a release folder (no open/*.csv)")
        years = pl.read_csv(csvs[0], columns=["year"])["year"].unique().to_list()
        if len(years) != 1 or years[0] >= year:
            raise UsageError(f"{folder}: a release of an earlier year than {year} is needed")
        found[int(years[0])] = open_dir
    previous = {}
    for y, open_dir in sorted(found.items()):
        try:
            previous[y] = read_open_tables(open_dir, catalogue)
        except (OSError, pl.exceptions.PolarsError) as e:
            raise UsageError(f"{open_dir}: cannot read the release of {y} ({e})") from None
    return previous


def audit_open(folder: Path, catalogue: Catalogue, policy: Policy,
               previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None,
               year: int | None = None) -> pl.DataFrame:
    """For every hidden cell of ``open/``: ``year``, ``table``, ``key``, ``kind``, ``lo``,
    ``hi``, ``exact``, ``ok``, ``finding`` and ``knowledge`` (what narrowed the range).

    The outsider holds ``open/``, the earlier releases in ``previous`` and the catalogue
    with its declared facts; never the register.
    """
    tables = read_open_tables(folder, catalogue)
    if year is None:
        first = next(iter(tables.values()))
        year = int(first["year"][0]) if first.height else 0
    views = views_from_tables(tables, catalogue, policy, year)
    for y, earlier in sorted(joint_earlier(previous, year).items()):
        views += views_from_tables(earlier, catalogue, policy, y)
    return audit_views(views, catalogue, policy, year)


def audit_release(release: ProtectedRelease,
                  previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None,
                  ) -> pl.DataFrame:
    """:func:`audit_open` of a release not yet written: its published tables, the earlier
    releases in ``previous`` and the catalogue, never the true values it holds."""
    views = views_from_tables(release.tables, release.catalogue, release.policy, release.year)
    for y, earlier in sorted(joint_earlier(previous, release.year).items()):
        views += views_from_tables(earlier, release.catalogue, release.policy, y)
    return audit_views(views, release.catalogue, release.policy, release.year)


def refuse_disclosure(audit: pl.DataFrame) -> None:
    """Refuse the release (exit 3) if the audit found a hidden cell narrowed down too far."""
    failed = audit.filter(~pl.col("ok"))
    if failed.height:
        first = failed.row(0, named=True)
        raise ReleaseRefused(
            f"the audit found {failed.height} hidden cell(s) an outsider can narrow down "
            f"too far, e.g. {first['table']} {first['key']}: {first['finding']}; "
            "nothing was written")
