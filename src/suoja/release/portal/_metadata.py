"""The ``[metadata]`` section of the catalogue, read into checked values for the portal files.

Every text the portal package shows that is not about one table lives here (publisher,
contact, licence, keywords, vocabularies), so that a publisher edits TOML, not code.
The portal's own fixed words (``Tiedot``, the names of formats) are in ``texts.toml``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from suoja._toml import check_keys, texts
from suoja.codelists import LANGUAGES
from suoja.errors import CatalogueError
from suoja.tables.catalogue import Catalogue

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SLUG = re.compile(r"^[a-z0-9_-]{2,100}$")


@dataclass(frozen=True)
class Term:
    """A concept of a controlled vocabulary: its IRI and its label in every language."""

    uri: str
    label: dict[str, str]


@dataclass(frozen=True)
class PortalMetadata:
    """What the PX, CKAN and DCAT writers need beyond the tables, for one release year."""

    year: int
    identifier: str
    description: dict[str, str]
    keywords: dict[str, list[str]]
    attribution: dict[str, str]
    landing_page: dict[str, str]
    download_url: str
    dataset_uri: str
    series_uri: str
    series_title: dict[str, str]
    license_id: str
    license_uri: str
    license_title: str
    themes: tuple[Term, ...]
    frequency: Term
    spatial: Term
    official_statistics: bool
    publisher_name: dict[str, str]
    publisher_uri: str
    publisher_type: Term
    contact_name: dict[str, str]
    contact_email: str
    contact_url: str
    ckan: dict[str, Any]
    px: dict[str, Any]

    def url_of(self, name: str) -> str:
        """Where a file of ``open/`` is served."""
        return self.download_url + name


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.match(r"^https?://\S+$", value):
        raise CatalogueError(f"{where}: expected an http(s) address, got {value!r}")
    return value


def _term(value: Any, where: str) -> Term:
    check_keys(value, where, {"uri", "label"}, {"uri", "label"}, CatalogueError)
    return Term(_url(value["uri"], f"{where}.uri"), texts(value["label"], f"{where}.label",
                                                           CatalogueError))


def _lists(value: Any, where: str) -> dict[str, list[str]]:
    check_keys(value, where, set(LANGUAGES), set(LANGUAGES), CatalogueError)
    out = {}
    for lang in LANGUAGES:
        words = value[lang]
        if not isinstance(words, list) or not words or \
                not all(isinstance(w, str) and w.strip() for w in words):
            raise CatalogueError(f"{where}.{lang}: expected a non-empty list of texts")
        out[lang] = list(words)
    return out


def _ckan(raw: Any) -> dict[str, Any]:
    where = "metadata.ckan"
    keys = {"name", "owner_org", "maintainer", "categories", "update_frequency",
            "temporal_granularity"}
    check_keys(raw, where, keys, keys, CatalogueError)
    if not isinstance(raw["categories"], list) or not raw["categories"]:
        raise CatalogueError(f"{where}.categories: expected a non-empty list of slugs")
    if not isinstance(raw["maintainer"], str) or not raw["maintainer"].strip():
        raise CatalogueError(f"{where}.maintainer: expected a non-empty text")
    for slug in (raw["name"], raw["owner_org"], *raw["categories"]):
        if not isinstance(slug, str) or not SLUG.match(slug):
            raise CatalogueError(f"{where}: {slug!r} is not a CKAN name (2 to 100 lower-case "
                                 "letters, digits, - and _)")
    return {**raw, "update_frequency": _lists(raw["update_frequency"],
                                              f"{where}.update_frequency"),
            "temporal_granularity": _lists(raw["temporal_granularity"],
                                           f"{where}.temporal_granularity")}


def _px(raw: Any) -> dict[str, Any]:
    where = "metadata.px"
    keys = {"subject_code", "subject_area", "table_prefix"}
    check_keys(raw, where, keys, keys, CatalogueError)
    return {**raw, "subject_area": texts(raw["subject_area"], f"{where}.subject_area",
                                         CatalogueError)}


def portal_metadata(catalogue: Catalogue, year: int) -> PortalMetadata:
    """Check the catalogue's ``[metadata]`` and fill in ``{year}``.

    Raises CatalogueError naming the TOML path of the first problem.
    """
    raw = _fill(catalogue.metadata, year)
    keys = {"identifier", "description", "keywords", "attribution", "landing_page",
            "download_url", "dataset_uri", "series_uri", "series_title", "license", "themes",
            "frequency", "spatial", "official_statistics", "publisher", "contact", "ckan", "px"}
    check_keys(raw, "metadata", keys, keys, CatalogueError)
    lic = raw["license"]
    check_keys(lic, "metadata.license", {"id", "uri", "title"}, {"id", "uri", "title"},
               CatalogueError)
    pub, contact = raw["publisher"], raw["contact"]
    check_keys(pub, "metadata.publisher", {"name", "uri", "type"}, {"name", "uri", "type"},
               CatalogueError)
    check_keys(contact, "metadata.contact", {"name", "email", "url", "helpline"},
               {"name", "email", "url"}, CatalogueError)
    if not isinstance(contact["email"], str) or not EMAIL.match(contact["email"]):
        raise CatalogueError(f"metadata.contact.email: not an e-mail address: "
                             f"{contact['email']!r}")
    if not isinstance(raw["themes"], list) or not raw["themes"]:
        raise CatalogueError("metadata.themes: expected a non-empty list")
    if not isinstance(raw["official_statistics"], bool):
        raise CatalogueError("metadata.official_statistics: expected true or false")
    download = _url(raw["download_url"], "metadata.download_url")
    return PortalMetadata(
        year=year, identifier=str(raw["identifier"]),
        description=texts(raw["description"], "metadata.description", CatalogueError),
        keywords=_lists(raw["keywords"], "metadata.keywords"),
        attribution=texts(raw["attribution"], "metadata.attribution", CatalogueError),
        landing_page={lang: _url(u, f"metadata.landing_page.{lang}") for lang, u in
                      texts(raw["landing_page"], "metadata.landing_page",
                            CatalogueError).items()},
        download_url=download if download.endswith("/") else download + "/",
        dataset_uri=_url(raw["dataset_uri"], "metadata.dataset_uri"),
        series_uri=_url(raw["series_uri"], "metadata.series_uri"),
        series_title=texts(raw["series_title"], "metadata.series_title", CatalogueError),
        license_id=str(lic["id"]), license_uri=_url(lic["uri"], "metadata.license.uri"),
        license_title=str(lic["title"]),
        themes=tuple(_term(t, f"metadata.themes[{i}]") for i, t in enumerate(raw["themes"])),
        frequency=_term(raw["frequency"], "metadata.frequency"),
        spatial=_term(raw["spatial"], "metadata.spatial"),
        official_statistics=raw["official_statistics"],
        publisher_name=texts(pub["name"], "metadata.publisher.name", CatalogueError),
        publisher_uri=_url(pub["uri"], "metadata.publisher.uri"),
        publisher_type=_term(pub["type"], "metadata.publisher.type"),
        contact_name=texts(contact["name"], "metadata.contact.name", CatalogueError),
        contact_email=contact["email"], contact_url=_url(contact["url"], "metadata.contact.url"),
        ckan=_ckan(raw["ckan"]), px=_px(raw["px"]),
    )


def _fill(value: Any, year: int) -> Any:
    """Replace ``{year}`` in every text of a TOML value."""
    if isinstance(value, str):
        return value.replace("{year}", str(year))
    if isinstance(value, Mapping):
        return {k: _fill(v, year) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, year) for v in value]
    return value


@cache
def portal_texts() -> dict[str, dict[str, str]]:
    """The portal's fixed words in Finnish, Swedish and English (``texts.toml``)."""
    with resources.files("suoja.release.portal").joinpath("texts.toml").open("rb") as f:
        return tomllib.load(f)
