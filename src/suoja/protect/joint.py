"""The outsider's whole knowledge as one model: every population of the release, the
releases of earlier years, the declared facts and the publication rules.

One *view* is what an outsider sees of one population in one year: its published cells
(null where hidden), the codes shown, and which codes were pooled into ``_O``. The views
are joined into one integer programme over non-negative counts:

- each view's published cells, as equalities over its finest cells (``public_model``),
  with the structural zeros of the declared ``iff`` facts dropped;
- the publication rules: a code a table pools has fewer than ``threshold`` units in
  that table's slice, a code it shows at least ``threshold`` (``View.slices``); a
  table's own ``_O`` is the sum of the codes it pools (``View.others``);
- ``at_least`` facts: one population counts at least as many units as another, per
  combination of shared codes;
- ``stock`` facts between consecutive years: stock(y) = stock(y-1) + inflow - outflow,
  on totals and per code (flows that lack a dimension split into unknown parts).

A pooled code that is shown anywhere else (another population, another year) is its own
unknown; the codes pooled everywhere form one group ``_R`` under ``_O``. The range of a
hidden cell is its minimum and maximum over the integer points (HiGHS: LP, then a MIP
where the LP optimum is fractional; an incumbent on a limit gives a narrower, stricter
range). The method is the classic one (the attacker's LP of tau-ARGUS and sdcTable),
with the links between tables that tau-ARGUS calls "linked tables" extended to
inequalities and to earlier releases.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp

from suoja.protect.highs import INF
from suoja.protect.knowledge import OTHER, structural_boxes
from suoja.protect.model import LinearModel, public_model
from suoja.protect.rules import SuppressionRules
from suoja.tables.facts import AtLeastFact, Fact, IffFact, StockFact

TOTAL = "_T"
REST = "_R"
AUX = "~aux"
REST_KIND = "pooled rest"
"""The kind of a rest group's target: ``pooled rest:N`` for a group of N pooled codes."""


def rest_pinned(kind: str, lo: float, hi: float, threshold: int) -> bool:
    """Whether a rest group's range ``lo..hi`` pins its codes' counts: the pooling rule caps
    each at ``threshold - 1``, so a group of N known to hold ``N * (threshold - 1)`` units
    has exactly ``threshold - 1`` in each code; a group of one code is pinned when known
    exactly and not 0. False for any other kind of target.

    >>> rest_pinned("pooled rest:2", 8, 8, 5), rest_pinned("pooled rest:2", 7, 7, 5)
    (True, False)
    >>> rest_pinned("pooled rest:1", 3, 3, 5), rest_pinned("pooled rest:1", 0, 0, 5)
    (True, False)
    """
    if not kind.startswith(REST_KIND + ":"):
        return False
    members = int(kind.rpartition(":")[2])
    if members == 1:
        return lo == hi and lo >= 1
    top = (threshold - 1) * members
    return top > 0 and lo >= top


@dataclass(frozen=True)
class View:
    """What an outsider sees of one population in one year.

    Attributes:
        year: The statistical year.
        population: The population's name.
        cells: ``table``, ``key``, one column per cube dimension, ``published`` (null
            when hidden); implicit cells (``T[dim=code]``) included, published null.
        domains: The codes shown per dimension, with ``_O`` and cube-only codes.
        pooled: The codes ``_O`` stands for, per pooled dimension: those no table shows.
        slices: Per pooled dimension, where the pooling rule holds: the ``where`` codes of
            a table (other dimensions are totals), the codes pooled there (each fewer than
            the threshold) and the codes shown there (each at least the threshold).
        others: Per pooled dimension, the ``child -> parent`` codes of the tables that
            pool more than ``pooled`` (their ``_O`` is ``_O~table``, a parent of ``_O``
            and of the shown codes it counts; ``suoja.tables.cubes.other_hierarchy``).
    """

    year: int
    population: str
    cells: pl.DataFrame
    domains: dict[str, list[str]]
    pooled: dict[str, frozenset[str]] = field(default_factory=dict)
    slices: dict[str, list[tuple[dict[str, str], frozenset[str], frozenset[str]]]] = \
        field(default_factory=dict)
    others: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class _Block:
    """One view's model inside the joint programme: its variables start at ``offset``."""

    view: View
    model: LinearModel
    offset: int
    forms: dict[tuple[str, str], int] = field(default_factory=dict)
    facts: tuple[str, ...] = ()
    """The declared facts whose structural zeros shaped this block."""

    def row(self, table: str, key: str) -> sp.csr_matrix:
        """The 0/1 row of a cell over this block's variables."""
        return self.model.forms[self.forms[(table, key)]]


