"""The privacy budget ledger: append-only JSON lines, each chained to the one before.

Every differentially private release spends budget; the ledger records it so that the
releases of one statistical year never spend more than the policy's yearly cap together.
A publish that would exceed the cap is refused (exit status 3) before anything is written.

One entry per line (UTF-8 JSON, keys sorted)::

    {"cap": 3.0, "delta": 0.0, "epsilon": 1.0, "hash": "…", "prev": "…", "recorded": "…",
     "release": "2025", "seq": 1, "spent_after": 1.0, "spent_before": 0.0, "year": 2025}

``prev`` is the SHA-256 of the previous entry (64 zeros for the first) and ``hash`` the
SHA-256 of the entry's own canonical JSON without ``hash``. Changing, removing or
reordering any entry but the last breaks the chain, which :func:`verify_ledger` reports
and :func:`check_and_append` refuses to build on. The chain cannot by itself detect that
the last entries were cut off: keep the returned ``hash`` (the head) with the release, in
its ``restricted/`` folder, so that the officer can check that the ledger still holds it.
A re-run of the same release draws new noise and spends its budget again.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from suoja.errors import ReleaseRefused

GENESIS = "0" * 64
TOLERANCE = 1e-9
"""Budget sums are floats: a cap is exceeded only by more than this."""


def _canonical(entry: dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in entry.items() if k != "hash"}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of an entry's canonical JSON, its own ``hash`` left out."""
    return hashlib.sha256(_canonical(entry).encode("utf-8")).hexdigest()


def _read(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    if not path.exists():
        return entries, problems
    previous = GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            problems.append(f"{path}: line {number}: empty line")
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"{path}: line {number}: not JSON ({e.msg})")
            previous = hashlib.sha256(line.encode("utf-8")).hexdigest()
            continue
        if not isinstance(entry, dict):
            problems.append(f"{path}: line {number}: not an entry")
            continue
        if entry.get("prev") != previous:
            problems.append(f"{path}: line {number}: the chain is broken (prev does not match "
                            "the entry before: an entry was changed, removed or inserted)")
        if entry.get("hash") != entry_hash(entry):
            problems.append(f"{path}: line {number}: the entry was changed after it was "
                            "written (its hash does not match)")
        if entry.get("seq") != len(entries) + 1:
            problems.append(f"{path}: line {number}: seq {entry.get('seq')!r}, expected "
                            f"{len(entries) + 1}")
        for key in ("year", "epsilon", "delta"):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or (key == "year" and not isinstance(value, int)):
                problems.append(f"{path}: line {number}: {key} missing or not a number")
        entries.append(entry)
        previous = str(entry.get("hash"))
    return entries, problems


def verify_ledger(path: Path) -> list[str]:
    """Every problem of the ledger (a broken chain, a changed entry); empty when intact."""
    return _read(Path(path))[1]


def spent(path: Path, year: int) -> tuple[float, float]:
    """The ε and δ that the releases of ``year`` have spent according to the ledger."""
    entries, _ = _read(Path(path))
    mine = [e for e in entries if e.get("year") == year]
    return (float(sum(e.get("epsilon", 0.0) for e in mine)),
            float(sum(e.get("delta", 0.0) for e in mine)))


def check_and_append(ledger_path: Path, release: str, epsilon: float, delta: float, cap: float,
                     year: int, *, dry_run: bool) -> dict[str, Any]:
    """Check the yearly cap and record the release's spending (unless ``dry_run``).

    Returns the entry (with ``hash``, the new head of the chain). Raises ReleaseRefused
    (exit status 3) when the ledger's chain is broken or when the year's spent ε plus
    ``epsilon`` would exceed ``cap``; then nothing is written.
    """
    path = Path(ledger_path)
    entry = _next_entry(path, release, epsilon, delta, cap, year)
    if dry_run:
        return entry
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    with path.open("a", encoding="utf-8") as handle:
        if created:
            os.chmod(path, 0o600)
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            # checked again under the lock: another publish may have appended meanwhile
            entry = _next_entry(path, release, epsilon, delta, cap, year)
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return entry


def _next_entry(path: Path, release: str, epsilon: float, delta: float, cap: float,
                year: int) -> dict[str, Any]:
    entries, problems = _read(path)
    if problems:
        raise ReleaseRefused(f"the privacy budget ledger is broken, so the budget spent is "
                             f"not known: {problems[0]}; nothing was written")
    before = float(sum(e["epsilon"] for e in entries if e.get("year") == year))
    if before + epsilon > cap + TOLERANCE:
        raise ReleaseRefused(
            f"release {release} would spend ε = {epsilon:g} of the privacy budget of {year}, "
            f"but {before:g} of the yearly cap of {cap:g} is spent already (left: "
            f"{max(cap - before, 0):g}); nothing was written")
    entry: dict[str, Any] = {
        "seq": len(entries) + 1,
        "release": str(release),
        "year": int(year),
        "epsilon": float(epsilon),
        "delta": float(delta),
        "cap": float(cap),
        "spent_before": before,
        "spent_after": before + float(epsilon),
        "recorded": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "prev": entries[-1]["hash"] if entries else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    return entry
