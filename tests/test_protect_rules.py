"""SuppressionRules: defaults, validation with clear messages, and the range rule."""

from __future__ import annotations

import math

import pytest

from suoja.protect import SuppressionRules


def test_defaults():
    rules = SuppressionRules()
    assert (rules.threshold, rules.interval, rules.method) == (5, "threshold", "heuristic")
    assert rules.singleton_protection and not rules.zeros_sensitive
    assert not rules.protect_grand_total


@pytest.mark.parametrize(
    ("field", "value", "allowed"),
    [
        ("threshold", 0, "an integer of 1 or more"),
        ("threshold", 2.5, "an integer of 1 or more"),
        ("threshold", True, "an integer of 1 or more"),
        ("interval", "wide", "exact, threshold"),
        ("method", "magic", "heuristic, optimal, gauss"),
        ("zeros_sensitive", "yes", "True, False"),
        ("singleton_protection", 1, "True, False"),
        ("protect_grand_total", None, "True, False"),
        ("time_limit", 0, "a positive number of seconds"),
    ],
)
def test_invalid_values_name_field_value_and_allowed(field, value, allowed):
    with pytest.raises(ValueError) as error:
        SuppressionRules(**{field: value})
    message = str(error.value)
    assert f"SuppressionRules.{field}" in message
    assert repr(value) in message or str(value) in message
    assert allowed in message


def test_rules_are_frozen():
    with pytest.raises(AttributeError):
        SuppressionRules().threshold = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("interval", "lo", "hi", "ok"),
    [
        ("exact", 3, 3, False),
        ("exact", 2, 4, True),
        ("threshold", 2, 4, False),
        ("threshold", 0, 2, True),
        ("threshold", 1, 5, True),
        ("threshold", 1, math.inf, True),
        ("threshold", 0, 0, False),
    ],
)
def test_range_rule(interval, lo, hi, ok):
    assert SuppressionRules(interval=interval).range_ok(lo, hi) is ok