def _mentioned(views: Sequence[View], facts: Sequence[Fact] = ()) -> dict[str, set[str]]:
    """Per dimension, every code shown by name in some view or named by a fact (a pooled
    code a fact names is its own unknown, so that the fact applies to it alone)."""
    seen: dict[str, set[str]] = {}
    for view in views:
        for dim, codes in view.domains.items():
            seen.setdefault(dim, set()).update(c for c in codes if c not in (OTHER, TOTAL))
    for fact in facts:
        if isinstance(fact, IffFact):
            for box in (fact.left, fact.right):
                seen.setdefault(box.dimension, set()).update(box.codes)
    return seen


def _leaves(view: View, mentioned: Mapping[str, set[str]]) -> tuple[dict, dict, dict]:
    """Leaf codes, hierarchy and groups per dimension for the joint model of a view."""
    domains, hierarchy, groups = {}, {}, {}
    for dim, codes in view.domains.items():
        if view.others.get(dim):
            hierarchy[dim] = dict(view.others[dim])
        if dim not in view.pooled or OTHER not in codes:
            domains[dim] = list(codes)
            continue
        named = sorted(view.pooled[dim] & mentioned.get(dim, set()))
        rest = sorted(view.pooled[dim] - set(named))
        leaves = [c for c in codes if c != OTHER] + named + ([REST] if rest else [])
        if not named and not rest:
            domains[dim] = list(codes)
            continue
        domains[dim] = leaves
        hierarchy[dim] = {**hierarchy.get(dim, {}), **dict.fromkeys(named, OTHER),
                          **({REST: OTHER} if rest else {})}
        groups[dim] = {REST: rest} if rest else {}
    return domains, hierarchy, groups


def _coord_key(dims: Sequence[str], coords: Mapping[str, str]) -> str:
    return ";".join(f"{d}={coords.get(d, TOTAL)}" for d in dims)


class _Aux:
    """Auxiliary cells (relation terms, pooled codes) added to a view before its model."""

    def __init__(self) -> None:
        self.cells: dict[tuple[int, str], dict[str, dict[str, str]]] = {}

    def add(self, year: int, population: str, dims: Sequence[str],
            coords: Mapping[str, str]) -> tuple[str, str]:
        key = _coord_key(dims, coords)
        self.cells.setdefault((year, population), {})[key] = dict(coords)
        return AUX, key


def _codes_of(dim: str, views: Sequence[View], mentioned: Mapping[str, set[str]]) -> list[str]:
    """The codes a per-code relation runs over: every code by name, and the rest group."""
    codes = sorted(mentioned.get(dim, set()))
    if any(dim in v.pooled and v.pooled[dim] - mentioned.get(dim, set()) for v in views):
        codes.append(REST)
    return codes


@dataclass
class JointModel:
    """The joint programme: rows over all variables with lower and upper bounds."""

    blocks: dict[tuple[int, str], _Block]
    matrix: sp.csr_matrix
    lower: np.ndarray
    upper: np.ndarray
    n_vars: int
    row_facts: list[str]
    row_terms: list[list[tuple[int, str, str, str]]]
    """For each row, the cells it relates: (year, population, table, key); for a published
    figure, one cell that shows it."""
    targets: list[tuple[int, str, str, str, sp.csr_matrix]]
    """(year, table, key, kind, row) of every quantity to range."""


def _relation_plan(views: Sequence[View], facts: Sequence[Fact],
                   mentioned: Mapping[str, set[str]], aux: _Aux) -> list:
    """Relation rows as lists of (sign, year, population, table, key) or aux variables."""
    by = {(v.year, v.population): v for v in views}
    years = sorted({v.year for v in views})
    plan = []
    for fact in facts:
        if isinstance(fact, AtLeastFact):
            for year in years:
                if (year, fact.population) not in by or (year, fact.than) not in by:
                    continue
                per_dim = [[TOTAL, *[c for c in by[(year, fact.than)].domains[d]
                                     if c not in (OTHER, TOTAL)]] for d in fact.dimensions]
                for combo in itertools.product(*per_dim):
                    coords = dict(zip(fact.dimensions, combo, strict=True))
                    big = aux.add(year, fact.population,
                                  by[(year, fact.population)].cells.columns[2:-1], coords)
                    small = aux.add(year, fact.than,
                                    by[(year, fact.than)].cells.columns[2:-1], coords)
                    plan.append((fact.id, ">=", [(1, year, fact.population, *big),
                                                 (-1, year, fact.than, *small)], []))
        elif isinstance(fact, StockFact):
            for year in years:
                if not all((y, p) in by for y, p in ((year, fact.stock), (year - 1, fact.stock),
                                                    (year, fact.inflow))):
                    continue
                if fact.outflow and (year, fact.outflow) not in by:
                    continue
                plan += _stock_rows(fact, year, by, views, mentioned, aux)
    return plan


