"""Disclosure policies (``policies/*.toml``) read into validated, frozen objects."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from suoja._resources import policies_dir
from suoja._toml import check_keys, load
from suoja.errors import PolicyError

ZERO_RULES = ("publish", "sensitive")
INTERVAL_RULES = ("exact", "threshold")
PRIVACY_MODES = ("suppression", "dp")
POOLABLE = ("citizenship", "sector")


@dataclass(frozen=True)
class Policy:
    """What may be published: threshold, pooling, secondary suppression, privacy mode."""

    min_count: int = 5
    zeros: str = "publish"
    pool: tuple[str, ...] = POOLABLE
    method: str = "optimal"
    singletons: bool = True
    interval: str = "threshold"
    mode: str = "suppression"
    ledger: str = ""
    """The privacy budget ledger (absolute); empty: one per register in the state folder."""
    dp: dict[str, Any] = field(default_factory=dict)
    fingerprint: str = ""
    source: str = "built-in"
    work_limit: int | None = None
    """Elementary steps the Gaussian elimination may take (``secondary.work_limit``)."""
    cell_cost: float = 1.0
    """Cost of hiding a cell (``secondary.cell_cost``); see ``SuppressionRules``."""
    unit_cost: float = 0.0
    """Cost of each unit in a hidden cell (``secondary.unit_cost``)."""
    unpick: bool = True
    """Publish again each secondary suppression the release does not need
    (``secondary.unpick``; ``suoja.protect.unpick.unpick``)."""

    def __post_init__(self) -> None:
        if isinstance(self.min_count, bool) or not isinstance(self.min_count, int) \
                or self.min_count < 1:
            raise PolicyError(f"threshold.min_count must be a whole number >= 1, "
                              f"got {self.min_count!r}")
        _choice("threshold.zeros", self.zeros, ZERO_RULES)
        _choice("secondary.interval", self.interval, INTERVAL_RULES)
        _choice("privacy.mode", self.mode, PRIVACY_MODES)
        for dim in self.pool:
            _choice("pooling.dimensions", dim, POOLABLE)
        if not isinstance(self.singletons, bool):
            raise PolicyError("secondary.singletons must be true or false, "
                              f"got {self.singletons!r}")
        if not isinstance(self.unpick, bool):
            raise PolicyError(f"secondary.unpick must be true or false, got {self.unpick!r}")

    def dp_settings(self) -> Any:
        """The ``[dp]`` table as checked settings (PolicyError naming the key if wrong)."""
        from suoja.protect.dp.settings import parse_dp_settings

        if not self.dp:
            raise PolicyError("privacy.mode is \"dp\" but the policy has no [dp] table")
        return parse_dp_settings(self.dp)

    def suppression_rules(self) -> Any:
        """The rules the protection engine applies."""
        from suoja.protect.rules import SuppressionRules

        try:
            return SuppressionRules(threshold=self.min_count,
                                    zeros_sensitive=self.zeros == "sensitive",
                                    singleton_protection=self.singletons,
                                    interval=self.interval, method=self.method,
                                    work_limit=self.work_limit,
                                    cell_cost=self.cell_cost, unit_cost=self.unit_cost)
        except ValueError as e:
            raise PolicyError(f"secondary: {e}") from None


def _choice(where: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise PolicyError(f"{where}: {value!r} is not allowed; allowed: {', '.join(allowed)}")


def _ledger(privacy: dict[str, Any], policy_path: Path) -> str:
    """``privacy.ledger``: a file path, relative to the policy's folder unless absolute."""
    if "ledger" not in privacy:
        return ""
    value = privacy["ledger"]
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"privacy.ledger: must be the path of the privacy budget ledger "
                          f"file, got {value!r}")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        path = policy_path.resolve().parent / path
    if path.is_dir() or value.strip().endswith(("/", "\\")):
        raise PolicyError(f"privacy.ledger: {value!r} is a folder; name the ledger file in it, "
                          "e.g. privacy_budget_ledger.jsonl")
    return str(path)


def default_policy_path() -> Path:
    """The policy shipped with suoja."""
    return policies_dir() / "default.toml"


def read_policy(path: Path | None = None) -> Policy:
    """Read a policy file; unknown keys and bad values are errors naming their TOML path."""
    path = path or default_policy_path()
    raw = load(path, PolicyError)
    check_keys(raw, str(path), {"threshold", "pooling", "secondary", "privacy", "dp"},
               {"threshold"}, PolicyError)
    threshold = raw["threshold"]
    check_keys(threshold, "threshold", {"min_count", "zeros"}, {"min_count"}, PolicyError)
    pooling = raw.get("pooling", {})
    check_keys(pooling, "pooling", {"dimensions"}, set(), PolicyError)
    secondary = raw.get("secondary", {})
    check_keys(secondary, "secondary", {"method", "singletons", "interval", "work_limit",
                                      "cell_cost", "unit_cost", "unpick"}, set(),
               PolicyError)
    privacy = raw.get("privacy", {})
    check_keys(privacy, "privacy", {"mode", "ledger"}, set(), PolicyError)
    policy = Policy(
        min_count=threshold["min_count"],
        zeros=threshold.get("zeros", "publish"),
        pool=tuple(pooling.get("dimensions", POOLABLE)),
        method=secondary.get("method", "optimal"),
        singletons=secondary.get("singletons", True),
        interval=secondary.get("interval", "threshold"),
        mode=privacy.get("mode", "suppression"),
        ledger=_ledger(privacy, path),
        dp=dict(raw.get("dp", {})),
        fingerprint=hashlib.sha256(path.read_bytes()).hexdigest(),
        source=str(path),
        work_limit=secondary.get("work_limit"),
        cell_cost=secondary.get("cell_cost", 1.0),
        unit_cost=secondary.get("unit_cost", 0.0),
        unpick=secondary.get("unpick", True),
    )
    policy.suppression_rules()
    if policy.mode == "dp" or policy.dp:
        policy.dp_settings()
    return policy


def with_privacy(policy: Policy, mode: str) -> Policy:
    """The policy with ``[privacy] mode`` overridden (``--privacy``); DP settings default
    to those of the shipped ``policies/dp.toml`` when the policy has none."""
    _choice("--privacy", mode, PRIVACY_MODES)
    dp = policy.dp
    if mode == "dp" and not dp:
        dp = load(policies_dir() / "dp.toml", PolicyError)["dp"]
    changed = replace(policy, mode=mode, dp=dict(dp))
    if mode == "dp":
        changed.dp_settings()
    return changed
