"""The privacy budget belongs to the register and the policy, not to ``--out``; the ledger
is anchored outside itself, so no kind of tampering resets it (issue 14, point 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suoja.cli import app, default_register
from suoja.errors import PolicyError, ReleaseRefused
from suoja.policy import read_policy
from suoja.protect.dp import check_and_append, verify_ledger
from suoja.protect.dp.anchor import BUDGET_FILE, default_ledger, head_path, state_dir
from suoja.protect.dp.ledger import entry_hash

runner = CliRunner()
CAP = 4.0


def release(ledger: Path, root: Path, name: str, epsilon: float = 1.0) -> dict:
    """Spend like a publish into ``root/name``, and anchor the head in its restricted/."""
    target = root / name
    entry = check_and_append(ledger, name, epsilon, 0.0, CAP, 2025, dry_run=False,
                             delta_cap=0.0, roots=[root], target=target)
    (target / "restricted").mkdir(parents=True)
    record = {**entry, "ledger": str(ledger.resolve()),
              "ledger_head": {"entries": entry["seq"], "hash": entry["hash"]}}
    (target / "restricted" / BUDGET_FILE).write_text(json.dumps(record))
    return entry


def refused(ledger: Path, root: Path, match: str) -> None:
    with pytest.raises(ReleaseRefused, match=match) as caught:
        check_and_append(ledger, "next", 0.1, 0.0, CAP, 2025, dry_run=True, delta_cap=0.0,
                         roots=[root])
    assert caught.value.exit_code == 3


@pytest.fixture
def spent(tmp_path: Path) -> tuple[Path, Path]:
    ledger, root = tmp_path / "state" / "ledger.jsonl", tmp_path / "out"
    for i in range(3):
        release(ledger, root, f"r{i}")
    assert verify_ledger(ledger, [root]) == []
    assert ledger.stat().st_mode & 0o777 == 0o600
    assert head_path(ledger).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    return ledger, root


def test_a_deleted_last_entry_is_refused(spent: tuple[Path, Path]) -> None:
    ledger, root = spent
    lines = ledger.read_text().splitlines()
    ledger.write_text("\n".join(lines[:-1]) + "\n")
    refused(ledger, root, "ledger.jsonl.head records 3")
    head_path(ledger).unlink()  # removing the head file too does not help: r2 anchors it
    refused(ledger, root, "as ledger entry 3, but the ledger holds only 2")


def test_a_forged_last_entry_with_its_hash_recomputed_is_refused(
        spent: tuple[Path, Path]) -> None:
    ledger, root = spent
    lines = ledger.read_text().splitlines()
    last = json.loads(lines[-1])
    last["epsilon"] = 0.01
    last["hash"] = entry_hash(last)
    ledger.write_text("\n".join([*lines[:-1], json.dumps(last, sort_keys=True)]) + "\n")
    assert not any("chain" in p for p in verify_ledger(ledger))  # the chain alone is fooled
    refused(ledger, root, "an entry was removed or forged")
    head = json.loads(head_path(ledger).read_text())
    head_path(ledger).write_text(json.dumps({**head, "hash": last["hash"]}))
    refused(ledger, root, "recorded ledger entry 3 as .*another entry there")


@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_a_deleted_or_emptied_ledger_is_refused(spent: tuple[Path, Path], how: str) -> None:
    ledger, root = spent
    if how == "deleted":
        ledger.unlink()
    else:
        ledger.write_text("")
    refused(ledger, root, "the ledger holds 0 entries")
    head_path(ledger).unlink()
    refused(ledger, root, "the ledger holds only 0")


def test_an_edited_or_removed_middle_entry_is_refused(spent: tuple[Path, Path]) -> None:
    ledger, root = spent
    lines = ledger.read_text().splitlines()
    ledger.write_text("\n".join([lines[0], lines[2]]) + "\n")
    refused(ledger, root, "chain is broken")


def test_releases_in_other_roots_are_found_through_the_head(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    release(ledger, tmp_path / "a", "r0")
    release(ledger, tmp_path / "b", "r1")
    assert set(json.loads(head_path(ledger).read_text())["roots"]) == \
        {str((tmp_path / "a").resolve()), str((tmp_path / "b").resolve())}
    ledger.write_text("")
    head_path(ledger).unlink()
    refused(ledger, tmp_path / "b", "as ledger entry 2, but the ledger holds only 0")
    # publishing into a third folder: the user's registry of output roots finds a and b
    refused(ledger, tmp_path / "c", "as ledger entry 1, but the ledger holds only 0")
    registry = state_dir() / "output_roots.json"
    assert registry.stat().st_mode & 0o777 == 0o600


def test_the_delta_cap_refuses(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.jsonl"
    args = {"dry_run": False, "delta_cap": 2e-6}
    check_and_append(ledger, "a", 1.0, 1e-6, 10.0, 2025, **args)
    check_and_append(ledger, "b", 1.0, 1e-6, 10.0, 2025, **args)
    with pytest.raises(ReleaseRefused, match=r"δ = 1e-06 .* yearly cap of 2e-06"):
        check_and_append(ledger, "c", 1.0, 1e-6, 10.0, 2025, **args)


def test_the_default_ledger_is_one_per_register(tmp_path: Path,
                                                _private_state_dir: Path) -> None:
    assert state_dir() == _private_state_dir / "suoja"
    a, b = default_ledger(tmp_path / "reg"), default_ledger(tmp_path / "reg" / ".." / "reg")
    assert a == b and a.is_relative_to(state_dir())
    assert default_ledger(tmp_path / "other") != a


def test_the_policy_names_the_ledger_strictly(tmp_path: Path) -> None:
    policy = tmp_path / "p.toml"
    base = '[threshold]\nmin_count = 5\n[privacy]\nmode = "dp"\n' \
           "[dp]\nepsilon = 2\nyearly_epsilon_cap = 4\n"
    policy.write_text(base.replace('mode = "dp"', 'mode = "dp"\nledger = "b/l.jsonl"'))
    assert read_policy(policy).ledger == str(tmp_path / "b" / "l.jsonl")
    for value, message in (("3", "privacy.ledger: must be the path"),
                           ('""', "privacy.ledger: must be the path"),
                           (f'"{tmp_path}"', "is a folder")):
        policy.write_text(base.replace('mode = "dp"', f'mode = "dp"\nledger = {value}'))
        with pytest.raises(PolicyError, match=message):
            read_policy(policy)
    policy.write_text(base.replace('mode = "dp"', 'mode = "dp"\nledgr = "x"'))
    with pytest.raises(PolicyError, match="unknown key 'ledgr'"):
        read_policy(policy)


@pytest.mark.slow
def test_five_dp_releases_into_five_folders_share_one_yearly_budget(tmp_path: Path) -> None:
    policy = tmp_path / "dp.toml"
    shipped = (Path(__file__).resolve().parents[1] / "policies" / "dp.toml").read_text()
    policy.write_text(shipped.replace('mode = "dp"', 'mode = "dp"\nledger = "budget.jsonl"'))
    codes = []
    for i in range(5):
        out = tmp_path / f"out{i}"
        result = runner.invoke(app, ["publish", "2025", "--policy", str(policy), "--out",
                                     str(out)])
        codes.append(result.exit_code)
        if result.exit_code == 3:
            assert "yearly cap of 4" in result.stderr and "Traceback" not in result.output
            assert not (out / "2025").exists()
    assert codes == [0, 0, 3, 3, 3]  # ε = 2 each, a yearly cap of 4
    ledger = tmp_path / "budget.jsonl"
    assert len(ledger.read_text().splitlines()) == 2
    assert verify_ledger(ledger, [tmp_path / "out0", tmp_path / "out1"]) == []
    # the ledger deleted with its head: the releases in out0 and out1 still anchor it, even
    # for a publish into a folder never used before
    ledger.unlink()
    head_path(ledger).unlink()
    for out, more in (("out1", ["--force"]), ("out9", [])):
        result = runner.invoke(app, ["publish", "2025", "--policy", str(policy), "--out",
                                     str(tmp_path / out), *more])
        assert result.exit_code == 3 and "ledger is broken" in result.stderr, result.output
        assert "as ledger entry 2, but the ledger holds only 0" in result.stderr


@pytest.mark.slow
def test_the_default_ledger_follows_the_register_across_folders(tmp_path: Path) -> None:
    first = runner.invoke(app, ["publish", "2025", "--privacy", "dp", "--out",
                                str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    ledger = default_ledger(default_register())
    assert ledger.is_file() and not (tmp_path / "a" / "restricted").exists()
    record = json.loads((tmp_path / "a" / "2025" / "restricted" / BUDGET_FILE).read_text())
    assert record["ledger"] == str(ledger) and record["ledger_head"]["entries"] == 1
    lines = ledger.read_text().splitlines()
    ledger.write_text("")
    result = runner.invoke(app, ["publish", "2025", "--privacy", "dp", "--out",
                                 str(tmp_path / "b")])
    assert result.exit_code == 3 and "ledger is broken" in result.stderr
    ledger.write_text("\n".join(lines) + "\n")
    assert runner.invoke(app, ["publish", "2025", "--privacy", "dp", "--out",
                               str(tmp_path / "b")]).exit_code == 0


def test_the_methods_note_says_a_person_spends_from_several_years() -> None:
    from suoja.protect.dp import parse_dp_settings
    from suoja.protect.dp.notes import methods_note

    settings = parse_dp_settings({"epsilon": 2, "yearly_epsilon_cap": 4})
    english = methods_note(settings, {}, "en")
    assert "at most ε = 4 together" in english and "once per release" in english
    assert "several yearly budgets" in english
    assert "kerran julkaisua kohden" in methods_note(settings, {}, "fi")
    assert "en gång per publikation" in methods_note(settings, {}, "sv")
    gaussian = parse_dp_settings({"epsilon": 1, "yearly_epsilon_cap": 2, "delta": 1e-6,
                                  "mechanism": "gaussian", "yearly_delta_cap": 2e-6})
    assert "ε = 2, δ = 2e-06" in methods_note(gaussian, {}, "en")


def test_a_run_stopped_before_the_head_was_updated_is_not_a_tampering(
        spent: tuple[Path, Path]) -> None:
    ledger, root = spent
    head = json.loads(head_path(ledger).read_text())
    lines = ledger.read_text().splitlines()
    previous = json.loads(lines[-2])
    # as if the third run had been killed between its append and the head update
    head_path(ledger).write_text(json.dumps({**head, "entries": 2, "hash": previous["hash"]}))
    (root / "r2" / "restricted" / BUDGET_FILE).unlink()
    assert verify_ledger(ledger, [root]) == []
    entry = check_and_append(ledger, "r3", 0.5, 0.0, CAP, 2025, dry_run=False, roots=[root])
    assert json.loads(head_path(ledger).read_text())["entries"] == entry["seq"] == 4
    # but two entries beyond the head, or one not chained to it, is refused
    head_path(ledger).write_text(json.dumps({**head, "entries": 2, "hash": previous["hash"]}))
    refused(ledger, root, "records 2")


def test_a_ledger_of_the_old_layout_must_be_moved_not_forgotten(tmp_path: Path) -> None:
    from suoja.protect.dp.anchor import refuse_legacy

    out, ledger = tmp_path / "out", tmp_path / "state" / "ledger.jsonl"
    old = out / "restricted" / "privacy_budget_ledger.jsonl"
    check_and_append(old, "2025", 2.0, 0.0, CAP, 2025, dry_run=False)
    head_path(old).unlink()
    lines = [json.loads(line) for line in old.read_text().splitlines()]
    old.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "target"},
                                      sort_keys=True) + "\n" for e in lines))
    with pytest.raises(ReleaseRefused, match="Move it there") as caught:
        refuse_legacy(out, ledger)
    assert caught.value.exit_code == 3
    ledger.parent.mkdir()
    old.rename(ledger)
    refuse_legacy(out, ledger)
    # its spending counts, and its missing head is written by the next release
    assert verify_ledger(ledger) == []
    with pytest.raises(ReleaseRefused, match="yearly cap"):
        check_and_append(ledger, "2025", 2.5, 0.0, CAP, 2025, dry_run=True)
    check_and_append(ledger, "2025", 2.0, 0.0, CAP, 2025, dry_run=False, target=out / "2025")
    assert json.loads(head_path(ledger).read_text())["entries"] == 2
