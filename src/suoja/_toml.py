"""Small helpers to read TOML into checked values, with the TOML path in every error."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from suoja.codelists import LANGUAGES
from suoja.errors import SuojaError


def load(path: Path, error: type[SuojaError]) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is the user's to fix."""
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as e:
        raise error(f"{path}: not valid TOML ({e})") from None


def check_keys(table: Mapping[str, Any], where: str, allowed: set[str], required: set[str],
               error: type[SuojaError]) -> None:
    """Reject unknown and missing keys, naming the TOML path and the allowed keys."""
    if not isinstance(table, Mapping):
        raise error(f"{where}: expected a table, got {table!r}")
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise error(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    missing = sorted(required - set(table))
    if missing:
        raise error(f"{where}: missing key {missing[0]!r}")


def texts(value: Any, where: str, error: type[SuojaError]) -> dict[str, str]:
    """A text in every language: ``{fi = "...", sv = "...", en = "..."}``."""
    if not isinstance(value, Mapping):
        raise error(f"{where}: expected {{fi = ..., sv = ..., en = ...}}, got {value!r}")
    check_keys(value, where, set(LANGUAGES), set(LANGUAGES), error)
    for lang in LANGUAGES:
        if not isinstance(value[lang], str) or not value[lang].strip():
            raise error(f"{where}.{lang}: expected a non-empty text")
    return {lang: value[lang] for lang in LANGUAGES}
