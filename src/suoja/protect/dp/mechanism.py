# ruff: noqa: RUF002, RUF003  (ε, δ, ρ are the notation of differential privacy)
"""The noise: contribution bounding, counting with Polars, OpenDP measurements and budget.

How one release is measured
===========================

* **Privacy unit.** One person (``person_id`` of the register). Two registers are
  neighbours when one has one more person, with all of that person's rows, than the other.
* **Contribution bounding, enforced.** Every population's rows are cut to at most ``B``
  rows per person before anything is counted (:func:`bound_units`): ``B =
  max_events_per_person`` for exploitation events (primary event first, then by event id),
  ``B = 1`` for the stock on 31 December (one open period per person), ``B =
  max_records_per_person`` for the other populations. The choice of the kept rows depends
  on the person's own rows only, so the bound holds for every neighbour.
* **Categories from the code lists.** Every table has every category of its code lists
  (or of the policy's fixed public list, the rest as ``_O``), zeros included; no key is
  taken from the data, so no key is released by its presence.
* **What gets noise.** Every published cell of every table, margins included: one OpenDP
  vector measurement per table over its whole vector of cells. One row of a person falls
  in exactly one cell of each of the table's ``2**d`` margin levels (``d`` dimensions), so
  one person moves the vector by at most ``L1 = 2**d * B`` and ``L2 = sqrt(2**d) * B``
  (all ``B`` rows may fall in the same cell). Noising the margins directly, instead of
  summing noisy cells, keeps the error of a total independent of how many categories it
  has (citizenship has 251); post-processing then reconciles the two.
* **Counting.** Polars counts (no OpenDP Polars plugin, so no pinned Polars release): each
  table is an OpenDP *user transformation* from the vector of person ids (symmetric
  distance: one person = distance 1) to the vector of counts, with the stability map
  ``d_in * L1`` (or ``* L2``), chained to ``make_laplace`` (integer Laplace, pure DP) or
  ``make_gaussian`` (discrete Gaussian, zCDP). The user transformation needs OpenDP's
  ``honest-but-curious`` feature: its stability claim is ours, and it holds because the
  bound is enforced on the rows first (tested in ``tests/test_dp_mechanism.py``).
* **Budget.** Table ``T`` gets the share ``w_T / sum(w)`` of the release's budget (``w``:
  ``weight`` in the catalogue, default 1) -- of ε for Laplace, of ρ for the Gaussian. The
  tables are composed with ``make_composition`` (basic composition); for the Gaussian the
  composition is converted with ``make_zCDP_to_approxDP`` and ``make_fix_delta``. The
  release's ε (and δ) is what OpenDP's privacy map of that composed measurement says for
  one person, and it must not exceed the policy's budget. A share is fixed when the
  measurement is built.
* **Randomness.** Production noise comes from OpenDP's samplers (its secure randomness).
  A ``seed`` draws the same distributions with numpy instead: for tests and benchmarks
  only, never for a release.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from suoja.codelists import OTHER, TOTAL, UNKNOWN
from suoja.errors import InternalError, UsageError
from suoja.protect.dp.noise import (
    laplace_variance,
    sample_discrete_gaussian,
    sample_discrete_laplace,
)
from suoja.protect.dp.settings import DPSettings
from suoja.tables.catalogue import Catalogue, TableSpec
from suoja.tables.cubes import Cube, cell_key, compute_cubes, compute_tables, population_units
from suoja.tables.populations import POPULATIONS

ALPHA = 0.05
"""Error bounds are stated at 95 %: a figure's noise is within the bound with probability 0.95."""

EVENTS = "new_client_events"
STOCK = "year_end"


def opendp() -> Any:
    """``opendp.prelude`` with the features suoja uses enabled."""
    try:
        import opendp.prelude as dp
    except ImportError:  # pragma: no cover - depends on the installation
        raise UsageError("differential privacy needs OpenDP: pip install 'suoja[dp]'") from None
    dp.enable_features("contrib", "honest-but-curious")
    return dp


# --- categories and contribution bounds ---------------------------------------------------


def domains_of(catalogue: Catalogue, settings: DPSettings, dims: Sequence[str]
               ) -> dict[str, tuple[str, ...]]:
    """Every code a unit can have in each dimension, from the code lists (never the data).

    A dimension with a fixed public list in the policy keeps the listed codes, ``_U`` and
    its cube-only codes; every other code of its code list is counted in ``_O``.
    """
    out = {}
    for dim in dims:
        dimension = catalogue.dimensions[dim]
        listed = settings.categories.get(dim)
        if listed is None:
            out[dim] = dimension.cube_codes
        else:
            keep = set(listed) | set(dimension.cube_only) | {UNKNOWN}
            out[dim] = (*(c for c in dimension.cube_codes if c in keep), OTHER)
    return out


