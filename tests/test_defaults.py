"""Library defaults equal the shipped policy's: a library user gets the release's protection."""

from __future__ import annotations

from pathlib import Path

from suoja.policy import Policy, read_policy
from suoja.protect.rules import SuppressionRules

REPO = Path(__file__).resolve().parents[1]


def test_suppression_rules_default_to_the_shipped_policy() -> None:
    shipped = read_policy(REPO / "policies" / "default.toml").suppression_rules()
    assert SuppressionRules() == shipped
    assert Policy().suppression_rules() == shipped


def test_the_defaults_are_the_stronger_rules() -> None:
    rules = SuppressionRules()
    assert (rules.threshold, rules.interval, rules.singleton_protection,
            rules.zeros_sensitive, rules.method) == (5, "threshold", True, False, "heuristic")
