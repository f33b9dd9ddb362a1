"""The output target in every state a user can leave it; locks, temporaries, interrupts,
solver limits (issue 14, point 6)."""

from __future__ import annotations

import errno
import fcntl
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suoja.cli import app
from suoja.errors import ReleaseRefused, SolverLimitError, UsageError
from suoja.release._target import atomic_folder, set_modes

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


def publish(out: Path, *more: str) -> object:
    return runner.invoke(app, ["publish", "2025", "--out", str(out), *more])


def assert_refused(result: object, *words: str) -> None:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


def test_out_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a folder")
    assert_refused(publish(out), f"{out} is a file")
    assert out.read_text() == "not a folder"


def test_a_file_where_a_folder_is_expected_says_so(tmp_path: Path) -> None:
    file = tmp_path / "file.csv"
    file.write_text("x\n")
    for args in (["validate", str(file)], ["audit", str(file)], ["check", str(file)],
                 ["verify", str(file)], ["publish", "2025", "--register", str(file),
                                         "--out", str(tmp_path / "o")],
                 ["synth", "--out", str(file)]):
        result = runner.invoke(app, args)
        assert_refused(result, f"{file} is a file")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("force", [False, True])
def test_target_that_is_a_symlink_is_exit_2_and_untouched(tmp_path: Path, force: bool) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / "2025").symlink_to(elsewhere)
    assert_refused(publish(out, *(["--force"] if force else [])), "symbolic link")
    assert (elsewhere / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in out.iterdir()) == ["2025"]


def test_target_that_is_a_dangling_symlink_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "2025").symlink_to(tmp_path / "gone")
    assert_refused(publish(out, "--force"), "symbolic link to nothing")
    assert not (tmp_path / "gone").exists()


def test_target_that_is_a_regular_file_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "2025").write_text("x")
    assert_refused(publish(out, "--force"), "is a file, not a release folder")


def test_an_unwritable_file_system_is_exit_2(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import suoja.release.write

    def read_only(*_: object, **__: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "out" / "x"))

    monkeypatch.setattr(suoja.release.write, "write_open", read_only)
    assert_refused(publish(tmp_path / "out"), "Read-only file system")
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o555)
    try:
        assert_refused(publish(out), "Permission denied")
    finally:
        out.chmod(0o755)


def test_a_locked_target_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with (out / ".2025.lock").open("w") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        with pytest.raises(UsageError, match="another suoja run is writing"), \
                atomic_folder(out / "2025", force=True):
            pass
    assert not (out / "2025").exists()


def test_a_release_that_appears_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    target = tmp_path / "2025"
    with pytest.raises(UsageError, match="exists; use --force"), \
            atomic_folder(target, force=False) as folder:
        (folder / "new.txt").write_text("new")
        target.mkdir()  # another publish finished while this one was working
        (target / "old.txt").write_text("old")
    assert [p.name for p in target.iterdir()] == ["old.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025"]


def test_temporaries_are_private_and_stale_ones_are_removed(tmp_path: Path) -> None:
    stale = tmp_path / ".2025.tmp-999999999-abcd"  # no such PID
    (stale / "restricted").mkdir(parents=True)
    (stale / "restricted" / "suppression_log.csv").write_text("secret")
    other_dead = tmp_path / ".2024.tmp-999999998-abcd"
    other_dead.mkdir()
    other_alive = tmp_path / ".2024.tmp-1-abcd"  # PID 1 lives; not our target
    other_alive.mkdir()
    mine = tmp_path / ".2025.tmp-1-ef01"  # our target, and the lock is ours: stale anyway
    mine.mkdir()
    with atomic_folder(tmp_path / "2025", force=False) as folder:
        assert folder.stat().st_mode & 0o777 == 0o700
        assert folder.name.startswith(f".2025.tmp-{os.getpid()}-")
        (folder / "open").mkdir()
        (folder / "open" / "t.csv").write_text("a")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [".2024.tmp-1-abcd", "2025"]


def test_public_files_are_0644_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        with atomic_folder(tmp_path / "2025", force=False) as folder:
            (folder / "open").mkdir()
            (folder / "open" / "t.csv").write_text("a")
            (folder / "restricted").mkdir()
            (folder / "restricted" / "log.csv").write_text("secret")
    finally:
        os.umask(old)
    target = tmp_path / "2025"
    modes = {p.relative_to(target).as_posix(): p.stat().st_mode & 0o777
             for p in [target, *target.rglob("*")]}
    assert modes == {".": 0o755, "open": 0o755, "open/t.csv": 0o644,
                     "restricted": 0o700, "restricted/log.csv": 0o600}


