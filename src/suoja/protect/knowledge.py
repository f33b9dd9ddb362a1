"""The outsider's knowledge besides the published cells: declared facts, as the engine
and the audit use them.

This module turns the catalogue's facts (``suoja.tables.facts``) into what the linear model of
one population needs: structural zeros as boxes of leaf codes. A leaf may stand for many
codes (``_O`` pools the small categories), and is inside a box only when every code it
stands for is, so that a pooled category never absorbs, or is wrongly denied, a unit.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from suoja.protect.model import ZeroBox
from suoja.tables.facts import Fact, IffFact

OTHER = "_O"


Groups = Mapping[str, Mapping[str, Collection[str]]]
"""Per dimension, the leaves that stand for several codes: ``{"citizenship": {"_O": ...}}``."""


def members(leaf: str, dim: str, groups: Groups) -> frozenset[str]:
    """The codes a leaf stands for: itself, or the codes of its group."""
    if leaf in groups.get(dim, {}):
        return frozenset(groups[dim][leaf])
    return frozenset({leaf})


def _inside(codes: frozenset[str], dim: str, leaves: Sequence[str], groups: Groups) -> set[str]:
    return {leaf for leaf in leaves if members(leaf, dim, groups) <= codes}


def pooled_groups(pooled: Mapping[str, Collection[str]]) -> dict[str, dict[str, Collection[str]]]:
    """Groups for a pooled cube: ``_O`` stands for the pooled codes of each dimension."""
    return {dim: {OTHER: codes} for dim, codes in pooled.items()}


def structural_boxes(
    facts: Sequence[Fact],
    population: str,
    domains: Mapping[str, Sequence[str]],
    all_codes: Mapping[str, Collection[str]],
    groups: Groups | None = None,
) -> list[ZeroBox]:
    """The structural zeros of one population as boxes over its leaf codes.

    Args:
        facts: The catalogue's declared facts (only ``iff`` facts of ``population`` count).
        population: The population whose model is built.
        domains: The model's leaf codes per dimension (``_O`` for pooled codes).
        all_codes: Every code a unit can have, per dimension (pooled ones included).
        groups: The leaves that stand for several codes (``pooled_groups``).

    Returns:
        ``(fact id, {dimension: leaf codes})`` boxes; a finest cell wholly inside one holds
        no unit. ``iff(L, R)`` gives two boxes: L and not R, not L and R.
    """
    pooled = groups or {}
    boxes: list[ZeroBox] = []
    for fact in facts:
        if not isinstance(fact, IffFact) or fact.population != population:
            continue
        left, right = fact.left, fact.right
        if left.dimension not in domains or right.dimension not in domains:
            continue
        not_left = frozenset(all_codes[left.dimension]) - left.codes
        not_right = frozenset(all_codes[right.dimension]) - right.codes
        for a, b in ((left.codes, not_right), (not_left, right.codes)):
            box = {left.dimension: _inside(a, left.dimension, domains[left.dimension], pooled),
                   right.dimension: _inside(b, right.dimension, domains[right.dimension],
                                            pooled)}
            if all(box.values()):
                boxes.append((fact.id, box))
    return boxes
