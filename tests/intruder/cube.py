"""A population's counts as small integer tables joined along a junction tree.

Every rule, fact and published cell about a population is a sum over a margin of its cube
(a set of dimensions, the "hyperedge"). Triangulating the graph of those margins gives
cliques; non-negative integer tables on the cliques that agree on their separators always
come from some non-negative integer cube (couple them separator cell by separator cell), so
the cliques are an exact, much smaller stand-in for the full cube.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

from ortools.sat.python import cp_model


def junction_tree(
    dims: list[str], hyperedges: Iterable[frozenset[str]], size: dict[str, int]
) -> tuple[list[tuple[str, ...]], list[tuple[int, int]]]:
    """Cliques (in ``dims`` order) and tree edges covering every hyperedge."""
    nbrs: dict[str, set[str]] = {d: set() for d in dims}
    for e in hyperedges:
        for a, b in itertools.combinations(sorted(e), 2):
            nbrs[a].add(b)
            nbrs[b].add(a)
    found: list[frozenset[str]] = []
    left = set(dims)
    while left:
        def cost(v: str) -> tuple[int, int, int]:
            n = nbrs[v] & left
            fill = sum(1 for a, b in itertools.combinations(n, 2) if b not in nbrs[a])
            return fill, math.prod(size[x] for x in n | {v}), dims.index(v)

        v = min(left, key=cost)
        n = nbrs[v] & left
        for a, b in itertools.combinations(n, 2):
            nbrs[a].add(b)
            nbrs[b].add(a)
        found.append(frozenset(n | {v}))
        left.remove(v)
    maximal = [c for c in found if not any(c < o for o in found)]
    maximal = list(dict.fromkeys(maximal)) or [frozenset()]
    cliques = [tuple(d for d in dims if d in c) for c in maximal]
    # Kruskal on separator sizes: a maximum spanning tree of a chordal graph's cliques
    # is a junction tree.
    pairs = sorted(
        itertools.combinations(range(len(cliques)), 2),
        key=lambda p: -len(maximal[p[0]] & maximal[p[1]]),
    )
    root = list(range(len(cliques)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    edges = []
    for i, j in pairs:
        if find(i) != find(j):
            root[find(i)] = find(j)
            edges.append((i, j))
    _check_running_intersection(maximal, edges)
    return cliques, edges


def _check_running_intersection(
    cliques: list[frozenset[str]], edges: list[tuple[int, int]]
) -> None:
    adj: dict[int, list[int]] = {i: [] for i in range(len(cliques))}
    for i, j in edges:
        adj[i].append(j)
        adj[j].append(i)
    for d in set().union(*cliques):
        holders = {i for i, c in enumerate(cliques) if d in c}
        start = next(iter(holders))
        seen, stack = {start}, [start]
        while stack:
            for j in adj[stack.pop()]:
                if j in holders and j not in seen:
                    seen.add(j)
                    stack.append(j)
        if seen != holders:
            raise AssertionError(f"not a junction tree for {d}: {cliques} {edges}")


class Cube:
    """The integer unknowns of one population in one year."""

    def __init__(
        self,
        model: cp_model.CpModel,
        name: str,
        codes: dict[str, list[str]],
        hyperedges: list[frozenset[str]],
        big: int,
        derived: dict[str, tuple[str, dict[str, str]]] | None = None,
    ) -> None:
        self.name = name
        self.codes = codes
        # derived[coarse] = (fine, class of each fine code): a function of another dimension
        self.derived = derived or {}
        dims = list(codes)
        size = {d: len(c) for d, c in codes.items()}
        self.cliques, edges = junction_tree(dims, hyperedges, size)
        self.vars: list[dict[tuple[str, ...], cp_model.IntVar]] = []
        for k, clique in enumerate(self.cliques):
            cells = [c for c in itertools.product(*(codes[d] for d in clique))
                     if self._consistent(dict(zip(clique, c, strict=True)))]
            self.vars.append(
                {c: model.new_int_var(0, big, f"{name}#{k}[{','.join(c)}]") for c in cells}
            )
        for i, j in edges:
            sep = [d for d in self.cliques[i] if d in self.cliques[j]]
            for combo in itertools.product(*(codes[d] for d in sep)):
                fixed = {d: {c} for d, c in zip(sep, combo, strict=True)}
                model.add(self._sum(i, fixed) == self._sum(j, fixed))

    def _consistent(self, cell: dict[str, str]) -> bool:
        return all(
            cmap[cell[fine]] == cell[coarse]
            for coarse, (fine, cmap) in self.derived.items()
            if coarse in cell and fine in cell
        )

    def _coarsen(self, fixed: dict[str, set[str]]) -> dict[str, set[str]]:
        """Say a fixed set of fine codes by classes where it is a union of whole classes."""
        out = dict(fixed)
        for coarse, (fine, cmap) in self.derived.items():
            if fine not in out:
                continue
            allowed = out[fine] & set(self.codes[fine])
            classes = {cmap[c] for c in allowed}
            if all(c in allowed for c in self.codes[fine] if cmap[c] in classes):
                del out[fine]
                out[coarse] = classes
        return out

    def clique_for(self, dims: Iterable[str]) -> int:
        need = set(dims)
        for k, clique in enumerate(self.cliques):
            if need <= set(clique):
                return k
        raise KeyError(f"{self.name}: no clique holds {sorted(need)}")

    def margin(self, fixed: dict[str, set[str]]) -> cp_model.LinearExprT:
        """The count of units whose code of each fixed dimension is among the given ones."""
        for d, allowed in fixed.items():
            if d not in self.codes:
                raise KeyError(f"{self.name}: no dimension {d}")
            if not allowed & set(self.codes[d]):
                return 0
        try:
            return self._sum(self.clique_for(fixed), fixed)
        except KeyError:
            fixed = self._coarsen(fixed)
            return self._sum(self.clique_for(fixed), fixed)

    def _sum(self, k: int, fixed: dict[str, set[str]]) -> cp_model.LinearExprT:
        clique = self.cliques[k]
        pos = [(clique.index(d), allowed) for d, allowed in fixed.items()]
        return cp_model.LinearExpr.sum(
            [v for c, v in self.vars[k].items() if all(c[i] in a for i, a in pos)]
        )

    def cells(self, dims: Iterable[str]) -> Iterable[tuple[dict[str, str], cp_model.IntVar]]:
        """The unknowns of a clique holding ``dims``, with their codes (or codes' classes)."""
        dims = list(dims)
        to_coarse = {fine: coarse for coarse, (fine, _) in self.derived.items()}
        try:
            k, back = self.clique_for(dims), {}
        except KeyError:
            k = self.clique_for([to_coarse.get(d, d) for d in dims])
            back = {to_coarse[d]: d for d in dims if d in to_coarse}
        for c, v in self.vars[k].items():
            yield {back.get(d, d): x for d, x in zip(self.cliques[k], c, strict=True)}, v
