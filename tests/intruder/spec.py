"""What the intruder reads: the catalogue, the policy, the code lists and the releases.

Written from the release contract and the methods note only; nothing here imports suoja.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

TOTAL, OTHER, UNKNOWN = "_T", "_O", "_U"


@dataclass(frozen=True)
class Table:
    id: str
    population: str
    dims: tuple[str, ...]
    where: dict[str, str]


@dataclass(frozen=True)
class Dimension:
    codelist: str
    codes: tuple[str, ...] | None  # a fixed subset, if the catalogue gives one
    extra: tuple[str, ...]
    cube_only: tuple[str, ...]
    groups: tuple[str, ...] = ()  # code-list groups published as one code (their members not)


@dataclass(frozen=True)
class Spec:
    populations: dict[str, tuple[str, ...]]
    tables: list[Table]
    dimensions: dict[str, Dimension]
    facts: list[dict]
    threshold: int
    pooling: tuple[str, ...]
    interval: str
    codelists_dir: Path

    def tables_of(self, population: str) -> list[Table]:
        return [t for t in self.tables if t.population == population]

    def cube_only(self, dim: str) -> tuple[str, ...]:
        d = self.dimensions.get(dim)
        return d.cube_only if d else ()

    def reference_table(self, population: str, dim: str) -> Table | None:
        """The population's table with ``dim`` and the fewest where entries (first on ties)."""
        with_dim = [t for t in self.tables_of(population) if dim in t.dims]
        return min(with_dim, key=lambda t: len(t.where)) if with_dim else None

    def rule_tables(self, population: str, dim: str) -> list[Table]:
        """The tables whose own counts decide what they pool (the methods note's rule): every
        table with ``dim`` when their slices nest (any two: one's where holds the other's),
        else the reference table alone."""
        with_dim = [t for t in self.tables_of(population) if dim in t.dims]
        items = [set(t.where.items()) for t in with_dim]
        nested = all(a <= b or b <= a for a in items for b in items)
        if nested:
            return with_dim
        ref = self.reference_table(population, dim)
        return [ref] if ref else []


@dataclass
class Cell:
    codes: dict[str, str]  # dimension -> code (``_T``, ``_O`` or a code)
    value: int | None  # None = hidden


@dataclass
class Release:
    year: int
    tables: dict[str, list[Cell]] = field(default_factory=dict)


def read_spec(catalogue_path: Path, policy_path: Path, codelists_dir: Path | None = None) -> Spec:
    cat = tomllib.loads(Path(catalogue_path).read_text(encoding="utf-8"))
    pol = tomllib.loads(Path(policy_path).read_text(encoding="utf-8"))
    dims = {
        name: Dimension(
            codelist=d.get("codelist", name),
            codes=tuple(d["codes"]) if "codes" in d else None,
            extra=tuple(d.get("extra", ())),
            cube_only=tuple(d.get("cube_only", ())),
            groups=tuple(d.get("groups", ())),
        )
        for name, d in cat.get("dimensions", {}).items()
    }
    return Spec(
        populations={p: tuple(v.get("dimensions", ())) for p, v in cat["populations"].items()},
        tables=[
            Table(t["id"], t["population"], tuple(t.get("dimensions", ())),
                  dict(t.get("where", {})))
            for t in cat["tables"] if "population" in t  # counts of distinct codes aside
        ],
        dimensions=dims,
        facts=list(cat.get("facts", [])),
        threshold=int(pol["threshold"]["min_count"]),
        pooling=tuple(pol.get("pooling", {}).get("dimensions", ())),
        interval=pol.get("secondary", {}).get("interval", "exact"),
        codelists_dir=Path(codelists_dir or Path(catalogue_path).parent / "codelists"),
    )


def codelist(spec: Spec, dim: str) -> list[str]:
    """Every code of ``dim`` a unit can have, from the catalogue or the project's code lists."""
    d = spec.dimensions.get(dim, Dimension(dim, None, (), ()))
    if d.codes is not None:
        base = list(d.codes)
    else:
        base = _codelist_file(spec.codelists_dir, d.codelist)
    out = [c for c in [*base, *d.extra] if c not in (TOTAL, OTHER)]
    if d.groups:
        members = _group_members(spec.codelists_dir, d.codelist)
        for group in d.groups:
            at = min(out.index(m) for m in members[group] if m in out)
            out = [c for c in out if c not in members[group]]
            out.insert(at, group)
    return list(dict.fromkeys(out))


def _group_members(folder: Path, name: str) -> dict[str, list[str]]:
    """``[groups.G] members = [...]`` of a code list file (NACE divisions for sectors)."""
    file = folder / ("nace_divisions.toml" if name == "sector" else f"{name}.toml")
    raw = tomllib.loads(file.read_text(encoding="utf-8"))
    return {g: list(v["members"]) for g, v in raw.get("groups", {}).items()}


def _codelist_file(folder: Path, name: str) -> list[str]:
    codes = tomllib.loads((folder / "codes.toml").read_text(encoding="utf-8"))
    if name in codes.get("lists", {}):
        return list(codes["lists"][name])
    extra = list(codes.get(f"{name}_extra", {}))
    if name == "citizenship":
        import pycountry

        return [c.alpha_3 for c in pycountry.countries] + extra
    if name == "sector":
        nace = tomllib.loads((folder / "nace_divisions.toml").read_text(encoding="utf-8"))
        return list(nace["codes"]) + extra
    raise ValueError(f"no code list {name!r} in {folder}")


def read_release(open_dir: Path, spec: Spec) -> Release:
    """Read every catalogue table's CSV in ``open_dir`` (tables without a file are skipped)."""
    release: Release | None = None
    tables: dict[str, list[Cell]] = {}
    for t in spec.tables:
        path = Path(open_dir) / f"{t.id}.csv"
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        cells = []
        for r in rows:
            year = int(r["year"])
            release = release or Release(year)
            if year != release.year:
                raise ValueError(f"{path}: year {year}, expected {release.year}")
            value = r["value"].strip()
            cells.append(Cell({d: r[d] for d in t.dims}, int(value) if value else None))
        tables[t.id] = cells
    if release is None:
        raise ValueError(f"{open_dir}: no table of the catalogue")
    release.tables = tables
    return release


def cell_key(table: Table, codes: dict[str, str]) -> str:
    """``dim=code;dim=code`` in the table's dimension order; ``_T`` for a one-count table."""
    return ";".join(f"{d}={codes[d]}" for d in table.dims) or TOTAL


FACTS = Path(__file__).with_name("facts.toml")


def catalogue_with_facts(catalogue_path: Path, folder: Path) -> Path:
    """The catalogue itself if it declares facts, else a copy in ``folder`` with facts.toml."""
    text = Path(catalogue_path).read_text(encoding="utf-8")
    if "facts" in tomllib.loads(text):
        return Path(catalogue_path)
    out = Path(folder) / "catalogue_with_facts.toml"
    out.write_text(text + "\n" + FACTS.read_text(encoding="utf-8"), encoding="utf-8")
    return out
