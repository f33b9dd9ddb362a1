"""``suoja check`` and ``suoja verify``: the readers accept the release and refuse broken copies.

One copy of the release has a break in every format, each in a different table, so that
one run of the check shows each reader refusing its file; the manifest catches a changed
byte, a missing file and a new one.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import polars as pl
import pytest
from test_portal import portal_copy

from suoja.catalogue import read_catalogue
from suoja.errors import UsageError
from suoja.portal import CheckLine, check_release, verify_release

READERS = {"inventory", "frictionless", "json-schema", "jsonstat.py", "pyjstat", "structure",
           "pyaxis", "rdflib", "pyshacl", "ckan-schema", "manifest"}


@pytest.fixture(scope="module")
def release(embedded_release, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return portal_copy(embedded_release, tmp_path_factory.mktemp("check"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """No network: the check reads files only (a remote JSON-LD context is never fetched)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the check tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def _failed(lines: list[CheckLine]) -> dict[tuple[str, str], str]:
    return {(line.file, line.reader): line.message for line in lines if not line.ok}


def test_check_passes_on_the_embedded_release(release: Path, offline) -> None:
    lines = check_release(release)
    assert not _failed(lines), "\n".join(str(line) for line in lines if not line.ok)
    assert {line.reader for line in lines} == READERS
    checked = {line.file for line in lines}
    catalogue = read_catalogue()
    for spec in catalogue.tables + catalogue.distinct:  # counts of distinct codes are files too
        for name in (f"{spec.id}.csv", f"{spec.id}.px", f"{spec.id}.json",
                     f"{spec.id}.sv.json", f"{spec.id}.en.json"):
            assert f"open/{name}" in checked, name
    readers_of_px = {line.reader for line in lines if line.file == "open/new_clients.px"}
    assert readers_of_px == {"pyaxis", "structure"}
    assert str(lines[0]).startswith("ok    open/")


def _hidden_tables(release: Path) -> list[str]:
    return [spec.id for spec in read_catalogue().tables
            if pl.read_csv(release / "open" / f"{spec.id}.csv", infer_schema=False)
            .filter(pl.col("status") == "C").height]


