"""The open-data portal package: what PxWeb and avoindata.fi take as it is.

``open/`` of a release holds, besides ``T.csv``, ``T.json`` (and ``T.sv.json``,
``T.en.json``) and ``datapackage.json`` written by ``suoja.release``:

- ``T.px``: one multilingual PX file per table for PxWeb (``px``);
- ``ckan_package.json``: the dataset for avoindata.fi's CKAN API (``ckan``);
- ``dcat.jsonld``: the dataset in DCAT-AP 3 (``dcat``);
- ``manifest.json``: every public file's size and SHA-256 (``manifest``).

``check_release`` runs the ecosystem's readers on all of them (``check``);
``verify_release`` recomputes the manifest.
"""

from __future__ import annotations

from pathlib import Path

from suoja.portal._metadata import PortalMetadata, portal_metadata
from suoja.portal.check import CheckLine, check_release
from suoja.portal.ckan import ckan_package, write_ckan
from suoja.portal.dcat import dcat_document, write_dcat
from suoja.portal.manifest import VerifyReport, verify_release, write_manifest
from suoja.portal.px import px_text, write_px
from suoja.protected import ProtectedRelease


def write_portal_files(release: ProtectedRelease, open_dir: Path) -> list[Path]:
    """Write ``T.px`` for every table, ``ckan_package.json`` and ``dcat.jsonld``.

    Call it after the CSV, JSON-stat and data package files are in ``open_dir``: the CKAN
    package records their sizes and the DCAT file their checksums. Raises CatalogueError
    when the catalogue's ``[metadata]`` section is incomplete.
    """
    meta = portal_metadata(release.catalogue, release.year)
    paths = [write_px(release, spec, open_dir, meta) for spec in release.open_tables]
    return [*paths, write_ckan(release, open_dir, meta), write_dcat(release, open_dir, meta)]


__all__ = [
    "CheckLine",
    "PortalMetadata",
    "VerifyReport",
    "check_release",
    "ckan_package",
    "dcat_document",
    "portal_metadata",
    "px_text",
    "verify_release",
    "write_manifest",
    "write_portal_files",
]
