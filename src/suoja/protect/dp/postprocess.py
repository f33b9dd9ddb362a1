"""Post-processing (no privacy cost): noisy cells to consistent, non-negative integer tables.

The noisy figures of one population's tables (margins included) are turned into one set of
non-negative integer tables whose parts add up to their margins, in every table and across
the linked tables of the population (the same total, the same slice, the same margin is
one number everywhere). As in the US Census Bureau's TopDown algorithm, in three steps:

1. **Model.** Every table of a population is a margin of the population's cube, maybe of
   one slice of it. The finest cross-classification can be huge (new clients: sex x age x
   251 citizenships x in Finland x residence status), but the tables only ever combine a
   few dimensions: table ``T`` lives in the dimensions ``K_T`` (its own and its slice's).
   The graph joining the dimensions of each ``K_T`` is triangulated; its maximal cliques
   (new clients: {sex, age}, {sex, in Finland}, {citizenship, in Finland}, {residence, in
   Finland}) form a junction tree. The unknowns ``x`` are the cells of every clique, tied
   by equal margins over each separator. By the running-intersection property, clique
   tables that are non-negative integers and agree on their separators are the margins of
   at least one non-negative integer finest cube (join them separator cell by separator
   cell, a transportation problem with integer data); so every published table is
   ``A x`` of one finest cube, consistent by construction.
2. **Estimate (generalised least squares).** The noisy cells ``y`` (variances ``v`` from
   the mechanism) give the minimum-variance consistent estimate ``z`` of every published
   figure: minimise ``sum (A x - y)^2 / v`` subject to the separator equalities. A total
   measured in several tables, and as the sum of its parts, is pooled from all of them.
   ``z`` is unbiased but may be negative and fractional.
3. **Non-negative integers, top-down.** The population total is fixed first: its GLS
   estimate, clipped at 0 and rounded. Then the cliques are visited root first. In each, a
   weighted non-negative least squares (accelerated projected gradient) fits the clique's
   cells to ``z`` for every figure first expressible in this clique, with the separator
   margins (at the root, the total) fixed to the integers already published; then the
   cells are rounded, within each separator cell, by largest remainders to exactly the
   fixed integer margin. Margins are fixed before their parts, so the clipping of noisy
   zeros in a long list of categories cannot inflate a total.

Effect on the error: the GLS step is a projection, which never increases the variance of
any figure and lowers it for every figure measured more than once (totals, margins of
two-way tables, totals shared by linked tables). Non-negativity removes negative figures
and moves small ones to 0 (lower error for empty and small cells), at the price of a
downward bias of the larger cells of a long list of mostly empty categories (their total
is fixed while the noise on the empty ones is clipped); rounding adds less than one per
figure in each clique. The stated 95 % bound is OpenDP's bound of the noise before
post-processing; ``benchmarks/bench_dp.py`` measures the error after it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from suoja.errors import InternalError
from suoja.protect.dp.mechanism import PopulationMeasure


@dataclass(frozen=True)
class Clique:
    """A set of cube dimensions (indices, in cube order) whose full cross table is unknown."""

    dims: tuple[int, ...]
    shape: tuple[int, ...]
    offset: int
    parent: int | None
    separator: tuple[int, ...]

    @property
    def size(self) -> int:
        """Number of cells."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def cells(self) -> np.ndarray:
        """Every cell as a column of codes (indices), shape (len(dims), size)."""
        if not self.shape:
            return np.zeros((0, 1), dtype=np.int64)
        return np.indices(self.shape).reshape(len(self.shape), -1)

    def margin(self, sub: Sequence[int]) -> sp.csr_matrix:
        """The matrix summing this clique's cells into the cells of dimensions ``sub``."""
        cells = self.cells()
        pos = [self.dims.index(d) for d in sub]
        sub_shape = tuple(self.shape[p] for p in pos)
        index = (np.ravel_multi_index(tuple(cells[pos]), sub_shape) if pos
                 else np.zeros(self.size, dtype=np.int64))
        n = int(np.prod(sub_shape, dtype=np.int64)) if sub_shape else 1
        return sp.csr_matrix((np.ones(self.size), (index, np.arange(self.size))),
                             shape=(n, self.size))