def _edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def _edit_text(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_bytes().decode("utf-8")
    assert old in text, (path.name, old)
    path.write_bytes(text.replace(old, new, count).encode("utf-8"))


@pytest.fixture(scope="module")
def broken(release: Path, tmp_path_factory: pytest.TempPathFactory):
    """A copy with one break per format (different tables), and the check's verdicts."""
    copy = tmp_path_factory.mktemp("broken") / "2025"
    shutil.copytree(release, copy)
    out = copy / "open"
    elsewhere = {"applications", "new_clients", "decisions", "exploitation_forms", "rejections"}
    hidden = [t for t in _hidden_tables(release) if t not in elsewhere]
    assert len(hidden) >= 2, "the embedded release should hide cells in several tables"
    status_table, symbol_table = hidden[0], hidden[1]
    # CSV: a value that is not a count.
    lines = (out / "applications.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = re.sub(r",\d+,", ",many,", lines[1])
    (out / "applications.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # JSON-stat: a value array shorter than the cube; a property the schema forbids;
    # a status whose meaning is not stated.
    _edit_json(out / "new_clients.sv.json", lambda d: d["value"].pop())
    _edit_json(out / "decisions.en.json", lambda d: d.update(version="1.0"))
    _edit_json(out / f"{status_table}.json", lambda d: d["extension"].update(status={}))
    # PX: a language left out; DATA cut short; a symbol used but not declared.
    text = (out / "exploitation_forms.px").read_bytes().decode("utf-8")
    (out / "exploitation_forms.px").write_bytes(
        re.sub(r'NOTE\[en\]=.*?;\r\n', "", text, flags=re.S).encode("utf-8"))
    text = (out / "rejections.px").read_bytes().decode("utf-8").rstrip().rstrip(";")
    (out / "rejections.px").write_bytes((text.rsplit("\r\n", 1)[0] + ";\r\n").encode("utf-8"))
    for tag in ("", "[sv]", "[en]"):
        _edit_text(out / f"{symbol_table}.px", f'DATASYMBOL3{tag}="...";\r\n', "")
    # DCAT: no title; CKAN: no Finnish keywords; open/: a file that does not belong there.
    _edit_json(out / "dcat.jsonld", lambda d: d["@graph"][0].pop("title"))
    _edit_json(out / "ckan_package.json", lambda d: d["keywords"].pop("fi"))
    (out / "notes.txt").write_text("draft", encoding="utf-8")
    return status_table, symbol_table, _failed(check_release(copy))


@pytest.mark.parametrize(("file", "reader", "message"), [
    ("open/applications.csv", "frictionless", "type error"),
    ("open/new_clients.sv.json", "structure", "value array is shorter than the cube"),
    ("open/new_clients.sv.json", "jsonstat.py", ""),
    ("open/new_clients.sv.json", "pyjstat", ""),
    ("open/decisions.en.json", "json-schema", "version"),
    ("open/exploitation_forms.px", "structure", "note: given 1 time(s) in fi, sv, fewer in en"),
    ("open/rejections.px", "pyaxis", "length"),
    ("open/rejections.px", "structure", "data has"),
    ("open/dcat.jsonld", "pyshacl", "less than 1 values"),
    ("open/ckan_package.json", "ckan-schema", "keywords: needs a finnish value"),
    ("open/notes.txt", "inventory", "does not belong in open/"),
    ("open/manifest.json", "manifest", "changed"),
])
def test_each_reader_refuses_its_broken_file(broken, file: str, reader: str,
                                             message: str) -> None:
    failed = broken[2]
    assert (file, reader) in failed, sorted(failed)
    assert message in failed[(file, reader)].lower()


def test_structure_catches_what_the_readers_miss(broken) -> None:
    status_table, symbol_table, failed = broken
    # pyaxis reads a file with a language left out, or a symbol undeclared, without a word.
    assert ("open/exploitation_forms.px", "pyaxis") not in failed
    assert ("open/exploitation_forms.px", "structure") in failed
    assert "DATASYMBOL3 is not declared in fi, sv, en" in \
        failed[(f"open/{symbol_table}.px", "structure")]
    assert "meaning is not stated" in failed[(f"open/{status_table}.json", "structure")]
    assert (f"open/{status_table}.json", "json-schema") not in failed


def test_check_never_fetches_a_remote_context(release: Path, tmp_path: Path, offline) -> None:
    copy = tmp_path / "2025"
    shutil.copytree(release, copy)
    _edit_json(copy / "open" / "dcat.jsonld",
               lambda d: d.update({"@context": "https://example.org/context.jsonld"}))
    failed = _failed(check_release(copy))
    assert "remote context" in failed[("open/dcat.jsonld", "structure")]
    assert "not read" in failed[("open/dcat.jsonld", "rdflib")]


def test_check_refuses_a_data_package_that_points_outside_open(release: Path,
                                                               tmp_path: Path, offline) -> None:
    copy = tmp_path / "2025"
    shutil.copytree(release, copy)
    _edit_json(copy / "open" / "datapackage.json",
               lambda d: d["resources"][0].update(path="../restricted/suppression_log.csv"))
    failed = _failed(check_release(copy))
    assert "not a file name in open/" in failed[("open/datapackage.json", "structure")]
    assert ("open/datapackage.json", "frictionless") not in failed  # never run on it


def test_check_and_verify_need_a_release_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no open/ folder"):
        check_release(tmp_path)
    with pytest.raises(UsageError, match="no open/ folder"):
        verify_release(tmp_path)


# --- the manifest --------------------------------------------------------------------------------

def test_manifest_lists_every_public_file_and_nothing_restricted(release: Path,
                                                                embedded_release) -> None:
    text = (release / "open" / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    listed = {f["path"] for f in manifest["files"]}
    public = {p.relative_to(release).as_posix() for top in ("open", "review")
              for p in (release / top).rglob("*") if p.is_file()}
    assert listed == public - {"open/manifest.json"}
    assert "restricted" not in text
    from suoja.portal.manifest import sha256_file

    for path in (release / "restricted").iterdir():
        assert sha256_file(path) not in text, path.name
    fingerprint = embedded_release.release.restricted.register_fingerprint
    assert not fingerprint or fingerprint not in text
    assert manifest["suoja_version"] and manifest["released"].endswith("Z")
    assert re.fullmatch(r"[0-9a-f]{64}", manifest["catalogue"]["sha256"])
    assert manifest["policy"]["sha256"] == embedded_release.release.policy.fingerprint
    assert all(re.fullmatch(r"[0-9a-f]{64}", f["sha256"]) and f["bytes"] >= 0
               for f in manifest["files"])


def test_verify_passes_on_the_release(release: Path) -> None:
    report = verify_release(release)
    assert report.ok and report.changes == [] and report.checked > 80


def test_manifest_catches_a_changed_byte(release: Path, tmp_path: Path) -> None:
    copy = tmp_path / "2025"
    shutil.copytree(release, copy)
    target = copy / "open" / "new_clients.csv"
    data = bytearray(target.read_bytes())
    data[-2] ^= 0x01  # one bit of one byte
    target.write_bytes(bytes(data))
    (copy / "open" / "decisions.px").unlink()
    (copy / "review" / "extra.html").write_text("<p>new</p>", encoding="utf-8")
    report = verify_release(copy)
    assert not report.ok
    assert report.changes[0].startswith("open/decisions.px: missing")
    assert any(c.startswith("open/new_clients.csv: changed (sha256 ") for c in report.changes)
    assert "review/extra.html: not in the manifest" in report.changes
    assert len(report.changes) == 3


def test_verify_reports_a_missing_or_foreign_manifest(release: Path, tmp_path: Path) -> None:
    copy = tmp_path / "2025"
    shutil.copytree(release, copy)
    _edit_json(copy / "open" / "manifest.json",
               lambda d: d["files"].append({"path": "restricted/audit.json", "sha256": "0"}))
    assert "public files only" in verify_release(copy).changes[0]
    (copy / "open" / "manifest.json").unlink()
    assert verify_release(copy).changes == ["open/manifest.json: missing"]
