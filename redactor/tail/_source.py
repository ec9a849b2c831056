"""One followed input file: its identity, read position and redaction state.

A file is known by its device and inode together with a fingerprint (hash) of its first
bytes, so a reused inode or a truncated-and-rewritten file is seen as new content.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from stat import S_ISREG
from typing import TYPE_CHECKING

from .._stream import BLOCK, OVERLAP, WIDE_BOMS, wide_encoding
from ._fdpool import FdPool
from ._pipeline import LinePipeline
from ._state import FileMark

if TYPE_CHECKING:
    from .._engine import Redactor

log = logging.getLogger("redactor.tail")
Emit = Callable[[bytes, float], None]


@dataclass(frozen=True)
class FileKey:
    """Device and inode: where a file lives, not yet which content it holds."""

    dev: int
    ino: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileKey:
        """The key of a stat result."""
        return cls(stat.st_dev, stat.st_ino)


def fingerprint(data: bytes) -> str:
    """A hash of a file's first bytes; no content of the file is stored."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


# The last word of an unfinished line, with the digit groups before it: grouped by any of the
# separators a card number may have (tabs, "+", "_", %-escapes too), which split no word.
_LAST_WORD = re.compile(rb"(?:\d(?:[\d \t+_-]|%2[0BbDd]|%09)*)?\S*\Z")


def held_suffix(raw: bytes) -> int:
    """How many trailing bytes of an unfinished line to keep back (a possible secret's start)."""
    tail = raw[-(OVERLAP - 1) :]
    match = _LAST_WORD.search(tail)
    return len(tail) - match.start() if match else 0


