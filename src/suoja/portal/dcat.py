"""``open/dcat.jsonld``: the release as a DCAT-AP 3 dataset, with an inline JSON-LD context.

One ``dcat:Dataset`` per release year, in a ``dcat:DatasetSeries`` of the yearly releases,
with one ``dcat:Distribution`` per data file (its address, size, SHA-256 checksum, format,
media type and the standard it follows). Every node the DCAT-AP 3.0.1 SHACL shapes
constrain by class is typed in the file itself (publisher ``foaf:Agent``, contact
``vcard:Kind``, themes ``skos:Concept`` ...), so the file validates on its own, offline.
The context is inline: a harvester never has to fetch a remote context.

``shacl_report`` validates a file against the shapes shipped in ``shapes/``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from suoja.codelists import LANGUAGES
from suoja.portal._files import DCAT, IANA, DataFile, data_files
from suoja.portal._metadata import PortalMetadata, Term, portal_metadata, portal_texts
from suoja.protected import ProtectedRelease

SHAPES = "dcat-ap-3.0.1-SHACL.ttl"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
LANGUAGE_CODES = {"fi": "FIN", "sv": "SWE", "en": "ENG"}
SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
THEMES = "http://publications.europa.eu/resource/authority/data-theme"

CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "spdx": "http://spdx.org/rdf/terms#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "title": {"@id": "dct:title", "@container": "@language"},
    "description": {"@id": "dct:description", "@container": "@language"},
    "keyword": {"@id": "dcat:keyword", "@container": "@language"},
    "prefLabel": {"@id": "skos:prefLabel", "@container": "@language"},
    "label": {"@id": "rdfs:label", "@container": "@language"},
    "name": {"@id": "foaf:name", "@container": "@language"},
    "fn": {"@id": "vcard:fn", "@container": "@language"},
    "identifier": "dct:identifier",
    "issued": {"@id": "dct:issued", "@type": "xsd:dateTime"},
    "modified": {"@id": "dct:modified", "@type": "xsd:dateTime"},
    "startDate": {"@id": "dcat:startDate", "@type": "xsd:date"},
    "endDate": {"@id": "dcat:endDate", "@type": "xsd:date"},
    "byteSize": {"@id": "dcat:byteSize", "@type": "xsd:nonNegativeInteger"},
    "checksumValue": {"@id": "spdx:checksumValue", "@type": "xsd:hexBinary"},
    **{term: {"@id": iri, "@type": "@id"} for term, iri in {
        "publisher": "dct:publisher", "contactPoint": "dcat:contactPoint",
        "distribution": "dcat:distribution", "theme": "dcat:theme",
        "inSeries": "dcat:inSeries", "landingPage": "dcat:landingPage",
        "language": "dct:language", "license": "dct:license",
        "accrualPeriodicity": "dct:accrualPeriodicity", "spatial": "dct:spatial",
        "temporal": "dct:temporal", "provenance": "dct:provenance",
        "accessURL": "dcat:accessURL", "downloadURL": "dcat:downloadURL",
        "format": "dct:format", "mediaType": "dcat:mediaType", "conformsTo": "dct:conformsTo",
        "checksum": "spdx:checksum", "algorithm": "spdx:algorithm", "type": "dct:type",
        "inScheme": "skos:inScheme", "hasEmail": "vcard:hasEmail", "hasURL": "vcard:hasURL",
        "homepage": "foaf:homepage"}.items()},
}


def _concept(term: Term, scheme: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"@id": term.uri, "@type": "skos:Concept",
                            "prefLabel": dict(term.label)}
    if scheme:
        node["inScheme"] = scheme
    return node


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _distribution(file: DataFile, folder: Path, meta: PortalMetadata,
                  issued: str) -> list[dict[str, Any]]:
    """The distribution of one file, and the nodes it needs typed (format, standard)."""
    texts, fmt = portal_texts(), file.format
    if file.table is None:
        title, description = texts["datapackage"], texts["datapackage_note"]
    else:
        key = f"format_jsonstat_{file.lang}" if file.kind == "jsonstat" else f"format_{file.kind}"
        title = {lang: f"{file.table.title[lang]} {meta.year} ({texts[key][lang]})"
                 for lang in LANGUAGES}
        description = file.table.note
    node: dict[str, Any] = {
        "@id": f"{meta.url_of(file.name)}#distribution", "@type": "dcat:Distribution",
        "title": dict(title), "description": dict(description),
        "accessURL": meta.url_of(file.name), "downloadURL": meta.url_of(file.name),
        "license": meta.license_uri, "conformsTo": fmt.standard, "issued": issued,
    }
    extra: list[dict[str, Any]] = [{"@id": fmt.standard, "@type": "dct:Standard",
                                    "label": {"en": fmt.standard_title}}]
    if fmt.format_id:
        node["format"] = fmt.format_id
        extra.append({"@id": node["format"], "@type": "dct:MediaTypeOrExtent"})
    if fmt.media_type:
        node["mediaType"] = IANA + fmt.media_type
        extra.append({"@id": node["mediaType"], "@type": "dct:MediaType"})
    if file.lang:
        node["language"] = EU_LANGUAGE + LANGUAGE_CODES[file.lang]
    path = folder / file.name
    if path.is_file():
        node["byteSize"] = str(path.stat().st_size)
        node["checksum"] = {"@type": "spdx:Checksum", "algorithm": SHA256,
                            "checksumValue": _sha256(path)}
    return [node, *extra]


def _agents(meta: PortalMetadata) -> list[dict[str, Any]]:
    return [
        {"@id": meta.publisher_uri, "@type": ["foaf:Agent", "foaf:Organization"],
         "name": dict(meta.publisher_name), "type": meta.publisher_type.uri,
         "homepage": meta.publisher_uri},
        _concept(meta.publisher_type),
        {"@id": f"{meta.download_url}#contact", "@type": ["vcard:Kind", "vcard:Organization"],
         "fn": dict(meta.contact_name), "hasEmail": f"mailto:{meta.contact_email}",
         "hasURL": meta.contact_url},
    ]


def dcat_document(release: ProtectedRelease, folder: Path,
                  meta: PortalMetadata | None = None) -> dict[str, Any]:
    """The JSON-LD document for the release whose ``open/`` files are in ``folder``."""
    meta = meta or portal_metadata(release.catalogue, release.year)
    issued = release.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    catalogue, texts = release.catalogue, portal_texts()
    files = data_files(catalogue, release.open_tables)
    distributions = [n for f in files for n in _distribution(f, folder, meta, issued)]
    languages = [EU_LANGUAGE + LANGUAGE_CODES[lang] for lang in LANGUAGES]
    provenance = texts[f"provenance_{'dp' if release.policy.mode == 'dp' else 'suppression'}"]
    dataset = {
        "@id": meta.dataset_uri, "@type": "dcat:Dataset",
        "identifier": meta.identifier,
        "title": {lang: f"{catalogue.title[lang]} {release.year}" for lang in LANGUAGES},
        "description": dict(meta.description),
        "keyword": meta.keywords,
        "publisher": meta.publisher_uri, "contactPoint": f"{meta.download_url}#contact",
        "theme": [t.uri for t in meta.themes], "accrualPeriodicity": meta.frequency.uri,
        "spatial": meta.spatial.uri, "language": languages,
        "landingPage": [meta.landing_page[lang] for lang in LANGUAGES],
        "temporal": {"@type": "dct:PeriodOfTime", "startDate": f"{release.year}-01-01",
                     "endDate": f"{release.year}-12-31"},
        "provenance": {"@type": "dct:ProvenanceStatement", "label": dict(provenance)},
        "issued": issued, "modified": issued, "inSeries": meta.series_uri,
        "distribution": [n["@id"] for n in distributions if n["@type"] == "dcat:Distribution"],
    }
    series = {"@id": meta.series_uri, "@type": "dcat:DatasetSeries",
              "title": dict(meta.series_title), "description": dict(meta.description),
              "publisher": meta.publisher_uri, "accrualPeriodicity": meta.frequency.uri}
    vocabulary = [
        {"@id": THEMES, "@type": "skos:ConceptScheme", "title": {"en": "Data theme"}},
        *[_concept(t, THEMES) for t in meta.themes],
        {"@id": meta.frequency.uri, "@type": ["dct:Frequency", "skos:Concept"],
         "prefLabel": dict(meta.frequency.label)},
        {"@id": meta.spatial.uri, "@type": "dct:Location", "prefLabel": dict(meta.spatial.label)},
        {"@id": meta.license_uri, "@type": "dct:LicenseDocument",
         "label": {"en": meta.license_title}},
        *[{"@id": iri, "@type": "dct:LinguisticSystem"} for iri in languages],
        *[{"@id": url, "@type": "foaf:Document"}
          for url in dict.fromkeys(meta.landing_page[lang] for lang in LANGUAGES)],
        {"@id": SHA256, "@type": "spdx:ChecksumAlgorithm"},
    ]
    graph = [dataset, series, *_agents(meta), *vocabulary, *_unique(distributions)]
    return {"@context": CONTEXT, "@graph": graph}


def _unique(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes shared by several distributions (a format, a standard) once each."""
    seen: dict[str, dict[str, Any]] = {}
    for node in nodes:
        first = seen.setdefault(node["@id"], dict(node))
        if first is not node and node.get("@type") != first.get("@type"):
            # one IRI in two roles (the PX specification is its standard and its format)
            types = [t for n in (first, node) for t in
                     ([n["@type"]] if isinstance(n["@type"], str) else n["@type"])]
            first["@type"] = list(dict.fromkeys(types))
            first |= {k: v for k, v in node.items() if k not in first}
    return list(seen.values())


