"""The front door: ``publish()`` runs the stages in order.

register (read, validate) -> tables (cubes, pooling, margins) -> protect (suppression or
differential privacy) -> release (open/, restricted/, review/) -> audit (from open/ alone).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from suoja._target import check_target
from suoja.catalogue import Catalogue, read_catalogue
from suoja.errors import ReleaseRefused, UsageError
from suoja.policy import Policy, read_policy, with_privacy
from suoja.pooling import LOG_COLUMNS, pool
from suoja.protected import CONFIDENTIAL, ProtectedRelease, Restricted
from suoja.register import read_register
from suoja.tables import (
    cell_key,
    cells_frame,
    compute_cubes,
    compute_tables,
    implicit_cells,
    is_implicit,
)

Progress = Callable[[str], None]
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
    def cells(self) -> int:
        """Published cells, margins included."""
        return sum(t.height for t in self.release.tables.values())

    @property
    def hidden(self) -> int:
        """Cells published empty."""
        return sum(t.filter(pl.col("status") == CONFIDENTIAL).height
                   for t in self.release.tables.values())


def register_fingerprint(frames: Mapping[str, pl.DataFrame]) -> str:
    """A SHA-256 over the register's contents, for the restricted folder only."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        digest.update(name.encode())
        digest.update(frames[name].hash_rows(seed=0).sort().to_numpy().tobytes())
    return digest.hexdigest()


def _merge(table: pl.DataFrame, spec_dims: tuple[str, ...], key: pl.Expr,
           protected: pl.DataFrame) -> pl.DataFrame:
    cells = protected.select("key", "published", "status")
    return (table.with_columns(key.alias("key")).join(cells, on="key", how="left")
            .select("year", *spec_dims,
                    pl.col("published").alias("value"),
                    pl.when(pl.col("status") == "published").then(None)
                    .otherwise(pl.lit(CONFIDENTIAL)).alias("status")))


def _suppression_log(protected: pl.DataFrame) -> pl.DataFrame:
    hidden = protected.filter((pl.col("status") != "published") & ~is_implicit(pl.col("table")))
    return hidden.select(pl.col("table"), pl.col("key").alias("cell"),
                         pl.col("value").alias("original"),
                         pl.lit(None, pl.String).alias("published"),
                         pl.col("status").alias("rule"), pl.col("reason")).cast(LOG_COLUMNS)


def _protect_single_count(cells: pl.DataFrame, threshold: int, unit: str) -> pl.DataFrame:
    """A population published as one count: nothing to compute it from, so primary only."""
    small = pl.col("value").is_between(1, threshold - 1)
    return cells.with_columns(
        pl.when(small).then(pl.lit("primary")).otherwise(pl.lit("published")).alias("status"),
        pl.when(small).then(None).otherwise(pl.col("value")).alias("published"),
        pl.when(small).then(pl.format("{} " + unit + ", below the threshold of " + str(threshold),
                                      pl.col("value"))).alias("reason"),
    )


def protect_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                    policy: Policy) -> ProtectedRelease:
    """Compute, pool and protect every table of one year (nothing is written)."""
    from suoja.protect import protect

    cubes = compute_cubes(frames, catalogue, year)
    pooled = {name: pool(cube, catalogue, policy.pool, policy.min_count)
              for name, cube in cubes.items()}
    cubes = {name: p.cube for name, p in pooled.items()}
    tables = compute_tables(cubes, catalogue, year)
    logs = [p.log for p in pooled.values()]
    protected_cells: dict[str, pl.DataFrame] = {}
    for name, cube in cubes.items():
        cells = cells_frame(tables, cube, catalogue)
        cells = pl.concat([cells, implicit_cells(cells, catalogue, name, cube.domains, "value")])
        unit = catalogue.populations[name].unit["en"]
        if cube.dimensions:
            # The engine words its reasons from the singular ("1 person", "3 persons").
            unit = unit.removesuffix("s")
            protected_cells[name] = protect(cells, cube.domains, cube.finest,
                                            rules=policy.suppression_rules(), unit=unit)
        else:
            protected_cells[name] = _protect_single_count(cells, policy.min_count, unit)
        logs.append(_suppression_log(protected_cells[name]))
    out = {}
    for spec in catalogue.tables:
        rows = protected_cells[spec.population].filter(pl.col("table") == spec.id)
        out[spec.id] = _merge(tables[spec.id], spec.dimensions, cell_key(spec), rows)
    restricted = Restricted(log=pl.concat(logs).sort("table", "cell"),
                            register_fingerprint=register_fingerprint(frames),
                            cells=protected_cells)
    return ProtectedRelease(year=year, catalogue=catalogue, policy=policy, tables=out,
                            restricted=restricted)


