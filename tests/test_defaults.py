"""Library defaults equal the shipped policy's: a library user gets the release's protection."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from suoja.policy import Policy, read_policy
from suoja.protect.rules import SuppressionRules

REPO = Path(__file__).resolve().parents[1]


def test_suppression_rules_default_to_the_shipped_policy() -> None:
    """The same protection by default. The method is how cells are chosen, not how well
    they are protected: a release (``Policy``, the pipeline) searches the least-cost
    pattern of the whole release with the release audit inside, as shipped; a single
    table (``SuppressionRules``, ``protect``) has no release audit to search with and
    defaults to the heuristic."""
    shipped = read_policy(REPO / "policies" / "default.toml").suppression_rules()
    assert shipped.method == "optimal"
    assert replace(SuppressionRules(), method=shipped.method) == shipped
    assert Policy().suppression_rules() == shipped


def test_the_defaults_are_the_stronger_rules() -> None:
    rules = SuppressionRules()
    assert (rules.threshold, rules.interval, rules.singleton_protection,
            rules.zeros_sensitive, rules.method) == (5, "threshold", True, False, "heuristic")
