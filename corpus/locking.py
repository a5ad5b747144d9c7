"""An inter-process write lock for the index: a lock file next to the manifest, held with an OS file lock.

Ingestion writes vectors before it commits the manifest and, at its start, deletes vectors the manifest does not
list (leftovers of a crash). Two ingestions at once would take each other's uncommitted vectors for leftovers,
so every ingestion holds this lock, whichever process runs it. Searches never take it.

The lock is ``fcntl.flock`` on POSIX (``msvcrt.locking`` on Windows): the operating system releases it when the
holder exits or crashes, so a stale lock file never blocks anyone. The holder writes its pid, host and start
time into the file so that a waiting process can say who it waits for.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from corpus.errors import IndexBusyError, IndexUnavailableError

POLL_S = 0.1
"""How often a waiting ingestion tries the lock again."""
_BUSY = {errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, getattr(errno, "EDEADLOCK", errno.EDEADLK)}

WaitCallback = Callable[[str], None]
"""Called once, with a description of the holder, when the lock is busy and the caller starts waiting."""


def _try_lock(fd: int) -> bool:
    """Take the lock without blocking; False when another open file holds it."""
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in _BUSY:
            return False
        raise
    return True


def acquire_thread_lock(lock: threading.Lock, timeout: float, check: Callable[[], None] | None) -> bool:
    """Take an in-process lock within ``timeout`` seconds, calling ``check`` between tries; False on timeout."""
    deadline = time.monotonic() + timeout
    while not lock.acquire(timeout=POLL_S if timeout == float("inf") else
                           max(0.0, min(POLL_S, deadline - time.monotonic()))):
        if check is not None:
            check()
        if time.monotonic() >= deadline:
            return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)



def describe_holder(info: object) -> str:
    """A lock holder's record ({"pid", "host", "since"}) as "pid 123 on host since …", or "unknown"."""
    if not isinstance(info, dict) or "pid" not in info:
        return "unknown"
    return f"pid {info['pid']} on {info.get('host', '?')} since {info.get('since', '?')}"

class IngestLock:
    """Exclusive lock on ``path`` shared by every process and thread that ingests into one index.

    Args:
        path: The lock file; its folder must exist or be creatable. The file is never deleted.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.Lock()

    def holder(self) -> str:
        """Who holds the lock, as written by the holder ("pid 123 on host since …"), or "unknown"."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return "unknown"
        return describe_holder(info)

    @contextmanager
    def hold(self, *, timeout: float, on_wait: WaitCallback | None = None,
             check: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the lock for the ``with`` block, waiting up to ``timeout`` seconds for the current holder.

        Args:
            timeout: Seconds to wait; 0 fails at once when the lock is held, ``math.inf`` waits for ever.
            on_wait: Called once with the holder's description if we have to wait.
            check: Called between tries while waiting; it raises to give up (the request was cancelled).

        Raises:
            IndexBusyError: Another ingestion still held the lock after ``timeout`` seconds.
            IndexUnavailableError: The lock file cannot be created or locked.
        """
        deadline = time.monotonic() + timeout
        if not acquire_thread_lock(self._local, timeout, check):
            raise self._busy(timeout, "another thread of this process")
        try:
            fd = self._open()
            try:
                self._acquire(fd, deadline, timeout, on_wait, check)
                try:
                    self._write_holder(fd)
                    yield
                finally:
                    self._clear_holder(fd)
                    _unlock(fd)
            finally:
                os.close(fd)
        finally:
            self._local.release()

    def _open(self) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexUnavailableError(f"cannot create the ingestion lock file {self.path}: {exc}") from None

    def _acquire(self, fd: int, deadline: float, timeout: float, on_wait: WaitCallback | None,
                 check: Callable[[], None] | None) -> None:
        told = False
        while True:
            try:
                if _try_lock(fd):
                    return
            except OSError as exc:
                raise IndexUnavailableError(f"cannot lock {self.path}: {exc}") from None
            if check is not None:
                check()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._busy(timeout, self.holder())
            if on_wait is not None and not told:
                on_wait(self.holder())
                told = True
            time.sleep(min(POLL_S, remaining))

    def _busy(self, timeout: float, holder: str) -> IndexBusyError:
        return IndexBusyError(
            f"another ingestion is writing this index ({holder}; lock file {self.path}); gave up after waiting "
            f"{timeout:g} s. Try again when it has finished, or allow a longer wait."
        )

    @staticmethod
    def _write_holder(fd: int) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(info).encode())
        except OSError:
            pass  # the description is a courtesy; the OS lock is what excludes

    @staticmethod
    def _clear_holder(fd: int) -> None:
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
