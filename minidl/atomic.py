"""Atomic file writes, as an editor saves: readers see the old file or the new one, never a mix.

Used by :func:`minidl.io.write` and the playground's exports.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import stat
import time
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a named pipe (FIFO)"), from its ``st_mode``."""
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")

# -- atomic writes ----------------------------------------------------------------------
# A temporary is named ".NAME.HOST-PID-RANDOM.minidl-tmp": HOST is a hash of this machine's
# name and PID the writer's process id, so a later save can tell a killed save's leftover
# (its writer is gone) from a save in progress, even in a folder shared between machines.
TEMP_SUFFIX = ".minidl-tmp"
STALE_SECONDS = 3600  # no save of at most 1 GiB takes an hour: older temporaries are orphans
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]
_TEMP = re.compile(r"\..*\.(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]{1,10})-[0-9a-f]{8}" + re.escape(TEMP_SUFFIX))


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    The bytes go to a temporary file beside the target, are fsynced, and are renamed over it.
    Like an editor's save: a symlink is written through (its target is replaced, the link
    stays); an existing file keeps its permission bits (and owner and group where allowed); a
    new file gets the umask's mode, as ``open()`` gives. Our temporaries that are stale (their
    writer on this machine is gone, or they are over ``STALE_SECONDS`` old) are removed first.
    """
    target = Path(os.path.realpath(path))
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    if old is not None and not stat.S_ISREG(old.st_mode):
        raise ValueError(f"cannot save to {path}: it is {file_kind(old.st_mode)}, not a regular file")
    _remove_stale_temporaries(target.parent)
    tmp = target.parent / f".{target.name[:120]}.{_HOST}-{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)  # umask applies
    try:
        with open(fd, "wb") as file:
            if old is not None and os.name == "posix":
                _keep_owner_and_mode(file.fileno(), old)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def _keep_owner_and_mode(fd: int, old: os.stat_result) -> None:
    if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
        try:  # only root may give a file away; a member of the old group may keep the group
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            try:
                os.fchown(fd, -1, old.st_gid)
            except OSError:
                pass
    os.fchmod(fd, stat.S_IMODE(old.st_mode))  # after chown, which clears set-id bits


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); some file systems cannot, which is harmless here."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def _writer_gone(pid: int) -> bool:
    if os.name != "posix":  # os.kill would terminate the process on Windows: rely on age there
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return True
    except OSError:  # PermissionError: alive, another user's
        return False
    return False


def _remove_stale_temporaries(folder: Path) -> None:
    """Delete temporaries that killed saves left in ``folder``: ours by name, regular files, and
    stale. Best effort: a failure here never fails the save."""
    try:
        entries = [e for e in os.scandir(folder) if e.name.endswith(TEMP_SUFFIX)]
    except OSError:
        return
    for entry in entries:
        match = _TEMP.fullmatch(entry.name)
        try:
            if not match or not entry.is_file(follow_symlinks=False):
                continue
            age = time.time() - entry.stat(follow_symlinks=False).st_mtime
            if age > STALE_SECONDS or (match["host"] == _HOST and _writer_gone(int(match["pid"]))):
                os.unlink(entry.path)
        except OSError:
            continue
