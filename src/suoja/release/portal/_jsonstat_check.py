"""Checks of a JSON-stat file: the JSON-stat 2.0 schema, two readers, and the structure.

The schema (``schemas/jsonstat-2.0-dataset.schema.json``) checks each property's form;
jsonstat.py and pyjstat read the cube as clients do. None of them notices a value array
shorter than the cube, a status code whose meaning is not stated, or a hidden cell that
has a value; ``jsonstat_problems`` does, and compares every cell with the CSV.
"""

from __future__ import annotations

import itertools
import json
import math
import warnings
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from suoja.protect.protected import CONFIDENTIAL

Cells = dict[tuple[str, ...], int | None]
SCHEMA = "jsonstat-2.0-dataset.schema.json"


@cache
def _validator() -> Any:
    import jsonschema

    with resources.files("suoja.release.portal").joinpath("schemas", SCHEMA).open("rb") as f:
        schema = json.load(f)
    return jsonschema.Draft202012Validator(schema,
                                           format_checker=jsonschema.FormatChecker())


def schema_errors(doc: Any) -> list[str]:
    """Where the document breaks the JSON-stat 2.0 dataset schema."""
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message[:120]}"
            for e in sorted(_validator().iter_errors(doc), key=lambda e: list(e.path))]


def _categories(dimension: Any) -> list[str]:
    index = dimension["category"]["index"]
    if isinstance(index, list):
        return list(index)
    return sorted(index, key=index.__getitem__)


def _cube(doc: dict[str, Any]) -> tuple[list[str], list[list[str]], list[str]]:
    """Dimension ids, their category ids in index order, and problems of the frame."""
    problems = []
    ids, sizes, dims = doc.get("id", []), doc.get("size", []), doc.get("dimension", {})
    if len(ids) != len(sizes):
        problems.append(f"id has {len(ids)} dimensions, size {len(sizes)}")
    if set(ids) != set(dims):
        problems.append(f"dimension ids {sorted(dims)} do not match id {ids}")
    categories = []
    for i, dim in enumerate(ids):
        cats = _categories(dims[dim]) if dim in dims else []
        if i < len(sizes) and len(cats) != sizes[i]:
            problems.append(f"dimension {dim!r} has {len(cats)} categories, size says "
                            f"{sizes[i]}")
        labels = dims.get(dim, {}).get("category", {}).get("label", {})
        if labels and set(labels) != set(cats):
            problems.append(f"dimension {dim!r}: labels and index name other categories")
        categories.append(cats)
    for role, members in doc.get("role", {}).items():
        problems += [f"role {role}: {m!r} is not a dimension" for m in members if m not in ids]
    return ids, categories, problems


def _roles(doc: dict[str, Any]) -> list[str]:
    problems = []
    role = doc.get("role", {})
    for name in ("time", "metric"):
        if not role.get(name):
            problems.append(f"no {name} role")
    for metric in role.get("metric", []):
        category = doc.get("dimension", {}).get(metric, {}).get("category", {})
        units = category.get("unit", {})
        missing = [c for c in _categories({"category": category}) if c not in units]
        if missing:
            problems.append(f"metric {metric!r}: no unit for {', '.join(missing)}")
    return problems


def _statuses(doc: dict[str, Any], values: list[Any]) -> list[str]:
    """Every status code explained in ``extension``, every hidden cell null and flagged."""
    problems = []
    status = doc.get("status", {})
    if isinstance(status, str):
        status = {str(i): status for i in range(len(values))}
    elif isinstance(status, list):
        status = {str(i): s for i, s in enumerate(status) if s is not None}
    meanings = doc.get("extension", {}).get("status", {})
    for code in sorted(set(status.values())):
        if not isinstance(meanings.get(code), str) or not meanings[code].strip():
            problems.append(f"status {code!r} is used but its meaning is not stated in "
                            "extension.status")
    for key, code in status.items():
        if not key.isdigit() or int(key) >= len(values):
            problems.append(f"status {key!r} points outside the value array")
        elif code == CONFIDENTIAL and values[int(key)] is not None:
            problems.append(f"cell {key} is confidential but has a value")
    for i, value in enumerate(values):
        if value is None and str(i) not in status:
            problems.append(f"cell {i} is null without a status")
    return problems


def jsonstat_problems(doc: Any, lang: str, reference: Cells) -> list[str]:
    """Structural problems of one dataset, and cells that differ from the CSV."""
    if not isinstance(doc, dict) or doc.get("class") != "dataset":
        return ["not a JSON-stat dataset"]
    ids, categories, problems = _cube(doc)
    values = doc.get("value")
    if not isinstance(values, list):
        return [*problems, "value is not an array"]
    cells = math.prod(len(c) for c in categories)
    if len(values) != cells:
        word = "shorter" if len(values) < cells else "longer"
        problems.append(f"the value array is {word} than the cube: {len(values)} values for "
                        f"{cells} cells")
    problems += _roles(doc) + _statuses(doc, values)
    if doc.get("extension", {}).get("language") != lang:
        problems.append(f"extension.language is {doc.get('extension', {}).get('language')!r}, "
                        f"but the file is the {lang} one")
    if problems:
        return problems
    found = {}
    year = ids.index("year") if "year" in ids else None
    for key, value in zip(itertools.product(*categories), values, strict=True):
        dims = [k for i, k in enumerate(key) if i != year and ids[i] not in
                doc.get("role", {}).get("metric", [])]
        found[(*dims, key[year] if year is not None else "")] = value
    if found != reference:
        diff = sorted(k for k in set(found) | set(reference) if found.get(k, "?") !=
                      reference.get(k, "?"))
        problems.append(f"figures differ from the CSV at {len(diff)} cell(s), e.g. "
                        f"{';'.join(diff[0])}")
    return problems


def jsonstat_py_read(path: Path) -> str:
    """Read with jsonstat.py as a client would: every cell of the table."""
    import jsonstat

    dataset = jsonstat.from_file(str(path))
    if not isinstance(dataset, jsonstat.JsonStatDataSet):
        raise ValueError(f"jsonstat.py reads a {type(dataset).__name__}, not a dataset")
    rows = dataset.to_table()[1:]
    return f"{len(rows)} cells, {len(dataset.dimensions())} dimensions"


def pyjstat_read(path: Path) -> str:
    """Read with pyjstat into a data frame."""
    from pyjstat import pyjstat

    with warnings.catch_warnings():  # pyjstat warns about its own internal calls
        warnings.simplefilter("ignore", DeprecationWarning)
        frame = pyjstat.Dataset.read(path.read_text(encoding="utf-8")).write("dataframe")
    return f"{len(frame)} rows"
