"""Code lists, hierarchies and the leaf "atoms" of the cube behind a release's tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TOTAL = "_T"


def _ancestors(code: str, parents: Mapping[str, str], dim: str) -> list[str]:
    """The chain of parents above ``code`` up to (not including) the total."""
    chain: list[str] = []
    seen = {code}
    while (parent := parents.get(code, TOTAL)) != TOTAL:
        if parent in seen:
            raise ValueError(f"the hierarchy of {dim!r} has a cycle through {parent!r}")
        chain.append(parent)
        seen.add(parent)
        code = parent
    return chain


def _check_hierarchy(dim: str, leaves: Sequence[str], parents: Mapping[str, str]) -> None:
    leaf_set = set(leaves)
    for child, parent in parents.items():
        if parent in leaf_set:
            raise ValueError(
                f"the hierarchy of {dim!r} makes leaf code {parent!r} the parent of {child!r}"
            )
        if child == TOTAL:
            raise ValueError(f"the hierarchy of {dim!r} gives the total {TOTAL!r} a parent")


@dataclass(frozen=True)
class Dimension:
    """One dimension: leaf codes, parents, and the leaves each code covers.

    Attributes:
        name: Column name of the dimension.
        leaves: Leaf codes in the given order.
        parents: ``code -> parent`` for every code below the total.
        covers: ``code -> bool mask over leaves`` for the total, every leaf and parent.
    """

    name: str
    leaves: tuple[str, ...]
    parents: dict[str, str]
    covers: dict[str, np.ndarray]

    @classmethod
    def build(
        cls, name: str, leaves: Sequence[str], hierarchy: Mapping[str, str] | None
    ) -> Dimension:
        """Check the code list and hierarchy of one dimension and index its codes."""
        if len(set(leaves)) != len(leaves) or not leaves:
            raise ValueError(f"the code list of {name!r} is empty or has duplicate codes")
        if TOTAL in leaves:
            raise ValueError(f"the code list of {name!r} contains the total code {TOTAL!r}")
        parents = dict(hierarchy or {})
        _check_hierarchy(name, leaves, parents)
        covers = {TOTAL: np.ones(len(leaves), dtype=bool)}
        for index, leaf in enumerate(leaves):
            for code in (leaf, *_ancestors(leaf, parents, name)):
                covers.setdefault(code, np.zeros(len(leaves), dtype=bool))[index] = True
        for code in parents:
            if code not in covers:
                raise ValueError(f"the hierarchy of {name!r} has code {code!r} with no leaf below")
        return cls(name, tuple(leaves), parents, covers)

    def parent(self, code: str) -> str:
        """The parent of ``code`` (the total is its own parent)."""
        return TOTAL if code == TOTAL else self.parents.get(code, TOTAL)

    def cover(self, code: str, table: str = "?", key: str = "?") -> np.ndarray:
        """The leaves below ``code``; a ValueError names the cell with an unknown code."""
        try:
            return self.covers[code]
        except KeyError:
            raise ValueError(
                f"cell {table} {key} has code {code!r} in {self.name!r}, which is neither "
                f"a code of its list, a parent in its hierarchy nor {TOTAL!r}"
            ) from None


def atoms(
    dimension: Dimension, used: Sequence[str], extra: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """Group the leaves that every code in ``used`` (and every mask in ``extra``) treats alike.

    Returns:
        ``atom_of_leaf``: for each leaf, the index of its group, numbered by first leaf.
    """
    if not used and not extra:
        return np.zeros(len(dimension.leaves), dtype=np.int64)
    signature = np.stack([dimension.covers[code] for code in used] + list(extra), axis=1)
    packed = np.packbits(signature, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse.ravel()]


def atom_masks(dimension: Dimension, atom_of_leaf: np.ndarray, code: str) -> np.ndarray:
    """Which atoms have a leaf below ``code``."""
    mask = np.zeros(int(atom_of_leaf.max()) + 1, dtype=bool)
    mask[atom_of_leaf[dimension.covers[code]]] = True
    return mask


def ancestor(dimension: Dimension, code: str, steps: int) -> str:
    """The code ``steps`` levels above ``code`` (a leaf's parent is one step)."""
    for _ in range(steps):
        code = dimension.parent(code)
    return code