def _recode(dims: Sequence[str], settings: DPSettings,
            domains: Mapping[str, tuple[str, ...]]) -> list[pl.Expr]:
    exprs = []
    for dim in dims:
        if dim in settings.categories:
            keep = [c for c in domains[dim] if c != OTHER]
            exprs.append(pl.when(pl.col(dim).is_in(keep)).then(pl.col(dim))
                         .otherwise(pl.lit(OTHER)).alias(dim))
    return exprs


def contribution_bound(population: str, settings: DPSettings) -> int:
    """How many rows of one person a population counts."""
    if population == EVENTS:
        return settings.max_events_per_person
    if population == STOCK:
        return 1
    return settings.max_records_per_person


def bound_units(frames: Mapping[str, pl.DataFrame], population: str, year: int,
                dims: Sequence[str], settings: DPSettings,
                domains: Mapping[str, tuple[str, ...]],
                catalogue: Catalogue | None = None) -> tuple[pl.DataFrame, int, int]:
    """The population's rows, at most ``B`` per person, with fixed categories recoded.

    Returns the kept rows (``person_id`` and the cube dimensions), ``B`` and how many rows
    were dropped. Which rows are kept depends on the person's own rows only: events by
    rank (primary first) then event id, other rows by their codes.
    """
    units = (population_units(population, frames, year, catalogue) if catalogue is not None
             else POPULATIONS[population](frames, year))
    bound = contribution_bound(population, settings)
    order: list[str | pl.Expr] = ["person_id"]
    if population == EVENTS:
        if "rank" in frames["exploitation"].columns:
            ranks = frames["exploitation"].lazy().select("event_id", "rank")
            units = units.join(ranks, on="event_id", how="left")
            order.append(pl.col("rank").fill_null("") != "PRIMARY")
        order.append("event_id")
    order = [*order, *dims]
    rows = units.collect()
    kept = (rows.sort(order)
            .filter(pl.int_range(pl.len()).over("person_id") < bound)
            .select("person_id", *dims)
            .with_columns(_recode(dims, settings, domains)))
    for dim in dims:
        unknown = kept.filter(~pl.col(dim).is_in(list(domains[dim])))[dim].unique().to_list()
        if unknown:
            raise InternalError(f"population {population}: {dim} codes {unknown[:5]} are not in "
                                "the code list; validation should have refused them")
    return kept, bound, rows.height - kept.height


# --- the tables as measured vectors ---------------------------------------------------------


@dataclass(frozen=True)
class TableMeasure:
    """One published table as a vector of cells, margins included, in published order.

    ``cells`` has the dimension codes, ``key`` (as in the suppression log) and ``original``
    (the true count, before contribution bounding). ``coords`` gives each cell in the
    population's cube coordinates (a code, or None for a total). ``rows`` has one row
    per (bounded unit, margin level) with the index of the cell it is counted in.
    """

    spec: TableSpec
    cells: pl.DataFrame
    coords: tuple[tuple[str | None, ...], ...]
    rows: pl.DataFrame
    bound: int

    @property
    def size(self) -> int:
        """Number of published cells."""
        return self.cells.height

    @property
    def levels(self) -> int:
        """Margin levels: every subset of the table's dimensions."""
        return 2 ** len(self.spec.dimensions)

    @property
    def l1(self) -> int:
        """How far one person can move the vector of counts, in L1."""
        return self.levels * self.bound

    @property
    def l2(self) -> float:
        """How far one person can move the vector of counts, in L2."""
        return math.sqrt(self.levels) * self.bound

    def count(self, person_ids: Sequence[str] | pl.Series) -> np.ndarray:
        """The counts of the rows of these persons (Polars counts)."""
        ids = person_ids if isinstance(person_ids, pl.Series) else pl.Series(person_ids,
                                                                             dtype=pl.String)
        counted = (self.rows.filter(pl.col("person_id").is_in(ids.implode()))
                   .group_by("cell").len())
        out = np.zeros(self.size, dtype=np.int64)
        out[counted["cell"].to_numpy()] = counted["len"].to_numpy()
        return out


@dataclass(frozen=True)
class PopulationMeasure:
    """A population's cube dimensions and domains, and its tables."""

    name: str
    dimensions: tuple[str, ...]
    domains: dict[str, tuple[str, ...]]
    tables: tuple[TableMeasure, ...]
    bound: int
    dropped: int