def _triangulate(n: int, sets: Sequence[frozenset[int]]) -> list[frozenset[int]]:
    """Maximal cliques of the graph joining the members of each set, made chordal by
    min-fill elimination (so that the cliques have a junction tree)."""
    nodes = set().union(*sets) if sets else set()
    adj = {v: set() for v in nodes}
    for s in sets:
        for a, b in itertools.combinations(sorted(s), 2):
            adj[a].add(b)
            adj[b].add(a)
    cliques: list[frozenset[int]] = []
    remaining = set(nodes)
    while remaining:
        def fill(v: int) -> tuple[int, int]:
            nb = adj[v] & remaining
            return sum(1 for a, b in itertools.combinations(sorted(nb), 2) if b not in adj[a]), v
        v = min(remaining, key=fill)
        nb = adj[v] & remaining
        for a, b in itertools.combinations(sorted(nb), 2):
            adj[a].add(b)
            adj[b].add(a)
        cliques.append(frozenset(nb | {v}))
        remaining.remove(v)
    maximal = [c for c in cliques if not any(c < o for o in cliques)]
    return list(dict.fromkeys(maximal)) or [frozenset()]


def _junction_tree(cliques: list[frozenset[int]], root: int) -> list[tuple[int, int | None]]:
    """A maximum-weight spanning tree of the cliques (weight: shared dimensions), as
    (clique, parent) pairs in breadth-first order from ``root``."""
    edges = sorted(((len(a & b), i, j) for (i, a), (j, b)
                    in itertools.combinations(enumerate(cliques), 2)), reverse=True)
    group = list(range(len(cliques)))

    def find(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    adj: dict[int, list[int]] = {i: [] for i in range(len(cliques))}
    for _, i, j in edges:
        gi, gj = find(i), find(j)
        if gi != gj:
            group[gi] = gj
            adj[i].append(j)
            adj[j].append(i)
    order, seen, queue = [], {root}, [(root, None)]
    while queue:
        node, parent = queue.pop(0)
        order.append((node, parent))
        for nxt in sorted(adj[node]):
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, node))
    return order


@dataclass(frozen=True)
class PopulationModel:
    """The linear model of one population's published cells (data-independent).

    ``matrix`` maps the clique cells ``x`` to every published cell (rows: the tables of
    the population in catalogue order, each in published order); ``constraints`` are the
    separator equalities; ``row_clique`` is the clique in which each row is fitted;
    ``zero`` marks structural zeros: clique cells with a code a table leaves out of its
    categories (``_Z``, not applicable: a rejection without a reason, a forced-labour event
    without a sector) inside that table's slice, so that its parts add up to its total.
    """

    tables: tuple[str, ...]
    sizes: tuple[int, ...]
    cliques: tuple[Clique, ...]
    matrix: sp.csr_matrix
    constraints: sp.csr_matrix
    row_clique: np.ndarray
    zero: np.ndarray

    @property
    def unknowns(self) -> int:
        """Number of clique cells."""
        return int(self.matrix.shape[1])