def _dims(view: View) -> list[str]:
    return [c for c in view.cells.columns if c not in ("table", "key", "published")]


def _stock_rows(fact: StockFact, year: int, by: Mapping, views: Sequence[View],
                mentioned: Mapping[str, set[str]], aux: _Aux) -> list:
    """stock(y) - stock(y-1) - inflow(y) + outflow(y) = 0, on totals and per code."""
    rows = []
    stock_dims = _dims(by[(year, fact.stock)])
    inflow_dims = _dims(by[(year, fact.inflow)])

    def term(sign: int, y: int, population: str, dims: list[str], coords: dict) -> tuple:
        return (sign, y, population, *aux.add(y, population, dims, coords))

    out_total = term(1, year, fact.outflow, _dims(by[(year, fact.outflow)]), {}) \
        if fact.outflow else None
    total = [term(1, year, fact.stock, stock_dims, fact.where),
             term(-1, year - 1, fact.stock, stock_dims, fact.where),
             term(-1, year, fact.inflow, inflow_dims, {})]
    rows.append((fact.id, "=" if out_total else "<=", total + ([out_total] if out_total else []),
                 []))
    for dim in fact.dimensions:
        codes = _codes_of(dim, [by[(year, fact.stock)], by[(year - 1, fact.stock)],
                                by[(year, fact.inflow)]], mentioned)
        parts_in = dim not in inflow_dims
        split = []
        for code in codes:
            coords = {**fact.where, dim: code}
            terms = [term(1, year, fact.stock, stock_dims, coords),
                     term(-1, year - 1, fact.stock, stock_dims, coords)]
            # The outflow's part of this code, and the inflow's where it lacks the dimension.
            free = [(1.0, f"out:{fact.id}:{year}:{dim}:{code}")]
            if parts_in:
                free.append((-1.0, f"in:{fact.id}:{year}:{dim}:{code}"))
            else:
                terms.append(term(-1, year, fact.inflow, inflow_dims, {dim: code}))
            rows.append((fact.id, "=", terms, free))
            split.append(code)
        if out_total:
            rows.append((fact.id, "=", [(-1, *out_total[1:])],
                         [(1.0, f"out:{fact.id}:{year}:{dim}:{c}") for c in split]))
        if parts_in:
            rows.append((fact.id, "=", [term(-1, year, fact.inflow, inflow_dims, {})],
                         [(1.0, f"in:{fact.id}:{year}:{dim}:{c}") for c in split]))
    return rows


def _rule_plan(views: Sequence[View], mentioned: Mapping[str, set[str]], threshold: int,
               aux: _Aux) -> tuple[list, list]:
    """Bounds of the pooling rule per view, and the pooled codes to range as targets."""
    plan, pooled_targets = [], []
    for view in views:
        dims = _dims(view)
        for dim, slices in view.slices.items():
            if dim not in view.pooled or OTHER not in view.domains.get(dim, ()):
                continue
            if not view.pooled[dim]:
                # Every code is listed somewhere: the _O they all share stands for no code.
                cell = aux.add(view.year, view.population, dims, {dim: OTHER})
                plan.append(("pooling rule", "<=", [(1, view.year, view.population, *cell)],
                             [], 0))
            for where, pooled, shown in slices:
                named = sorted(pooled - (view.pooled[dim] - mentioned.get(dim, set())))
                rest = pooled - set(named)
                for code in named:
                    cell = aux.add(view.year, view.population, dims, {**where, dim: code})
                    plan.append(("pooling rule", "<=", [(1, view.year, view.population, *cell)],
                                 [], threshold - 1))
                    pooled_targets.append((view.year, view.population, *cell, "pooled"))
                if rest:
                    cell = aux.add(view.year, view.population, dims, {**where, dim: REST})
                    plan.append(("pooling rule", "<=", [(1, view.year, view.population, *cell)],
                                 [], (threshold - 1) * len(rest)))
                    pooled_targets.append((view.year, view.population, *cell,
                                           f"{REST_KIND}:{len(rest)}"))
                for code in sorted(shown):
                    cell = aux.add(view.year, view.population, dims, {**where, dim: code})
                    plan.append(("pooling rule", ">=", [(1, view.year, view.population, *cell)],
                                 [], threshold))
    return plan, pooled_targets


