"""``open/ckan_package.json``: the dataset as avoindata.fi's CKAN API takes it.

avoindata.fi runs CKAN with ckanext-scheming and ckanext-fluent (its dataset schema is
``ckanext-ytp_main/ckanext/ytp/schemas/dataset.json`` in github.com/vrk-kpa/opendata).
The file is the body of ``package_create`` (or ``package_update``): translated title and
description, keywords per language, licence, maintainer, organisation, categories, and
one resource per data file with its translated name and format. Resource URLs point to
``metadata.download_url``; to upload the files instead, replace each ``url`` with the
upload. The values come from the catalogue's ``[metadata]`` section.

``ckan_problems`` checks a package against the fields that schema requires, since no
CKAN reader runs offline.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from suoja.codelists import LANGUAGES
from suoja.portal._files import CKAN_PACKAGE, DataFile, data_files
from suoja.portal._metadata import EMAIL, SLUG, PortalMetadata, portal_metadata, portal_texts
from suoja.protected import ProtectedRelease

COLLECTION_TYPES = ("Open Data", "Interoperability Tools")
# avoindata.fi's licence list (ckan/data/license.json): the open ones.
LICENSES = ("cc-by-4.0", "cc-zero-1.0", "odc-by", "odc-odbl", "odc-pddl", "cc-by-sa",
            "other-open", "other-pd", "other-at")


def _resource_name(file: DataFile, year: int, lang: str) -> str:
    texts = portal_texts()
    if file.table is None:
        return texts["datapackage"][lang]
    key = f"format_jsonstat_{file.lang}" if file.kind == "jsonstat" else f"format_{file.kind}"
    return f"{file.table.title[lang]} {year} ({texts[key][lang]})"


def _resource(file: DataFile, folder: Path, meta: PortalMetadata) -> dict[str, Any]:
    texts = portal_texts()
    description = (texts["datapackage_note"] if file.table is None else file.table.note)
    resource: dict[str, Any] = {
        "name_translated": {lang: _resource_name(file, meta.year, lang) for lang in LANGUAGES},
        "description_translated": dict(description),
        "url": meta.url_of(file.name),
        "format": file.format.ckan,
        "maturity": "current",
        "temporal_coverage_from": f"{meta.year}-01-01",
        "temporal_coverage_to": f"{meta.year}-12-31",
        "temporal_granularity": meta.ckan["temporal_granularity"],
    }
    if file.format.media_type:
        resource["mimetype"] = file.format.media_type
    if (folder / file.name).exists():
        resource["size"] = (folder / file.name).stat().st_size
    return resource


def _notes(release: ProtectedRelease, meta: PortalMetadata, lang: str) -> str:
    """The description: the publisher's text and the list of tables (Markdown)."""
    heading = portal_texts()["tables_heading"][lang]
    tables = "\n".join(f"- {spec.title[lang]}" for spec in release.open_tables)
    return f"{meta.description[lang]}\n\n{heading}:\n\n{tables}"


def ckan_package(release: ProtectedRelease, folder: Path,
                 meta: PortalMetadata | None = None) -> dict[str, Any]:
    """The ``package_create`` body for the release whose ``open/`` files are in ``folder``."""
    meta = meta or portal_metadata(release.catalogue, release.year)
    title = {lang: f"{release.catalogue.title[lang]} {release.year}" for lang in LANGUAGES}
    return {
        "name": meta.ckan["name"],
        "title": title[LANGUAGES[0]],
        "title_translated": title,
        "notes_translated": {lang: _notes(release, meta, lang) for lang in LANGUAGES},
        "keywords": meta.keywords,
        "categories": list(meta.ckan["categories"]),
        "license_id": meta.license_id,
        "copyright_notice_translated": meta.attribution,
        "update_frequency": meta.ckan["update_frequency"],
        "external_urls": [meta.landing_page[lang] for lang in LANGUAGES],
        "collection_type": COLLECTION_TYPES[0],
        "owner_org": meta.ckan["owner_org"],
        "maintainer": meta.ckan["maintainer"],
        "maintainer_email": [meta.contact_email],
        "maintainer_website": meta.contact_url,
        "private": False,
        "resources": [_resource(f, folder, meta)
                      for f in data_files(release.catalogue, release.open_tables)],
    }


