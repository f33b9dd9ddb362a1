"""The privacy budget ledger: the yearly cap refuses (exit 3), the hash chain shows tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suoja.errors import ReleaseRefused
from suoja.protect.dp import check_and_append, spent, verify_ledger


def record(path: Path, release: str, epsilon: float, year: int = 2025, cap: float = 3.0,
           delta: float = 0.0) -> dict:
    return check_and_append(path, release, epsilon, delta, cap, year, dry_run=False)


def test_entries_chain_and_sum_per_year(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    first = record(ledger, "2025", 1.0)
    second = record(ledger, "2025-revised", 1.5)
    record(ledger, "2024", 2.0, year=2024)
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3]
    assert lines[0]["prev"] == "0" * 64
    assert lines[1]["prev"] == first["hash"] and lines[2]["prev"] == second["hash"]
    assert second["spent_before"] == 1.0 and second["spent_after"] == 2.5
    assert verify_ledger(ledger) == []
    assert spent(ledger, 2025) == (2.5, 0.0) and spent(ledger, 2024) == (2.0, 0.0)
    assert ledger.stat().st_mode & 0o777 == 0o600


def test_a_release_beyond_the_yearly_cap_is_refused_with_exit_3(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    record(ledger, "2025", 2.0)
    before = ledger.read_bytes()
    with pytest.raises(ReleaseRefused, match=r"would spend ε = 1\.5 .* 2 of the yearly cap of 3") \
            as refused:
        record(ledger, "2025-again", 1.5)
    assert refused.value.exit_code == 3
    assert ledger.read_bytes() == before  # nothing written
    record(ledger, "2025-small", 1.0)  # exactly up to the cap is allowed
    record(ledger, "2026", 3.0, year=2026)  # another year has its own cap
    with pytest.raises(ReleaseRefused):
        record(ledger, "2025-more", 0.01)


def test_dry_run_checks_without_writing(tmp_path: Path) -> None:
    ledger = tmp_path / "sub" / "ledger.jsonl"
    entry = check_and_append(ledger, "2025", 1.0, 0.0, 3.0, 2025, dry_run=True)
    assert entry["seq"] == 1 and not ledger.exists() and not ledger.parent.exists()
    with pytest.raises(ReleaseRefused):
        check_and_append(ledger, "2025", 4.0, 0.0, 3.0, 2025, dry_run=True)


def test_tampering_is_detected_and_refused(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    for i in range(3):
        record(ledger, f"r{i}", 0.5)
    lines = ledger.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["epsilon"] = 0.1  # someone makes the first release look cheaper
    tampered = [json.dumps(entry, sort_keys=True), *lines[1:]]
    ledger.write_text("\n".join(tampered) + "\n")
    problems = verify_ledger(ledger)
    assert any("line 1" in p and "changed" in p for p in problems)
    with pytest.raises(ReleaseRefused, match="ledger is broken"):
        record(ledger, "r3", 0.1)
    # even with its own hash recomputed, the next entry's link breaks
    from suoja.protect.dp.ledger import entry_hash

    entry["hash"] = entry_hash(entry)
    ledger.write_text("\n".join([json.dumps(entry, sort_keys=True), *lines[1:]]) + "\n")
    assert any("line 2" in p and "chain is broken" in p for p in verify_ledger(ledger))


def test_a_removed_entry_is_detected(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    for i in range(3):
        record(ledger, f"r{i}", 0.5)
    lines = ledger.read_text().splitlines()
    ledger.write_text("\n".join([lines[0], lines[2]]) + "\n")
    problems = verify_ledger(ledger)
    assert any("chain is broken" in p for p in problems)
    ledger.write_text("garbage\n")
    assert any("not JSON" in p for p in verify_ledger(ledger))


def test_ctrl_c_waits_until_the_entry_and_its_head_are_written(tmp_path: Path,
                                                               monkeypatch) -> None:
    import os
    import signal

    import suoja.protect.dp.ledger as ledger_module

    ledger = tmp_path / "ledger.jsonl"
    real = ledger_module.write_head

    def interrupted_head(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C between the append and the head
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_module, "write_head", interrupted_head)
    with pytest.raises(KeyboardInterrupt):
        record(ledger, "2025", 1.0)
    assert verify_ledger(ledger) == [] and len(ledger.read_text().splitlines()) == 1
