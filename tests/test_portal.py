"""The open-data portal package: PX, JSON-stat per language, CKAN and DCAT-AP 3 files.

Golden files for one table (``new_clients``) in every format live in
``tests/golden/portal/``; rewrite them with ``pytest --update-golden`` (an explicit flag,
never the environment) and review the diff like code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import REPO

from suoja._jsonstat import STATUS_TEXT, dataset
from suoja.catalogue import read_catalogue
from suoja.codelists import LANGUAGES
from suoja.errors import CatalogueError
from suoja.portal import (
    ckan_package,
    dcat_document,
    portal_metadata,
    px_text,
    write_manifest,
    write_portal_files,
)
from suoja.portal._files import data_files, jsonstat_name
from suoja.portal._metadata import portal_texts
from suoja.portal.dcat import shacl_report, shapes_path
from suoja.portal.px import parse_px

GOLDEN = REPO / "tests" / "golden" / "portal"
TABLE = "new_clients"
FIXED = dt.datetime(2026, 2, 2, 7, 0, tzinfo=dt.UTC)
SHARED_SHAPES = REPO.parent / "shared" / "dcat-ap" / "dcat-ap-3.0.1-SHACL.ttl"


def portal_copy(result, dest: Path) -> Path:
    """A copy of a published release with the portal files and the manifest.

    Works before and after the pipeline writes them itself: they are written only when
    missing. The copy keeps the session's release untouched by the tests that break files.
    """
    target = dest / "2025"
    shutil.copytree(result.target, target)
    if not (target / "open" / f"{TABLE}.px").exists():
        write_portal_files(result.release, target / "open")
    if not (target / "open" / "manifest.json").exists():
        write_manifest(result.release, target)
    return target


@pytest.fixture(scope="module")
def portal(embedded_release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 2025 release of the embedded register, with the portal package."""
    return portal_copy(embedded_release, tmp_path_factory.mktemp("portal"))


@pytest.fixture(scope="module")
def fixed_release(embedded_release):
    """The release with a fixed time, for golden files."""
    return dataclasses.replace(embedded_release.release, created=FIXED)


def _golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    assert path.exists(), f"no golden file {path}; run pytest --update-golden"
    assert text == path.read_bytes().decode("utf-8"), f"{name} differs from its golden file"


def _files(result) -> list:
    """The data files of a published release: its tables and its counts of distinct codes."""
    return data_files(result.release.catalogue, result.release.open_tables)