def open_file(path: str) -> tuple[int, os.stat_result] | None:
    """Open `path` for reading; None when it is gone or not a regular file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    stat = os.fstat(fd)
    if not S_ISREG(stat.st_mode):
        os.close(fd)
        return None
    return fd, stat


class TrackedFile:
    """An input being read, from discovery until it is rotated away and read to its end."""

    def __init__(
        self,
        key: FileKey,
        path: str,
        origin: str,
        seq: int,
        redactor: Redactor,
        pool: FdPool,
        fingerprint_bytes: int,
    ) -> None:
        self.key = key
        self.path = path
        self.origin = origin
        self.seq = seq
        self._live = True
        self.let_go_at = 0.0
        self.read_pos = 0
        self.head_len = 0
        self.head = fingerprint(b"")
        self.last_growth = 0.0
        self.last_read = time.time()
        self.seen_size = 0
        self.truncations = 0
        self.encoding: str | None = None  # "" for bytes we redact, else the codec we cannot
        self._redactor = redactor
        self._pool = pool
        self._fp_bytes = fingerprint_bytes
        self._pipeline = LinePipeline(redactor)
        self._fd: int | None = None

    @property
    def live(self) -> bool:
        """Whether a followed name leads to this file (False once rotated, renamed or deleted)."""
        return self._live

    @live.setter
    def live(self, value: bool) -> None:
        if self._live and not value:
            self.let_go_at = time.time()
        self._live = value

    def settled(self, now: float, wait: float) -> bool:
        """Whether a rotated-away file is read to its end and quiet for `wait` seconds.

        Quiet counts from its last growth or from the rotation, whichever is later: a rename
        does not change a file's mtime, and a writer may still append through an old
        descriptor just after it.
        """
        quiet_since = max(self.last_growth, self.let_go_at)
        return not self.live and now - quiet_since >= wait and self.at_end()

    @property
    def pinned(self) -> bool:
        """A rotated or deleted file keeps its descriptor: its path no longer leads to it."""
        return not self.live

    @property
    def offset(self) -> int:
        """Input bytes whose redacted form is written out (the checkpoint position)."""
        return self.read_pos - self._pipeline.pending

    @property
    def pending(self) -> int:
        """Bytes read but held back (an unfinished last line)."""
        return self._pipeline.pending

    @property
    def is_open(self) -> bool:
        """Whether a descriptor is held."""
        return self._fd is not None

    def adopt(self, fd: int, stat: os.stat_result) -> None:
        """Take over an open descriptor for this file."""
        self._fd = fd
        self.seen_size = stat.st_size
        self.last_growth = stat.st_mtime
        self._pool.opened(self)

    def resume(self, mark: FileMark) -> bool:
        """Continue from a checkpoint if the open file still has the same first bytes."""
        self.head_len, self.head = mark.head_len, mark.head
        if not self._head_matches():
            return False
        self.read_pos = mark.offset
        self._pipeline = LinePipeline(self._redactor, self._line_tail(mark.offset))
        return True

    def mark(self) -> FileMark:
        """The checkpoint entry for this file."""
        key = self.key
        return FileMark(
            key.dev, key.ino, self.head_len, self.head, self.path, self.origin, self.offset
        )

    def reopen(self) -> bool:
        """Open the file again by its path; False if the path now holds other content."""
        opened = open_file(self.path)
        if opened is None:
            return False
        fd, stat = opened
        self._fd = fd
        if FileKey.of(stat) != self.key or not self._head_matches():
            os.close(fd)
            self._fd = None
            return False
        self._pool.opened(self)
        return True

    def release(self) -> None:
        """Close the descriptor; the read position and held bytes stay."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._pool.closed(self)

    def size(self) -> int:
        """The current size, through the descriptor when one is held."""
        try:
            stat = os.fstat(self._fd) if self._fd is not None else os.stat(self.path)
        except OSError:
            return self.read_pos
        return stat.st_size

    def pump(self, emit: Emit, limit: int, stop: Callable[[], bool]) -> int:
        """Read up to `limit` new bytes, emitting their redacted form; return bytes read."""
        if self._fd is None and (self.size() == self.read_pos or not self.reopen()):
            return 0  # an idle closed file is not reopened just to find nothing new
        assert self._fd is not None
        self._pool.used(self)
        self._check_reset(emit)
        if not self._check_encoding():
            self.last_read = time.time()  # looked at, with nothing to read yet
            return 0
        convert = self._withhold if self.encoding else self._pipeline.feed
        done = 0
        while done < limit and not stop():
            data = os.pread(self._fd, BLOCK, self.read_pos)
            if not data:
                break
            now = time.time()
            self.read_pos += len(data)
            done += len(data)
            emit(convert(data), now)
        if self.head_len < self._fp_bytes and self.read_pos > self.head_len:
            self._take_head()
        self.last_read = time.time()
        return done

    def _check_encoding(self) -> bool:
        """Find out whether the file is UTF-16 or UTF-32; False while it cannot be told yet.

        The engine scans bytes as UTF-8, so such a file (known by its byte-order mark) is
        withheld whole; its offsets stay those of the input, so restarts resume exactly.
        """
        assert self._fd is not None
        if self.encoding is not None:
            return True
        head = os.pread(self._fd, 4, 0)
        found = wide_encoding(head)
        if found is None and self.live and any(bom.startswith(head) for bom, _ in WIDE_BOMS):
            return False  # empty, or a mark's first bytes: wait for the rest before reading
        self.encoding = found[1] if found else ""
        if found:
            self._pipeline = LinePipeline(self._redactor)
            log.warning(
                "event=unsupported_encoding file=%s encoding=%s action=withheld",
                self.path,
                self.encoding,
            )
        return True

    def _withhold(self, data: bytes) -> bytes:
        self._redactor.stats.withhold(len(data))
        return self._redactor.withheld(len(data)) + b"\n"

    def flush_partial(self, emit: Emit, timeout: float, now: float) -> None:
        """Write out a held unfinished last line once the file has been quiet for `timeout`.

        Its last word (with digit groups before it) stays held until the line ends: it may be
        the first half of a card number or key, and a half must not reach the output.
        """
        pending = self._pipeline.pending
        if not pending or now - self.last_growth < timeout or self._fd is None:
            return
        raw = os.pread(self._fd, pending, self.read_pos - pending)
        if len(raw) != pending:
            return  # truncated meanwhile: the next read sorts it out
        cut = len(raw) - held_suffix(raw)
        if not cut:
            return
        old = self._pipeline
        self._pipeline = LinePipeline(self._redactor, old.context)
        out = self._pipeline.feed(raw[:cut])
        out += self._pipeline.flush((old.context + raw[:cut])[-OVERLAP:])
        out += self._pipeline.feed(raw[cut:])
        emit(out, now)

    def finish(self, emit: Emit) -> None:
        """The file is let go: write out what is held and close it."""
        emit(self._pipeline.flush(), time.time())
        self.release()

    def at_end(self) -> bool:
        """Whether everything in the file has been read."""
        return self.size() <= self.read_pos

    def _check_reset(self, emit: Emit) -> None:
        assert self._fd is not None
        stat = os.fstat(self._fd)
        size = stat.st_size
        reason = ""
        if size < self.read_pos:
            reason = "truncated"
        elif self.head_len and not self._head_matches():
            reason = "rewritten"
        if reason:
            self._restart_at_zero(reason, emit)
        self.seen_size = size
        self.last_growth = stat.st_mtime

    def _restart_at_zero(self, reason: str, emit: Emit) -> None:
        emit(self._pipeline.flush(), time.time())
        unread = max(0, self.seen_size - self.read_pos)
        window_ms = (time.time() - self.last_read) * 1000
        self.truncations += 1
        log.warning(
            "event=%s file=%s offset=%d unread_bytes_lost=%d loss_window_ms=%.0f",
            reason,
            self.path,
            self.read_pos,
            unread,
            window_ms,
        )
        self.read_pos = 0
        self.head_len, self.head = 0, fingerprint(b"")
        self._pipeline = LinePipeline(self._redactor)
        self.encoding = None

    def _head_matches(self) -> bool:
        assert self._fd is not None
        if not self.head_len:
            return True
        data = os.pread(self._fd, self.head_len, 0)
        return len(data) == self.head_len and fingerprint(data) == self.head

    def _take_head(self) -> None:
        assert self._fd is not None
        data = os.pread(self._fd, min(self._fp_bytes, self.read_pos), 0)
        self.head_len, self.head = len(data), fingerprint(data)

    def _line_tail(self, end: int) -> bytes:
        assert self._fd is not None
        start = max(0, end - OVERLAP)
        data = os.pread(self._fd, end - start, start)
        return data[data.rfind(b"\n") + 1 :]
