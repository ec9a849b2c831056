"""One redacted output file: appended to, repaired on start, reopened on SIGHUP.

The offset counts bytes written to the current file; a checkpoint pairs it with the input
offsets, and a restart truncates anything written after the checkpoint.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

from ._fdpool import FdPool
from ._settings import TailSettings
from ._state import OutputMark

log = logging.getLogger("redactor.tail")


class Output:
    """An append-only redacted copy of one input name."""

    pinned = False

    def __init__(self, path: Path, settings: TailSettings, pool: FdPool) -> None:
        self.path = path
        self._mode = settings.file_mode
        self._fsync = settings.fsync
        self._fsync_interval = settings.fsync_interval
        self._pool = pool
        self._fd: int | None = None
        self.ino = 0
        self.offset = 0
        self._unsynced = False
        self._synced_at = time.monotonic()

    def restore(self, mark: OutputMark | None) -> None:
        """Open the file and cut it back to the checkpointed length (crash repair)."""
        fd = self._open()
        size = os.fstat(fd).st_size
        if mark is None or mark.ino != self.ino:
            self.offset = size
            return
        if size > mark.offset:
            os.ftruncate(fd, mark.offset)
            log.info(
                "event=output_repaired output=%s cut_bytes=%d", self.path.name, size - mark.offset
            )
        elif size < mark.offset:
            log.warning(
                "event=output_short output=%s missing_bytes=%d", self.path.name, mark.offset - size
            )
        self.offset = min(size, mark.offset)

    def mark(self) -> OutputMark:
        """The checkpoint entry for this output."""
        return OutputMark(self.path.name, self.ino, self.offset)

    def write(self, data: bytes) -> None:
        """Append `data`; with fsync = "always" it is on disk when this returns."""
        if not data:
            return
        fd = self._fd if self._fd is not None else self._open()
        self._pool.used(self)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        self.offset += len(data)
        self._unsynced = True
        if self._fsync == "always":
            self.sync()

    def sync(self, due_only: bool = False) -> None:
        """Make what was written durable with fsync (unless the policy is "never")."""
        now = time.monotonic()
        if due_only and now - self._synced_at < self._fsync_interval:
            return
        if self._unsynced and self._fd is not None and self._fsync != "never":
            os.fsync(self._fd)
        self._unsynced = False
        self._synced_at = now

    def reopen(self) -> None:
        """Start appending to whatever file now has our name (after logrotate moved ours)."""
        self.release()
        fd = self._open()
        self.offset = os.fstat(fd).st_size

    def release(self) -> None:
        """Close the descriptor (it is reopened on the next write)."""
        if self._fd is None:
            return
        self.sync()
        os.close(self._fd)
        self._fd = None
        self._pool.closed(self)

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, self._mode)
        os.fchmod(fd, self._mode)
        stat = os.fstat(fd)
        if self._fd is None and self.ino and stat.st_ino != self.ino:
            self.offset = stat.st_size  # replaced while closed: count from its current end
        self.ino = stat.st_ino
        self._fd = fd
        self._pool.opened(self)
        return fd
