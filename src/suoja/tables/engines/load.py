"""Where a release's cubes come from: the register through an engine, or a cube folder.

``pipeline.publish(..., cubes=...)`` takes one of these instead of reading the register
into memory; everything after the cubes (pooling, margins, protection, the release, the
review, the audit) is the same whatever made them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from suoja.errors import UsageError
from suoja.tables.catalogue import Catalogue
from suoja.tables.engines._connect import check_engine
from suoja.tables.engines.cube_set import CubeSet, files_fingerprint, read_cubes

Progress = Callable[[str], None]


def check_years(years: tuple[int, ...] | list[int], year: int, source: str) -> None:
    """Refuse a year in which nothing of the register is dated (as the Polars path does)."""
    from suoja.register.reader import _spans

    if year in years:
        return
    covered = f"its dates cover {_spans(sorted(years))}" if years else "it holds no dated rows"
    raise UsageError(
        f"{source}: nothing in the register extract is dated in {year} (no applications, "
        f"decisions, client periods, exploitation events or reflection periods); {covered}. "
        "Publish one of those years, or use --allow-empty-year to publish a year of zeros "
        "on purpose")


@dataclass(frozen=True)
class EngineRegister:
    """A register folder whose cubes an engine computes where the files lie."""

    folder: Path
    engine: str = "polars"
    master: str | None = None

    def load(self, year: int, catalogue: Catalogue, *, allow_empty_year: bool = False,
             progress: Progress | None = None) -> CubeSet:
        """Validate the register (as queries for DuckDB and Spark) and compute its cubes."""
        step = progress or (lambda _: None)
        check_engine(self.engine)
        if self.engine == "polars":
            return self._polars(year, catalogue, allow_empty_year, step)
        from suoja.tables.engines._connect import connect
        from suoja.tables.engines._validate import dated_years, validate_sources
        from suoja.tables.engines.ibis_cube import engine_cubes

        con = connect(self.engine, self.master)
        step(f"Validating the register with {self.engine}")
        sources = validate_sources(con, self.folder)
        years = dated_years(con, sources)
        if not allow_empty_year:
            check_years(years, year, str(self.folder))
        step(f"Computing the cubes with {self.engine}")
        cubes = engine_cubes(con, sources, catalogue, year)
        fingerprint = files_fingerprint([s.path for s in sources.values()])
        return CubeSet(year, cubes, fingerprint, tuple(years), self.engine, str(self.folder))

    def _polars(self, year: int, catalogue: Catalogue, allow_empty_year: bool,
                step: Progress) -> CubeSet:
        from suoja.register import read_register
        from suoja.register.reader import check_year_has_data, dated_years, register_fingerprint
        from suoja.tables.cubes import compute_cubes

        step("Reading and validating the register")
        frames = read_register(self.folder).frames
        if not allow_empty_year:
            check_year_has_data(frames, year, self.folder)
        step("Computing the cubes")
        cubes = compute_cubes(frames, catalogue, year)
        return CubeSet(year, cubes, register_fingerprint(frames), tuple(dated_years(frames)),
                       "polars", str(self.folder))


@dataclass(frozen=True)
class CubeFolder:
    """A folder written by ``suoja cube``: the release is made with no register present."""

    folder: Path

    def load(self, year: int, catalogue: Catalogue, *, allow_empty_year: bool = False,
             progress: Progress | None = None) -> CubeSet:
        """The folder's cubes, checked against the year, the catalogue and the code lists."""
        if progress:
            progress(f"Reading the cubes in {self.folder}")
        cube_set = read_cubes(self.folder, year, catalogue)
        if not allow_empty_year:
            check_years(cube_set.register_years, year, f"{self.folder} (the register behind "
                        "the cubes)")
        return cube_set


class CubeSource(Protocol):
    """What ``pipeline.publish`` takes instead of a register: anything that loads cubes."""

    def load(self, year: int, catalogue: Catalogue, *, allow_empty_year: bool = False,
             progress: Progress | None = None) -> CubeSet:
        """The cubes of ``year`` (and what is known of the register behind them)."""
        ...
