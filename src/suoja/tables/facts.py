"""Declared facts of the data: what every outsider knows besides the published tables.

The catalogue's ``[[facts]]`` entries are reviewed data, not code. Both the protection
engine and the audit use them, so that a hidden cell is protected against everything the
data contract makes public knowledge:

- ``iff``: a unit is in the box ``left`` exactly when it is in the box ``right`` (a box
  fixes one dimension to a set of codes). Residence status FINNISH_CITIZEN holds exactly
  when the citizenship is FIN; a rejection reason exists exactly for a rejection. The
  combinations in one box and not the other are *structural zeros*: they cannot occur.
- ``at_least``: for every combination of codes of ``dimensions`` (each a code or the
  total), ``population`` counts at least as many units as ``than`` (every new client has
  at least one exploitation event, of the same sex, in Finland when the client counts as
  exploited in Finland).
- ``stock``: the stock on 31 December is last year's stock plus this year's inflow minus
  this year's outflow, exactly on the totals and per code of each of ``dimensions`` (a
  flow that lacks a dimension enters as unknown non-negative parts of its total). It links
  a release to the release of the year before.

The publication rules themselves (a pooled code is below the threshold in its reference
table, a shown one is not) are public too; they come from the policy, not from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from suoja._toml import check_keys
from suoja.errors import CatalogueError

KINDS = ("iff", "at_least", "stock")


@dataclass(frozen=True)
class Box:
    """Units whose code in ``dimension`` is one of ``codes``."""

    dimension: str
    codes: frozenset[str]


@dataclass(frozen=True)
class IffFact:
    """``left`` holds exactly when ``right`` holds, within ``population``."""

    id: str
    population: str
    left: Box
    right: Box
    note: str = ""


@dataclass(frozen=True)
class AtLeastFact:
    """``population`` >= ``than`` for every combination of codes of ``dimensions``."""

    id: str
    population: str
    than: str
    dimensions: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class StockFact:
    """stock(y) = stock(y-1) + inflow(y) - outflow(y), per code of ``dimensions``."""

    id: str
    stock: str
    where: dict[str, str]
    inflow: str
    outflow: str | None
    dimensions: tuple[str, ...]
    note: str = ""


Fact = IffFact | AtLeastFact | StockFact


def fact_lines(text: str) -> list[int]:
    """The 1-based line of every ``[[facts]]`` header in the catalogue's text."""
    return [i + 1 for i, line in enumerate(text.splitlines())
            if re.match(r"\s*\[\[\s*facts\s*\]\]", line)]


def _codes(value: Any, where: str, allowed: tuple[str, ...]) -> frozenset[str]:
    if not isinstance(value, list) or not value or not all(isinstance(c, str) for c in value):
        raise CatalogueError(f"{where}: expected a non-empty list of codes, got {value!r}")
    unknown = [c for c in value if c not in allowed]
    if unknown:
        raise CatalogueError(f"{where}: unknown code {unknown[0]!r}; known: {', '.join(allowed)}")
    return frozenset(value)


def _box(value: Any, where: str, population: str, dims_of: Mapping[str, tuple[str, ...]],
         codes_of: Mapping[str, tuple[str, ...]]) -> Box:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise CatalogueError(f"{where}: expected one dimension and its codes, "
                             f"e.g. {{ citizenship = [\"FIN\"] }}, got {value!r}")
    (dim, codes), = value.items()
    if dim not in dims_of[population]:
        raise CatalogueError(f"{where}: {dim!r} is not a dimension of population "
                             f"{population!r}; known: {', '.join(dims_of[population])}")
    return Box(dim, _codes(codes, f"{where}.{dim}", codes_of[dim]))


def _population(raw: Mapping[str, Any], key: str, where: str,
                dims_of: Mapping[str, tuple[str, ...]]) -> str:
    name = raw[key]
    if name not in dims_of:
        raise CatalogueError(f"{where}.{key}: unknown population {name!r}; "
                             f"known: {', '.join(dims_of)}")
    return name


