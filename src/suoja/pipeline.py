"""The front door: ``publish()`` runs the stages in order.

register (read, validate) -> tables (cubes, pooling, margins) -> protect (suppression or
differential privacy) -> release (open/, restricted/, review/) -> audit (from open/ alone).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from suoja.errors import UsageError
from suoja.policy import Policy, read_policy, with_privacy
from suoja.protect.per_population import (
    pattern_audit,
    protect_populations,
    published_tables,
    release_bounds,
    singleton_findings,
)
from suoja.protect.pooling import LOG_COLUMNS, pool
from suoja.protect.protected import CONFIDENTIAL, ProtectedRelease, Restricted
from suoja.protect.rounds import more_to_hide
from suoja.register import read_register, register_fingerprint
from suoja.register.reader import check_year_has_data
from suoja.release._target import atomic_folder, check_target
from suoja.tables.catalogue import Catalogue, read_catalogue
from suoja.tables.cubes import (
    compute_cubes,
    compute_tables,
    is_implicit,
)
from suoja.tables.priorities import never_hide_report, priority_frame

Progress = Callable[[str], None]
if TYPE_CHECKING:
    from suoja.tables.engines.cube_set import CubeSet
    from suoja.tables.engines.load import CubeSource
AUDIT_SCHEMA = {"table": pl.String, "key": pl.String, "lo": pl.Int64, "hi": pl.Int64,
                "exact": pl.Boolean, "ok": pl.Boolean, "finding": pl.String}
FIRST_YEAR = 2006


@dataclass(frozen=True)
class PublishResult:
    """What ``publish`` wrote and what it found."""

    target: Path
    release: ProtectedRelease
    audit: pl.DataFrame
    ledger: Path | None = None
    """The privacy budget ledger a DP release spent from."""

    @property
    def earlier_releases(self) -> list[int]:
        """The years of the earlier releases the protection took as known."""
        return list(self.release.restricted.extra.get("earlier_releases", []))

    def _cube_tables(self) -> list[pl.DataFrame]:
        """The tables that are margins of a cube (no count of distinct codes)."""
        return [self.release.tables[s.id] for s in self.release.catalogue.tables
                if s.id in self.release.tables]

    @property
    def cells(self) -> int:
        """Published cells of the tables, margins included (counts of distinct codes, which
        are no cells of a cube, apart: ``distinct``)."""
        return sum(t.height for t in self._cube_tables())

    @property
    def hidden(self) -> int:
        """Cells of the tables published empty (the ones the audit ranges)."""
        return sum(t.filter(pl.col("status") == CONFIDENTIAL).height
                   for t in self._cube_tables())

    @property
    def distinct(self) -> dict[str, int | None]:
        """The counts of distinct codes written to ``open/`` (None: withheld)."""
        return {s.id: self.release.tables[s.id]["value"][0]
                for s in self.release.catalogue.distinct if s.id in self.release.tables}


def _suppression_log(protected: pl.DataFrame) -> pl.DataFrame:
    hidden = protected.filter((pl.col("status") != "published") & ~is_implicit(pl.col("table")))
    return hidden.select(pl.col("table"), pl.col("key").alias("cell"),
                         pl.col("value").alias("original"),
                         pl.lit(None, pl.String).alias("published"),
                         pl.col("status").alias("rule"), pl.col("reason")).cast(LOG_COLUMNS)


MAX_ROUNDS = 12
"""Rounds of secondary suppression across the release before the audit decides."""


def _unpick(protected_cells: dict[str, pl.DataFrame], out: Mapping[str, pl.DataFrame],
            earlier_views: list, catalogue: Catalogue, policy: Policy,
            year: int) -> dict[str, pl.DataFrame]:
    """``protected_cells`` with each secondary suppression the release does not need
    published again (``suoja.protect.unpick.unpick``)."""
    from suoja.protect.unpick import unpick

    log = pl.concat([_suppression_log(cells) for cells in protected_cells.values()])
    priority = pl.concat([priority_frame(cells, catalogue.priorities)
                          for cells in protected_cells.values()])
    freed = unpick(out, log, year, catalogue, policy, earlier_views, priority)
    if not freed:
        return protected_cells
    free = pl.DataFrame(freed, schema={"table": pl.String, "key": pl.String}, orient="row") \
        .with_columns(pl.lit(True).alias("__freed"))
    result = {}
    for name, cells in protected_cells.items():
        cells = cells.join(free, on=["table", "key"], how="left")
        hit = pl.col("__freed").fill_null(False)
        result[name] = cells.with_columns(
            pl.when(hit).then(pl.lit("published")).otherwise(pl.col("status")).alias("status"),
            pl.when(hit).then(pl.col("value")).otherwise(pl.col("published")).alias("published"),
            pl.when(hit).then(None).otherwise(pl.col("reason")).alias("reason"),
        ).drop("__freed")
    return result


def protect_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                    policy: Policy,
                    previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None,
                    progress: Progress | None = None, *, cube_set: CubeSet | None = None,
                    ) -> ProtectedRelease:
    """``_protected`` by the policy's method. The optimal method's release costs its
    proven lower bound (``restricted/bound.csv``) when its search ends within the work
    limits: no release can cost less. Otherwise the heuristic's release is made too and
    the cheaper by the policy's cost (then by units) is kept: it never hides more."""
    from suoja.protect.loss import release_bound, secondary_cost

    def cost(release: ProtectedRelease) -> tuple[float, int]:
        cells = release.restricted.cells.values()
        priority = pl.concat([priority_frame(c, catalogue.priorities) for c in cells])
        return secondary_cost(release.restricted.log, priority, policy.cell_cost,
                              policy.unit_cost)

    best = _protected(frames, year, catalogue, policy, previous, progress, cube_set=cube_set)
    if policy.method != "optimal":
        return best
    spent, least, _ = release_bound(best.restricted.extra["bound"])
    if spent <= least + 1e-9:
        return best  # it costs what no safe pattern can undercut: the heuristic cannot
    other = _protected(frames, year, catalogue, replace(policy, method="heuristic"), previous,
                       progress, cube_set=cube_set)
    return replace(other, policy=policy) if cost(other) < cost(best) else best