def _table_measure(spec: TableSpec, table: pl.DataFrame, units: pl.DataFrame,
                   dims: tuple[str, ...], bound: int) -> TableMeasure:
    cells = table.select(*spec.dimensions, cell_key(spec).alias("key"),
                         pl.col("value").alias("original"))
    coords = []
    for row in cells.drop("key", "original").iter_rows(named=True) if spec.dimensions \
            else [{}] * cells.height:
        coord: list[str | None] = []
        for dim in dims:
            if dim in spec.dimensions:
                coord.append(None if row[dim] == TOTAL else row[dim])
            else:
                coord.append(spec.where.get(dim))
        coords.append(tuple(coord))
    sliced = units.filter(*[pl.col(d) == c for d, c in spec.where.items()]) if spec.where \
        else units
    tdims = list(spec.dimensions)
    index = cells.select(*tdims).with_row_index("cell")
    parts = []
    for size in range(len(tdims) + 1):
        for subset in itertools.combinations(tdims, size):
            keyed = sliced.select("person_id", *[pl.col(d) if d in subset else
                                                 pl.lit(TOTAL).alias(d) for d in tdims])
            parts.append(keyed.join(index, on=tdims, how="inner") if tdims else
                         keyed.with_columns(pl.lit(0, pl.UInt32).alias("cell")))
    rows = pl.concat([p.select("person_id", pl.col("cell").cast(pl.UInt32)) for p in parts])
    return TableMeasure(spec, cells, tuple(coords), rows, bound)


def measure_tables(frames: Mapping[str, pl.DataFrame], year: int, catalogue: Catalogue,
                   settings: DPSettings) -> dict[str, PopulationMeasure]:
    """Every population's tables as vectors, true values and bounded rows (no noise yet)."""
    cubes = compute_cubes(frames, catalogue, year)
    recoded: dict[str, Cube] = {}
    for name, cube in cubes.items():
        domains = domains_of(catalogue, settings, cube.dimensions)
        exprs = _recode(cube.dimensions, settings, domains)
        finest = cube.finest
        if exprs:
            dims = list(cube.dimensions)
            finest = (finest.with_columns(exprs).group_by(dims).agg(pl.col("value").sum())
                      .sort(dims))
        recoded[name] = replace(cube, finest=finest, domains=domains)
    tables = compute_tables(recoded, catalogue, year)
    out = {}
    for name, cube in recoded.items():
        units, bound, dropped = bound_units(frames, name, year, cube.dimensions, settings,
                                            cube.domains, catalogue)
        measures = tuple(_table_measure(spec, tables[spec.id], units, cube.dimensions, bound)
                         for spec in catalogue.tables_of(name))
        out[name] = PopulationMeasure(name, cube.dimensions, dict(cube.domains), measures,
                                      bound, dropped)
    return out


# --- the budget and the OpenDP measurement --------------------------------------------------


@dataclass(frozen=True)
class Budget:
    """What the release spends, as OpenDP's privacy map of the composed measurement says.

    ``scales`` are the noise scales per table (Laplace scale, or Gaussian sigma),
    ``shares`` the table's share of ε (Laplace) or of ρ (Gaussian), ``bounds`` the 95 %
    accuracy of one noisy figure (OpenDP's accuracy utilities).
    """

    mechanism: str
    epsilon: float
    delta: float
    rho: float | None
    scales: dict[str, float]
    shares: dict[str, float]
    variances: dict[str, float]
    bounds: dict[str, float]
    measurement: Any = field(repr=False, compare=False, default=None)


def _chain(dp: Any, table: TableMeasure, mechanism: str, scale: float) -> Any:
    ids = dp.vector_domain(dp.atom_domain(T=str))
    counts = dp.vector_domain(dp.atom_domain(T=int))
    if mechanism == "laplace":
        l1 = table.l1
        count = dp.t.make_user_transformation(
            ids, dp.symmetric_distance(), counts, dp.l1_distance(T=int),
            lambda person_ids: table.count(person_ids).tolist(),
            lambda d_in: d_in * l1)
        return count >> dp.m.make_laplace(count.output_domain, count.output_metric, scale=scale)
    l2 = table.l2
    count = dp.t.make_user_transformation(
        ids, dp.symmetric_distance(), counts, dp.l2_distance(T=float),
        lambda person_ids: table.count(person_ids).tolist(),
        lambda d_in: math.nextafter(float(d_in) * l2, math.inf))
    return count >> dp.m.make_gaussian(count.output_domain, count.output_metric, scale=scale)


