"""Redaction of one whole formatted log message: plain text, ANSI-coloured, or JSON.

A message is checked the way a reader would see it: colour codes are looked through, so a
card number cut by a code is still found, and a JSON document is checked value by value and
comes out as valid JSON.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._engine import Redactor

# CSI sequences (colours, cursor moves), OSC sequences (titles, links) and two-byte escapes.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# How an escape character looks inside a JSON string.
_JSON_ESCAPE = "\\u001b"
# A backslash escaped in a JSON string: a value holding escapes of its own (a JSON document
# logged as a string, "4242\\t4242"), which only show as what they are once decoded.
_ESCAPED_BACKSLASH = "\\\\"
_JSON_START = ("{", "[")


def redact_message(redactor: Redactor, text: str) -> str:
    """Return `text` with every secret replaced; JSON stays JSON, colours stay where safe."""
    native = redactor.native
    if native is not None:  # the C++ code answers for plain texts, the common case
        redacted = native.redact_message(text)
        if redacted is not None:
            return redacted
    if "\x1b" in text:
        return _redact_coloured(redactor, text)
    redacted = redactor.redact(text)
    looks_json = text.startswith(_JSON_START)
    escaped = _JSON_ESCAPE in text or _ESCAPED_BACKSLASH in text
    if looks_json and (redacted is not text or escaped):
        return _redact_json(redactor, text, redacted)
    return redacted


def redact_value(redactor: Redactor, value: Any) -> Any:
    """Return a copy of a JSON-like value with secrets replaced in every key and leaf.

    Strings are redacted as messages; numbers that turn out to be card numbers become
    strings; containers are copied only where something changed.
    """
    if isinstance(value, str):
        redacted = redact_message(redactor, value)
        return value if redacted == value else redacted
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return _redact_number(redactor, value)
    if isinstance(value, dict):
        return _redact_dict(redactor, value)
    if isinstance(value, (list, tuple)):
        items = [redact_value(redactor, item) for item in value]
        changed = any(new is not old for new, old in zip(items, value, strict=True))
        return (items if isinstance(value, list) else tuple(items)) if changed else value
    if isinstance(value, (set, frozenset)):
        members = {redact_value(redactor, item) for item in value}
        return value if members == value else type(value)(members)
    return _redact_object(redactor, value)


def snapshot(value: Any) -> Any:
    """A copy of the dicts, lists, tuples and sets in `value`, all the way down.

    What an app logs as a field may change after the call, before a handler behind a queue
    formats it: the redacted copy is what the handler then sees.
    """
    if isinstance(value, dict):
        return {key: snapshot(item) for key, item in value.items()}
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    if isinstance(value, tuple) and type(value) is tuple:  # a named tuple keeps its class
        return tuple(snapshot(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(snapshot(item) for item in value)
    return value


def redact_field(redactor: Redactor, name: object, value: Any) -> Any:
    """A value stored under `name`: a sensitive name (cvc, securityCode) takes it whole.

    A card security code has no shape of its own, so `{"cvc": "321"}` or `extra={"cvc": 456}`
    is only recognisable by its key.
    """
    entity = redactor.entity_for_name(name) if isinstance(name, str) else None
    if entity is not None and value is not None and not isinstance(value, bool):
        return redactor.placeholder(entity)  # also a list, bytes or object holding the code
    return redact_value(redactor, value)


def hide_named_values(redactor: Redactor, fields: Mapping[Any, Any]) -> dict[Any, Any] | None:
    """A copy of `fields` with each value under a sensitive name replaced; None if none is.

    For format arguments given by name, such as `"%(cvc)s" % {"cvc": "314"}`: the code has
    no shape of its own, so it is hidden before the message is rendered.
    """
    hidden = _sensitive_values(redactor, fields)
    if not hidden:
        return None
    return {key: hidden.get(key, value) for key, value in fields.items()}


def hide_field_values(redactor: Redactor, fields: Mapping[Any, Any], text: str) -> str:
    """`text` with the values of `fields` under sensitive names replaced wherever it shows them.

    loguru puts the arguments given by name both in `extra` and in the message, and a format
    may print an extra field by itself (`{extra[cvc]}`); in `extra` they are redacted by key,
    and this finds them in the formatted text. Only the exact value standing alone counts, not
    as part of a longer number, a word or an ID; a JSON document stays valid JSON.
    """
    hidden = _sensitive_values(redactor, fields)
    if not hidden:
        return text
    by_value = {str(fields[key]): placeholder for key, placeholder in hidden.items()}
    pattern = _value_pattern(by_value)
    if pattern.search(text) is None:
        return text
    if text.startswith(_JSON_START):
        return _hide_in_json(pattern, by_value, text)
    return pattern.sub(lambda match: by_value[match[0]], text)


def _sensitive_values(redactor: Redactor, fields: Mapping[Any, Any]) -> dict[Any, str]:
    hidden: dict[Any, str] = {}
    for key, value in fields.items():
        if value is None or isinstance(value, bool) or str(value) == "":
            continue
        entity = redactor.entity_for_name(key) if isinstance(key, str) else None
        if entity is not None:
            hidden[key] = redactor.placeholder(entity)
    return hidden


def _value_pattern(by_value: dict[str, str]) -> re.Pattern[str]:
    choices = "|".join(re.escape(value) for value in sorted(by_value, key=len, reverse=True))
    # Standing alone: not inside a word, an ID (ch_3Nq123xYz, item-123), a path, a decimal
    # or an amount ($123.00), where the same digits mean something else.
    return re.compile(rf"(?<![\w.$/-])(?:{choices})(?![\w/-]|\.\w)")


def _hide_in_json(pattern: re.Pattern[str], by_value: dict[str, str], text: str) -> str:
    """Only string values are looked at: a line number equal to the code stays a number."""
    body = text.rstrip("\r\n")
    try:
        document = json.loads(body)
    except ValueError:
        return pattern.sub(lambda match: by_value[match[0]], text)

    def hide(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda match: by_value[match[0]], value)
        if isinstance(value, dict):
            return {key: hide(item) for key, item in value.items()}
        if isinstance(value, list):
            return [hide(item) for item in value]
        return value

    return json.dumps(hide(document), ensure_ascii=False, default=str) + text[len(body) :]


def _redact_dict(redactor: Redactor, value: dict[Any, Any]) -> dict[Any, Any]:
    out = {
        redact_value(redactor, key): redact_field(redactor, key, item)
        for key, item in value.items()
    }
    same = len(out) == len(value) and all(
        new_key is old_key and out[new_key] is old_item
        for new_key, (old_key, old_item) in zip(out, value.items(), strict=True)
    )
    return value if same else out


def _redact_number(redactor: Redactor, value: int | float) -> int | float | str:
    # A card number that went through a float prints as "4242424242424242.0".
    whole = isinstance(value, float) and value.is_integer() and abs(value) < 1e20
    text = str(int(value)) if whole else str(value)
    redacted = redactor.redact(text)
    return value if redacted == text else redacted


def _redact_object(redactor: Redactor, value: object) -> object:
    """Any other object is kept if its text is clean; else its redacted text stands in.

    Both `str()` and `repr()` are looked at: a formatter may print either (`%(field)r`, a JSON
    formatter's `default=repr`).
    """
    text, shown = str(value), repr(value)
    redacted, redacted_shown = redact_message(redactor, text), redact_message(redactor, shown)
    if redacted == text and redacted_shown == shown:
        return value
    return RedactedObject(redacted, redacted_shown)


class RedactedObject(str):
    """The redacted `str()` of an object that showed a secret, with its redacted `repr()`.

    `%(field)r` then prints what the object's own `repr` would have, redacted, not a quoted
    string. Pickled or copied, it is a plain str.
    """

    _shown: str

    def __new__(cls, text: str, shown: str) -> RedactedObject:
        redacted = super().__new__(cls, text)
        redacted._shown = shown
        return redacted

    def __repr__(self) -> str:
        return self._shown

    def __reduce__(self) -> tuple[type[str], tuple[str]]:
        return str, (str(self),)


def _redact_coloured(redactor: Redactor, text: str) -> str:
    """Check each coloured line without its codes; a line holding a secret loses its colours.

    A last look at the whole message as displayed catches what needs more than one line,
    such as a security code under its variable's name in a diagnose traceback; if that finds
    anything, the message goes out without any colour.
    """
    lines = text.split("\n")
    checked = "\n".join(_redact_coloured_line(redactor, line) for line in lines)
    plain = _ANSI.sub("", checked)
    again = redactor.redact(plain)
    return checked if again == plain else again


def _redact_coloured_line(redactor: Redactor, line: str) -> str:
    if "\x1b" not in line:
        return redactor.redact(line)
    plain = _ANSI.sub("", line)
    # Secrets wholly inside one coloured piece are found with the pieces kept apart; the
    # second pass sees the text as displayed, so a number cut in two by a code is caught too.
    pieces = "\n".join(_ANSI.split(line))
    first = redactor.redact(pieces).replace("\n", "")
    second = redactor.redact(first)
    return line if second == plain else second


def _redact_json(redactor: Redactor, text: str, redacted: str) -> str:
    """The document redacted value by value; the text-level redaction where it is the same.

    Values are redacted as decoded from the original text, not from the text-level result:
    that may have replaced what told where another secret is (a traceback's `cvc` variable,
    whose value shows elsewhere in the traceback too).
    """
    body = text.rstrip("\r\n")
    ending = text[len(body) :]
    try:
        document = json.loads(body)
    except ValueError:
        return redacted
    clean = redact_value(redactor, document)
    if _JSON_ESCAPE not in text and _parsed(redacted.rstrip("\r\n")) == clean:
        return redacted  # keeps the line's own spacing and escapes
    return json.dumps(clean, ensure_ascii=False, default=str) + ending


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


# What an invalid document compares unequal to.
_NOT_JSON = object()