def write_ckan(release: ProtectedRelease, folder: Path,
               meta: PortalMetadata | None = None) -> Path:
    """Write ``ckan_package.json`` (after the data files, so that it has their sizes)."""
    path = folder / CKAN_PACKAGE
    path.write_text(json.dumps(ckan_package(release, folder, meta), ensure_ascii=False,
                               indent=2) + "\n", encoding="utf-8")
    return path


def _translated(package: dict[str, Any], key: str, where: str, required: bool) -> list[str]:
    value = package.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, dict) or not isinstance(value.get(LANGUAGES[0]), str | list) \
            or not value.get(LANGUAGES[0]):
        return [f"{where}{key}: needs a Finnish value ({{\"fi\": ...}})"]
    missing = [lang for lang in LANGUAGES if not value.get(lang)]
    return [f"{where}{key}: no {', '.join(missing)} translation"] if missing else []


def ckan_problems(package: Any, folder: Path) -> list[str]:
    """What avoindata.fi's dataset schema would refuse, and resources without a file."""
    if not isinstance(package, dict):
        return ["not a JSON object"]
    problems: list[str] = []
    for key in ("title_translated", "notes_translated", "keywords"):
        problems += _translated(package, key, "", required=True)
    for key in ("copyright_notice_translated", "update_frequency"):
        problems += _translated(package, key, "", required=False)
    if not isinstance(package.get("name"), str) or not SLUG.match(package["name"]):
        problems.append(f"name: {package.get('name')!r} is not a CKAN name")
    if package.get("license_id") not in LICENSES:
        problems.append(f"license_id: {package.get('license_id')!r} is not an open licence "
                        f"of avoindata.fi ({', '.join(LICENSES)})")
    if package.get("collection_type") not in COLLECTION_TYPES:
        problems.append(f"collection_type: must be one of {', '.join(COLLECTION_TYPES)}")
    for key in ("owner_org", "maintainer"):
        if not isinstance(package.get(key), str) or not package[key].strip():
            problems.append(f"{key}: required")
    emails = package.get("maintainer_email")
    if not isinstance(emails, list) or not emails or \
            not all(isinstance(e, str) and EMAIL.match(e) for e in emails):
        problems.append("maintainer_email: needs a list of e-mail addresses")
    if not isinstance(package.get("categories"), list) or not package["categories"]:
        problems.append("categories: select at least one category")
    return problems + _resource_problems(package.get("resources"), folder)


def _resource_problems(resources: Any, folder: Path) -> list[str]:
    if not isinstance(resources, list) or not resources:
        return ["resources: none"]
    problems: list[str] = []
    urls = [r.get("url") for r in resources if isinstance(r, dict)]
    for i, resource in enumerate(resources):
        where = f"resources[{i}]."
        if not isinstance(resource, dict):
            problems.append(f"resources[{i}]: not an object")
            continue
        problems += _translated(resource, "name_translated", where, required=True)
        url = resource.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://\S+$", url):
            problems.append(f"{where}url: {url!r} is not an address")
            continue
        if urls.count(url) > 1:
            problems.append(f"{where}url: {url} is listed twice")
        if not resource.get("format"):
            problems.append(f"{where}format: required")
        name = url.rsplit("/", 1)[-1]
        if not (folder / name).is_file():
            problems.append(f"{where}url: no file {name} in open/")
        elif "size" in resource and resource["size"] != (folder / name).stat().st_size:
            problems.append(f"{where}size: {resource['size']} bytes, but {name} has "
                            f"{(folder / name).stat().st_size}")
    return problems
