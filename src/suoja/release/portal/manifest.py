"""``open/manifest.json``: every public file of a release with its size and SHA-256.

The manifest covers ``open/`` and ``review/``, nothing of ``restricted/``: not even a
name or a hash there, since the hash of a restricted file could confirm a guess of its
contents. It records the suoja version, the release time and the SHA-256 of the policy
and catalogue files (which are public), never a fingerprint of the register. The
manifest does not list itself; publish its own hash beside it to make it tamper-evident.

``verify_release`` recomputes every hash and lists what changed, what is missing and
what is new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from suoja._version import __version__
from suoja.errors import UsageError
from suoja.protect.protected import ProtectedRelease
from suoja.release.portal._files import MANIFEST

PUBLIC = ("open", "review")
FORMAT = "suoja-manifest/1"


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def public_files(release_dir: Path) -> list[str]:
    """Every file under ``open/`` and ``review/`` as a POSIX path, the manifest excluded."""
    found = []
    for top in PUBLIC:
        root = release_dir / top
        if root.is_dir():
            found += [p.relative_to(release_dir).as_posix() for p in root.rglob("*")
                      if p.is_file() or p.is_symlink()]
    return sorted(f for f in found if f != f"open/{MANIFEST}")


def manifest(release: ProtectedRelease, release_dir: Path) -> dict[str, Any]:
    """The manifest of the public files now in ``release_dir``."""
    # A symbolic link is never hashed: it could point into restricted/ (verify flags it).
    files = [{"path": name, "bytes": (release_dir / name).stat().st_size,
              "sha256": sha256_file(release_dir / name)} for name in public_files(release_dir)
             if not (release_dir / name).is_symlink()]
    return {
        "format": FORMAT,
        "year": release.year,
        "released": release.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "suoja_version": __version__,
        "policy": {"sha256": release.policy.fingerprint or None,
                   "file": Path(release.policy.source).name},
        "catalogue": {"sha256": release.catalogue.fingerprint or None},
        "covers": [f"{top}/" for top in PUBLIC],
        "files": files,
    }


def write_manifest(release: ProtectedRelease, release_dir: Path) -> Path:
    """Write ``open/manifest.json``; call it last, when every public file is written."""
    path = release_dir / "open" / MANIFEST
    path.write_text(json.dumps(manifest(release, release_dir), ensure_ascii=False, indent=2)
                    + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class VerifyReport:
    """What ``verify_release`` found: ``ok`` when every public file is as listed."""

    ok: bool
    changes: list[str] = field(default_factory=list)
    checked: int = 0

    def __str__(self) -> str:
        if self.ok:
            return f"All {self.checked} public files match the manifest."
        return "\n".join(self.changes)


def _listed(document: Any) -> dict[str, dict[str, Any]] | str:
    """The files of a manifest by path, or why the manifest cannot be used."""
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        return "not a suoja manifest (no list of files)"
    listed: dict[str, dict[str, Any]] = {}
    for entry in document["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) \
                or not isinstance(entry.get("sha256"), str):
            return f"an entry without path and sha256: {entry!r}"
        path = PurePosixPath(entry["path"])
        if path.is_absolute() or ".." in path.parts or path.parts[0] not in PUBLIC:
            return f"{entry['path']}: outside open/ and review/; a manifest lists public files only"
        listed[entry["path"]] = entry
    return listed


def verify_release(release_dir: Path) -> VerifyReport:
    """Recompute the hash of every public file and compare with ``open/manifest.json``.

    Raises UsageError when ``release_dir`` is not a release folder.
    """
    if not (release_dir / "open").is_dir():
        raise UsageError(f"{release_dir}: no open/ folder; is this a release?")
    path = release_dir / "open" / MANIFEST
    try:
        listed = _listed(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return VerifyReport(False, [f"open/{MANIFEST}: missing"])
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return VerifyReport(False, [f"open/{MANIFEST}: not valid JSON ({e})"])
    if isinstance(listed, str):
        return VerifyReport(False, [f"open/{MANIFEST}: {listed}"])
    present = set(public_files(release_dir))
    changes = []
    for name, entry in sorted(listed.items()):
        if name not in present:
            changes.append(f"{name}: missing")
            continue
        if (release_dir / name).is_symlink():
            changes.append(f"{name}: a symbolic link; a release holds regular files only")
            continue
        actual = sha256_file(release_dir / name)
        if actual != entry["sha256"]:
            size = (release_dir / name).stat().st_size
            changes.append(f"{name}: changed (sha256 {entry['sha256'][:12]}… → {actual[:12]}…, "
                           f"{entry.get('bytes', '?')} → {size} bytes)")
    changes += [f"{name}: not in the manifest" + (" (a symbolic link)" if
                                                  (release_dir / name).is_symlink() else "")
                for name in sorted(present - set(listed))]
    return VerifyReport(not changes, changes, len(listed))