def _dump(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


# --- metadata --------------------------------------------------------------------------------

def test_metadata_section_fills_in_the_year() -> None:
    meta = portal_metadata(read_catalogue(), 2025)
    assert meta.ckan["name"].endswith("-2025")
    assert meta.download_url.endswith("/2025/") and "{year}" not in meta.dataset_uri
    assert meta.license_id == "cc-by-4.0" and meta.contact_email
    assert set(meta.keywords) == set(LANGUAGES)


def test_metadata_errors_name_their_toml_path() -> None:
    catalogue = read_catalogue()
    broken = {**catalogue.metadata, "contact": {**catalogue.metadata["contact"],
                                                "email": "not-an-address"}}
    with pytest.raises(CatalogueError, match=r"metadata\.contact\.email: not an e-mail"):
        portal_metadata(dataclasses.replace(catalogue, metadata=broken), 2025)
    missing = {k: v for k, v in catalogue.metadata.items() if k != "license"}
    with pytest.raises(CatalogueError, match="metadata: missing key 'license'"):
        portal_metadata(dataclasses.replace(catalogue, metadata=missing), 2025)


def test_portal_texts_exist_in_every_language() -> None:
    for key, value in portal_texts().items():
        assert set(value) == set(LANGUAGES), key
        assert all(isinstance(v, str) and v.strip() for v in value.values()), key


# --- golden files: one table in every format ---------------------------------------------------

def test_golden_px(fixed_release, update_golden: bool) -> None:
    _golden(f"{TABLE}.px", px_text(fixed_release, fixed_release.catalogue.table(TABLE)),
            update_golden)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_golden_jsonstat(fixed_release, update_golden: bool, lang: str) -> None:
    data = dataset(fixed_release, fixed_release.catalogue.table(TABLE), lang)
    _golden(jsonstat_name(TABLE, lang), _dump(data), update_golden)


def test_golden_csv(portal: Path, update_golden: bool) -> None:
    _golden(f"{TABLE}.csv", (portal / "open" / f"{TABLE}.csv").read_text(encoding="utf-8"),
            update_golden)


def test_golden_ckan(fixed_release, portal: Path, update_golden: bool) -> None:
    package = ckan_package(fixed_release, portal / "open")
    package["resources"] = [{k: v for k, v in r.items() if k != "size"}
                            for r in package["resources"] if f"/{TABLE}." in r["url"]]
    _golden("ckan_package.json", _dump(package), update_golden)


def test_golden_dcat(fixed_release, portal: Path, update_golden: bool) -> None:
    document = dcat_document(fixed_release, portal / "open")
    kept = []
    for node in document["@graph"]:
        if node.get("@type") == "dcat:Distribution":
            if f"/{TABLE}." not in node["@id"]:
                continue
            node = {k: v for k, v in node.items() if k not in ("byteSize", "checksum")}
        if node.get("@type") == "dcat:Dataset":
            node = {**node, "distribution": [d for d in node["distribution"] if f"/{TABLE}." in d]}
        kept.append(node)
    _golden("dcat.jsonld", _dump({**document, "@graph": kept}), update_golden)


# --- PX ----------------------------------------------------------------------------------------

def test_px_follows_statistics_finland_conventions(portal: Path) -> None:
    text = (portal / "open" / f"{TABLE}.px").read_bytes().decode("utf-8")
    px = parse_px(text)
    assert not text.startswith("\ufeff") and "\r\n" in text
    assert px.order[:5] == [("CHARSET", "", ()), ("AXIS-VERSION", "", ()),
                            ("CODEPAGE", "", ()), ("LANGUAGE", "", ()), ("LANGUAGES", "", ())]
    assert px.get("CHARSET") == ["Unicode"] and px.get("CODEPAGE") == ["utf-8"]
    assert px.get("LANGUAGE") == ["fi"] and px.get("LANGUAGES") == ["fi", "sv", "en"]
    assert px.get("TABLEID") == [f"migri_ihku_{TABLE}"]
    assert px.get("TIMEVAL", "", "Vuosi") == ["TLIST(A1)", "2025"]
    assert px.get("TIMEVAL", "sv", "År") == ["TLIST(A1)", "2025"]
    assert px.get("CONTVARIABLE", "en") == ["Information"]
    assert px.get("VARIABLE-TYPE", "", "Vuosi") == ["Time"]
    assert px.get("CODES", "sv", "Kön") == px.get("CODES", "", "Sukupuoli") == ["_T", "F", "M", "U"]
    assert px.get("UNITS", "en", "Number") == ["persons"]
    for keyword in ("DESCRIPTION", "TITLE", "CONTENTS", "UNITS", "SOURCE", "NOTE", "DATASYMBOL3",
                    "SUBJECT-AREA", "CONTVARIABLE", "STUB", "HEADING"):
        for lang in ("", "sv", "en"):
            assert px.get(keyword, lang) is not None, (keyword, lang)
    assert px.get("DATASYMBOL3") == ["..."]
    for lang, symbol in zip(("", "sv", "en"), ("Merkintä", "Symbolen", "Symbol"), strict=True):
        assert symbol in px.get("NOTE", lang)[0]


def test_px_hides_exactly_the_confidential_cells(embedded_release, portal: Path) -> None:
    for spec in embedded_release.release.open_tables:
        px = parse_px((portal / "open" / f"{spec.id}.px").read_text(encoding="utf-8"))
        csv = pl.read_csv(portal / "open" / f"{spec.id}.csv", infer_schema=False)
        assert px.data.count('"..."') == csv.filter(pl.col("status") == "C").height, spec.id
        published = sorted(int(d) for d in px.data if d != '"..."')
        assert published == sorted(int(v) for v in csv["value"].drop_nulls()), spec.id


def test_px_with_a_hidden_cell_forbids_aggregation(embedded_release, portal: Path) -> None:
    from suoja.portal._px_check import px_problems

    hidden = 0
    for spec in embedded_release.release.open_tables:
        text = (portal / "open" / f"{spec.id}.px").read_bytes().decode("utf-8")
        px = parse_px(text)
        has_hidden = '"..."' in px.data
        hidden += has_hidden
        # PxWeb adds ".." as zero when a reader aggregates, unless AGGREGALLOWED=NO
        assert px.get("AGGREGALLOWED") == (["NO"] if has_hidden else None), spec.id
        if has_hidden:
            order = [k[0] for k in px.order]
            assert order.index("AGGREGALLOWED") == order.index("MATRIX") + 1
            assert px_problems(text) == []
            stripped = text.replace("AGGREGALLOWED=NO;\r\n", "")
            assert any("AGGREGALLOWED=NO is missing" in p for p in px_problems(stripped))
    assert hidden  # the embedded release hides cells in some tables


def test_pyaxis_reads_every_language(embedded_release, portal: Path) -> None:
    from suoja.portal._files import csv_cells
    from suoja.portal._px_check import pyaxis_read

    for spec in embedded_release.release.open_tables:
        reference = csv_cells(portal / "open" / f"{spec.id}.csv", list(spec.dimensions))
        summary = pyaxis_read(portal / "open" / f"{spec.id}.px", reference)
        assert summary.startswith("read in fi, sv, en"), spec.id


# --- JSON-stat ---------------------------------------------------------------------------------

def test_jsonstat_in_each_language(portal: Path) -> None:
    for lang in LANGUAGES:
        data = json.loads((portal / "open" / jsonstat_name(TABLE, lang)).read_text("utf-8"))
        assert data["role"] == {"time": ["year"], "metric": ["measure"]}
        assert data["extension"]["language"] == lang
        assert data["extension"]["status"] == {"C": STATUS_TEXT[lang]}
        hidden = [int(i) for i, s in data["status"].items() if s == "C"]
        assert hidden and all(data["value"][i] is None for i in hidden)
        assert data["value"].count(None) == len(hidden)
    labels = {lang: json.loads((portal / "open" / jsonstat_name(TABLE, lang)).read_text("utf-8"))
              ["dimension"]["sex"]["label"] for lang in LANGUAGES}
    assert labels == {"fi": "Sukupuoli", "sv": "Kön", "en": "Sex"}


# --- CKAN --------------------------------------------------------------------------------------

def test_ckan_package_for_avoindata(embedded_release, portal: Path) -> None:
    package = json.loads((portal / "open" / "ckan_package.json").read_text(encoding="utf-8"))
    for key in ("title_translated", "notes_translated", "keywords",
                "copyright_notice_translated"):
        assert set(package[key]) == set(LANGUAGES), key
    assert package["keywords"]["fi"] and package["license_id"] == "cc-by-4.0"
    assert package["maintainer"] and package["maintainer_email"] == ["ihmiskauppa@migri.fi"]
    assert package["owner_org"] == "maahanmuuttovirasto"
    assert package["collection_type"] == "Open Data" and package["categories"]
    files = _files(embedded_release)
    assert len(package["resources"]) == len(files)
    for resource, file in zip(package["resources"], files, strict=True):
        assert resource["url"].endswith(f"/2025/{file.name}")
        assert set(resource["name_translated"]) == set(LANGUAGES)
        assert resource["format"] in ("CSV", "JSON", "PX")
        assert resource["size"] == (portal / "open" / file.name).stat().st_size


def test_ckan_metadata_comes_from_the_catalogue(fixed_release, portal: Path) -> None:
    catalogue = fixed_release.catalogue
    metadata = {**catalogue.metadata,
                "ckan": {**catalogue.metadata["ckan"], "owner_org": "toinen-virasto"},
                "keywords": {"fi": ["avainsana"], "sv": ["nyckelord"], "en": ["keyword"]}}
    release = dataclasses.replace(fixed_release,
                                  catalogue=dataclasses.replace(catalogue, metadata=metadata))
    package = ckan_package(release, portal / "open")
    assert package["owner_org"] == "toinen-virasto"
    assert package["keywords"]["sv"] == ["nyckelord"]


# --- DCAT-AP 3 -----------------------------------------------------------------------------------

def test_dcat_conforms_to_dcat_ap_3_shapes(portal: Path) -> None:
    conforms, text = shacl_report(portal / "open" / "dcat.jsonld")
    assert conforms, text


def test_every_dcat_distribution_has_a_format_and_a_media_type(portal: Path) -> None:
    document = json.loads((portal / "open" / "dcat.jsonld").read_text(encoding="utf-8"))
    nodes = {n["@id"]: n for n in document["@graph"]}
    distributions = [n for n in document["@graph"] if n["@type"] == "dcat:Distribution"]
    assert distributions
    for node in distributions:
        assert node.get("format") and node.get("mediaType"), node["@id"]
        assert "dct:MediaTypeOrExtent" in nodes[node["format"]]["@type"]
        assert nodes[node["mediaType"]]["@type"] == "dct:MediaType"
    px = [n for n in distributions if n["@id"].split("#")[0].endswith(".px")]
    assert px and {n["mediaType"] for n in px} == \
        {"https://www.iana.org/assignments/media-types/text/plain"}
    spec = nodes[px[0]["format"]]  # PX is in no EU file-type entry: its specification
    assert set(spec["@type"]) == {"dct:Standard", "dct:MediaTypeOrExtent"}


def test_dcat_context_is_inline_and_has_every_distribution(embedded_release,
                                                          portal: Path) -> None:
    document = json.loads((portal / "open" / "dcat.jsonld").read_text(encoding="utf-8"))
    assert isinstance(document["@context"], dict)
    assert not re.search(r'"@(context|import)":\s*"', json.dumps(document["@graph"]))
    dataset_node = next(n for n in document["@graph"] if n["@type"] == "dcat:Dataset")
    assert len(dataset_node["distribution"]) == len(_files(embedded_release))
    assert set(dataset_node["title"]) == set(LANGUAGES)


def test_shipped_shapes_are_the_official_ones() -> None:
    assert SHARED_SHAPES.exists(), f"the official shapes are expected at {SHARED_SHAPES}"
    assert shapes_path().read_bytes() == SHARED_SHAPES.read_bytes()


def test_publish_writes_the_portal_package(embedded_release) -> None:
    open_dir = embedded_release.target / "open"
    for file in _files(embedded_release):
        assert (open_dir / file.name).is_file(), file.name
    assert {"new_clients_citizenships.px", "finland_victims_citizenships.px"} \
        <= {f.name for f in _files(embedded_release)}
    for name in ("ckan_package.json", "dcat.jsonld", "manifest.json"):
        assert (open_dir / name).is_file(), name
