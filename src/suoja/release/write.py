"""Write a protected release: ``open/`` for the portal, ``restricted/`` for the officer.

Reads protected tables only (``suoja.protect.protected``), never the register. Everything is
written into a private temporary folder beside the target and renamed into place at the
end, under a lock (``suoja._target``), so a failure or a kill leaves nothing behind; an
existing release is replaced only when asked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import polars as pl

from suoja.codelists import LANGUAGES
from suoja.protect.protected import CONFIDENTIAL, ProtectedRelease
from suoja.release._jsonstat import dataset
from suoja.release._target import OWNER_ONLY_DIR, OWNER_ONLY_FILE, atomic_folder
from suoja.release.portal import write_manifest, write_portal_files
from suoja.tables.catalogue import TableSpec


def write_csv(release: ProtectedRelease, spec: TableSpec, folder: Path) -> Path:
    """``T.csv``: year, dimension codes, value (empty where hidden), status."""
    path = folder / f"{spec.id}.csv"
    release.tables[spec.id].select("year", *spec.dimensions, "value", "status").write_csv(path)
    return path


def write_jsonstat(release: ProtectedRelease, spec: TableSpec, folder: Path) -> list[Path]:
    """``T.json`` (Finnish) and ``T.sv.json``, ``T.en.json``."""
    paths = []
    for lang in LANGUAGES:
        path = folder / (f"{spec.id}.json" if lang == "fi" else f"{spec.id}.{lang}.json")
        path.write_text(json.dumps(dataset(release, spec, lang), ensure_ascii=False, indent=1),
                        encoding="utf-8")
        paths.append(path)
    return paths


def _schema(release: ProtectedRelease, spec: TableSpec) -> dict[str, Any]:
    table = release.tables[spec.id]
    fields: list[dict[str, Any]] = [{"name": "year", "type": "integer",
                                     "constraints": {"required": True}}]
    for dim in spec.dimensions:
        fields.append({
            "name": dim, "type": "string",
            "title": release.catalogue.dimensions[dim].label["en"],
            "constraints": {"required": True, "enum": list(dict.fromkeys(table[dim].to_list()))},
        })
    fields.append({"name": "value", "type": "integer", "constraints": {"minimum": 0},
                   "description": "Count; empty where the cell is not published."})
    fields.append({"name": "status", "type": "string", "constraints": {"enum": [CONFIDENTIAL]},
                   "description": "SDMX OBS_STATUS: C = confidential (not published)."})
    return {"fields": fields, "missingValues": [""], "primaryKey": ["year", *spec.dimensions]}


def datapackage(release: ProtectedRelease) -> dict[str, Any]:
    """The Frictionless Data Package describing every CSV of ``open/``."""
    catalogue = release.catalogue
    resources = []
    for spec in release.open_tables:
        resource: dict[str, Any] = {
            "name": spec.id, "path": f"{spec.id}.csv", "profile": "tabular-data-resource",
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "title": spec.title["en"], "description": spec.note["en"],
            "schema": _schema(release, spec),
        }
        if spec.id in release.error_bounds:
            resource["error_bound_95"] = release.error_bounds[spec.id]
        resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": f"trafficking-victims-assistance-{release.year}",
        "title": f"{catalogue.title['en']} {release.year}",
        "description": f"{catalogue.title['fi']} {release.year}",
        "created": release.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "licenses": [{"name": "CC-BY-4.0", "title": "Creative Commons Attribution 4.0",
                      "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "sources": [{"title": catalogue.publisher["en"]}],
        "resources": resources,
    }


def write_open(release: ProtectedRelease, folder: Path) -> list[Path]:
    """Every file of ``open/``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for spec in release.open_tables:
        paths.append(write_csv(release, spec, folder))
        paths += write_jsonstat(release, spec, folder)
    package = folder / "datapackage.json"
    package.write_text(json.dumps(datapackage(release), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    return [*paths, package]


def release_loss(release: ProtectedRelease) -> pl.DataFrame:
    """The loss of a suppression release per table (``suoja.protect.loss``)."""
    from suoja.protect.loss import loss_table

    return loss_table(release.restricted.log,
                      {spec.id: release.tables[spec.id].height
                       for spec in release.catalogue.tables if spec.id in release.tables})


def write_restricted(release: ProtectedRelease, folder: Path) -> list[Path]:
    """``restricted/``: the suppression log, the loss per table (``loss.csv``), the proven
    lower bound of the loss per population (``bound.csv``) and the audit, readable by
    the owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, OWNER_ONLY_DIR)
    log = folder / "suppression_log.csv"
    release.restricted.log.write_csv(log)
    paths = [log]
    if release.policy.mode != "dp":
        loss = folder / "loss.csv"
        release_loss(release).write_csv(loss)
        paths.append(loss)
    bound = release.restricted.extra.get("bound")
    if bound is not None and not bound.is_empty():
        path = folder / "bound.csv"
        bound.write_csv(path)
        paths.append(path)
    never = release.restricted.extra.get("never_hide")
    if never is not None and not never.is_empty():
        path = folder / "never_hide.csv"
        never.write_csv(path)
        paths.append(path)
    if release.restricted.audit is not None:
        audit = folder / "audit.json"
        audit.write_text(json.dumps(release.restricted.audit.to_dicts(), indent=1,
                                    ensure_ascii=False), encoding="utf-8")
        paths.append(audit)
    for path in paths:
        os.chmod(path, OWNER_ONLY_FILE)
    return paths


def write_files(release: ProtectedRelease, folder: Path) -> list[Path]:
    """Write ``open/`` (with the portal files), ``restricted/`` and an empty ``review/`` into
    ``folder``, a private temporary folder (:func:`suoja.release._target.atomic_folder`)."""
    paths = write_open(release, folder / "open")
    paths += write_portal_files(release, folder / "open")
    paths += write_restricted(release, folder / "restricted")
    (folder / "review").mkdir()
    return paths


def write_audit(folder: Path, audit: pl.DataFrame, officer_page: str) -> list[Path]:
    """The audit's verdict and the privacy officer's page, into ``folder/restricted/``
    (owner only)."""
    audit_file = folder / "restricted" / "audit.json"
    audit_file.write_text(audit.write_json(), encoding="utf-8")
    audit_file.chmod(OWNER_ONLY_FILE)
    page = folder / "restricted" / "review.html"
    page.write_text(officer_page, encoding="utf-8")
    page.chmod(OWNER_ONLY_FILE)
    return [audit_file, page]


def write_release(release: ProtectedRelease, target: Path, *, force: bool = False) -> Path:
    """Write ``open/``, ``restricted/`` and last the manifest, atomically: nothing is in
    place unless everything was written (``publish`` adds the audit and the review)."""
    with atomic_folder(target, force=force) as folder:
        write_files(release, folder)
        write_manifest(release, folder)
    return target
