"""A cube folder: each population's finest cube as Parquet, with a manifest.

The cubes are restricted data (they hold small counts): the folder is its owner's only
(0o700, files 0o600) and is never written under an ``open/`` folder. The manifest names
the year, the engine, the populations with their dimensions and row counts, and the
fingerprints of the catalogue, the code lists and the register, so that ``publish --cube``
can refuse cubes made for another year, catalogue or code lists.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from suoja._resources import data_dir
from suoja.errors import SuojaError, UsageError
from suoja.tables.catalogue import Catalogue
from suoja.tables.cubes import VALUE, Cube

MANIFEST = "manifest.json"
FORMAT = "suoja-cubes/1"


class CubeError(SuojaError):
    """A cube folder that does not fit the release asked for (exit 2)."""


def codelists_fingerprint() -> str:
    """A SHA-256 over the code list files suoja reads (names and contents)."""
    digest = hashlib.sha256()
    folder = data_dir() / "codelists"
    for path in sorted(folder.iterdir()):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def files_fingerprint(paths: list[Path]) -> str:
    """A SHA-256 over files (every Parquet part of a folder), for the restricted record."""
    digest = hashlib.sha256()
    for path in paths:
        parts = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
        for part in parts:
            digest.update(part.name.encode())
            with part.open("rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
    return "files:" + digest.hexdigest()


@dataclass(frozen=True)
class CubeSet:
    """Every population's cube for one year, and what is known of the register behind it."""

    year: int
    cubes: dict[str, Cube]
    register_fingerprint: str
    register_years: tuple[int, ...]
    engine: str
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def refuse_open(out: Path) -> None:
    """Refuse (exit 2) a cube folder under an ``open/`` folder."""
    if "open" in out.resolve().parts:
        raise UsageError(f"{out}: cubes are restricted data (they hold small counts) and are "
                         "never written under an open/ folder; choose another --out")


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only (no moment with wider modes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    path.chmod(0o600)


def _parquet_bytes(frame: pl.DataFrame) -> bytes:
    import io

    buffer = io.BytesIO()
    frame.write_parquet(buffer, statistics=False)
    return buffer.getvalue()


def write_cubes(cube_set: CubeSet, out: Path, catalogue: Catalogue, *,
                force: bool = False) -> Path:
    """Write the cubes and their manifest into ``out`` (owner-only); return the manifest."""
    refuse_open(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file, but --out (the cube folder) is a folder")
    if out.exists() and any(out.iterdir()) and not force:
        raise UsageError(f"{out} exists and is not empty; use --force to replace its cubes")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    out.chmod(0o700)
    populations = []
    for name, cube in cube_set.cubes.items():
        data = _parquet_bytes(cube.finest)
        _write_private(out / f"{name}.parquet", data)
        populations.append({"population": name, "file": f"{name}.parquet",
                            "dimensions": list(cube.dimensions), "rows": cube.finest.height,
                            "sha256": hashlib.sha256(data).hexdigest()})
    manifest = {
        "format": FORMAT, "year": cube_set.year, "engine": cube_set.engine,
        "catalogue_fingerprint": catalogue.fingerprint,
        "codelists_fingerprint": codelists_fingerprint(),
        "register_fingerprint": cube_set.register_fingerprint,
        "register_years": list(cube_set.register_years),
        "populations": populations,
    }
    path = out / MANIFEST
    _write_private(path, (json.dumps(manifest, indent=2) + "\n").encode())
    return path


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder (--cube is a folder written by suoja cube)")
    if not path.is_file():
        raise CubeError(f"{folder}: no {MANIFEST}; is this a folder written by suoja cube?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise CubeError(f"{path}: not a readable manifest ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CubeError(f"{path}: not a suoja cube manifest (format {FORMAT!r} expected)")
    return manifest


def _check_manifest(manifest: Mapping[str, Any], folder: Path, year: int,
                    catalogue: Catalogue) -> None:
    checks = [
        ("year", year, f"the cubes are of {manifest.get('year')}, not of {year}; "
                       f"make them with: suoja cube {year}"),
        ("catalogue_fingerprint", catalogue.fingerprint,
         "the cubes were made with another table catalogue; make them again with this one "
         "(or give --catalogue the one they were made with)"),
        ("codelists_fingerprint", codelists_fingerprint(),
         "the cubes were made with other code lists (another version of suoja?); make them "
         "again"),
    ]
    for key, expected, message in checks:
        if manifest.get(key) != expected:
            raise CubeError(f"{folder}: {message}")


def _read_cube(folder: Path, entry: Mapping[str, Any], catalogue: Catalogue) -> Cube:
    name = entry["population"]
    dims = tuple(catalogue.populations[name].dimensions)
    if tuple(entry.get("dimensions", ())) != dims:
        raise CubeError(f"{folder}: population {name} has dimensions "
                        f"{entry.get('dimensions')}, the catalogue {list(dims)}")
    path = folder / entry["file"]
    if not path.is_file():
        raise CubeError(f"{folder}: {entry['file']} is missing")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise CubeError(f"{path}: its contents do not match the manifest (changed after "
                        "suoja cube wrote it?)")
    finest = pl.read_parquet(data)
    expected = {**{d: pl.String for d in dims}, VALUE: pl.Int64}
    if dict(finest.schema) != expected or finest.height != entry.get("rows"):
        raise CubeError(f"{path}: expected columns {list(expected)} and {entry.get('rows')} "
                        "rows as the manifest says")
    domains = {d: catalogue.dimensions[d].cube_codes for d in dims}
    for d in dims:
        unknown = sorted(set(finest[d].to_list()) - set(domains[d]))
        if unknown:
            raise CubeError(f"{path}: column {d} holds {unknown[0]!r}, not a code of the "
                            f"{d} dimension")
    return Cube(name, dims, domains, finest.sort(list(dims)) if dims else finest)


def read_cubes(folder: Path, year: int, catalogue: Catalogue) -> CubeSet:
    """The cubes of ``folder``, checked against the year, catalogue and code lists."""
    manifest = _manifest(folder)
    _check_manifest(manifest, folder, year, catalogue)
    entries = {e["population"]: e for e in manifest.get("populations", [])}
    wanted = [p for p in catalogue.populations if catalogue.tables_of(p)]
    missing = [p for p in wanted if p not in entries]
    if missing:
        raise CubeError(f"{folder}: no cube of population {missing[0]}")
    cubes = {name: _read_cube(folder, entries[name], catalogue) for name in wanted}
    return CubeSet(year=year, cubes=cubes, engine=str(manifest.get("engine", "")),
                   register_fingerprint=str(manifest.get("register_fingerprint", "")),
                   register_years=tuple(manifest.get("register_years", ())),
                   source=str(folder))