def ledger_path(register: Path, policy: Policy) -> Path:
    """The privacy budget ledger of the register and policy, never of an output folder:
    the policy's ``[privacy] ledger``, else one per register (``suoja.dp.anchor``)."""
    from suoja.dp.anchor import default_ledger

    return (Path(policy.ledger) if policy.ledger else default_ledger(register)).resolve()


def _dp_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                policy: Policy, ledger: Path, target: Path) -> ProtectedRelease:
    """Noise instead of suppression; refused (exit 3) before any work if over a cap or if
    the ledger does not match its anchors."""
    from suoja.dp import check_and_append, dp_protect_release
    from suoja.dp.anchor import refuse_legacy

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

    from suoja.dp import check_and_append
    from suoja.dp.anchor import BUDGET_FILE

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


def publish(year: int, register: Path, out: Path, *, policy_path: Path | None = None,
            catalogue_path: Path | None = None, force: bool = False,
            progress: Progress | None = None, privacy: str | None = None) -> PublishResult:
    """Read, validate, protect, write and audit the release of ``year`` under ``out/year``.

    ``privacy`` ("suppression" or "dp") overrides the policy's ``[privacy] mode``.
    """
    from suoja.audit import audit_open
    from suoja.officer import officer_review
    from suoja.release import write_release
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
    step("Reading and validating the register")
    frames = read_register(register).frames
    step("Computing and protecting the tables")
    ledger = ledger_path(register, policy) if policy.mode == "dp" else None
    if ledger is not None:
        release = _dp_release(frames, year, catalogue, policy, ledger, target)
    else:
        release = protect_release(frames, year, catalogue, policy)
    # Under differential privacy a second year would spend that year's budget again.
    if year - 1 >= FIRST_YEAR and policy.mode != "dp":
        step("Protecting the previous year's tables for comparisons")
        previous = protect_release(frames, year - 1, catalogue, policy)
        release = replace(release, previous=previous)
    audits: list[pl.DataFrame] = []

    def finish(folder: Path) -> None:
        if policy.mode == "dp":
            # Noise protects every figure; status C marks quality suppression only, and
            # recovering such a cell by difference reveals nothing the noise does not cover.
            result = pl.DataFrame(schema=AUDIT_SCHEMA)
            assert ledger is not None
            _spend_budget(release, ledger, target, folder)
        else:
            step("Auditing open/ as an outsider would")
            result = audit_open(folder / "open", catalogue, policy)
        audits.append(result)
        failed = result.filter(~pl.col("ok"))
        if failed.height:
            first = failed.row(0, named=True)
            raise ReleaseRefused(
                f"the audit found {failed.height} hidden cell(s) an outsider can narrow down "
                f"too far, e.g. {first['table']} {first['key']}: {first['finding']}; "
                "nothing was written")
        audit_file = folder / "restricted" / "audit.json"
        audit_file.write_text(result.write_json(), encoding="utf-8")
        audit_file.chmod(0o600)
        page = folder / "restricted" / "review.html"
        page.write_text(officer_review(release, result), encoding="utf-8")
        page.chmod(0o600)
        step("Writing the review")
        write_review(release, folder / "review")

    step("Writing the release")
    write_release(release, target, force=force, extra=finish)
    return PublishResult(target=target, release=release, audit=audits[0], ledger=ledger)
