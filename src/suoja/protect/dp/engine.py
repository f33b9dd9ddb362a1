# ruff: noqa: RUF001, RUF003  (ε, δ, ρ are the notation of differential privacy)
"""``dp_protect_release``: a year's tables with differential privacy instead of suppression.

Register -> populations, at most ``B`` rows per person -> every published cell counted by
Polars and noised by OpenDP (one vector measurement per table, composed over the release)
-> per population, consistent non-negative integer tables (``suoja.protect.dp.postprocess``) ->
optional quality suppression of small noisy values -> a :class:`ProtectedRelease` with the
95 % error bound of every table and, for the privacy officer, one log row per cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from suoja.policy import Policy
from suoja.protect.dp.mechanism import (
    Budget,
    PopulationMeasure,
    TableMeasure,
    measure_tables,
    noisy_counts,
    plan_budget,
)
from suoja.protect.dp.postprocess import PopulationModel, build_model, postprocess
from suoja.protect.dp.settings import DPSettings
from suoja.protect.pooling import LOG_COLUMNS
from suoja.protect.protected import CONFIDENTIAL, ProtectedRelease, Restricted
from suoja.tables.catalogue import Catalogue

RULE = "dp"


@dataclass(frozen=True)
class DPPlan:
    """Everything about one release that does not depend on the noise: the tables as
    vectors (true and bounded counts), the budget and the post-processing models."""

    year: int
    settings: DPSettings
    populations: dict[str, PopulationMeasure]
    tables: tuple[TableMeasure, ...]
    budget: Budget
    models: dict[str, PopulationModel]
    person_ids: pl.Series

    def counted(self) -> dict[str, np.ndarray]:
        """The true counts after contribution bounding (what the noise is added to)."""
        return {t.spec.id: t.count(self.person_ids) for t in self.tables}

    def originals(self) -> dict[str, np.ndarray]:
        """The true counts of the published cells, before contribution bounding."""
        return {t.spec.id: t.cells["original"].to_numpy() for t in self.tables}


def plan_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                 settings: DPSettings) -> DPPlan:
    """Count, bound and budget every table of one year; nothing random yet."""
    populations = measure_tables(frames, year, catalogue, settings)
    by_id = {t.spec.id: t for p in populations.values() for t in p.tables}
    tables = tuple(by_id[spec.id] for spec in catalogue.tables)
    budget = plan_budget(tables, settings)
    models = {name: build_model(p) for name, p in populations.items()}
    ids = frames["persons"]["person_id"].cast(pl.String)
    return DPPlan(year, settings, populations, tables, budget, models, ids)


def release_figures(plan: DPPlan, noisy: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The published (post-processed) figures of every table from its noisy figures."""
    out: dict[str, np.ndarray] = {}
    for name, population in plan.populations.items():
        out.update(postprocess(population, plan.models[name], noisy, plan.budget.variances))
    return out


def _reason(plan: DPPlan, table: str, counted: int, original: int, bound: int,
            value: int, hidden: bool) -> str:
    budget, settings = plan.budget, plan.settings
    share = (f"ε share {budget.shares[table]:.3g}" if budget.mechanism == "laplace"
             else f"ρ share {budget.shares[table]:.3g} (zCDP)")
    text = (f"noise added: differential privacy ({settings.label}), {share}, "
            f"95% error ±{budget.bounds[table]:.0f}")
    if counted != original:
        text += (f"; counted {counted} of {original} after the contribution bound of {bound} "
                 "per person")
    if hidden:
        text += (f"; the noisy figure {value} is below {settings.suppress_below}: not published "
                 "(quality, not privacy)")
    return text


