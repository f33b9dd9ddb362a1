"""The table catalogue (``data/catalogue.toml``) read into validated, frozen objects."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from babel import Locale
from babel.numbers import format_decimal

from suoja import codelists
from suoja._resources import data_dir
from suoja._toml import check_keys, load, texts
from suoja.errors import CatalogueError
from suoja.facts import Fact, parse_facts
from suoja.populations import POPULATIONS
from suoja.priorities import Priority, parse_priorities


@dataclass(frozen=True)
class Dimension:
    """A classification: its codes in a table, and codes that exist only in the cube."""

    name: str
    codelist: str
    codes: tuple[str, ...]
    cube_only: tuple[str, ...]
    label: dict[str, str]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Group code -> member codes: the members are counted, and shown, as the group."""

    def recode(self) -> pl.Expr | None:
        """The dimension's column with each group member replaced by its group (None when
        the dimension has no groups)."""
        if not self.groups:
            return None
        mapping = {m: group for group, members in self.groups.items() for m in members}
        return pl.col(self.name).replace(mapping)

    @property
    def cube_codes(self) -> tuple[str, ...]:
        """Every code a unit can have in this dimension."""
        return self.codes + self.cube_only


@dataclass(frozen=True)
class Population:
    """Counted units (defined in ``suoja.populations``) and their cube dimensions."""

    name: str
    dimensions: tuple[str, ...]
    unit: dict[str, str]
    unit_one: dict[str, str] | None = None

    def count(self, n: int, lang: str = "en") -> str:
        """``n`` units in words, singular or plural by Babel's rule: "1 person", "3 persons"."""
        one = self.unit_one[lang] if self.unit_one else self.unit[lang]
        word = one if Locale.parse(lang).plural_form(n) == "one" else self.unit[lang]
        return f"{format_decimal(n, locale=lang)} {word}"

    def units(self, lang: str = "en") -> tuple[str, str]:
        """The unit's singular and plural."""
        return (self.unit_one or self.unit)[lang], self.unit[lang]


@dataclass(frozen=True)
class TableSpec:
    """One published table: a margin of its population's cube, maybe of one slice of it."""

    id: str
    population: str
    dimensions: tuple[str, ...]
    where: dict[str, str]
    title: dict[str, str]
    note: dict[str, str]
    weight: float = 1.0
    of: str = ""
    """For a count of distinct codes: the table whose codes are counted (``suoja.distinct``)."""
    unit: dict[str, str] = field(default_factory=dict)
    """The unit of a count of distinct codes ("citizenships"); empty: the population's."""


@dataclass(frozen=True)
class Catalogue:
    """Every table of a release, the populations they count and their dimensions."""

    title: dict[str, str]
    publisher: dict[str, str]
    unit: dict[str, str]
    dimensions: dict[str, Dimension]
    populations: dict[str, Population]
    tables: tuple[TableSpec, ...]
    fingerprint: str = field(default="")
    metadata: dict[str, Any] = field(default_factory=dict)
    facts: tuple[Fact, ...] = ()
    distinct: tuple[TableSpec, ...] = ()
    """Counts of distinct codes (``of`` another table): figures of their own, with their own
    disclosure rule (``suoja.distinct``), never margins of a cube."""
    priorities: tuple[Priority, ...] = ()
    """What readers most want published (``[[priorities]]``, ``suoja.priorities``)."""

    def table(self, table_id: str) -> TableSpec:
        """The table with this id (a count of distinct codes included)."""
        for spec in self.tables + self.distinct:
            if spec.id == table_id:
                return spec
        raise KeyError(table_id)

    def unit_of(self, spec: TableSpec) -> dict[str, str]:
        """What a table counts, per language: its own unit, else its population's."""
        return spec.unit or self.populations[spec.population].unit

    def tables_of(self, population: str) -> tuple[TableSpec, ...]:
        """The tables counting one population, in catalogue order."""
        return tuple(t for t in self.tables if t.population == population)


