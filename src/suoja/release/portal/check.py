"""``suoja check``: run the ecosystem's own readers on every file of a release's ``open/``.

One line per file and reader: frictionless on the data package and each CSV; the
JSON-stat 2.0 schema, jsonstat.py and pyjstat on each JSON-stat file; pyaxis on each PX
file in every language; rdflib and pyshacl (DCAT-AP 3.0.1 shapes) on the DCAT file; and
``structure``, the checks those readers are known to miss (a value array shorter than
the cube, a PX language left out, a symbol used but not declared, figures that differ
between formats). ``inventory`` flags files that are missing or do not belong in
``open/``; ``manifest`` recomputes every checksum.

A reader that is not installed, or that crashes, is a failed line, never a pass.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from suoja.codelists import LANGUAGES
from suoja.errors import UsageError
from suoja.release.portal import _jsonstat_check as js
from suoja.release.portal import _px_check as pxc
from suoja.release.portal._files import (
    CKAN_PACKAGE,
    DATAPACKAGE,
    DCAT,
    MANIFEST,
    csv_cells,
    jsonstat_name,
)
from suoja.release.portal.ckan import ckan_problems
from suoja.release.portal.manifest import verify_release


@dataclass(frozen=True)
class CheckLine:
    """The verdict of one reader on one file (``file`` is relative to the release)."""

    file: str
    reader: str
    ok: bool
    message: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.file}  [{self.reader}]  {self.message}"


def _run(file: str, reader: str, job: Callable[[], str | list[str]]) -> CheckLine:
    """Run one reader; a list is of problems (empty = ok), a text is a success summary."""
    try:
        result = job()
    except ImportError as e:
        return CheckLine(file, reader, False, f"reader not installed ({e.name or e})")
    except Exception as e:  # a reader refusing the file is the finding, not a crash
        return CheckLine(file, reader, False, f"{type(e).__name__}: {str(e)[:300]}")
    if isinstance(result, str):
        return CheckLine(file, reader, True, result)
    if not result:
        return CheckLine(file, reader, True, "no problems")
    more = f" (and {len(result) - 3} more)" if len(result) > 3 else ""
    return CheckLine(file, reader, False, "; ".join(result[:3]) + more)


def _tables(open_dir: Path) -> dict[str, list[str]]:
    """Table ids and their dimensions, from the data package (else from the CSV files)."""
    try:
        package = json.loads((open_dir / DATAPACKAGE).read_text(encoding="utf-8"))
        return {r["name"]: [f["name"] for f in r["schema"]["fields"]
                            if f["name"] not in ("year", "value", "status")]
                for r in package["resources"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {p.stem: [] for p in sorted(open_dir.glob("*.csv"))}


def _inventory(open_dir: Path, tables: dict[str, list[str]]) -> list[CheckLine]:
    expected = {DATAPACKAGE, CKAN_PACKAGE, DCAT, MANIFEST}
    for table in tables:
        expected |= {f"{table}.csv", f"{table}.px"} | {jsonstat_name(table, lang)
                                                        for lang in LANGUAGES}
    present = {p.name for p in open_dir.iterdir()}
    lines = [CheckLine(f"open/{name}", "inventory", False, "missing")
             for name in sorted(expected - present)]
    lines += [CheckLine(f"open/{name}", "inventory", False,
                        "does not belong in open/, which holds only what the portal ingests")
              for name in sorted(present - expected)]
    return lines or [CheckLine("open/", "inventory", True,
                               f"{len(present)} files, all expected, none missing")]


def _package_paths(open_dir: Path) -> list[str]:
    """Every resource of the data package is a file of open/, named plainly."""
    package = json.loads((open_dir / DATAPACKAGE).read_text(encoding="utf-8"))
    problems = []
    for i, resource in enumerate(package.get("resources", [])):
        path = resource.get("path") if isinstance(resource, dict) else None
        if not isinstance(path, str) or "/" in path or "\\" in path or ":" in path \
                or path.startswith("."):
            problems.append(f"resources[{i}].path: {path!r} is not a file name in open/")
        elif not (open_dir / path).is_file():
            problems.append(f"resources[{i}].path: no file {path}")
    return problems


def _frictionless(open_dir: Path) -> list[CheckLine]:
    paths = _run(f"open/{DATAPACKAGE}", "structure", lambda: _package_paths(open_dir))
    if not paths.ok:  # frictionless would fetch a URL or read outside open/
        return [paths]

    def report() -> Any:
        from frictionless import validate

        return validate(open_dir / DATAPACKAGE)

    try:
        result = report()
    except ImportError as e:
        return [CheckLine(f"open/{DATAPACKAGE}", "frictionless", False,
                          f"reader not installed ({e.name})")]
    except Exception as e:
        return [CheckLine(f"open/{DATAPACKAGE}", "frictionless", False,
                          f"{type(e).__name__}: {str(e)[:300]}")]
    package_errors = [e.message for e in result.errors]
    lines = [paths, CheckLine(f"open/{DATAPACKAGE}", "frictionless", not package_errors,
                       "; ".join(package_errors[:3]) or
                       f"valid data package of {len(result.tasks)} resources")]
    for task in result.tasks:
        messages = [e.message for e in task.errors]
        lines.append(CheckLine(f"open/{task.place}", "frictionless", task.valid,
                               "; ".join(messages[:3]) or f"{task.stats.get('rows')} rows valid"))
    return lines


def _jsonstat(open_dir: Path, table: str, dims: list[str]) -> list[CheckLine]:
    lines = []
    for lang in LANGUAGES:
        path = open_dir / jsonstat_name(table, lang)
        if not path.is_file():
            continue
        name = f"open/{path.name}"
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            lines.append(CheckLine(name, "json", False, f"not valid JSON: {e}"))
            continue
        lines += [
            _run(name, "json-schema", lambda doc=doc: js.schema_errors(doc)),
            _run(name, "jsonstat.py", lambda path=path: js.jsonstat_py_read(path)),
            _run(name, "pyjstat", lambda path=path: js.pyjstat_read(path)),
            _run(name, "structure", lambda doc=doc, lang=lang: js.jsonstat_problems(
                doc, lang, csv_cells(open_dir / f"{table}.csv", dims))),
        ]
    return lines


def _px(open_dir: Path, table: str, dims: list[str]) -> list[CheckLine]:
    path = open_dir / f"{table}.px"
    if not path.is_file():
        return []
    name = f"open/{path.name}"
    return [
        _run(name, "pyaxis", lambda: pxc.pyaxis_read(path, csv_cells(open_dir / f"{table}.csv",
                                                                     dims))),
        _run(name, "structure", lambda: pxc.px_problems(path.read_text(encoding="utf-8"))),
    ]


def remote_contexts(node: Any) -> list[str]:
    """Every ``@context`` or ``@import`` in a JSON-LD document that is not inline."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("@context", "@import"):
                for context in value if isinstance(value, list) else [value]:
                    if not isinstance(context, dict) and context is not None:
                        found.append(str(context))
            found += remote_contexts(value)
    elif isinstance(node, list):
        for item in node:
            found += remote_contexts(item)
    return found


