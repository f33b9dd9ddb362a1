"""The register stage: read the register extract and check it against the contract.

Takes a folder of CSV, Parquet or Excel files and returns a :class:`Register` (one typed
Polars frame per contract file), or raises :class:`~suoja.errors.RegisterError` listing
every broken rule. Modules: ``reader`` (files, schemas, typing), ``validate`` (the rules
of one file), ``consistency`` (the rules that span rows or files), ``_csv`` (a CSV
structure check). Nothing here imports a later stage.
"""

from __future__ import annotations

from pathlib import Path

from suoja.errors import RegisterError
from suoja.register.reader import FILES, Register, read_raw, register_fingerprint
from suoja.register.validate import ValidationReport, validate_raw

__all__ = [
    "FILES",
    "Register",
    "ValidationReport",
    "read_raw",
    "read_register",
    "register_fingerprint",
    "validate_raw",
]


def read_register(folder: Path, *, max_problems: int = 50) -> Register:
    """Read and validate a register extract; raise RegisterError listing every problem."""
    raw, absent = read_raw(folder)
    report = validate_raw(folder, raw, absent, max_problems=max_problems)
    if report.problems:
        raise RegisterError(str(folder), [str(p) for p in report.problems], report.more)
    return Register(source=folder, frames=report.frames)
