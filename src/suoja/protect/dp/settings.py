# ruff: noqa: RUF001, RUF003  (ε, δ, ρ are the notation of differential privacy)
"""The ``[dp]`` table of a disclosure policy, read into a validated, frozen object.

Every problem is a :class:`suoja.errors.PolicyError` naming its TOML path, for example
``dp.epsilon: must be > 0, got -1``. The random seed is deliberately *not* a policy key:
production noise always comes from OpenDP's secure randomness; only tests pass a seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from suoja import codelists
from suoja.errors import PolicyError

MECHANISMS = ("laplace", "gaussian")
"""``laplace``: integer (discrete) Laplace noise, pure ε-DP. ``gaussian``: discrete Gaussian
noise, ρ-zCDP, converted by OpenDP to (ε, δ)-DP for the budget."""

FIXED_CATEGORY_DIMENSIONS = ("citizenship", "sector")
"""Dimensions whose shown categories the policy may fix in advance (the rest become ``_O``)."""

KEYS = {
    "mechanism", "epsilon", "delta", "yearly_epsilon_cap", "yearly_delta_cap",
    "max_events_per_person",
    "max_records_per_person", "suppress_below", "categories",
}
REQUIRED = {"epsilon", "yearly_epsilon_cap"}


@dataclass(frozen=True)
class DPSettings:
    """How a differentially private release is made.

    Attributes:
        mechanism: ``laplace`` (integer Laplace, pure ε-DP) or ``gaussian`` (discrete
            Gaussian, zCDP converted to (ε, δ)-DP).
        epsilon: the privacy-loss budget ε of one release (all its tables together), with
            one person as the privacy unit.
        delta: δ of (ε, δ)-DP; required for ``gaussian``, 0 for ``laplace``.
        yearly_epsilon_cap: the most ε that the releases of one statistical year may spend
            together (the ledger refuses a release beyond it).
        yearly_delta_cap: the most δ that the releases of one statistical year may spend
            together; required for ``gaussian``, 0 for ``laplace`` unless given.
        max_events_per_person: how many exploitation events of one person are counted
            (the contribution bound of the event tables); events beyond it are dropped,
            primary first, then by event id.
        max_records_per_person: how many rows one person may contribute to the other
            per-year populations (applications, decisions, ended relationships, new client
            periods, children, reflection periods); the stock on 31 December always counts a
            person once.
        suppress_below: quality suppression: noisy published values 1..suppress_below-1 are
            shown empty with status ``C`` (0 = off). Costs no privacy.
        categories: fixed public category lists per dimension (``citizenship``, ``sector``):
            the listed codes are shown, every other code of the code list is counted in
            ``_O``. Without a list the dimension shows its whole code list. Never derived
            from the data.
    """

    epsilon: float
    yearly_epsilon_cap: float
    mechanism: str = "laplace"
    delta: float = 0.0
    yearly_delta_cap: float = 0.0
    max_events_per_person: int = 2
    max_records_per_person: int = 1
    suppress_below: int = 0
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", MappingProxyType(dict(self.categories)))

    @property
    def label(self) -> str:
        """The mechanism in words, e.g. ``integer Laplace``."""
        return "integer Laplace" if self.mechanism == "laplace" else "discrete Gaussian"


def _number(raw: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PolicyError(f"{where}.{key}: must be a number, got {value!r}")
    return float(value)


def _whole(raw: Mapping[str, Any], key: str, where: str, default: int, low: int) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{where}.{key}: must be a whole number, got {value!r}")
    if value < low:
        raise PolicyError(f"{where}.{key}: must be >= {low}, got {value}")
    return value


def _categories(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected a table like {{citizenship = [\"NPL\", ...]}}, "
                          f"got {raw!r}")
    out: dict[str, tuple[str, ...]] = {}
    for dim, codes in raw.items():
        if dim not in FIXED_CATEGORY_DIMENSIONS:
            raise PolicyError(f"{where}: unknown key {dim!r}; allowed: "
                              f"{', '.join(FIXED_CATEGORY_DIMENSIONS)}")
        if not isinstance(codes, list) or not codes or \
                not all(isinstance(c, str) for c in codes):
            raise PolicyError(f"{where}.{dim}: expected a non-empty list of codes, got {codes!r}")
        known = set(codelists.codes(dim))
        for code in codes:
            if code not in known:
                raise PolicyError(f"{where}.{dim}: {code!r} is not in code list {dim!r}")
        duplicated = sorted({c for c in codes if codes.count(c) > 1})
        if duplicated:
            raise PolicyError(f"{where}.{dim}: {duplicated[0]!r} is listed twice")
        out[dim] = tuple(codes)
    return out


def _delta_cap(raw: Mapping[str, Any], where: str, mechanism: str, delta: float) -> float:
    """``yearly_delta_cap``: required with ``gaussian`` (δ adds up over releases too)."""
    if "yearly_delta_cap" not in raw:
        if mechanism == "gaussian":
            raise PolicyError(f"{where}: missing key 'yearly_delta_cap' (the gaussian mechanism "
                              "spends δ, and the releases of a year may spend only so much)")
        return 0.0
    cap = _number(raw, "yearly_delta_cap", where)
    if not delta <= cap < 1:
        raise PolicyError(f"{where}.yearly_delta_cap: must be >= delta ({delta:g}) and < 1, "
                          f"got {raw['yearly_delta_cap']!r}")
    return cap


def parse_dp_settings(raw: Mapping[str, Any], where: str = "dp") -> DPSettings:
    """Validate the policy's ``[dp]`` table.

    >>> parse_dp_settings({"epsilon": 1, "yearly_epsilon_cap": 2}).mechanism
    'laplace'
    >>> parse_dp_settings({"epsilon": -1, "yearly_epsilon_cap": 2})
    Traceback (most recent call last):
    ...
    suoja.errors.PolicyError: dp.epsilon: must be > 0, got -1
    """
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where}: expected a table, got {raw!r}")
    unknown = sorted(set(raw) - KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown key {unknown[0]!r}; allowed: "
                          f"{', '.join(sorted(KEYS))}")
    missing = sorted(REQUIRED - set(raw))
    if missing:
        raise PolicyError(f"{where}: missing key {missing[0]!r}")
    mechanism = raw.get("mechanism", "laplace")
    if mechanism not in MECHANISMS:
        raise PolicyError(f"{where}.mechanism: {mechanism!r} is not allowed; allowed: "
                          f"{', '.join(MECHANISMS)}")
    epsilon = _number(raw, "epsilon", where)
    if epsilon <= 0:
        raise PolicyError(f"{where}.epsilon: must be > 0, got {raw['epsilon']!r}")
    cap = _number(raw, "yearly_epsilon_cap", where)
    if cap < epsilon:
        raise PolicyError(f"{where}.yearly_epsilon_cap: must be >= epsilon ({epsilon:g}), "
                          f"got {raw['yearly_epsilon_cap']!r}")
    if mechanism == "gaussian":
        if "delta" not in raw:
            raise PolicyError(f"{where}: missing key 'delta' (the gaussian mechanism needs it)")
        delta = _number(raw, "delta", where)
        if not 0 < delta < 1:
            raise PolicyError(f"{where}.delta: must be > 0 and < 1, got {raw['delta']!r}")
    else:
        delta = _number(raw, "delta", where, 0.0)
        if delta != 0:
            raise PolicyError(f"{where}.delta: the laplace mechanism is pure ε-DP; delta must be "
                              f"0 or left out, got {raw['delta']!r}")
    delta_cap = _delta_cap(raw, where, mechanism, delta)
    return DPSettings(
        epsilon=epsilon,
        yearly_epsilon_cap=cap,
        mechanism=mechanism,
        delta=delta,
        yearly_delta_cap=delta_cap,
        max_events_per_person=_whole(raw, "max_events_per_person", where, 2, 1),
        max_records_per_person=_whole(raw, "max_records_per_person", where, 1, 1),
        suppress_below=_whole(raw, "suppress_below", where, 0, 0),
        categories=_categories(raw.get("categories", {}), f"{where}.categories"),
    )
