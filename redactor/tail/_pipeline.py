"""Redaction of one input's byte stream, including a line whose start is already written.

A line is written before it ends only after the partial-line timeout (or when a restart
resumes mid-line). The rest of such a line is checked together with the raw tail of its
start, so a secret cut in two never reaches the output as two harmless-looking halves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._stream import OVERLAP, StreamRedactor

if TYPE_CHECKING:
    from .._engine import Redactor


class LinePipeline:
    """A StreamRedactor plus the context of a line whose start is already out."""

    def __init__(self, redactor: Redactor, context: bytes = b"") -> None:
        self._redactor = redactor
        self._stream = StreamRedactor(redactor)
        self._context = context
        self._held = bytearray()

    @property
    def context(self) -> bytes:
        """The raw tail of a line whose start is already written (empty at a line start)."""
        return self._context

    @property
    def pending(self) -> int:
        """Bytes fed but not yet written out."""
        return self._stream.pending + len(self._held)

    def feed(self, data: bytes) -> bytes:
        """Take raw input; return the redacted output that is final."""
        if not self._context:
            return self._stream.feed(data)
        self._held += data
        if b"\n" not in self._held and len(self._held) < OVERLAP:
            return b""
        return self._settle()

    def flush(self, context: bytes = b"") -> bytes:
        """Write out everything held; `context` is the raw tail of what that leaves unfinished."""
        out = self._settle() if self._context else b""
        out += self._stream.flush()
        self._context = context
        return out

    def _settle(self) -> bytes:
        data = bytes(self._held)
        self._held.clear()
        context, self._context = self._context, b""
        line_end = data.find(b"\n") + 1
        if line_end:
            rest_of_line = self._redactor.redact_continuation(context, data[:line_end])
            return rest_of_line + self._stream.feed(data[line_end:])
        cut = len(context)
        spill, entity = cut, ""
        for finding in self._redactor.find(context + data):
            if finding.start < cut < finding.end and finding.end > spill:
                spill, entity = finding.end, finding.entity
        head = self._placeholder(entity) if entity else b""
        return head + self._stream.feed(data[spill - cut :])

    def _placeholder(self, entity: str) -> bytes:
        return self._redactor.config.redact.placeholder.format(entity=entity).encode()
