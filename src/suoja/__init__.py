"""suoja: publish official statistics about vulnerable people without exposing any of them.

One package a stage, in the order the data flows (see ARCHITECTURE.md):
``register`` (read and validate the extract) -> ``tables`` (the catalogue, cubes and
margins) -> ``protect`` (pooling, suppression or differential privacy, the release audit)
-> ``release`` (open data, restricted files, atomically) -> ``review`` (the trilingual
review). ``pipeline.publish`` runs them in order and ``cli`` is a thin Typer layer over it.

The names below are the library's front door::

    register = read_register(Path("data/register"))
    release = protect_release(register.frames, 2025, read_catalogue(), read_policy())
    audit = audit_release(release)
    write_release(release, Path("out/2025"), force=True)
"""

from suoja._version import __version__
from suoja.errors import (
    CatalogueError,
    InternalError,
    PolicyError,
    RegisterError,
    ReleaseRefused,
    SuojaError,
    UsageError,
)
from suoja.pipeline import PublishResult, protect_release, publish
from suoja.policy import Policy, read_policy
from suoja.protect import SuppressionRules, protect_frequency_table
from suoja.protect.protected import ProtectedRelease
from suoja.protect.release_audit import audit_open, audit_release
from suoja.register import Register, read_register
from suoja.release import write_release
from suoja.tables import Catalogue, compute_cubes, compute_tables, read_catalogue

__all__ = [
    "Catalogue",
    "CatalogueError",
    "InternalError",
    "Policy",
    "PolicyError",
    "ProtectedRelease",
    "PublishResult",
    "Register",
    "RegisterError",
    "ReleaseRefused",
    "SuojaError",
    "SuppressionRules",
    "UsageError",
    "__version__",
    "audit_open",
    "audit_release",
    "compute_cubes",
    "compute_tables",
    "protect_frequency_table",
    "protect_release",
    "publish",
    "read_catalogue",
    "read_policy",
    "read_register",
    "write_release",
]