def assemble(plan: DPPlan, catalogue: Catalogue, policy: Policy,
             published: Mapping[str, np.ndarray], noisy: Mapping[str, np.ndarray],
             register_fingerprint: str = "") -> ProtectedRelease:
    """The protected release: tables, error bounds, and the restricted log and cells."""
    counted = plan.counted()
    threshold = plan.settings.suppress_below
    tables: dict[str, pl.DataFrame] = {}
    logs: list[dict[str, Any]] = []
    cells: dict[str, list[pl.DataFrame]] = {}
    for table in plan.tables:
        spec = table.spec
        value = np.asarray(published[spec.id], dtype=np.int64)
        hidden = (value > 0) & (value < threshold)
        frame = table.cells.with_columns(
            pl.Series("value", value, dtype=pl.Int64),
            pl.Series("hidden", hidden, dtype=pl.Boolean),
        )
        tables[spec.id] = frame.select(
            pl.lit(plan.year, pl.Int32).alias("year"), *spec.dimensions,
            pl.when(pl.col("hidden")).then(None).otherwise(pl.col("value")).alias("value"),
            pl.when(pl.col("hidden")).then(pl.lit(CONFIDENTIAL)).otherwise(None)
            .cast(pl.String).alias("status"))
        original = table.cells["original"].to_list()
        for i, key in enumerate(table.cells["key"].to_list()):
            logs.append({
                "table": spec.id, "cell": key, "original": original[i],
                "published": None if hidden[i] else str(int(value[i])), "rule": RULE,
                "reason": _reason(plan, spec.id, int(counted[spec.id][i]), original[i],
                                  table.bound, int(value[i]), bool(hidden[i]))})
        cells.setdefault(spec.population, []).append(pl.DataFrame({
            "table": [spec.id] * table.size,
            "key": table.cells["key"],
            "value": table.cells["original"],
            "counted": counted[spec.id],
            "noisy": np.asarray(noisy[spec.id], dtype=np.int64),
            "published": value,
            "status": [CONFIDENTIAL if h else "published" for h in hidden],
        }))
    budget = plan.budget
    extra = {"dp": {
        "mechanism": budget.mechanism,
        "epsilon": budget.epsilon, "delta": budget.delta, "rho": budget.rho,
        "policy_epsilon": plan.settings.epsilon, "policy_delta": plan.settings.delta,
        "privacy_unit": "person",
        "scales": budget.scales, "shares": budget.shares, "error_bounds_95": budget.bounds,
        "contribution_bounds": {n: p.bound for n, p in plan.populations.items()},
        "rows_dropped_by_bound": {n: p.dropped for n, p in plan.populations.items()},
        "suppress_below": threshold,
        "categories": {d: list(c) for d, c in plan.settings.categories.items()},
    }}
    restricted = Restricted(
        log=pl.DataFrame(logs, schema=LOG_COLUMNS).sort("table", "cell"),
        register_fingerprint=register_fingerprint,
        cells={name: pl.concat(parts) for name, parts in cells.items()},
        extra=extra,
    )
    return ProtectedRelease(year=plan.year, catalogue=catalogue, policy=policy, tables=tables,
                            restricted=restricted, error_bounds=dict(budget.bounds))


def dp_protect_release(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                       policy: Policy, settings: DPSettings, *,
                       seed: int | None = None) -> ProtectedRelease:
    """Compute and protect every table of one year with differential privacy.

    Like :func:`suoja.pipeline.protect_release`, nothing is written. Every published cell
    is a noisy count (OpenDP, one person as the privacy unit, the policy's ε and δ over
    the whole release), post-processed into non-negative integers consistent within and
    across the tables of each population. ``error_bounds`` holds each table's 95 % bound.

    ``seed`` is for tests only: it draws the same noise distribution from numpy, so that
    a run can be repeated. A release (``seed=None``) takes its noise from OpenDP's secure
    sampler.
    """
    from suoja.register.reader import register_fingerprint

    plan = plan_release(frames, year, catalogue, settings)
    noisy = noisy_counts(plan.tables, plan.budget, plan.person_ids, seed=seed)
    published = release_figures(plan, noisy)
    return assemble(plan, catalogue, policy, published, noisy, register_fingerprint(frames))
