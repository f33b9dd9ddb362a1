"""Where the privacy budget ledger lives, and the anchors that hold it in place.

The ledger belongs to the register and the policy, not to an output folder: the policy can
name it (``[privacy] ledger = "..."``), and otherwise each register has its own, under the
user's state folder (``$XDG_STATE_HOME/suoja``, by default ``~/.local/state/suoja``), keyed
by the register's absolute path. Choosing another ``--out`` never starts a fresh budget.

A hash chain shows an edited or removed entry, but not a cut-off end, a forged last entry
with its hash recomputed, or a ledger deleted or emptied. So the head of the chain (the hash
and number of its last entry) is kept in two places outside the ledger:

- ``<ledger>.head`` beside it, owner-only, with the output roots its releases went to;
- every release's ``restricted/privacy_budget.json``, which names the ledger; the output
  roots are also kept in the user's state folder (``output_roots.json``), so that these
  releases are found even when the ledger is deleted with its head file.

Before a release spends budget, the ledger must agree with both: with the head file
exactly, and with the entry each release present under the known output roots recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
LEDGER_NAME = "privacy_budget_ledger.jsonl"
BUDGET_FILE = "privacy_budget.json"
"""The file in each DP release's ``restricted/`` recording its entry and the ledger head."""


def state_dir() -> Path:
    """``$XDG_STATE_HOME/suoja``, or ``~/.local/state/suoja`` when it is not set."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "suoja"


def default_ledger(register: Path) -> Path:
    """The ledger of one register: one place per register, whatever the output folder."""
    key = hashlib.sha256(str(Path(register).resolve()).encode("utf-8")).hexdigest()[:16]
    return state_dir() / "ledgers" / key / LEDGER_NAME


def head_path(ledger: Path) -> Path:
    """The second anchor, beside the ledger: ``<ledger>.head``."""
    return ledger.with_name(ledger.name + ".head")


def _read_head(ledger: Path) -> tuple[dict[str, Any] | None, list[str]]:
    path = head_path(ledger)
    if not path.exists():
        return None, []
    try:
        head = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, [f"{path}: unreadable ({e})"]
    if not isinstance(head, dict) or not isinstance(head.get("entries"), int) \
            or not isinstance(head.get("hash"), str):
        return None, [f"{path}: not a ledger head (entries and hash)"]
    return head, []


def write_head(ledger: Path, entries: int, last_hash: str, roots: Iterable[Path]) -> None:
    """Record the ledger's head beside it (owner-only, replaced in one step)."""
    path = head_path(ledger)
    known = sorted({str(Path(r).resolve()) for r in roots})
    text = json.dumps({"entries": entries, "hash": last_hash, "roots": known}, indent=1)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _registry() -> Path:
    return state_dir() / "output_roots.json"


def _registered() -> set[Path]:
    try:
        listed = json.loads(_registry().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {Path(r) for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()


def remember_roots(roots: Iterable[Path]) -> None:
    """Add output roots to the user's registry (a third anchor: it survives the deletion
    of a ledger together with its head file)."""
    known = _registered()
    new = {Path(r).resolve() for r in roots} - known
    if not new:
        return
    path = _registry()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(sorted(str(r) for r in known | new), handle, indent=1)
    os.replace(temporary, path)


def known_roots(ledger: Path, entries: list[dict[str, Any]], roots: Iterable[Path]) -> set[Path]:
    """The output roots to look for releases in: the given ones, the head file's, those the
    ledger's entries name and those of the user's registry."""
    found = {Path(r).resolve() for r in roots} | _registered()
    head, _ = _read_head(ledger)
    found |= {Path(r) for r in (head or {}).get("roots", []) if isinstance(r, str)}
    found |= {Path(e["target"]).parent for e in entries if isinstance(e.get("target"), str)}
    return found


def _releases(ledger: Path, roots: Iterable[Path]) -> list[tuple[Path, dict[str, Any] | None]]:
    """Every release under ``roots`` that spent from ``ledger``: (its budget file, its
    content, or None if unreadable)."""
    found = []
    for root in sorted(roots):
        if not root.is_dir():
            continue
        for path in sorted(root.glob(f"*/restricted/{BUDGET_FILE}")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found.append((path, None))
                continue
            if isinstance(data, dict) and data.get("ledger") == str(ledger):
                found.append((path, data))
    return found


def _cut_short(head: dict[str, Any], entries: list[dict[str, Any]]) -> bool:
    """Whether a run was stopped between appending its entry and updating the head: the
    ledger holds one entry more, chained to the recorded head. Accepting it can only count
    more spending, never less; the next append records the head again."""
    return bool(entries) and head["entries"] == len(entries) - 1 \
        and entries[-1].get("prev") == head["hash"]


def anchor_problems(ledger: Path, entries: list[dict[str, Any]],
                    roots: Iterable[Path]) -> list[str]:
    """Where the ledger disagrees with its head file or with the releases present."""
    count = len(entries)
    last = str(entries[-1].get("hash")) if entries else GENESIS
    head, problems = _read_head(ledger)
    legacy = not any("target" in e for e in entries)  # written before heads existed
    if head is None and count and not problems and not legacy:
        problems.append(f"{head_path(ledger)} is missing, so the ledger's last entry cannot "
                        "be checked")
    if head is not None and (head["entries"], head["hash"]) != (count, last) \
            and not _cut_short(head, entries):
        problems.append(
            f"the ledger holds {count} entries ending in {last[:12]}, but {head_path(ledger)} "
            f"records {head['entries']} ending in {head['hash'][:12]}: an entry was removed "
            "or forged, or the ledger was deleted or emptied")
    for path, data in _releases(ledger, known_roots(ledger, entries, roots)):
        if data is None:
            problems.append(f"{path}: unreadable, so the budget this release spent cannot be "
                            "checked")
            continue
        anchor = data.get("ledger_head") or {}
        seq, digest = anchor.get("entries"), anchor.get("hash")
        if not isinstance(seq, int) or seq < 1:
            problems.append(f"{path}: no ledger head recorded")
        elif seq > count:
            problems.append(f"release {path.parent.parent} spent budget as ledger entry {seq}, "
                            f"but the ledger holds only {count}: entries were removed or the "
                            "ledger was deleted or emptied")
        elif entries[seq - 1].get("hash") != digest:
            problems.append(f"release {path.parent.parent} recorded ledger entry {seq} as "
                            f"{str(digest)[:12]}, but the ledger holds another entry there: "
                            "it was changed")
    return problems


def refuse_legacy(out: Path, ledger: Path) -> None:
    """Refuse (exit 3) while a ledger of the old layout (``OUT/restricted/``) would be left
    behind: its spending would otherwise be forgotten."""
    from suoja.errors import ReleaseRefused

    old = Path(out) / "restricted" / LEDGER_NAME
    if old.is_file() and old.resolve() != Path(ledger).resolve():
        raise ReleaseRefused(
            f"{old} holds the privacy budget spent by earlier releases, but the ledger now "
            f"belongs to the register and the policy: {ledger}. Move it there (mv {old} "
            f"{ledger}, if that ledger does not exist yet) and publish again; nothing was "
            "written")