def _block(view: View, facts: Sequence[Fact], all_codes: Mapping[str, Sequence[str]],
           mentioned: Mapping[str, set[str]], extra: Mapping[str, dict[str, str]],
           offset: int) -> _Block:
    domains, hierarchy, groups = _leaves(view, mentioned)
    dims = _dims(view)
    cells = view.cells.select("table", "key", *dims, "published")
    if extra:
        rows = [{"table": AUX, "key": key, **{d: coords.get(d, TOTAL) for d in dims},
                 "published": None} for key, coords in extra.items()]
        cells = pl.concat([cells, pl.DataFrame(rows, schema=cells.schema)])
    groups_all = {d: {**{c: {c} for c in domains[d]}, **groups.get(d, {})} for d in domains}
    boxes = structural_boxes(facts, view.population, domains, all_codes, groups_all)
    model = public_model(cells, domains, hierarchy, structural=boxes)
    forms = {(t, k): int(f) for t, k, f in
             model.cells.select("table", "key", "__form").iter_rows()}
    return _Block(view, model, offset, forms, tuple(sorted({name for name, _ in boxes})))


def build_joint(views: Sequence[View], facts: Sequence[Fact], rules: SuppressionRules,
                all_codes: Mapping[str, Sequence[str]], years: Sequence[int]) -> JointModel:
    """The joint programme of ``views``; targets are the hidden cells of ``years``."""
    mentioned = _mentioned(views, facts)
    aux = _Aux()
    relations = [(*r, 0) for r in _relation_plan(views, facts, mentioned, aux)]
    bounds, pooled_targets = _rule_plan(views, mentioned, rules.threshold, aux)
    blocks: dict[tuple[int, str], _Block] = {}
    offset = 0
    for view in views:
        block = _block(view, facts, all_codes, mentioned,
                       aux.cells.get((view.year, view.population), {}), offset)
        blocks[(view.year, view.population)] = block
        offset += block.model.n_vars
    names: dict[str, int] = {}
    for plan in relations:
        for _, name in plan[3]:
            names.setdefault(name, offset + len(names))
    n = offset + len(names)
    rows, lower, upper, row_facts, row_terms = [], [], [], [], []

    def shifted(block: _Block, row: sp.csr_matrix) -> sp.csr_matrix:
        out = sp.csr_matrix((row.data.astype(np.float64), row.indices + block.offset,
                             [0, row.nnz]), shape=(1, n))
        return out

    for block in blocks.values():
        known = (block.model.cells.filter(pl.col("table") != AUX)
                 .select("__form", "published", "table", "key").drop_nulls()
                 .unique("__form", keep="first", maintain_order=True))
        for form, value, table, key in known.iter_rows():
            rows.append(shifted(block, block.model.forms[form]))
            lower.append(float(value))
            upper.append(float(value))
            row_facts.append(f"tables {block.view.year}")
            row_terms.append([(block.view.year, block.view.population, table, key)])
    for fact_id, sense, terms, free, rhs in relations + bounds:
        row = sp.csr_matrix((1, n))
        for sign, year, population, table, key in terms:
            block = blocks[(year, population)]
            row = row + sign * shifted(block, block.row(table, key))
        for coef, name in free:
            row = row + sp.csr_matrix(([coef], ([0], [names[name]])), shape=(1, n))
        rows.append(row)
        lower.append(float(rhs) if sense in ("=", ">=") else -INF)
        upper.append(float(rhs) if sense in ("=", "<=") else INF)
        row_facts.append(fact_id)
        row_terms.append([t[1:] for t in terms])
    targets = []
    for (year, _), block in blocks.items():
        if year not in years:
            continue
        hidden = block.model.cells.filter(pl.col("published").is_null() & (pl.col("table") != AUX))
        for table, key in hidden.select("table", "key").iter_rows():
            kind = "implicit" if "[" in table else "hidden"
            targets.append((year, table, key, kind, shifted(block, block.row(table, key))))
    for year, population, table, key, kind in pooled_targets:
        if year in years:
            block = blocks[(year, population)]
            targets.append((year, f"{population}[pooled]", key, kind,
                            shifted(block, block.row(table, key))))
    matrix = sp.vstack(rows).tocsr() if rows else sp.csr_matrix((0, n))
    return JointModel(blocks, matrix, np.array(lower), np.array(upper), n, row_facts,
                      row_terms, targets)
