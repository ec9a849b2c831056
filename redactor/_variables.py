"""Values that loguru's `diagnose` prints under a source line, judged by the variable's name.

A traceback with `diagnose=True` shows each variable's value on a marker line below the
source line, alone (`│     └ '731'`, or `|     -> '731'` on a stream that is not UTF-8): no
key stands beside it, so a rule that needs one, like the card security code's, cannot see
it. The column of the corner is the column of the name in the source line above. Loguru's
JSON output holds the same traceback inside one string, its newlines escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from ._rules import SensitiveVariable

_CORNERS = re.compile(rb"\xe2\x94\x94 |-> |\\u2514")
_CORNER_IN_LINE = re.compile(rb"(?:\xe2\x94\x94|->|\\u2514) ")
_MARKER_LINE = re.compile(r"^[ \t│|]*(?:└|->) (.*)$")
_MARKERS_ONLY = re.compile(r"^[ \t│|]*(?:(?:└|->) .*)?$")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_JSON_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
}
# How far back the source line of a block of marker lines is looked for.
_MAX_MARKER_LINES = 64

Span = tuple[int, int, str]


class VariableValues:
    """Finds the values of variables with sensitive names in diagnose tracebacks."""

    def __init__(self, variables: list[SensitiveVariable]) -> None:
        self._entity_by_name = {
            _normal(name): variable.entity for variable in variables for name in variable.names
        }

    def entity_for_name(self, name: str) -> str | None:
        """The entity of a sensitive variable or field name, compared loosely; else None."""
        return self._entity_by_name.get(_normal(name))

    @property
    def marker_pattern(self) -> str:
        """An RE2 pattern matching the corners of diagnose marker lines ("" if unused)."""
        return _CORNERS.pattern.decode() if self._entity_by_name else ""

    def find(
        self, data: bytes, context: bytes = b"", corners: list[int] | None = None
    ) -> list[Span]:
        """Spans (start, end, entity) in `data`; `context` is the text just before it.

        `corners` are the offsets in `data` of the corners, when a scan has found them.
        """
        if not self._entity_by_name:
            return []
        buf = context[-(16 << 10) :] + data if context else data
        base = len(buf) - len(data)
        if corners is None:
            corners = [corner.start() - base for corner in _CORNERS.finditer(buf, base)]
        found: list[Span] = []
        lines = list(_marked_lines(buf, [base + c for c in corners]))
        for line_start, line_end in lines:
            found += self._judge_physical_line(buf, line_start, line_end)
        found += _same_values_elsewhere(buf, lines, found)
        return [(start - base, end - base, entity) for start, end, entity in found if end > base]

    def _judge_physical_line(self, buf: bytes, start: int, end: int) -> Iterator[Span]:
        raw = buf[start:end]
        if b"\\n" in raw:  # a JSON string holding a whole traceback
            lines = list(_json_lines(raw, start))
            for index, (text, offsets) in enumerate(lines):
                sources = (lines[back][0] for back in range(index - 1, -1, -1))
                span = self._judge(text, offsets.__getitem__, sources)
                if span is not None:
                    yield span
            return
        text = raw.decode("utf-8", "surrogateescape")

        def offset(index: int) -> int:
            return start + len(text[:index].encode("utf-8", "surrogateescape"))

        span = self._judge(text, offset, _lines_above(buf, start))
        if span is not None:
            yield span

    def _judge(self, text: str, offset: Callable[[int], int], above: Iterator[str]) -> Span | None:
        marker = _MARKER_LINE.match(text)
        if marker is None:
            return None
        entity = self._entity_at(_source_line(above), _corner_column(text, marker.start(1)))
        if entity is None:
            return None
        start, end = marker.start(1), len(text)
        value = marker.group(1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            start, end = start + 1, end - 1  # keep the quotes of a string's repr
        if start >= end:
            return None  # nothing shown: an empty string's repr, or a marker cut at its end
        return (offset(start), offset(end), entity)

    def _entity_at(self, source: str | None, column: int) -> str | None:
        if source is None or column >= len(source):
            return None
        name = _NAME.match(source, column)
        if name is None or (column and (source[column - 1].isalnum() or source[column - 1] == "_")):
            return None
        return self.entity_for_name(name.group().rsplit(".", 1)[-1])


def _marked_lines(buf: bytes, corners: list[int]) -> Iterator[tuple[int, int]]:
    """(start, end) of each line holding one of the `corners`, once per line."""
    last_end = -1
    for corner in corners:
        if corner < last_end:
            continue
        start = buf.rfind(b"\n", 0, corner) + 1
        end = buf.find(b"\n", corner)
        last_end = len(buf) if end < 0 else end
        yield start, _strip_cr(buf, start, last_end)


def _strip_cr(buf: bytes, start: int, end: int) -> int:
    return end - 1 if end > start and buf[end - 1] == 0x0D else end


def _lines_above(buf: bytes, start: int) -> Iterator[str]:
    """The lines before the one starting at `start`, nearest first."""
    end = start - 1
    for _ in range(_MAX_MARKER_LINES):
        if end < 0:
            return
        begin = buf.rfind(b"\n", 0, end) + 1
        yield buf[begin : _strip_cr(buf, begin, end)].decode("utf-8", "surrogateescape")
        end = begin - 1


def _same_values_elsewhere(
    buf: bytes, lines: list[tuple[int, int]], found: list[Span]
) -> list[Span]:
    """A value known as a security code is one wherever the traceback shows it again.

    A code passed on (`tokenize(pan, code)`) or packed into a tuple shows in the next frame
    under a harmless name; each marker line's value is searched for the values found so far.
    """
    known = {buf[start:end]: entity for start, end, entity in found if end - start <= 8}
    if not known:
        return []
    taken = {(start, end) for start, end, _ in found}
    more: list[Span] = []
    for line_start, line_end in lines:
        corner = _CORNER_IN_LINE.search(buf, line_start, line_end)
        if corner is None or buf.find(b"\\n", line_start, line_end) >= 0:
            continue  # not a plain marker line (a JSON record holds a whole traceback)
        for value, entity in known.items():
            for match in re.finditer(
                rb"(?<![0-9A-Za-z])" + re.escape(value) + rb"(?![0-9A-Za-z])",
                buf[corner.end() : line_end],
            ):
                span = (corner.end() + match.start(), corner.end() + match.end())
                if span not in taken:
                    taken.add(span)
                    more.append((*span, entity))
    return more


def _normal(name: str) -> str:
    """Names compare without case and underscores: card_cvc, cardCvc and CARDCVC are one."""
    return name.replace("_", "").lower()


def _corner_column(text: str, value_start: int) -> int:
    """The column of the corner: `└ ` is one character before the value, `-> ` two."""
    return value_start - 2 if text[value_start - 2] == "└" else value_start - 3


def _source_line(above: Iterator[str]) -> str | None:
    for count, text in enumerate(above):
        if count >= _MAX_MARKER_LINES:
            return None
        if not _MARKERS_ONLY.match(text):
            return text
    return None


def _json_lines(raw: bytes, position: int) -> Iterator[tuple[str, list[int]]]:
    text, offsets = _unescape(raw, position)
    start = 0
    for piece in text.split("\n"):
        end = start + len(piece)
        yield piece, offsets[start : end + 1]
        start = end + 1


def _unescape(raw: bytes, position: int) -> tuple[str, list[int]]:
    """Undo JSON string escapes, keeping each character's byte offset."""
    chars: list[str] = []
    offsets: list[int] = []
    index = 0
    while index < len(raw):
        offsets.append(position + index)
        if raw[index] == 0x5C and index + 1 < len(raw):
            kind = chr(raw[index + 1])
            if kind == "u" and index + 6 <= len(raw):
                chars.append(chr(int(raw[index + 2 : index + 6], 16)))
                index += 6
                continue
            chars.append(_JSON_ESCAPES.get(kind, kind))
            index += 2
            continue
        char, width = _utf8_char(raw, index)
        chars.append(char)
        index += width
    offsets.append(position + len(raw))
    return "".join(chars), offsets


def _utf8_char(raw: bytes, index: int) -> tuple[str, int]:
    lead = raw[index]
    if lead < 0x80:
        return chr(lead), 1
    width = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    try:
        return raw[index : index + width].decode("utf-8"), width
    except UnicodeDecodeError:
        return chr(lead), 1