def _dimensions(value: Any, where: str, populations: list[str],
                dims_of: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise CatalogueError(f"{where}: expected a list of dimensions, got {value!r}")
    for dim in value:
        for population in populations:
            if dim not in dims_of[population]:
                raise CatalogueError(f"{where}: {dim!r} is not a dimension of population "
                                     f"{population!r}")
    return tuple(value)


def parse_fact(raw: Any, where: str, dims_of: Mapping[str, tuple[str, ...]],
               codes_of: Mapping[str, tuple[str, ...]]) -> Fact:
    """One ``[[facts]]`` entry, checked against the populations and code lists.

    Args:
        raw: The parsed TOML table.
        where: How to name the entry in errors (its index and catalogue line).
        dims_of: Cube dimensions of every population.
        codes_of: Every code a unit can have in each dimension (cube codes).

    Raises:
        CatalogueError: An unknown kind, key, population, dimension or code.
    """
    if not isinstance(raw, Mapping) or raw.get("kind") not in KINDS:
        kind = raw.get("kind") if isinstance(raw, Mapping) else raw
        raise CatalogueError(f"{where}.kind: {kind!r}; allowed: {', '.join(KINDS)}")
    note = raw.get("note", "")
    if raw["kind"] == "iff":
        check_keys(raw, where, {"id", "kind", "population", "left", "right", "note"},
                   {"id", "kind", "population", "left", "right"}, CatalogueError)
        population = _population(raw, "population", where, dims_of)
        left = _box(raw["left"], f"{where}.left", population, dims_of, codes_of)
        right = _box(raw["right"], f"{where}.right", population, dims_of, codes_of)
        if left.dimension == right.dimension:
            raise CatalogueError(f"{where}: left and right must be different dimensions")
        return IffFact(raw["id"], population, left, right, note)
    if raw["kind"] == "at_least":
        check_keys(raw, where, {"id", "kind", "population", "than", "dimensions", "note"},
                   {"id", "kind", "population", "than", "dimensions"}, CatalogueError)
        population = _population(raw, "population", where, dims_of)
        than = _population(raw, "than", where, dims_of)
        dims = _dimensions(raw["dimensions"], f"{where}.dimensions", [population, than], dims_of)
        return AtLeastFact(raw["id"], population, than, dims, note)
    check_keys(raw, where, {"id", "kind", "stock", "where", "inflow", "outflow", "dimensions",
                            "note"}, {"id", "kind", "stock", "inflow", "dimensions"},
               CatalogueError)
    stock = _population(raw, "stock", where, dims_of)
    inflow = _population(raw, "inflow", where, dims_of)
    outflow = _population(raw, "outflow", where, dims_of) if "outflow" in raw else None
    slice_ = dict(raw.get("where", {}))
    for dim, code in slice_.items():
        if dim not in dims_of[stock] or code not in codes_of[dim]:
            raise CatalogueError(f"{where}.where.{dim}: unknown dimension or code {code!r}")
    dims = _dimensions(raw["dimensions"], f"{where}.dimensions", [stock], dims_of)
    return StockFact(raw["id"], stock, slice_, inflow, outflow, dims, note)


def parse_facts(raw: Any, text: str, dims_of: Mapping[str, tuple[str, ...]],
                codes_of: Mapping[str, tuple[str, ...]]) -> tuple[Fact, ...]:
    """Every ``[[facts]]`` entry; errors name the entry and its line in the catalogue."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise CatalogueError("facts: expected [[facts]] entries")
    lines = fact_lines(text)
    facts = []
    for i, entry in enumerate(raw):
        line = f" (line {lines[i]})" if i < len(lines) else ""
        facts.append(parse_fact(entry, f"facts[{i}]{line}", dims_of, codes_of))
    ids = [f.id for f in facts]
    if len(set(ids)) != len(ids):
        raise CatalogueError(f"facts: id {next(i for i in ids if ids.count(i) > 1)!r} twice")
    return tuple(facts)