def _rounds(cubes, pooled, tables, catalogue: Catalogue, policy: Policy, year: int,
            earlier_views: list, forced: dict[str, pl.DataFrame], gate, step):
    """Each population protected on its own, then rounds of the joint audit that hide more
    (``more_to_hide``), then unpick; the cells, the published tables, the outsider's views
    and the singleton gate's findings on them (None: still to run)."""
    from suoja.protect.release_audit import audit_views, views_from_tables

    for round_ in range(1, MAX_ROUNDS + 1):
        step(f"Protecting the tables (round {round_})")
        protected_cells = protect_populations(cubes, pooled, tables, catalogue, policy, forced)
        out = published_tables(tables, protected_cells, catalogue)
        views = views_from_tables(out, catalogue, policy, year) + earlier_views
        step(f"Joint audit (round {round_})")
        found = audit_views(views, catalogue, policy, year, exact=False)
        if found["ok"].all():
            break
        step(f"Choosing more cells to hide (round {round_})")
        if not more_to_hide(found, views, catalogue, policy, year, forced):
            break
    singles = None
    if policy.unpick and found["ok"].all():
        step("Publishing the secondary suppressions not needed")
        picked = _unpick(protected_cells, out, earlier_views, catalogue, policy, year)
        # A safety net: if unpick's checks let a singleton's person compute a hidden cell
        # (the gate shares no code with them), the engine's pattern is kept as it was.
        singles = gate(picked)
        if not singles.height:
            protected_cells = picked
            out = published_tables(tables, protected_cells, catalogue)
            views = views_from_tables(out, catalogue, policy, year) + earlier_views
        else:
            singles = None  # the engine's pattern is judged below
    return protected_cells, out, views, singles


