"""The policy's [dp] table: valid settings parse, every mistake names its TOML path."""

from __future__ import annotations

from pathlib import Path

import pytest

from suoja.errors import PolicyError
from suoja.policy import read_policy
from suoja.protect.dp import DPSettings, parse_dp_settings

ROOT = Path(__file__).resolve().parent.parent
BASE = {"epsilon": 1.0, "yearly_epsilon_cap": 2.0}


def test_the_shipped_dp_policy_parses() -> None:
    policy = read_policy(ROOT / "policies" / "dp.toml")
    assert policy.mode == "dp"
    settings = parse_dp_settings(policy.dp)
    assert isinstance(settings, DPSettings)
    assert settings.mechanism == "laplace" and settings.epsilon <= settings.yearly_epsilon_cap
    assert "NPL" in settings.categories["citizenship"]


def test_defaults() -> None:
    settings = parse_dp_settings(BASE)
    assert (settings.mechanism, settings.delta, settings.max_events_per_person,
            settings.max_records_per_person, settings.suppress_below) == ("laplace", 0.0, 2, 1, 0)
    assert dict(settings.categories) == {}


def test_gaussian_needs_delta_and_its_yearly_cap() -> None:
    settings = parse_dp_settings({**BASE, "mechanism": "gaussian", "delta": 1e-6,
                                  "yearly_delta_cap": 3e-6})
    assert (settings.delta, settings.yearly_delta_cap) == (1e-6, 3e-6)
    with pytest.raises(PolicyError, match=r"^dp: missing key 'delta'"):
        parse_dp_settings({**BASE, "mechanism": "gaussian"})
    with pytest.raises(PolicyError, match=r"^dp: missing key 'yearly_delta_cap'"):
        parse_dp_settings({**BASE, "mechanism": "gaussian", "delta": 1e-6})
    with pytest.raises(PolicyError, match=r"^dp\.yearly_delta_cap: must be >= delta"):
        parse_dp_settings({**BASE, "mechanism": "gaussian", "delta": 1e-6,
                           "yearly_delta_cap": 1e-7})
    assert parse_dp_settings(BASE).yearly_delta_cap == 0.0


@pytest.mark.parametrize(("change", "message"), [
    ({"seed": 1}, r"^dp: unknown key 'seed'; allowed: "),
    ({"epsilon": -1}, r"^dp\.epsilon: must be > 0, got -1$"),
    ({"epsilon": 0}, r"^dp\.epsilon: must be > 0, got 0$"),
    ({"epsilon": True}, r"^dp\.epsilon: must be a number"),
    ({"epsilon": "1"}, r"^dp\.epsilon: must be a number"),
    ({"yearly_epsilon_cap": 0.5}, r"^dp\.yearly_epsilon_cap: must be >= epsilon"),
    ({"mechanism": "exponential"}, r"^dp\.mechanism: 'exponential' is not allowed"),
    ({"delta": 1e-6}, r"^dp\.delta: the laplace mechanism is pure"),
    ({"mechanism": "gaussian", "delta": 1.5}, r"^dp\.delta: must be > 0 and < 1"),
    ({"yearly_delta_cap": "0"}, r"^dp\.yearly_delta_cap: must be a number"),
    ({"yearly_delta_cap": 1}, r"^dp\.yearly_delta_cap: must be >= delta \(0\) and < 1"),
    ({"max_events_per_person": 0}, r"^dp\.max_events_per_person: must be >= 1, got 0$"),
    ({"max_records_per_person": 1.5}, r"^dp\.max_records_per_person: must be a whole number"),
    ({"suppress_below": -1}, r"^dp\.suppress_below: must be >= 0"),
    ({"categories": {"sex": ["F"]}}, r"^dp\.categories: unknown key 'sex'"),
    ({"categories": {"citizenship": ["ZZZ"]}}, r"^dp\.categories\.citizenship: 'ZZZ' is not in"),
    ({"categories": {"citizenship": ["NPL", "NPL"]}}, r"listed twice"),
    ({"categories": {"sector": []}}, r"^dp\.categories\.sector: expected a non-empty list"),
])
def test_mistakes_name_their_toml_path(change: dict, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_dp_settings({**BASE, **change})


def test_required_keys_and_custom_path() -> None:
    with pytest.raises(PolicyError, match=r"^policy\.dp: missing key 'yearly_epsilon_cap'"):
        parse_dp_settings({"epsilon": 1}, where="policy.dp")
    with pytest.raises(PolicyError, match=r"^dp: expected a table"):
        parse_dp_settings([1])  # type: ignore[arg-type]


def test_settings_are_frozen() -> None:
    settings = parse_dp_settings({**BASE, "categories": {"sector": ["01"]}})
    with pytest.raises(AttributeError):
        settings.epsilon = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.categories["sector"] = ("02",)  # type: ignore[index]
