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
and :func:`check_and_append` refuses to build on. A cut-off end, a forged last entry with
its hash recomputed, or a deleted or emptied ledger are caught by the anchors outside the
ledger (:mod:`suoja.protect.dp.anchor`): its head file and the head recorded in every release.
Both ε and δ have a yearly cap. A re-run of the same release draws new noise and spends
its budget again.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from suoja.errors import ReleaseRefused
from suoja.protect.dp.anchor import (
    GENESIS,
    anchor_problems,
    known_roots,
    remember_roots,
    write_head,
)

TOLERANCE = 1e-9
"""Budget sums are floats: a cap is exceeded only by more than this fraction of it."""


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


def verify_ledger(path: Path, roots: Iterable[Path] = ()) -> list[str]:
    """Every problem of the ledger (a broken chain, a changed entry, a head that its head
    file or the releases under ``roots`` contradict); empty when intact."""
    path = Path(path).resolve()
    entries, problems = _read(path)
    return problems + anchor_problems(path, entries, roots)


def spent(path: Path, year: int) -> tuple[float, float]:
    """The ε and δ that the releases of ``year`` have spent according to the ledger."""
    entries, _ = _read(Path(path))
    mine = [e for e in entries if e.get("year") == year]
    return (float(sum(e.get("epsilon", 0.0) for e in mine)),
            float(sum(e.get("delta", 0.0) for e in mine)))


def check_and_append(ledger_path: Path, release: str, epsilon: float, delta: float, cap: float,
                     year: int, *, dry_run: bool, delta_cap: float | None = None,
                     roots: Iterable[Path] = (), target: Path | None = None) -> dict[str, Any]:
    """Check the yearly caps and the ledger's anchors; record the release's spending.

    ``cap`` bounds the year's ε and ``delta_cap`` (when given) its δ. ``roots`` are output
    roots where releases may record the ledger's head (see :mod:`suoja.protect.dp.anchor`);
    ``target`` is where this release goes. Returns the entry (with ``hash``, the new head).
    Raises ReleaseRefused (exit status 3), writing nothing, when the chain is broken, when
    the ledger disagrees with its head file or with a release present, or when a cap would
    be exceeded. Unless ``dry_run``, appends the entry and updates the head file.
    """
    path = Path(ledger_path).resolve()
    roots = [Path(r) for r in roots]
    limits = (cap, delta_cap)
    entry = _next_entry(path, release, epsilon, delta, limits, year, roots, target)
    if dry_run:
        return entry
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    created = not path.exists()
    with _uninterrupted(), path.open("a", encoding="utf-8") as handle:
        if created:
            os.chmod(path, 0o600)
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            # checked again under the lock: another publish may have appended meanwhile
            entry = _next_entry(path, release, epsilon, delta, limits, year, roots, target)
            handle.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
            entries, _ = _read(path)
            write_head(path, entry["seq"], entry["hash"],
                       known_roots(path, entries, roots))
            remember_roots(roots)
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return entry


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C until the block is done, so an entry and the head are written whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, _frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None
                      else signal.default_int_handler)
        if caught:
            raise KeyboardInterrupt


def _refuse_over_cap(release: str, year: int, what: str, amount: float, before: float,
                     cap: float) -> None:
    if before + amount > cap * (1 + TOLERANCE):
        raise ReleaseRefused(
            f"release {release} would spend {what} = {amount:g} of the privacy budget of "
            f"{year}, but {before:g} of the yearly cap of {cap:g} is spent already (left: "
            f"{max(cap - before, 0):g}); nothing was written")


def _next_entry(path: Path, release: str, epsilon: float, delta: float,
                limits: tuple[float, float | None], year: int, roots: list[Path],
                target: Path | None) -> dict[str, Any]:
    entries, problems = _read(path)
    problems += anchor_problems(path, entries, roots)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ReleaseRefused(f"the privacy budget ledger is broken, so the budget spent is "
                             f"not known: {'; '.join(problems[:3])}{more}; nothing was "
                             "written")
    cap, delta_cap = limits
    mine = [e for e in entries if e.get("year") == year]
    before = float(sum(e["epsilon"] for e in mine))
    before_delta = float(sum(e["delta"] for e in mine))
    _refuse_over_cap(release, year, "ε", epsilon, before, cap)
    if delta_cap is not None:
        _refuse_over_cap(release, year, "δ", delta, before_delta, delta_cap)
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
    if delta_cap is not None:
        entry |= {"delta_cap": float(delta_cap), "delta_spent_after": before_delta + delta}
    if target is not None:
        entry["target"] = str(Path(target).resolve())
    entry["hash"] = entry_hash(entry)
    return entry