def _dcat(open_dir: Path) -> list[CheckLine]:
    path, name = open_dir / DCAT, f"open/{DCAT}"
    if not path.is_file():
        return []

    def local() -> None:
        # Never let a JSON-LD parser fetch a context: the check runs offline, on files only.
        remote = remote_contexts(json.loads(path.read_text(encoding="utf-8")))
        if remote:
            raise ValueError(f"not read: the document refers to a remote context {remote[0]}")

    def parse() -> str:
        from suoja.release.portal.dcat import read_jsonld

        local()
        return f"{len(read_jsonld(path))} triples"

    def shacl() -> str | list[str]:
        from suoja.release.portal.dcat import shacl_report

        local()
        conforms, text = shacl_report(path)
        if conforms:
            return "conforms to the DCAT-AP 3.0.1 shapes"
        return [line.strip() for line in text.splitlines() if "Message:" in line] or [text]

    def inline_context() -> list[str]:
        doc = json.loads(path.read_text(encoding="utf-8"))
        problems = [f"remote context {c}: a harvester would have to fetch it"
                    for c in remote_contexts(doc)]
        if not isinstance(doc, dict) or not isinstance(doc.get("@context"), dict | list):
            problems.append("no inline @context")
        return problems

    return [_run(name, "rdflib", parse), _run(name, "pyshacl", shacl),
            _run(name, "structure", inline_context)]


def _ckan(open_dir: Path) -> list[CheckLine]:
    path = open_dir / CKAN_PACKAGE
    if not path.is_file():
        return []
    return [_run(f"open/{CKAN_PACKAGE}", "ckan-schema", lambda: ckan_problems(
        json.loads(path.read_text(encoding="utf-8")), open_dir))]


def _manifest(release_dir: Path) -> list[CheckLine]:
    if not (release_dir / "open" / MANIFEST).is_file():
        return []

    def verify() -> str | list[str]:
        report = verify_release(release_dir)
        return str(report) if report.ok else report.changes

    return [_run(f"open/{MANIFEST}", "manifest", verify)]


def check_release(release_dir: Path) -> list[CheckLine]:
    """Every reader on every file of ``release_dir/open`` it understands.

    Raises UsageError when ``release_dir`` has no ``open/`` folder.
    """
    open_dir = release_dir / "open"
    if not open_dir.is_dir():
        raise UsageError(f"{release_dir}: no open/ folder; is this a release?")
    tables = _tables(open_dir)
    lines = _inventory(open_dir, tables)
    if (open_dir / DATAPACKAGE).is_file():
        lines += _frictionless(open_dir)
    for table, dims in tables.items():
        if (open_dir / f"{table}.csv").is_file():
            lines += _jsonstat(open_dir, table, dims) + _px(open_dir, table, dims)
    return lines + _dcat(open_dir) + _ckan(open_dir) + _manifest(release_dir)
