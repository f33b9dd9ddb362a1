"""The data files of ``open/`` and what the portals need to know about each format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from suoja.catalogue import Catalogue, TableSpec
from suoja.codelists import LANGUAGES

DATAPACKAGE = "datapackage.json"
CKAN_PACKAGE = "ckan_package.json"
DCAT = "dcat.jsonld"
MANIFEST = "manifest.json"
METADATA_FILES = (CKAN_PACKAGE, DCAT, MANIFEST)


@dataclass(frozen=True)
class Format:
    """How CKAN, DCAT-AP and IANA name one of the formats of ``open/``."""

    ckan: str
    media_type: str | None
    file_type: str | None
    standard: str
    standard_title: str
    format_iri: str | None = None
    """The format's IRI where the EU file-type table has no entry for it."""

    @property
    def format_id(self) -> str | None:
        """The IRI of ``dct:format``: the EU file type, else ``format_iri``."""
        return EU_FILE_TYPE + self.file_type if self.file_type else self.format_iri


PX_SPEC = "https://www.scb.se/en/services/statistical-programs-for-px-files/px-file-format/"
FORMATS = {
    "csv": Format("CSV", "text/csv", "CSV", "https://www.rfc-editor.org/rfc/rfc4180",
                  "RFC 4180: Common Format and MIME Type for CSV Files"),
    "jsonstat": Format("JSON", "application/json", "JSON", "https://json-stat.org/format/",
                       "JSON-stat 2.0"),
    # PX has no entry in the EU file-type table and no media type of its own: its format is
    # named by its specification, and its media type is the plain text a PX file is.
    "px": Format("PX", "text/plain", None, PX_SPEC, "PX file format (PxWeb)",
                 format_iri=PX_SPEC),
    "datapackage": Format("JSON", "application/json", "JSON",
                          "https://specs.frictionlessdata.io/data-package/",
                          "Frictionless Data Package"),
}
IANA = "https://www.iana.org/assignments/media-types/"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"


@dataclass(frozen=True)
class DataFile:
    """One data file of ``open/``: its name, table (None for the package) and format."""

    name: str
    kind: str
    table: TableSpec | None = None
    lang: str | None = None

    @property
    def format(self) -> Format:
        """The file's format."""
        return FORMATS[self.kind]


def jsonstat_name(table: str, lang: str) -> str:
    """``T.json`` in Finnish, ``T.sv.json`` and ``T.en.json`` in the other languages."""
    return f"{table}.json" if lang == LANGUAGES[0] else f"{table}.{lang}.json"


def data_files(catalogue: Catalogue,
               tables: Sequence[TableSpec] | None = None) -> list[DataFile]:
    """Every data file of ``open/``, table by table, then the data package.

    ``tables``: the tables of the release (``ProtectedRelease.open_tables``: with its counts
    of distinct codes); by default the catalogue's tables.
    """
    files = []
    for spec in catalogue.tables if tables is None else tables:
        files.append(DataFile(f"{spec.id}.csv", "csv", spec))
        files += [DataFile(jsonstat_name(spec.id, lang), "jsonstat", spec, lang)
                  for lang in LANGUAGES]
        files.append(DataFile(f"{spec.id}.px", "px", spec))
    return [*files, DataFile(DATAPACKAGE, "datapackage")]


def csv_cells(path: Path, dimensions: list[str]) -> dict[tuple[str, ...], int | None]:
    """The published cells of ``T.csv``: (dimension codes..., year) -> value or None.

    The CSV is the reference the other formats of the same table must agree with.
    """
    frame = pl.read_csv(path, infer_schema=False)
    keys = frame.select(*dimensions, "year").rows()
    values = []
    for value in frame["value"].to_list():
        if value not in (None, "") and not value.isdigit():
            raise ValueError(f"cannot compare with {path.name}: its value {value!r} is not a "
                             "whole number")
        values.append(None if value in (None, "") else int(value))
    return dict(zip(keys, values, strict=True))