def write_dcat(release: ProtectedRelease, folder: Path,
               meta: PortalMetadata | None = None) -> Path:
    """Write ``dcat.jsonld`` (after the data files, so that it has their checksums)."""
    path = folder / DCAT
    path.write_text(json.dumps(dcat_document(release, folder, meta), ensure_ascii=False,
                               indent=1) + "\n", encoding="utf-8")
    return path


def shapes_path() -> Path:
    """The official DCAT-AP 3.0.1 SHACL shapes, shipped with suoja."""
    return Path(str(resources.files("suoja.portal").joinpath("shapes").joinpath(SHAPES)))


def read_jsonld(path: Path) -> Any:
    """Parse a JSON-LD file with rdflib (an rdflib.Graph)."""
    import rdflib

    with warnings.catch_warnings():  # rdflib's JSON-LD parser uses its own deprecated API
        warnings.simplefilter("ignore", DeprecationWarning)
        return rdflib.Graph().parse(path, format="json-ld")


@cache
def _shapes() -> Any:
    import rdflib

    return rdflib.Graph().parse(shapes_path(), format="turtle")


def shacl_report(path: Path) -> tuple[bool, str]:
    """Validate a DCAT JSON-LD file against the DCAT-AP 3.0.1 shapes with pyshacl."""
    import pyshacl

    conforms, _, text = pyshacl.validate(read_jsonld(path), shacl_graph=_shapes(),
                                         inference="none")
    return bool(conforms), str(text)