def build_model(population: PopulationMeasure) -> PopulationModel:
    """The cliques, junction tree and matrices of one population's tables."""
    dims = population.dimensions
    shape_of = {i: len(population.domains[d]) for i, d in enumerate(dims)}
    code_index = [{c: k for k, c in enumerate(population.domains[d])} for d in dims]
    sets = []
    for table in population.tables:
        used = {dims.index(d) for d in (*table.spec.dimensions, *table.spec.where)}
        sets.append(frozenset(used))
    cliques_raw = _triangulate(len(dims), sets)
    root = next(i for i, c in enumerate(cliques_raw) if sets[0] <= c)
    order = _junction_tree(cliques_raw, root)
    position = {raw: k for k, (raw, _) in enumerate(order)}
    cliques: list[Clique] = []
    offset = 0
    for raw, parent in order:
        members = tuple(sorted(cliques_raw[raw]))
        separator = tuple(sorted(cliques_raw[raw] & cliques_raw[parent])) if parent is not None \
            else ()
        clique = Clique(members, tuple(shape_of[d] for d in members), offset,
                        None if parent is None else position[parent], separator)
        cliques.append(clique)
        offset += clique.size
    n = offset
    rows, cols, row_clique = [], [], []
    r = 0
    cells_of = [c.cells() for c in cliques]
    for table in population.tables:
        for coord in table.coords:
            support = tuple(i for i, code in enumerate(coord) if code is not None)
            k = next((k for k, c in enumerate(cliques) if set(support) <= set(c.dims)), None)
            if k is None:
                raise InternalError(f"{table.spec.id}: no clique holds the dimensions {support}")
            clique = cliques[k]
            match = np.ones(clique.size, dtype=bool)
            for i in support:
                match &= cells_of[k][clique.dims.index(i)] == code_index[i][coord[i]]
            hit = np.flatnonzero(match) + clique.offset
            rows.append(np.full(hit.size, r))
            cols.append(hit)
            row_clique.append(k)
            r += 1
    matrix = sp.csr_matrix((np.ones(sum(c.size for c in cols)),
                            (np.concatenate(rows), np.concatenate(cols))), shape=(r, n))
    blocks = []
    for clique in cliques:
        if clique.parent is None:
            continue
        parent = cliques[clique.parent]
        own = clique.margin(clique.separator)
        theirs = parent.margin(clique.separator)
        block = sp.lil_matrix((own.shape[0], n))
        block[:, clique.offset:clique.offset + clique.size] = own
        block[:, parent.offset:parent.offset + parent.size] = -theirs
        blocks.append(block.tocsr())
    constraints = sp.vstack(blocks).tocsr() if blocks else sp.csr_matrix((0, n))
    zero = np.zeros(n, dtype=bool)
    for table in population.tables:
        for dim in table.spec.dimensions:
            i = dims.index(dim)
            shown = set(table.cells[dim].to_list())
            hidden = [code_index[i][c] for c in population.domains[dim] if c not in shown]
            if not hidden:
                continue
            slice_ = {dims.index(d): code_index[dims.index(d)][c]
                      for d, c in table.spec.where.items()}
            for k, clique in enumerate(cliques):
                if i not in clique.dims or not set(slice_) <= set(clique.dims):
                    continue
                match = np.isin(cells_of[k][clique.dims.index(i)], hidden)
                for j, code in slice_.items():
                    match &= cells_of[k][clique.dims.index(j)] == code
                zero[clique.offset + np.flatnonzero(match)] = True
    keep = sp.diags((~zero).astype(np.float64))
    return PopulationModel(tuple(t.spec.id for t in population.tables),
                           tuple(t.size for t in population.tables), tuple(cliques),
                           (matrix @ keep).tocsr(), (constraints @ keep).tocsr(),
                           np.asarray(row_clique, dtype=np.int64), zero)


