"""The integer noise distributions: variances, and numpy samplers for tests and benchmarks
(a release draws its noise from OpenDP)."""

from __future__ import annotations

import math

import numpy as np


def laplace_variance(scale: float) -> float:
    """Variance of the integer (discrete) Laplace distribution, P(k) ~ exp(-|k|/scale)."""
    q = math.exp(-1.0 / scale)
    return 2.0 * q / (1.0 - q) ** 2


def sample_discrete_laplace(rng: np.random.Generator, scale: float, size: int) -> np.ndarray:
    """Integer Laplace noise, P(k) ~ exp(-|k|/scale): the difference of two geometrics.

    For tests and benchmarks only; a release draws its noise from OpenDP.
    """
    p = -math.expm1(-1.0 / scale)
    return rng.geometric(p, size).astype(np.int64) - rng.geometric(p, size).astype(np.int64)


def sample_discrete_gaussian(rng: np.random.Generator, sigma: float, size: int) -> np.ndarray:
    """Discrete Gaussian noise, P(k) ~ exp(-k^2/(2 sigma^2)) (Canonne, Kamath, Steinke 2020,
    algorithm 3: discrete Laplace proposals, accepted by rejection).

    For tests and benchmarks only; a release draws its noise from OpenDP.
    """
    t = math.floor(sigma) + 1
    out = np.empty(size, dtype=np.int64)
    filled = 0
    while filled < size:
        n = max(2 * (size - filled), 16)
        y = sample_discrete_laplace(rng, t, n)
        accept = rng.random(n) < np.exp(-((np.abs(y) - sigma**2 / t) ** 2) / (2 * sigma**2))
        take = y[accept][: size - filled]
        out[filled:filled + take.size] = take
        filled += take.size
    return out
