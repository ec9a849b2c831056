"""Streaming redaction with bounded memory, for files, pipes and the tailer.

Complete lines are redacted in large blocks (one scan per block). A line longer than the block
is cut into chunks that overlap, so a secret straddling a cut is still seen whole; output is
only released up to a point no later match can reach back before.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._engine import Redactor

# Blocks of a quarter MiB stay in the CPU caches; bigger ones scan measurably slower.
BLOCK = 1 << 18
# Longer than any secret a rule can match in practice (a 255-character key, an address of
# 254 characters URL-encoded), so a secret that starts before a cut ends inside the overlap.
OVERLAP = 8 << 10
# The end of the previous block, kept so that a traceback split between blocks is understood.
CONTEXT = 16 << 10


class StreamRedactor:
    """Feed raw bytes in, get redacted bytes out; `pending` bytes are held for context."""

    def __init__(self, redactor: Redactor, block: int = BLOCK, overlap: int = OVERLAP) -> None:
        self._redactor = redactor
        self._block = block
        self._overlap = overlap
        self._buffer = bytearray()
        self._context = b""

    @property
    def pending(self) -> int:
        """Bytes fed but not yet returned (an unfinished line, or a long line's overlap)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> bytes:
        """Take more input; return the redacted output that is now final."""
        cut = data.rfind(b"\n") + 1
        if not cut:
            self._buffer += data
            return self._release_long_lines()
        if self._buffer:  # complete the held line; copies only when there is one
            self._buffer += data[:cut]
            lines = bytes(self._buffer)
            self._buffer.clear()
        else:
            lines = data[:cut] if cut < len(data) else data
        out = self._redactor.redact_bytes(lines, self._context)
        self._context = (self._context + lines[-CONTEXT:])[-CONTEXT:]
        self._buffer += data[cut:]
        return out + self._release_long_lines() if self._buffer else out

    def _release_long_lines(self) -> bytes:
        out = []
        while len(self._buffer) >= self._block + self._overlap:
            out.append(self._release_long_line())
        return b"".join(out)

    def flush(self) -> bytes:
        """Return the redacted rest, complete line or not (end of input)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return self._redactor.redact_bytes(rest) if rest else b""

    def _release_long_line(self) -> bytes:
        window = bytes(self._buffer[: self._block + self._overlap])
        try:
            cut = self._safe_cut(window)
            out = self._redactor.redact_bytes(window[:cut])
        except Exception:  # fail closed on the chunk
            cut = self._block
            self._redactor.stats.withhold(cut)
            out = self._redactor.withheld(cut)
        del self._buffer[:cut]
        return out

    def _safe_cut(self, window: bytes) -> int:
        """A cut at or after the block size that splits no secret found in the window."""
        cut = self._block
        for finding in self._redactor.find(window):
            if finding.start < cut < finding.end:
                cut = finding.end
        return cut


# Byte-order marks of the encodings whose bytes the engine cannot scan as they are. UTF-32
# first: its little-endian mark starts with UTF-16's.
WIDE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def wide_encoding(head: bytes) -> tuple[bytes, str] | None:
    """The UTF-16 or UTF-32 byte-order mark `head` starts with, and its codec; else None."""
    for bom, codec in WIDE_BOMS:
        if head.startswith(bom):
            return bom, codec
    return None


class TranscodingRedactor:
    """A StreamRedactor for UTF-16 or UTF-32 text (after its byte-order mark).

    The text is decoded, redacted as UTF-8 and encoded back, so what is not redacted comes out
    byte for byte; lone surrogates pass through. Bytes that are no character of the encoding
    (a cut-off last code unit, a UTF-32 unit past U+10FFFF) are withheld with the marker.
    """

    def __init__(self, redactor: Redactor, codec: str) -> None:
        self._redactor = redactor
        self._codec = codec
        self._unit = 4 if codec.startswith("utf-32") else 2
        self._high_byte = 1 if codec.endswith("le") else 0  # of a UTF-16 code unit
        self._stream = StreamRedactor(redactor)
        self._raw = b""
        self._redacted = codecs.getincrementaldecoder("utf-8")("surrogatepass")

    def feed(self, data: bytes) -> bytes:
        """Take more input; return the redacted output that is now final, encoded."""
        raw = self._raw + data
        usable = len(raw) - len(raw) % self._unit
        if self._unit == 2 and usable and 0xD8 <= raw[usable - 2 + self._high_byte] <= 0xDB:
            usable -= 2  # a high surrogate whose low half may come with the next block
        self._raw = raw[usable:]
        return self._encode(self._stream.feed(self._decode(raw[:usable])))

    def flush(self) -> bytes:
        """Return the redacted, encoded rest (end of input)."""
        rest, self._raw = self._raw, b""
        out = self._stream.feed(self._decode(rest)) + self._stream.flush()
        return self._encode(out, final=True)

    def _decode(self, raw: bytes) -> bytes:
        parts = []
        while raw:
            try:
                parts.append(raw.decode(self._codec, "surrogatepass"))
                break
            except UnicodeDecodeError as error:
                parts.append(raw[: error.start].decode(self._codec, "surrogatepass"))
                self._redactor.stats.withhold(error.end - error.start)
                parts.append(self._redactor.withheld(error.end - error.start).decode())
                raw = raw[error.end :]
        return "".join(parts).encode("utf-8", "surrogatepass")

    def _encode(self, redacted: bytes, final: bool = False) -> bytes:
        text = self._redacted.decode(redacted, final)
        return text.encode(self._codec, "surrogatepass")