def _protected(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
               policy: Policy, previous: Mapping[int, Mapping[str, pl.DataFrame]] | None = None,
               progress: Progress | None = None, *, cube_set: CubeSet | None = None,
               ) -> ProtectedRelease:
    """Compute, pool and protect every table of one year (nothing is written).

    Each population is protected on its own first (with the structural zeros of the
    declared facts); then the joint audit (every population, the earlier releases in
    ``previous``, the facts and the publication rules) looks for anything an outsider
    could still narrow down, and each such finding hides one more published cell that
    links it (or widens one already hidden), until the joint audit passes. The rounds
    settle verdicts only (``audit_views(exact=False)``); the audit the release keeps is
    then run once with exact ranges.

    With ``cube_set`` (``suoja.tables.engines``: cubes from DuckDB, Spark or a cube folder) the
    cubes are taken as given and ``frames`` is not read.
    """
    from suoja.protect.joint_bound import exact_cells, joint_bound, release_cells, seed_cells
    from suoja.protect.release_audit import audit_views, joint_earlier, views_from_tables

    step = progress or (lambda _: None)
    step("Computing the tables")
    cubes = cube_set.cubes if cube_set else compute_cubes(frames, catalogue, year)
    pooled = {name: pool(cube, catalogue, policy.pool, policy.min_count)
              for name, cube in cubes.items()}
    raw, cubes = cubes, {name: p.cube for name, p in pooled.items()}
    tables = compute_tables(cubes, catalogue, year)
    earlier_views = []
    for y, earlier in sorted(joint_earlier(previous, year).items()):
        earlier_views += views_from_tables(earlier, catalogue, policy, y)
    step("Searching the least-cost pattern of the release" if policy.method == "optimal"
         else "Lower bound of the loss")
    cells = release_cells(cubes, pooled, tables, catalogue, policy)
    true_views = views_from_tables(tables, catalogue, policy, year, implicit_values=True)
    check = pattern_audit(cubes, pooled, tables, catalogue, policy, earlier_views, year) \
        if policy.method == "optimal" else None
    whole, pattern = joint_bound(true_views, earlier_views, cells, catalogue, policy, year,
                                 check=check, raw_cubes=raw)

    def gate(cells: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
        return singleton_findings(cubes, pooled, tables, catalogue, policy, cells, year)

    singles = None
    if policy.method == "optimal" and whole.pattern is not None:
        # The optimal method's pattern passed the release audit inside the search, and
        # no pattern that passes costs less: it is the release as it is.
        step("Hiding the least-cost pattern of the release")
        forced = seed_cells(pattern, cells)
        protected_cells = exact_cells(
            protect_populations(cubes, pooled, tables, catalogue, policy, forced), pattern)
        out = published_tables(tables, protected_cells, catalogue)
        views = views_from_tables(out, catalogue, policy, year) + earlier_views
    else:
        # Otherwise the search's last pattern (if any) is where the rounds start.
        forced = seed_cells(pattern, cells) if policy.method == "optimal" else {}
        protected_cells, out, views, singles = _rounds(
            cubes, pooled, tables, catalogue, policy, year, earlier_views, forced, gate, step)
    # The rounds settle verdicts only; the privacy officer's page and audit.json give every
    # range as the outsider can narrow it (the independent intruder's ranges exactly).
    step("Joint audit: the outsider's exact ranges")
    found = audit_views(views, catalogue, policy, year)
    singles = gate(protected_cells) if singles is None else singles
    if singles.height:
        found = pl.concat([found, singles.select(found.columns).cast(found.schema)])
    logs = [p.log for p in pooled.values()]
    logs += [_suppression_log(cells) for cells in protected_cells.values()]
    log = pl.concat(logs).sort("table", "cell")
    step("Lower bound of the loss per population")
    bounds = release_bounds(cubes, pooled, tables, catalogue, policy, log, protected_cells,
                            whole)
    restricted = Restricted(log=log,
                            register_fingerprint=(cube_set.register_fingerprint if cube_set
                                                  else register_fingerprint(frames)),
                            cells=protected_cells, audit=found,
                            extra={"never_hide": never_hide_report(protected_cells,
                                                                   catalogue.priorities),
                                   "bound": bounds})
    return ProtectedRelease(year=year, catalogue=catalogue, policy=policy, tables=out,
                            restricted=restricted)


def ledger_path(register: Path, policy: Policy) -> Path:
    """The privacy budget ledger of the register and policy, never of an output folder:
    the policy's ``[privacy] ledger``, else one per register (``suoja.protect.dp.anchor``)."""
    from suoja.protect.dp.anchor import default_ledger

    return (Path(policy.ledger) if policy.ledger else default_ledger(register)).resolve()


def _dp_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                policy: Policy, ledger: Path, target: Path) -> ProtectedRelease:
    """Noise instead of suppression; refused (exit 3) before any work if over a cap or if
    the ledger does not match its anchors."""
    from suoja.protect.dp import check_and_append
    from suoja.protect.dp.anchor import refuse_legacy
    from suoja.protect.dp.engine import dp_protect_release

    refuse_legacy(target.parent, ledger)
    settings = policy.dp_settings()
    check_and_append(ledger, str(year), settings.epsilon, settings.delta,
                     settings.yearly_epsilon_cap, year, dry_run=True,
                     delta_cap=settings.yearly_delta_cap, roots=[target.parent], target=target)
    return dp_protect_release(frames, year, catalogue, policy, settings)