def default_catalogue_path() -> Path:
    """The catalogue shipped with suoja."""
    return data_dir() / "catalogue.toml"


def _grouped(codes: tuple[str, ...], groups: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """``codes`` with each group's members replaced by the group, where its first member was.

    >>> _grouped(("01", "41", "42", "43", "56"), {"F": ("41", "42", "43")})
    ('01', 'F', '56')
    """
    member_of = {m: g for g, members in groups.items() for m in members}
    return tuple(dict.fromkeys(member_of.get(c, c) for c in codes))


def _groups(raw: Any, where: str, codelist: str) -> dict[str, tuple[str, ...]]:
    """The code list's groups a dimension uses (``groups = ["F"]``)."""
    if not isinstance(raw, list) or not all(isinstance(g, str) for g in raw):
        raise CatalogueError(f"{where}: expected a list of group codes, got {raw!r}")
    known = codelists.groups(codelist)
    for code in raw:
        if code not in known:
            raise CatalogueError(f"{where}: {code!r} is not a group of code list {codelist!r}; "
                                 f"known: {', '.join(known) or 'none'}")
    return {code: known[code] for code in raw}


def _dimension(name: str, raw: Any) -> Dimension:
    where = f"dimensions.{name}"
    check_keys(raw, where, {"codelist", "codes", "extra", "cube_only", "label", "groups"},
               {"codelist", "label"}, CatalogueError)
    try:
        listed = codelists.codes(raw["codelist"])
    except KeyError as e:
        raise CatalogueError(f"{where}.codelist: {e.args[0]}") from None
    codes = tuple(raw.get("codes", listed))
    unknown = [c for c in codes if c not in listed]
    if unknown:
        raise CatalogueError(f"{where}.codes: {unknown[0]!r} is not in code list {raw['codelist']!r}")
    groups = _groups(raw.get("groups", []), f"{where}.groups", raw["codelist"])
    return Dimension(name, raw["codelist"], _grouped(codes, groups) + tuple(raw.get("extra", ())),
                     tuple(raw.get("cube_only", ())), texts(raw["label"], f"{where}.label",
                                                             CatalogueError), groups)


def _population(name: str, raw: Any, dimensions: dict[str, Dimension]) -> Population:
    where = f"populations.{name}"
    check_keys(raw, where, {"dimensions", "unit", "unit_one"}, {"dimensions", "unit"},
               CatalogueError)
    if name not in POPULATIONS:
        raise CatalogueError(f"{where}: unknown population; known: {', '.join(POPULATIONS)}")
    for dim in raw["dimensions"]:
        if dim not in dimensions:
            raise CatalogueError(f"{where}.dimensions: unknown dimension {dim!r}; "
                                 f"known: {', '.join(sorted(dimensions))}")
    one = texts(raw["unit_one"], f"{where}.unit_one", CatalogueError) if "unit_one" in raw \
        else None
    return Population(name, tuple(raw["dimensions"]), texts(raw["unit"], f"{where}.unit",
                                                             CatalogueError), one)


def _distinct(index: int, raw: Any, tables: tuple[TableSpec, ...]) -> TableSpec:
    """A count of the distinct codes of another table's one dimension (``of``)."""
    where = f"tables[{index}]"
    check_keys(raw, where, {"id", "of", "title", "note", "unit"}, {"id", "of", "title", "note"},
               CatalogueError)
    counted = next((t for t in tables if t.id == raw["of"]), None)
    if counted is None or len(counted.dimensions) != 1:
        raise CatalogueError(f"{where}.of: {raw['of']!r} is not a table of one dimension; "
                             f"known: {', '.join(t.id for t in tables if len(t.dimensions) == 1)}")
    return TableSpec(raw["id"], counted.population, (), dict(counted.where),
                     texts(raw["title"], f"{where}.title", CatalogueError),
                     texts(raw["note"], f"{where}.note", CatalogueError), of=counted.id,
                     unit=texts(raw["unit"], f"{where}.unit", CatalogueError)
                     if "unit" in raw else {})


def _table(index: int, raw: Any, populations: dict[str, Population],
           dimensions: dict[str, Dimension]) -> TableSpec:
    where = f"tables[{index}]"
    check_keys(raw, where, {"id", "population", "dimensions", "where", "title", "note", "weight"},
               {"id", "population", "dimensions", "title", "note"}, CatalogueError)
    population = populations.get(raw["population"])
    if population is None:
        raise CatalogueError(f"{where}.population: unknown population {raw['population']!r}; "
                             f"known: {', '.join(populations)}")
    for dim in raw["dimensions"]:
        if dim not in population.dimensions:
            raise CatalogueError(f"{where}.dimensions: unknown dimension {dim!r}; known: "
                                 f"{', '.join(population.dimensions)}")
    slice_ = dict(raw.get("where", {}))
    for dim, code in slice_.items():
        if dim not in population.dimensions or dim in raw["dimensions"]:
            raise CatalogueError(f"{where}.where: {dim!r} is not a cube dimension outside the "
                                 "table's own dimensions")
        if code not in dimensions[dim].codes:
            raise CatalogueError(f"{where}.where.{dim}: unknown code {code!r}")
    weight = raw.get("weight", 1.0)
    if not isinstance(weight, int | float) or weight <= 0:
        raise CatalogueError(f"{where}.weight: must be a positive number, got {weight!r}")
    return TableSpec(raw["id"], raw["population"], tuple(raw["dimensions"]), slice_,
                     texts(raw["title"], f"{where}.title", CatalogueError),
                     texts(raw["note"], f"{where}.note", CatalogueError), float(weight))


def read_catalogue(path: Path | None = None) -> Catalogue:
    """Read and check a table catalogue; every error names its TOML path."""
    path = path or default_catalogue_path()
    raw = load(path, CatalogueError)
    check_keys(raw, str(path),
               {"release", "dimensions", "populations", "tables", "metadata", "facts",
                "priorities"},
               {"release", "dimensions", "populations", "tables"}, CatalogueError)
    check_keys(raw["release"], "release", {"title", "publisher", "unit"},
               {"title", "publisher", "unit"}, CatalogueError)
    dimensions = {name: _dimension(name, d) for name, d in raw["dimensions"].items()}
    populations = {name: _population(name, p, dimensions) for name, p in raw["populations"].items()}
    tables = tuple(_table(i, t, populations, dimensions) for i, t in enumerate(raw["tables"])
                   if "of" not in t)
    distinct = tuple(_distinct(i, t, tables) for i, t in enumerate(raw["tables"]) if "of" in t)
    ids = [t.id for t in tables + distinct]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise CatalogueError(f"tables: id {duplicated[0]!r} is used twice")
    facts = parse_facts(raw.get("facts"), path.read_text(encoding="utf-8"),
                        {name: p.dimensions for name, p in populations.items()},
                        {name: d.cube_codes for name, d in dimensions.items()})
    priorities = parse_priorities(raw.get("priorities"), path.read_text(encoding="utf-8"),
                                  {t.id: t.dimensions for t in tables},
                                  {name: d.cube_codes for name, d in dimensions.items()})
    rel = raw["release"]
    return Catalogue(
        title=texts(rel["title"], "release.title", CatalogueError),
        publisher=texts(rel["publisher"], "release.publisher", CatalogueError),
        unit=texts(rel["unit"], "release.unit", CatalogueError),
        dimensions=dimensions, populations=populations, tables=tables,
        fingerprint=hashlib.sha256(path.read_bytes()).hexdigest(),
        metadata=dict(raw.get("metadata", {})),
        facts=facts, distinct=distinct, priorities=priorities,
    )
