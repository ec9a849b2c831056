"""Text as a terminal shows it: ANSI colour codes taken out, with a map back to the bytes.

A log file written with colours may hold a card number with a colour code in its middle: no
pattern sees it there, a reader does. The engine scans the plain text as well and maps what it finds
back, so the whole span, codes included, is replaced.
"""

from __future__ import annotations

import bisect
import re

# CSI sequences (colours, cursor moves) and OSC sequences (titles, hyperlinks).
_CODE = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\))")


class PlainText:
    """`data` without its colour codes, and where each plain byte came from."""

    def __init__(self, data: bytes) -> None:
        pieces: list[bytes] = []
        self._plain_starts: list[int] = []
        self._original_starts: list[int] = []
        position = length = 0
        for code in _CODE.finditer(data):
            self._add(pieces, data, position, code.start(), length)
            length += code.start() - position
            position = code.end()
        self._add(pieces, data, position, len(data), length)
        self.text = b"".join(pieces)

    def _add(self, pieces: list[bytes], data: bytes, start: int, end: int, length: int) -> None:
        if end > start:
            pieces.append(data[start:end])
            self._plain_starts.append(length)
            self._original_starts.append(start)

    def original(self, plain_start: int, plain_end: int) -> tuple[int, int]:
        """The span of `data` that shows as `text[plain_start:plain_end]`, codes included."""
        return self._at(plain_start), self._at(plain_end - 1) + 1

    def _at(self, plain: int) -> int:
        piece = bisect.bisect_right(self._plain_starts, plain) - 1
        return self._original_starts[piece] + plain - self._plain_starts[piece]


def has_colour_codes(data: bytes) -> bool:
    """Whether `data` may hold a colour code (a cheap look, before any work)."""
    return b"\x1b" in data