def _spend_budget(release: ProtectedRelease, ledger: Path, target: Path, folder: Path) -> None:
    """Append the release to the ledger and keep its entry, with the ledger's new head, in
    the release's restricted/ (an anchor of the ledger outside itself)."""
    import json

    from suoja.protect.dp import check_and_append
    from suoja.protect.dp.anchor import BUDGET_FILE

    spent = release.restricted.extra["dp"]
    settings = release.policy.dp_settings()
    entry = check_and_append(ledger, str(release.year), spent["epsilon"], spent["delta"],
                             settings.yearly_epsilon_cap, release.year, dry_run=False,
                             delta_cap=settings.yearly_delta_cap, roots=[target.parent],
                             target=target)
    record = {**entry, "ledger": str(ledger),
              "ledger_head": {"entries": entry["seq"], "hash": entry["hash"]}}
    path = folder / "restricted" / BUDGET_FILE
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    path.chmod(0o600)


def _same_tables(written: Mapping[str, pl.DataFrame],
                 tables: Mapping[str, pl.DataFrame]) -> bool:
    """Whether the tables read back from ``open/`` are exactly the release's tables."""
    if set(written) != set(tables):
        return False
    for name, table in tables.items():
        back = written[name]
        if back.columns != table.columns or not back.cast(table.schema).equals(table):
            return False
    return True


def _audit_written(open_dir: Path, release: ProtectedRelease,
                   earlier: Mapping[int, Mapping[str, pl.DataFrame]]) -> pl.DataFrame:
    """The audit of what was written to ``open/``, from public information only.

    The joint audit is a function of the published tables, the earlier releases, the
    catalogue and the policy. When the files read back are exactly the tables the
    protection step audited last, that result stands; otherwise it is recomputed.
    """
    from suoja.protect.release_audit import audit_open, read_open_tables

    written = read_open_tables(open_dir, release.catalogue)
    audited = release.restricted.audit
    # Counts of distinct codes are no margins of a cube: the audit neither reads nor models them.
    tables = {s.id: release.tables[s.id] for s in release.catalogue.tables}
    if audited is not None and _same_tables(written, tables):
        return audited
    return audit_open(open_dir, release.catalogue, release.policy, earlier, release.year)


