"""The noise has the scale the budget promises; the budget is OpenDP's; bounds are enforced.

Noise-scale tests compare the empirical variance of many draws with the variance of the
distribution at the promised scale, with a relative tolerance TOL = 0.2. A scale wrong by a
factor 1.5 changes the variance by a factor 2.25 (or 0.44): it fails. With the right scale,
the relative standard error of the sample variance of n draws is sqrt((kurtosis - 1) / n):
for n = 100 000 integer-Laplace draws (kurtosis 6) it is 0.0071, so a false failure needs
a 28-standard-error deviation: probability below 1e-150 by the normal approximation, and
below 0.13 % even by Chebyshev's inequality, which assumes nothing about the distribution.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from suoja.protect.dp import parse_dp_settings
from suoja.protect.dp.engine import plan_release
from suoja.protect.dp.mechanism import (
    laplace_variance,
    noisy_counts,
    opendp,
    sample_discrete_gaussian,
    sample_discrete_laplace,
)
from suoja.register import read_register
from suoja.tables.catalogue import read_catalogue

CATALOGUE = read_catalogue()
N = 100_000
TOL = 0.2


def relative_variance_error(draws: np.ndarray, variance: float) -> float:
    return abs(float(np.mean(draws.astype(np.float64) ** 2)) / variance - 1)


@pytest.mark.parametrize("scale", [0.7, 16.0, 64.0])
def test_opendp_and_seeded_laplace_have_the_promised_scale(scale: float) -> None:
    dp = opendp()
    measurement = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T=int)),
                                    dp.l1_distance(T=int), scale=scale)
    from_opendp = np.asarray(measurement([0] * N))
    from_numpy = sample_discrete_laplace(np.random.default_rng(1), scale, N)
    variance = laplace_variance(scale)
    assert relative_variance_error(from_opendp, variance) < TOL
    assert relative_variance_error(from_numpy, variance) < TOL
    # a scale wrong by 1.5 either way is caught
    for wrong in (scale * 1.5, scale / 1.5):
        assert relative_variance_error(from_opendp, laplace_variance(wrong)) > TOL
        assert relative_variance_error(from_numpy, laplace_variance(wrong)) > TOL
    assert abs(float(from_opendp.mean())) < 6 * math.sqrt(variance / N)


@pytest.mark.parametrize("sigma", [2.5, 30.0])
def test_opendp_and_seeded_gaussian_have_the_promised_scale(sigma: float) -> None:
    # kurtosis 3: relative standard error sqrt(2 / n) = 0.0045; TOL is 44 of them
    dp = opendp()
    measurement = dp.m.make_gaussian(dp.vector_domain(dp.atom_domain(T=int)),
                                     dp.l2_distance(T=float), scale=sigma)
    from_opendp = np.asarray(measurement([0] * N))
    from_numpy = sample_discrete_gaussian(np.random.default_rng(2), sigma, N)
    assert relative_variance_error(from_opendp, sigma**2) < TOL
    assert relative_variance_error(from_numpy, sigma**2) < TOL
    assert relative_variance_error(from_opendp, (1.5 * sigma) ** 2) > TOL
    assert relative_variance_error(from_numpy, (sigma / 1.5) ** 2) > TOL


def test_the_budget_is_split_by_weight_and_composed_by_opendp(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    settings = parse_dp_settings({"epsilon": 1.0, "yearly_epsilon_cap": 1.0})
    plan = plan_release(frames, 2025, CATALOGUE, settings)
    budget = plan.budget
    n = len(CATALOGUE.tables)
    assert budget.measurement.map(1) <= 1.0
    assert budget.epsilon == pytest.approx(1.0, rel=1e-6)
    assert sum(budget.shares.values()) == pytest.approx(1.0)
    # scale = L1 sensitivity / ε share: 2^d margin levels, one row per person
    assert budget.scales["applications"] == pytest.approx(2 * n)
    assert budget.scales["new_clients"] == pytest.approx(4 * n)
    assert budget.scales["new_children"] == pytest.approx(n)
    # events: two rows per person at most
    assert budget.scales["exploitation_forms"] == pytest.approx(4 * 2 * n)
    assert budget.bounds["new_clients"] == pytest.approx(
        opendp().discrete_laplacian_scale_to_accuracy(4.0 * n, 0.05))


def test_gaussian_budget_fits_epsilon_and_delta(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    settings = parse_dp_settings({"epsilon": 1.0, "yearly_epsilon_cap": 1.0,
                                  "mechanism": "gaussian", "delta": 1e-6,
                                  "yearly_delta_cap": 1e-6})
    budget = plan_release(frames, 2025, CATALOGUE, settings).budget
    eps, delta = budget.measurement.map(1)
    assert eps <= 1.0 and delta <= 1e-6
    assert eps > 0.99  # the budget is used, not wasted
    assert budget.rho == pytest.approx(sum(budget.shares.values()))
    # sigma = L2 sensitivity / sqrt(2 rho_T)
    rho_t = budget.shares["new_clients"]
    assert budget.scales["new_clients"] == pytest.approx(2.0 / math.sqrt(2 * rho_t))


def test_release_noise_has_the_budgeted_scale(tiny_register: Path) -> None:
    """End to end, production path: noisy minus true counts, standardised by the budget.

    About 980 cells a release, 30 releases: n = 29 000, relative standard error of the
    variance 0.013 (Laplace), TOL is 15 of them (false failure below 1e-40).
    """
    frames = read_register(tiny_register).frames
    settings = parse_dp_settings({"epsilon": 2.0, "yearly_epsilon_cap": 2.0})
    plan = plan_release(frames, 2025, CATALOGUE, settings)
    counted = plan.counted()
    residuals = []
    for _ in range(30):
        noisy = noisy_counts(plan.tables, plan.budget, plan.person_ids)
        for table, values in noisy.items():
            residuals.append((values - counted[table])
                             / math.sqrt(plan.budget.variances[table]))
    draws = np.concatenate(residuals)
    assert draws.size > 25_000
    assert relative_variance_error(draws, 1.0) < TOL


def _register_with_busy_victim(tiny_register: Path, events: int) -> dict[str, pl.DataFrame]:
    frames = dict(read_register(tiny_register).frames)
    import datetime as dt

    extra = pl.DataFrame({
        "event_id": [f"X{i}" for i in range(events)], "person_id": ["P1"] * events,
        "form": ["BEGGING"] * events, "rank": ["SECONDARY"] * events,
        "country": ["FIN"] * events, "sector": [None] * events,
        "identified": [dt.date(2025, 2, 1)] * events,
    }, schema=frames["exploitation"].schema)
    frames["exploitation"] = pl.concat([frames["exploitation"], extra])
    return frames


def test_contribution_bound_is_enforced_before_counting(tiny_register: Path) -> None:
    frames = _register_with_busy_victim(tiny_register, 5)
    settings = parse_dp_settings({"epsilon": 1.0, "yearly_epsilon_cap": 1.0,
                                  "max_events_per_person": 2})
    plan = plan_release(frames, 2025, CATALOGUE, settings)
    events = plan.populations["new_client_events"]
    assert events.bound == 2 and events.dropped == 5  # P1 had 7 events in 2025
    counted = plan.counted()
    table = next(t for t in plan.tables if t.spec.id == "exploitation_forms")
    total = int(counted["exploitation_forms"][0])
    original = int(table.cells["original"][0])
    assert (total, original) == (2, 7)
    # the primary event is among those kept
    assert counted["exploitation_forms"][table.cells["key"].to_list().index(
        "form=FORCED_LABOUR;sex=_T")] == 1
    # one person moves every table by at most its sensitivity
    everyone = plan.person_ids
    for t in plan.tables:
        for person in everyone.to_list():
            without = everyone.filter(everyone != person)
            change = t.count(everyone) - t.count(without)
            assert np.abs(change).sum() <= t.l1
            assert math.sqrt(float((change**2).sum())) <= t.l2 + 1e-9


def test_category_keys_come_from_the_code_lists(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    settings = parse_dp_settings({"epsilon": 1.0, "yearly_epsilon_cap": 1.0})
    plan = plan_release(frames, 2025, CATALOGUE, settings)
    table = next(t for t in plan.tables if t.spec.id == "new_clients_citizenship")
    assert table.size == len(CATALOGUE.dimensions["citizenship"].codes) + 1
    # a register with other citizenships has exactly the same cells
    other = dict(frames)
    other["persons"] = frames["persons"].with_columns(pl.lit("SOM").alias("citizenship"))
    plan2 = plan_release(other, 2025, CATALOGUE, settings)
    for a, b in zip(plan.tables, plan2.tables, strict=True):
        assert a.cells["key"].to_list() == b.cells["key"].to_list()


def test_fixed_public_lists_pool_the_rest_into_other(tiny_register: Path) -> None:
    frames = read_register(tiny_register).frames
    settings = parse_dp_settings({"epsilon": 1.0, "yearly_epsilon_cap": 1.0,
                                  "categories": {"citizenship": ["FIN", "SOM"],
                                                 "sector": ["01"]}})
    plan = plan_release(frames, 2025, CATALOGUE, settings)
    by_id = {t.spec.id: t for t in plan.tables}
    cit = by_id["new_clients_citizenship"]
    assert cit.cells["citizenship"].to_list() == ["_T", "FIN", "SOM", "_O"]
    counted = dict(zip(cit.cells["key"].to_list(), plan.counted()[cit.spec.id], strict=True))
    assert counted["citizenship=_O"] == 1  # P1 (NPL) became a client in 2025
    sectors = by_id["finland_forced_labour_sectors"]
    assert sectors.cells["sector"].to_list() == ["_T", "01", "_U", "_O"]
