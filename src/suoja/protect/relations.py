"""Published relations between cells: a total and the parts that add up to it.

The linear model already holds every relation; these explicit ones serve the wording of
reasons (which sum would have exposed a cell) and the zero rule for margins.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from suoja.protect.cube import TOTAL, Dimension


@dataclass(frozen=True)
class Relation:
    """``total = sum(parts)`` along one dimension; rows index the sorted cells frame."""

    total: int
    parts: tuple[int, ...]
    dim: str


def children_of(dimension: Dimension) -> dict[str, list[str]]:
    """Direct children of every non-leaf code, in leaf order."""
    order = {code: int(cover.argmax()) for code, cover in dimension.covers.items()}
    children: dict[str, list[str]] = defaultdict(list)
    for code in sorted(order, key=lambda c: (order[c], c)):
        if code != TOTAL:
            children[dimension.parent(code)].append(code)
    return children


def _frontier(code: str, present: dict[str, int], children: dict[str, list[str]]) -> list[int]:
    """Rows of present codes that partition ``code``, descending where a child is absent."""
    rows: list[int] = []
    for child in children.get(code, []):
        if child in present:
            rows.append(present[child])
        elif child in children:
            below = _frontier(child, present, children)
            if not below:
                return []
            rows.extend(below)
        else:
            return []
    return rows


def find_relations(cells: pl.DataFrame, dimensions: Sequence[Dimension]) -> list[Relation]:
    """All relations among the cells' distinct coordinates, in a deterministic order.

    Args:
        cells: Cells sorted by table and key (row numbers refer to this order).
        dimensions: The cube dimensions.
    """
    names = [d.name for d in dimensions]
    first: dict[tuple[str, ...], int] = {}
    for row, coords in enumerate(cells.select(names).iter_rows()):
        first.setdefault(coords, row)
    relations: list[Relation] = []
    for d, dimension in enumerate(dimensions):
        children = children_of(dimension)
        groups: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
        for coords, row in first.items():
            groups[coords[:d] + coords[d + 1 :]][coords[d]] = row
        for present in groups.values():
            for code, row in present.items():
                if code not in children:
                    continue
                parts = _frontier(code, present, children)
                if parts:
                    relations.append(Relation(row, tuple(parts), dimension.name))
    return relations


def relations_by_row(relations: Sequence[Relation]) -> dict[int, list[int]]:
    """For each cell row, the indices of the relations it takes part in."""
    index: dict[int, list[int]] = defaultdict(list)
    for i, relation in enumerate(relations):
        index[relation.total].append(i)
        for part in relation.parts:
            index[part].append(i)
    return index