def _compose(dp: Any, tables: Sequence[TableMeasure], mechanism: str,
             scales: Mapping[str, float], delta: float) -> Any:
    composed = dp.c.make_composition([_chain(dp, t, mechanism, scales[t.spec.id])
                                      for t in tables])
    if mechanism == "gaussian":
        composed = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(composed), delta)
    return composed


def _rho_for(dp: Any, epsilon: float, delta: float) -> float:
    """The largest total ρ whose (ε, δ) conversion by OpenDP fits the budget (bisection)."""

    def spent(rho: float) -> float:
        gauss = dp.m.make_gaussian(dp.atom_domain(T=int), dp.absolute_distance(T=float),
                                   scale=math.sqrt(1.0 / (2.0 * rho)))
        return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(gauss), delta).map(1.0)[0]

    low, high = 1e-12, 1.0
    while spent(high) <= epsilon:
        low, high = high, high * 4
    for _ in range(60):
        mid = math.sqrt(low * high)
        if spent(mid) <= epsilon:
            low = mid
        else:
            high = mid
        if high / low < 1 + 1e-9:
            break
    return low


def plan_budget(tables: Sequence[TableMeasure], settings: DPSettings) -> Budget:
    """Split the policy's budget over the tables by weight and compose them with OpenDP.

    Raises InternalError if OpenDP's accounting of the composed measurement exceeds the
    policy's ε (or δ); that never happens unless the split is wrong.
    """
    dp = opendp()
    weights = {t.spec.id: t.spec.weight for t in tables}
    total = sum(weights.values())
    shares = {tid: w / total for tid, w in weights.items()}
    mechanism, delta = settings.mechanism, settings.delta
    rho = None
    if mechanism == "laplace":
        param = settings.epsilon
    else:
        param = rho = _rho_for(dp, settings.epsilon, delta)

    def scales_for(param: float) -> dict[str, float]:
        if mechanism == "laplace":
            return {t.spec.id: t.l1 / (param * shares[t.spec.id]) for t in tables}
        return {t.spec.id: t.l2 / math.sqrt(2.0 * param * shares[t.spec.id]) for t in tables}

    for attempt in range(20):
        scales = scales_for(param)
        composed = _compose(dp, tables, mechanism, scales, delta)
        used = composed.map(1)
        eps_used, delta_used = (used, 0.0) if mechanism == "laplace" else used
        if eps_used <= settings.epsilon and delta_used <= delta:
            break
        param *= 1 - 1e-9 * 4.0 ** attempt
    else:
        raise InternalError("could not fit the tables into the privacy budget")
    if mechanism == "laplace":
        variances = {tid: laplace_variance(s) for tid, s in scales.items()}
        bounds = {tid: float(dp.discrete_laplacian_scale_to_accuracy(s, ALPHA))
                  for tid, s in scales.items()}
    else:
        variances = {tid: s * s for tid, s in scales.items()}
        bounds = {tid: float(dp.discrete_gaussian_scale_to_accuracy(s, ALPHA))
                  for tid, s in scales.items()}
        rho = param
    return Budget(mechanism, float(eps_used), float(delta_used), rho, scales,
                  {tid: (param * shares[tid]) for tid in shares}, variances, bounds,
                  composed)


def noisy_counts(tables: Sequence[TableMeasure], budget: Budget, person_ids: Sequence[str],
                 *, seed: int | None = None,
                 rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Every table's vector of noisy counts.

    Without a seed (production), OpenDP's composed measurement is invoked on the person
    ids: it counts (through the tables' transformations) and adds the noise with its own
    secure sampler. With a seed or a numpy generator (tests and benchmarks only), the same
    counts get the same distribution of noise from numpy.
    """
    if seed is None and rng is None:
        released = budget.measurement(list(person_ids))
        return {t.spec.id: np.asarray(v, dtype=np.int64)
                for t, v in zip(tables, released, strict=True)}
    rng = rng if rng is not None else np.random.default_rng(seed)
    ids = pl.Series(list(person_ids), dtype=pl.String)
    return add_noise({t.spec.id: t.count(ids) for t in tables}, budget, rng)


def add_noise(counts: Mapping[str, np.ndarray], budget: Budget,
              rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Seeded noise for tests and benchmarks: the mechanism's distribution drawn by numpy."""
    sample: Callable[[np.random.Generator, float, int], np.ndarray] = (
        sample_discrete_laplace if budget.mechanism == "laplace" else sample_discrete_gaussian)
    return {tid: c + sample(rng, budget.scales[tid], c.size) for tid, c in counts.items()}
