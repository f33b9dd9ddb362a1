"""Rounds of secondary suppression across a release: what the joint audit finds hides more.

Each population is protected on its own (``suoja.protect.suppress``); the joint audit
(``suoja.protect.release_audit.audit_views``) then looks at every population, the earlier
releases, the declared facts and the publication rules together. For each quantity it
finds narrowed too far, ``more_to_hide`` marks one more published cell that links it to be
hidden (or lets one already hidden move further); ``suoja.pipeline.protect_release``
protects again with these forced cells until the joint audit passes.
"""

from __future__ import annotations

import polars as pl

from suoja.policy import Policy
from suoja.protect.reasons import KNOWLEDGE_REASON
from suoja.protect.release_audit import ONE
from suoja.tables.catalogue import Catalogue
from suoja.tables.priorities import never_hide_keys


def more_to_hide(found: pl.DataFrame, views, catalogue: Catalogue, policy: Policy, year: int,
                  forced: dict[str, pl.DataFrame]) -> bool:
    """Add cells to hide for every quantity the joint audit finds; False if none can be."""
    from suoja.protect.joint import build_joint
    from suoja.protect.joint_ranges import JointAttacker, published_partners

    failed = found.filter(~pl.col("ok"))
    rules = policy.suppression_rules()
    codes = {d: dim.cube_codes for d, dim in catalogue.dimensions.items()}
    codes[ONE] = ("x",)
    joint = build_joint(views, catalogue.facts, rules, codes, [year, year - 1])
    attacker = JointAttacker(joint, rules.time_limit)
    wanted = set(failed.select("year", "table", "key").iter_rows())
    keep = never_hide_keys([v.cells for v in views if v.year == year], catalogue.priorities)
    added = False
    for y, table, key, _, row in joint.targets:
        if (y, table, key) not in wanted:
            continue
        # A published zero stays published: its finest cells are known to be empty. The
        # figures in the relations that hold the quantity itself come first: hide one more
        # of them, else let those already hidden move further; only then look at the rest
        # of the quantity's linked system.
        near = [p for p in published_partners(joint, attacker, row, year, direct=True)
                if p[3] > 0]
        fresh = _kept_last([p for p in near if not _is_forced(forced, p)], keep)
        if fresh:
            _force(forced, *fresh[0][:3], 1, min(1, fresh[0][3]))
            added = True
            continue
        if _widen(forced, near):
            added = True
            continue
        partners = [p for p in published_partners(joint, attacker, row, year) if p[3] > 0]
        fresh = _kept_last([p for p in partners if not _is_forced(forced, p)], keep)
        if fresh:
            _force(forced, *fresh[0][:3], 1, min(1, fresh[0][3]))
            added = True
        elif _widen(forced, partners):
            added = True
    return added


def _kept_last(partners: list, keep: set[tuple[str, str]]) -> list:
    """The partners, those the catalogue says never to hide last (a stable sort)."""
    return sorted(partners, key=lambda p: (p[1], p[2]) in keep)


def _widen(forced, partners) -> bool:
    """Let the hidden partners move twice as far as before (up to their whole value)."""
    widened = False
    for population, t, k, value in partners:
        up, down = _need(forced, population, t, k)
        if down < value or up < 2 * value + 1:
            _force(forced, population, t, k, max(1, 2 * up), min(value, max(1, 2 * down)))
            widened = True
    return widened


def _is_forced(forced, partner) -> bool:
    population, table, key, _ = partner
    frame = forced.get(population)
    return frame is not None and frame.filter((pl.col("table") == table)
                                              & (pl.col("key") == key)).height > 0


def _need(forced, population: str, table: str, key: str) -> tuple[int, int]:
    frame = forced[population].filter((pl.col("table") == table) & (pl.col("key") == key))
    return int(frame["up"].max()), int(frame["down"].max())


def _force(forced, population: str, table: str, key: str, up: int, down: int) -> None:
    row = pl.DataFrame({"table": [table], "key": [key], "up": [up], "down": [down],
                        "reason": [KNOWLEDGE_REASON]})
    frame = forced.get(population)
    if frame is not None:
        frame = frame.filter(~((pl.col("table") == table) & (pl.col("key") == key)))
        row = pl.concat([frame, row])
    forced[population] = row