def generalised_least_squares(model: PopulationModel, y: np.ndarray,
                              variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The consistent minimum-variance estimate ``A x`` of every published cell, and ``x``.

    Solves the quasi-definite KKT system of ``min sum (A x - y)^2 / v`` subject to the
    separator equalities, with a tiny ridge (1e-9, weights scaled to at most 1) that only picks
    the smallest solution where the cells are not identified (unpublished detail).
    """
    a, e = model.matrix, model.constraints
    weight = 1.0 / variance
    scale = weight.max()
    w = weight / scale
    n, k = a.shape[1], e.shape[0]
    kkt = sp.bmat([
        [sp.identity(n) * 1e-9, a.T, e.T if k else None],
        [a, sp.diags(-1.0 / w), None],
        [e if k else None, None, sp.identity(k) * -1e-12 if k else None],
    ], format="csc") if k else sp.bmat([
        [sp.identity(n) * 1e-9, a.T],
        [a, sp.diags(-1.0 / w)],
    ], format="csc")
    rhs = np.concatenate([np.zeros(n), y, np.zeros(k)])
    solution = spla.spsolve(kkt, rhs)
    return np.asarray(a @ solution[:n]), np.asarray(solution[:n])


def project(v: np.ndarray, groups: np.ndarray | None, totals: np.ndarray | None) -> np.ndarray:
    """Euclidean projection onto ``x >= 0`` with, per group, ``sum x = total``.

    ``groups`` gives each cell's group (0..G-1) and ``totals`` the groups' sums; without
    groups the projection is onto the non-negative orthant. Vectorised over the groups
    (sorting per group, as in Duchi et al. 2008).
    """
    if groups is None or totals is None:
        return np.maximum(v, 0.0)
    order = np.lexsort((-v, groups))
    g, u = groups[order], v[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    counts = np.diff(np.r_[starts, g.size])
    first = np.repeat(starts, counts)
    csum = np.cumsum(u)
    before = np.where(first > 0, csum[first - 1], 0.0)
    css = csum - before - totals[g]
    rank = np.arange(g.size) - first + 1
    ok = u - css / rank > 0
    # the last position of each group where the condition holds (always at least the first)
    last = np.maximum.reduceat(np.where(ok, np.arange(g.size), first), starts)
    theta = css[last] / rank[last]
    out = np.empty_like(v)
    out[order] = np.maximum(u - np.repeat(theta, counts), 0.0)
    empty = totals <= 0
    if empty.any():
        out[np.isin(groups, np.flatnonzero(empty))] = 0.0
    return out


def nonnegative_fit(fit: sp.csr_matrix, target: np.ndarray, weight: np.ndarray,
                    groups: np.ndarray | None = None, totals: np.ndarray | None = None,
                    start: np.ndarray | None = None, *, tolerance: float = 1e-6,
                    max_iterations: int = 20000) -> np.ndarray:
    """``x >= 0`` minimising ``sum weight (fit x - target)^2``, with ``sum x = total`` in each
    group when ``groups`` are given (the separator margins fixed by the parent clique).

    Accelerated projected gradient (FISTA with adaptive restart) over a product of
    simplices: always feasible, no degeneracy trouble where cells are not identified. Stops
    when no cell moves by more than ``tolerance`` (a count; the result is rounded next).
    """
    w = weight / weight.max()
    fit = sp.csr_matrix(fit)
    fit_t = sp.csr_matrix(fit.T)
    wf = sp.diags(w) @ fit
    gram = (fit_t @ wf).tocsr()
    lin = fit_t @ (w * target)
    # the largest eigenvalue of the Gram matrix by power iteration (a safe step size)
    vec = np.random.default_rng(0).random(gram.shape[0]) + 0.1
    lipschitz = 1.0
    for _ in range(100):
        nxt = gram @ vec
        norm = np.linalg.norm(nxt)
        if norm == 0:
            break
        lipschitz_new = norm / np.linalg.norm(vec)
        vec = nxt / norm
        if abs(lipschitz_new - lipschitz) < 1e-6 * lipschitz_new:
            lipschitz = lipschitz_new
            break
        lipschitz = lipschitz_new
    step = 1.0 / (lipschitz * 1.01)
    x = project(start if start is not None else np.zeros(fit.shape[1]), groups, totals)
    y, t = x.copy(), 1.0
    for _ in range(max_iterations):
        grad = gram @ y - lin
        x_new = project(y - step * grad, groups, totals)
        moved = np.abs(x_new - x).max() if x.size else 0.0
        if np.dot(grad, x_new - x) > 0:  # adaptive restart: momentum points uphill
            t = 1.0
            y = x_new
        else:
            t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
            y = x_new + (t - 1) / t_new * (x_new - x)
            t = t_new
        x = x_new
        if moved < tolerance:
            break
    return x


def round_to(values: np.ndarray, target: int) -> np.ndarray:
    """Round non-negative values to integers that add up to ``target`` (largest remainder).

    Every value moves to its floor or ceiling when their sum allows it; otherwise (a
    separator total that moved by rounding above) the difference is taken from, or given
    to, the largest remainders first, never below zero.

    >>> round_to(np.array([0.4, 1.3, 2.3]), 4).tolist()
    [1, 1, 2]
    """
    base = np.floor(values + 1e-9).astype(np.int64)
    base = np.maximum(base, 0)
    remainder = values - base
    diff = int(target) - int(base.sum())
    if diff > 0:
        order = np.argsort(-remainder, kind="stable")
        rounds, extra = divmod(diff, values.size)
        base += rounds
        base[order[:extra]] += 1
    while diff < 0:
        candidates = np.flatnonzero(base > 0)
        if candidates.size == 0:
            raise InternalError("cannot round to a negative total")
        order = candidates[np.argsort(remainder[candidates], kind="stable")]
        take = order[: -diff]
        base[take] -= 1
        remainder[take] += 1
        diff += take.size
    return base


def fit_population(model: PopulationModel, y: np.ndarray,
                   variance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Consistent non-negative integer figures for every published cell of the population.

    Returns the published figures and the GLS estimates (both in row order).
    """
    z, estimate = generalised_least_squares(model, y, variance)
    weight = 1.0 / variance
    x = np.zeros(model.unknowns, dtype=np.int64)
    for k, clique in enumerate(model.cliques):
        block = slice(clique.offset, clique.offset + clique.size)
        mine = np.flatnonzero(model.row_clique == k)
        fit = model.matrix[mine][:, block]
        if clique.parent is None:
            # the population total first: the GLS estimate, clipped at 0 and rounded
            groups = np.zeros(clique.size, dtype=np.int64)
            totals = np.array([float(max(round(estimate[block].sum()), 0))])
        else:
            parent = model.cliques[clique.parent]
            fixed = clique.margin(clique.separator)
            groups = fixed.tocsc().indices  # the separator cell of each clique cell
            totals = (parent.margin(clique.separator)
                      @ x[parent.offset:parent.offset + parent.size]).astype(np.float64)
        free = np.flatnonzero(~model.zero[block])
        g_free = None if groups is None else groups[free]
        real = np.zeros(clique.size)
        if mine.size and free.size:
            real[free] = nonnegative_fit(fit[:, free], z[mine], weight[mine], g_free, totals,
                                         start=estimate[block][free])
        elif free.size:
            real[free] = project(estimate[block][free], g_free, totals)
        if groups is None:
            x[block] = round_to(real, round(real.sum()))
        else:
            rounded = np.zeros(clique.size, dtype=np.int64)
            for g in range(totals.size):
                members = np.flatnonzero(groups == g)
                members_free = np.intersect1d(members, free)
                if members_free.size:
                    rounded[members_free] = round_to(real[members_free], int(totals[g]))
                elif totals[g] > 0:
                    raise InternalError("a separator total with only structural zeros")
            x[block] = rounded
    published = np.asarray(model.matrix @ x).astype(np.int64)
    return published, z


def postprocess(population: PopulationMeasure, model: PopulationModel,
                noisy: Mapping[str, np.ndarray],
                variances: Mapping[str, float]) -> dict[str, np.ndarray]:
    """Every table of one population as consistent non-negative integers."""
    y = np.concatenate([noisy[t].astype(np.float64) for t in model.tables])
    v = np.concatenate([np.full(size, variances[t]) for t, size in zip(model.tables, model.sizes,
                                                                       strict=True)])
    published, _ = fit_population(model, y, v)
    out, start = {}, 0
    for table, size in zip(model.tables, model.sizes, strict=True):
        out[table] = published[start:start + size]
        start += size
    return out
