"""Where suoja's shipped files live: code lists, the catalogue, the embedded register.

In a wheel they are packaged as ``suoja/data``; in a source checkout (editable install)
they are the repository's own ``data/`` and ``policies/`` folders.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

_REPO_ROOT = Path(__file__).resolve().parents[2]


@cache
def data_dir() -> Path:
    """The folder holding ``codelists/``, ``catalogue.toml`` and ``register/``."""
    packaged = Path(str(resources.files("suoja"))) / "data"
    return packaged if packaged.is_dir() else _REPO_ROOT / "data"


@cache
def policies_dir() -> Path:
    """The folder holding the shipped disclosure policies."""
    packaged = Path(str(resources.files("suoja"))) / "policies"
    return packaged if packaged.is_dir() else _REPO_ROOT / "policies"