def test_set_modes_keeps_nested_restricted_private(tmp_path: Path) -> None:
    (tmp_path / "a" / "restricted" / "b").mkdir(parents=True)
    (tmp_path / "a" / "restricted" / "b" / "x").write_text("s")
    set_modes(tmp_path)
    assert (tmp_path / "a" / "restricted" / "b" / "x").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "a" / "restricted" / "b").stat().st_mode & 0o777 == 0o700


def test_a_solver_limit_is_a_refusal_not_a_bug(monkeypatch: pytest.MonkeyPatch,
                                                tmp_path: Path) -> None:
    import numpy as np
    import scipy.sparse as sp

    from suoja.protect.ranges import Component

    component = Component(np.arange(2), sp.csr_matrix(np.array([[1.0, 1.0]])),
                          np.array([3.0]), 0.5)
    monkeypatch.setattr(Component, "_optimise", lambda *_a, **_k: ("limit", np.nan, None))
    with pytest.raises(SolverLimitError, match=r"time limit of 0\.5 s") as raised:
        component.point()
    assert isinstance(raised.value, ReleaseRefused) and raised.value.exit_code == 3

    import suoja.protect.release_audit

    def limited(*_: object, **__: object) -> None:
        raise SolverLimitError("the solver found no integer solution within its time limit "
                               "of 20 s")

    monkeypatch.setattr(suoja.protect.release_audit, "audit_views", limited)
    result = publish(tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert "time limit of 20 s" in result.stderr and "bug" not in result.output
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def _leftovers(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.name.startswith(".2025.")] if out.exists() else []


@pytest.mark.slow
def test_ctrl_c_is_exit_130_with_one_line_and_nothing_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "suoja", "publish", "2025", "--out",
                                str(out)], env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    # Not on a terminal, publish prints its stages as lines ("[  1.4 s] Reading ...");
    # then one line on the interruption, no traceback.
    stages = [line for line in lines if re.match(r"\[\s*\d+\.\d s\] ", line)]
    assert lines == [*stages, "Interrupted; nothing was written."], stderr
    assert not (out / "2025").exists() and not _leftovers(out)


def _manifest(out: Path) -> bytes | None:
    path = out / "2025" / "open" / "manifest.json"
    return path.read_bytes() if path.exists() else None


@pytest.fixture(scope="module")
def protected_pickle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded register's 2025 release, protected once and pickled for the children
    of ``tests/cached_protect.py``."""
    import pickle

    from conftest import embedded_alone

    path = tmp_path_factory.mktemp("protected") / "2025.pickle"
    path.write_bytes(pickle.dumps(embedded_alone(2025)))
    return path


@pytest.mark.slow
def test_a_killed_publish_leaves_the_old_release_or_the_new_never_a_mix(
        tmp_path: Path, protected_pickle: Path) -> None:
    from suoja.release.portal import verify_release

    out = tmp_path / "out"
    # The protection comes from a pickle (tests/cached_protect.py), so that the kills land
    # where a release is being written, not in the minute of protection before it.
    command = [sys.executable, str(REPO / "tests" / "cached_protect.py"),
               str(protected_pickle), "publish", "2025", "--out", str(out), "--force"]
    start = time.monotonic()
    subprocess.run(command, env=ENV, check=True, capture_output=True)
    took = time.monotonic() - start
    releases = {_manifest(out)}
    rng = random.Random(14)
    for moment in sorted(rng.uniform(0.3, 1.05) * took for _ in range(2)):
        process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(moment)
        process.kill()
        process.wait()
        now = _manifest(out)
        assert now is not None, f"killed at {moment:.1f} s: no release left"
        assert verify_release(out / "2025").ok, f"killed at {moment:.1f} s: a mixed release"
        releases.add(now)
        for left in _leftovers(out):
            if left.is_dir():
                assert left.stat().st_mode & 0o077 == 0, f"{left} is readable by others"
    # a later run removes what the killed ones left behind
    subprocess.run(command, env=ENV, check=True, capture_output=True)
    assert _leftovers(out) == []


@pytest.mark.slow
def test_two_publishes_seconds_apart_the_second_is_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "suoja", "publish", "2025", "--out", str(out)]
    first = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    second = subprocess.run(command, env=ENV, capture_output=True, text=True, check=False)
    _, first_err = first.communicate(timeout=300)
    # One run writes the release, the other is refused (exit 2): which one depends on the
    # machine's load (the second may overtake the first), never a mix of both.
    codes = sorted([first.returncode, second.returncode])
    assert codes == [0, 2], (first_err, second.stderr)
    refused = second.stderr if second.returncode == 2 else first_err
    assert "Traceback" not in refused
    assert "exists; use --force" in refused or "another suoja run" in refused
    from suoja.release.portal import verify_release

    assert verify_release(out / "2025").ok and _leftovers(out) == []
