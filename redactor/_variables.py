"""Values that loguru's `diagnose` prints under a source line, judged by the variable's name.

A traceback with `diagnose=True` shows each variable's value on a marker line below the
source line, alone (`│     └ '731'`, or `|     -> '731'` on a stream that is not UTF-8): no
key stands beside it, so a rule that needs one, like the card security code's, cannot see
it. The column of the corner is the column of the name in the source line above. Loguru's
JSON output holds the same traceback inside one string, its newlines escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._rules import SensitiveVariable

_HINTS = ("└".encode(), b"-> ", b"\\u2514")
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


class _Line:
    """A line of text and, for each of its characters, its byte offset in the data."""

    def __init__(self, text: str, offsets: list[int] | None) -> None:
        self.text = text
        self.offsets = offsets  # None for lines of the context, which are not redacted


class VariableValues:
    """Finds the values of variables with sensitive names in diagnose tracebacks."""

    def __init__(self, variables: list[SensitiveVariable]) -> None:
        self._entity_by_name = {
            name.lower(): variable.entity for variable in variables for name in variable.names
        }

    def __bool__(self) -> bool:
        return bool(self._entity_by_name)

    def find(self, data: bytes, context: bytes = b"") -> list[Span]:
        """Spans (start, end, entity) in `data`; `context` is the text just before it."""
        if not any(hint in data for hint in _HINTS):
            return []
        lines = list(_lines(context, data))
        found = []
        for index, line in enumerate(lines):
            span = self._judge(lines, index, line) if line.offsets is not None else None
            if span is not None:
                found.append(span)
        return found

    def _judge(self, lines: list[_Line], index: int, line: _Line) -> Span | None:
        marker = _MARKER_LINE.match(line.text)
        if marker is None:
            return None
        source = _source_line(lines, index)
        entity = self._entity_at(source, _corner_column(line.text, marker.start(1)))
        if entity is None or line.offsets is None:
            return None
        start, end = marker.start(1), len(line.text)
        value = marker.group(1)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            start, end = start + 1, end - 1  # keep the quotes of a string's repr
        return (line.offsets[start], line.offsets[end], entity)

    def _entity_at(self, source: str | None, column: int) -> str | None:
        if source is None or column >= len(source):
            return None
        name = _NAME.match(source, column)
        if name is None or (column and (source[column - 1].isalnum() or source[column - 1] == "_")):
            return None
        return self._entity_by_name.get(name.group().rsplit(".", 1)[-1].lower())


def _corner_column(text: str, value_start: int) -> int:
    """The column of the corner: `└ ` is one character before the value, `-> ` two."""
    return value_start - 2 if text[value_start - 2] == "└" else value_start - 3


def _source_line(lines: list[_Line], index: int) -> str | None:
    for back in range(index - 1, max(-1, index - 1 - _MAX_MARKER_LINES), -1):
        if not _MARKERS_ONLY.match(lines[back].text):
            return lines[back].text
    return None


def _lines(context: bytes, data: bytes) -> Iterator[_Line]:
    for raw in context.splitlines()[-_MAX_MARKER_LINES:]:
        yield from (_Line(line.text, None) for line in _split(raw, 0))
    position = 0
    for raw in data.splitlines(keepends=True):
        body = raw.rstrip(b"\r\n")
        yield from _split(body, position)
        position += len(raw)


def _split(raw: bytes, position: int) -> Iterator[_Line]:
    """One physical line, or the lines of a JSON string in it when it holds a traceback."""
    if b"\\n" in raw and any(hint in raw for hint in _HINTS):
        text, offsets = _unescape(raw, position)
    else:
        text, offsets = _decode(raw, position)
    start = 0
    for piece in text.split("\n"):
        end = start + len(piece)
        yield _Line(piece, offsets[start : end + 1])
        start = end + 1


def _decode(raw: bytes, position: int) -> tuple[str, list[int]]:
    text = raw.decode("utf-8", "replace")
    offsets = [position]
    for char in text:
        offsets.append(offsets[-1] + (len(char.encode("utf-8")) if char != "\ufffd" else 1))
    if offsets[-1] != position + len(raw):  # replacement characters of odd widths
        text, offsets = raw.decode("latin-1"), list(range(position, position + len(raw) + 1))
    return text.replace("\n", " "), offsets


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
    width = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    try:
        return raw[index : index + width].decode("utf-8"), width
    except UnicodeDecodeError:
        return chr(lead), 1
