"""Files written safely: atomic writes, one writer per folder, no leftovers from killed writers.

- :func:`atomic_path` / :func:`atomic_write_bytes`: a reader never sees a half-written file, even
  after a crash. While it is written, the temporary file (``.<stem>.<random>.tmp<suffix>``) is
  locked (``flock``), so a later writer can tell a live writer's file from a dead one's.
- :func:`remove_stale_temps`: delete the temporary files that killed writers left behind.
- :func:`writer_lock`: an OS lock (``flock`` on ``<folder>/.lock``) that makes a process the one
  writer of a folder; the kernel releases it when the process exits or crashes (the file's
  existence means nothing: a crashed holder's file is simply locked again).
- :func:`check_writable`: fail before the work, not after it, when an output folder is unusable.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "remove_stale_temps", "writer_lock",
           "check_writable", "LockedError", "UnwritableError", "LOCK_FILE"]

LOCK_FILE = ".lock"
# a killed writer's temporary file is at least this old when the next writer of the same file starts
# (a live writer locks its file within microseconds of creating it; the margin covers that gap)
_STALE_AFTER_S = 2.0


class LockedError(OSError):
    """Another live process is writing the folder."""


class UnwritableError(OSError):
    """An output path cannot be written (not a folder, read-only, no space...)."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, lock: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    On any exception the temporary file is removed and ``path`` is left as it was. Temporary
    files of the same target left by killed writers are removed first. ``lock=False`` for writers
    that ``flock`` the file themselves (HDF5, hence netCDF-4): ours would make theirs fail.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, _temp_pattern(path), older_than=time.time() - _STALE_AFTER_S)
    # Keep the real suffix last: tools that check extensions (papermill, savefig) accept the temp file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    if lock:
        fcntl.flock(fd, fcntl.LOCK_EX)  # "a live writer's": held until the file is renamed or removed
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give the result the mode any new file gets (umask), so
        # others on a shared machine can read results and figures as they could before.
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
        os.close(fd)


def _temp_pattern(path: Path) -> str:
    return f".{path.stem}.*.tmp{path.suffix}"


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it back at once
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically and return the path."""
    return atomic_write_bytes(path, text.encode(encoding))


def remove_stale_temps(folder: str | os.PathLike, pattern: str = ".*.tmp*", *,
                       older_than: float | None = None) -> list[Path]:
    """Delete the temporary files of :func:`atomic_path` in ``folder`` that no live process holds.

    A file is stale when its writer's lock is gone (the writer exited or was killed) and, with
    ``older_than`` (a ``time.time()``), it was last modified before then. Returns what was removed.
    """
    removed = []
    for candidate in Path(folder).glob(pattern):
        try:
            if not candidate.is_file() or (older_than is not None and candidate.stat().st_mtime >= older_than):
                continue
            fd = os.open(candidate, os.O_RDONLY)
        except OSError:  # gone meanwhile, or unreadable: not ours to judge
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue  # a live writer holds it
        else:
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def check_writable(folder: str | os.PathLike, what: str = "output folder", *, write: bool = True) -> Path:
    """Create ``folder`` if needed and check a file can be written in it; raise :class:`UnwritableError`.

    ``write=False`` checks only that it is (or can become) a folder: for a cache that may be a
    read-only copy holding everything needed.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise UnwritableError(f"{folder}: the {what} is a file, not a folder; give a folder path "
                             "(or move the file away)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if write:
            with tempfile.TemporaryFile(dir=folder):
                pass
    except OSError as error:
        raise UnwritableError(f"{folder}: the {what} cannot be written ({error.strerror or error}); "
                             "choose a writable folder") from None
    return folder


@contextlib.contextmanager
def writer_lock(folder: str | os.PathLike, what: str = "folder", *, wait: float = 0.0) -> Iterator[float]:
    """Be the one writer of ``folder``: hold ``flock`` on ``<folder>/.lock`` until the block ends.

    Raises :class:`LockedError` naming the holder's PID if another live process holds it (after
    waiting up to ``wait`` seconds for it: for writers that take a moment, not a training run). Yields
    the time the lock was taken: temporary files older than that are a dead writer's. The lock file
    is removed on release (a crashed holder's stays, unlocked, and is simply taken over).
    """
    folder = check_writable(folder, what)
    lock = folder / LOCK_FILE
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            _flock_within(fd, wait)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise LockedError(f"{folder}: another process (PID {holder}) is writing this {what}; "
                              "wait for it to finish, stop it, or use another folder") from None
        if _same_file(fd, lock):
            break
        os.close(fd)  # the holder removed the file as we waited: lock the one that is there now
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield time.time()
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()  # while still locked: a waiter then sees the file is gone and retries
        os.close(fd)  # closing the descriptor releases the lock (as the kernel does on a crash)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


def _flock_within(fd: int, wait: float) -> None:
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
