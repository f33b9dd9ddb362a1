"""Write an output folder atomically, whatever state the user left its target in.

:func:`atomic_folder` yields a private temporary folder beside the target and puts it in
place only when the block succeeds, under a lock on the target:

- the target's parent must be a folder, and the target a real folder or absent: a file,
  a symbolic link (dangling or not) or an unwritable folder is a :class:`UsageError`
  naming the path and the reason, checked before any work and again at the rename;
- ``.NAME.lock`` beside the target is locked (``fcntl.flock``) while writing, so two runs
  never write the same target at once, and the existing-release check is repeated under
  the lock at the final rename; a successful run removes the lock file;
- temporaries are named ``.NAME.tmp-PID-TOKEN``, are owner-only (0700) while written, and
  a later run removes those of earlier runs that died (a dead PID, or older than a day);
  the target's own temporaries are stale whenever the lock is free;
- before the rename, public files are made 0644 and folders 0755 whatever the umask, and
  everything under a ``restricted/`` folder 0600 (files) and 0700 (folders);
- an existing target is swapped with the new one in one step where the system allows it
  (Linux ``renameat2(RENAME_EXCHANGE)``), so a killed run leaves the old or the new release,
  never a mix.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from suoja.errors import UsageError

RESTRICTED = "restricted"
PUBLIC_DIR, PUBLIC_FILE = 0o755, 0o644
OWNER_ONLY_DIR, OWNER_ONLY_FILE = 0o700, 0o600
STALE_AFTER = 24 * 3600
"""Seconds after which a temporary is stale even if its PID is alive again (reused)."""
_TEMPORARY = re.compile(r"^\.(?P<name>.+)\.(?:tmp|old)-(?P<pid>\d+)-[0-9a-f]+$")
_ENVIRONMENT = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT,
                errno.ENOTDIR, errno.EISDIR, errno.ELOOP}


def check_target(target: Path, *, force: bool) -> None:
    """Refuse (exit 2) a target that cannot become a release folder, with the reason."""
    parent = target.parent
    for folder in (parent, *parent.parents):
        if folder.is_symlink() and not folder.exists():
            raise UsageError(f"{folder} is a symbolic link to nothing; point it at a folder "
                             "or choose another output folder")
        if os.path.lexists(folder) and not folder.is_dir():
            raise UsageError(f"{folder} is a file, not a folder; choose a folder for the output")
    if target.is_symlink():
        state = "a symbolic link" if target.exists() else "a symbolic link to nothing"
        raise UsageError(f"{target} is {state}; suoja writes releases into real folders "
                         "only: remove the link or choose another output folder")
    if os.path.lexists(target) and not target.is_dir():
        raise UsageError(f"{target} is a file, not a release folder; move it away or choose "
                         "another output folder")
    if target.exists() and not force:
        raise UsageError(f"{target} exists; use --force to replace it")


def environment_error(error: OSError, target: Path) -> UsageError | None:
    """A UsageError for an error of the file system the user must fix (read-only, full,
    no permission), or None for anything else (a bug)."""
    if error.errno not in _ENVIRONMENT:
        return None
    where = error.filename or target
    return UsageError(f"cannot write {target}: {error.strerror} ({where}); choose a "
                      "writable output folder")


@contextmanager
def _lock(target: Path) -> Iterator[None]:
    path = target.parent / f".{target.name}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, OWNER_ONLY_FILE)
    except OSError as e:
        raise environment_error(e, target) or e from None
    busy = UsageError(f"another suoja run is writing {target} now; wait for it to finish "
                      "(then use --force to replace its output)")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # the run that held it removed the file: another run may lock anew
            raise busy
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # under the lock, so no run holds a stale one
    finally:
        os.close(fd)  # closing releases the lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(target: Path) -> None:
    """Remove temporaries of earlier runs beside ``target`` (call it under the lock).

    The target's own are stale whatever their PID (the lock is ours); an ``.old-`` one
    whose swap was cut short is put back when the target is missing.
    """
    now = time.time()
    for entry in target.parent.iterdir():
        match = _TEMPORARY.match(entry.name)
        if not match or entry.is_symlink() or not entry.is_dir():
            continue
        mine = match["name"] == target.name
        try:
            stale = mine or not _alive(int(match["pid"])) or \
                now - entry.stat().st_mtime > STALE_AFTER
        except FileNotFoundError:  # another run removed it meanwhile
            continue
        if not stale:
            continue
        if mine and ".old-" in entry.name and not os.path.lexists(target):
            entry.rename(target)  # a swap killed between its two renames
            continue
        shutil.rmtree(entry, ignore_errors=True)


def set_modes(folder: Path) -> None:
    """Public 0644/0755 and restricted 0600/0700 for everything under ``folder``; the
    folder itself stays as it is (a temporary stays private until it is in place)."""
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        private = RESTRICTED in here.relative_to(folder).parts
        if here != folder:
            os.chmod(here, OWNER_ONLY_DIR if private else PUBLIC_DIR)
        for name in dirs:
            if name == RESTRICTED:
                os.chmod(here / name, OWNER_ONLY_DIR)
        for name in files:
            path = here / name
            if not path.is_symlink():
                os.chmod(path, OWNER_ONLY_FILE if private else PUBLIC_FILE)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where not supported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return done == 0


def _put_in_place(temporary: Path, target: Path, token: str, *, force: bool) -> None:
    check_target(target, force=force)  # again: the target may have changed meanwhile
    if not target.exists():
        temporary.rename(target)
    elif _exchange(temporary, target):
        os.chmod(temporary, OWNER_ONLY_DIR)  # now the old release, on its way out
        shutil.rmtree(temporary)
    else:
        old = target.with_name(f".{target.name}.old-{os.getpid()}-{token}")
        target.rename(old)
        temporary.rename(target)
        os.chmod(old, OWNER_ONLY_DIR)
        shutil.rmtree(old)
    os.chmod(target, PUBLIC_DIR)


@contextmanager
def atomic_folder(target: Path, *, force: bool) -> Iterator[Path]:
    """Yield a private temporary folder that replaces ``target`` only if the block succeeds."""
    check_target(target, force=force)
    token = secrets.token_hex(4)
    temporary = target.parent / f".{target.name}.tmp-{os.getpid()}-{token}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _lock(target):
            remove_stale(target)
            check_target(target, force=force)
            temporary.mkdir(mode=OWNER_ONLY_DIR)
            os.chmod(temporary, OWNER_ONLY_DIR)
            try:
                yield temporary
                set_modes(temporary)
                _put_in_place(temporary, target, token, force=force)
            finally:
                if temporary.exists():
                    shutil.rmtree(temporary, ignore_errors=True)
    except OSError as e:
        raise environment_error(e, target) or e from None