def publish(year: int, register: Path, out: Path, *, policy_path: Path | None = None,
            catalogue_path: Path | None = None, force: bool = False,
            progress: Progress | None = None, privacy: str | None = None,
            previous: Sequence[Path] = (), allow_empty_year: bool = False,
            cubes: CubeSource | None = None) -> PublishResult:
    """Read, validate, protect, write and audit the release of ``year`` under ``out/year``.

    ``privacy`` ("suppression" or "dp") overrides the policy's ``[privacy] mode``. The
    earlier releases under ``out`` (and the release folders in ``previous``) are public:
    protection and the audit treat every cell published there as known, and the review
    compares with last year's published figures, never with the register. A year in
    which nothing of the register is dated is refused unless ``allow_empty_year`` (a
    deliberate release of zeros).

    ``cubes`` (``suoja.tables.engines``: a register computed by DuckDB or Spark, or a cube folder)
    replaces reading the register into memory; ``register`` is then not read here.

    Everything is written into a private temporary folder that replaces ``out/year`` only
    when the last file is written: a refused or failed release leaves nothing in place.
    """
    from suoja.protect.officer import officer_review
    from suoja.protect.release_audit import refuse_disclosure
    from suoja.release.portal import write_manifest
    from suoja.release.write import write_audit, write_files
    from suoja.review import write_review

    step = progress or (lambda _: None)
    if year < FIRST_YEAR or year > 2100:
        raise UsageError(f"year must be between {FIRST_YEAR} and 2100, got {year}")
    target = out / str(year)
    check_target(target, force=force)
    policy = read_policy(policy_path)
    if privacy is not None:
        policy = with_privacy(policy, privacy)
    catalogue = read_catalogue(catalogue_path)
    frames: dict[str, pl.DataFrame] = {}
    cube_set = None
    if cubes is not None:
        if policy.mode == "dp":
            raise UsageError("differential privacy bounds each person's contribution, which "
                             "needs the register itself: publish with --engine polars and "
                             "--register, not from an engine's cubes or a cube folder")
        cube_set = cubes.load(year, catalogue, allow_empty_year=allow_empty_year,
                              progress=step)
    else:
        step("Reading and validating the register")
        frames = read_register(register).frames
        if not allow_empty_year:
            check_year_has_data(frames, year, register)
    step("Computing and protecting the tables")
    ledger = ledger_path(register, policy) if policy.mode == "dp" else None
    release, earlier = _protect(frames, year, catalogue, policy, out, previous, ledger, target,
                                cube_set, step)
    step("Writing the release")
    with atomic_folder(target, force=force) as folder:
        write_files(release, folder)
        if ledger is None:
            step("Auditing open/ as an outsider would")
            audit = _audit_written(folder / "open", release, earlier)
        else:
            # Noise protects every figure; status C marks quality suppression only, and
            # recovering such a cell by difference reveals nothing the noise does not cover.
            audit = pl.DataFrame(schema=AUDIT_SCHEMA)
            _spend_budget(release, ledger, target, folder)
        refuse_disclosure(audit)
        write_audit(folder, audit, officer_review(release, audit))
        step("Writing the review")
        write_review(release, folder / "review")
        write_manifest(release, folder)
    return PublishResult(target=target, release=release, audit=audit, ledger=ledger)


def _protect(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
             policy: Policy, out: Path, previous: Sequence[Path], ledger: Path | None,
             target: Path, cube_set: CubeSet | None = None,
             progress: Progress | None = None,
             ) -> tuple[ProtectedRelease, dict[int, dict[str, pl.DataFrame]]]:
    """The protected release (suppression against the earlier releases, or DP noise) and
    the earlier releases it took as known."""
    from suoja.protect.distinct import with_distinct
    from suoja.protect.release_audit import read_previous

    earlier = {}
    if ledger is not None:
        release = _dp_release(frames, year, catalogue, policy, ledger, target)
    else:
        earlier = read_previous(out, year, catalogue, previous)
        release = protect_release(frames, year, catalogue, policy, earlier, progress=progress,
                                  cube_set=cube_set)
        # After the protection, from its cells; the audit models only the tables' cells.
        release = with_distinct(release)
        if year - 1 in earlier:
            release = replace(release, previous=ProtectedRelease(
                year=year - 1, catalogue=catalogue, policy=policy, tables=dict(earlier[year - 1]),
                restricted=Restricted(log=pl.DataFrame(schema=LOG_COLUMNS))))
    release.restricted.extra["earlier_releases"] = sorted(earlier)
    return release, earlier
