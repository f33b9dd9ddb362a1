"""What the release writers and the review may read: protected tables, never the register.

A ``ProtectedRelease`` holds, per table, only what is published (``value`` is null where a
cell is hidden, ``status`` is ``C`` there), plus the restricted material for the privacy
officer (the suppression log, the audit) kept apart in ``restricted``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from suoja.catalogue import Catalogue, TableSpec
from suoja.policy import Policy

CONFIDENTIAL = "C"


@dataclass(frozen=True)
class Restricted:
    """For the privacy officer only: never written under ``open/`` or ``review/``."""

    log: pl.DataFrame
    audit: pl.DataFrame | None = None
    register_fingerprint: str = ""
    cells: dict[str, pl.DataFrame] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtectedRelease:
    """One year's protected tables with their catalogue and policy."""

    year: int
    catalogue: Catalogue
    policy: Policy
    tables: dict[str, pl.DataFrame]
    restricted: Restricted
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    error_bounds: dict[str, float] = field(default_factory=dict)
    previous: ProtectedRelease | None = None

    @property
    def open_tables(self) -> tuple[TableSpec, ...]:
        """Every table written to ``open/``: the catalogue's tables, then the counts of
        distinct codes the release holds (``suoja.distinct``; none under noise)."""
        return self.catalogue.tables + tuple(s for s in self.catalogue.distinct
                                             if s.id in self.tables)

    def published(self, table: str, **codes: str) -> int | None:
        """The published value of one cell (None when hidden); unnamed dimensions are totals.

        Raises KeyError when the table has no such cell.
        """
        spec = self.catalogue.table(table)
        frame = self.tables[table]
        for dim in spec.dimensions:
            frame = frame.filter(pl.col(dim) == codes.get(dim, "_T"))
        if frame.height != 1:
            raise KeyError(f"{table}: no cell {codes}")
        value = frame["value"][0]
        return None if value is None else int(value)
