"""Stripe error events from redacted log text: tracebacks, stripe-python's logfmt, JSON bodies.

`TextEventExtractor` is the tailer's line sink. It keeps a little state per source file, so a
traceback with chained causes, or stripe's response, body and error lines about one request,
become one `ErrorEvent`; the aggregator drops repeats of a request ID.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ._classes import AMBIGUOUS, STRIPE_ERROR_CLASSES, V2_TYPES, class_for_response
from ._events import ErrorEvent, RequestEvent
from ._timestamps import line_time, record_time

_TRACEBACK = "Traceback (most recent call last):"
_CHAIN = ("During handling of the above exception", "The above exception was the direct cause")
_EXCEPTION_LINE = re.compile(r"([A-Za-z_][\w.]*)(?::[ \t]?(.*))?$")
_CLASS_NAMES = "|".join(sorted(STRIPE_ERROR_CLASSES, key=len, reverse=True))
_ONE_LINE = re.compile(rf"(?<![\w.])((?:stripe\.(?:_?error\.)?)?)({_CLASS_NAMES}): (.*)")
_REQUEST_ID = re.compile(r"(?<![\w])req_[A-Za-z0-9]{6,}")
_DASHBOARD = re.compile(r"dashboard\.stripe\.com/(test/)?logs/(req_[A-Za-z0-9]+)")
_BODY_FIELD = re.compile(r'\\?"(type|code|decline_code)\\?"\s*:\s*\\?"([\w.-]+)')
_LOGFMT = re.compile(r"(\w+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S*)")
_RESPONSE_CODE = re.compile(r"response_code=(\d{3})")
_JSON_TEXT_KEYS = ("text", "message", "msg", "event")
_JSON_EXTRA_KEYS = ("exception", "exc_info", "stack", "traceback", "error")
_SAMPLE_CHARS = 400
_MAX_BLOCK_LINES = 5000
STALE_SECONDS = 2.0

ErrorSink = Callable[[ErrorEvent], object]
RequestSink = Callable[[RequestEvent], object]
TimeSink = Callable[[float], object]


@dataclass
class _Observation:
    """What the lines about one Stripe request have said so far."""

    time: float
    read_time: float
    error_class: str | None = None
    status: int | None = None
    error_type: str | None = None
    code: str | None = None
    decline_code: str | None = None
    request_id: str | None = None
    livemode: bool | None = None
    sample: str = ""
    failed: bool = False

    def is_error(self) -> bool:
        return self.failed or self.error_class is not None or (self.status or 0) >= 400

    def event(self, source: str) -> ErrorEvent:
        error_class = self.error_class or class_for_response(
            self.status, self.error_type, self.code
        )
        return ErrorEvent(
            error_class,
            self.time,
            self.status,
            self.code,
            self.decline_code,
            self.request_id,
            self.sample[:_SAMPLE_CHARS],
            source,
            self.livemode,
        )


@dataclass
class _Block:
    """A traceback being read, up to the line after its final exception."""

    time: float
    read_time: float
    lines: int = 0
    final: tuple[str, str, str] | None = None
    stripe: tuple[str, str, str] | None = None
    after_chain: bool = False
    stripe_frames: bool = False


@dataclass
class _Source:
    time: float | None = None
    observation: _Observation | None = None
    block: _Block | None = None
    pending: list[ErrorEvent] = field(default_factory=list)


class TextEventExtractor:
    """Turns redacted log lines into `ErrorEvent`s and `RequestEvent`s, per source file.

    Lines must arrive in order per source. Call `flush()` at the end of input, and
    `expire(read_time)` now and then while following files, so that a traceback or a request
    whose last line was the last one written is not held back.
    """

    def __init__(
        self,
        on_error: ErrorSink,
        on_request: RequestSink | None = None,
        on_time: TimeSink | None = None,
    ) -> None:
        self._on_error = on_error
        self._on_request = on_request or (lambda event: None)
        self._on_time = on_time or (lambda moment: None)  # every line timestamp, in order
        self._sources: dict[str, _Source] = {}

    def feed(self, line: bytes, source: str, read_time: float) -> None:
        """Read one complete line (a trailing newline is optional)."""
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        state = self._sources.get(source)
        if state is None:
            state = self._sources[source] = _Source()
        self._line(state, text, source, read_time)

    def flush(self) -> None:
        """End of input: emit whatever each source still holds."""
        for source, state in self._sources.items():
            self._end_block(state, source)
            self._end_observation(state, source)

    def expire(self, read_time: float) -> None:
        """Emit tracebacks and requests whose last line is older than a moment of reading."""
        horizon = read_time - STALE_SECONDS
        for source, state in self._sources.items():
            if state.block is not None and state.block.read_time < horizon:
                self._end_block(state, source)
            if state.observation is not None and state.observation.read_time < horizon:
                self._end_observation(state, source)

    def _line(self, state: _Source, text: str, source: str, read_time: float) -> None:
        if state.block is not None and self._block_line(state, text, source):
            return

        if text[:1].isdigit() or text[:1] == "[":
            stamp = line_time(text)
            if stamp is not None:
                state.time = stamp
                self._on_time(stamp)
        if text.startswith("{"):
            self._json_line(state, text, source, read_time)
        elif text.startswith(_TRACEBACK) or text.endswith(_TRACEBACK):
            when = state.time if state.time is not None else read_time
            state.block = _Block(when, read_time)
        elif "tripe" in text or "rror" in text or "req_" in text:
            self._stripe_line(state, text, source, read_time)

    def _block_line(self, state: _Source, text: str, source: str) -> bool:
        """Take a line into the traceback being read; False when the line ends it."""
        block = state.block
        assert block is not None
        block.lines += 1
        if not text.strip() or block.lines > _MAX_BLOCK_LINES:
            return block.lines <= _MAX_BLOCK_LINES or self._end_block(state, source)
        if text.startswith(_CHAIN):
            block.after_chain = True
            return True
        if text.startswith(_TRACEBACK):
            if block.after_chain or block.final is None:
                block.after_chain = False
                return True
            return self._end_block(state, source)
        if text[0] in " \t>│└":
            block.stripe_frames = block.stripe_frames or ("File " in text and "stripe" in text)
            return True

        match = _EXCEPTION_LINE.match(text)
        if match is None or text[0].isdigit():
            return self._end_block(state, source) if block.final or text[0].isdigit() else True
        name, message = match.group(1), match.group(2) or ""
        block.final = (name, message, text)
        if self._stripe_class(name, message, block.stripe_frames):
            block.stripe = block.final
        return True

    def _end_block(self, state: _Source, source: str) -> bool:
        block, state.block = state.block, None
        if block is None:
            return False
        chosen = block.final
        if chosen is None or not self._stripe_class(chosen[0], chosen[1], block.stripe_frames):
            chosen = block.stripe
        if chosen is not None:
            name, message, text = chosen
            self._explicit(state, name.rsplit(".", 1)[-1], message, text, source, block)
        return False

    def _explicit(
        self,
        state: _Source,
        error_class: str,
        message: str,
        text: str,
        source: str,
        when: _Block | _Observation,
    ) -> None:
        """An exception of a known class: merged with the request lines about it, if any."""
        found = _REQUEST_ID.search(message)
        request_id = found.group(0) if found else None
        current = state.observation
        if current is not None and current.request_id not in (None, request_id):
            self._end_observation(state, source)
            current = None
        if current is None:
            current = _Observation(when.time, when.read_time)
        current.error_class = error_class
        current.request_id = current.request_id or request_id
        current.sample = text
        state.observation = current
        self._end_observation(state, source)

    @staticmethod
    def _stripe_class(name: str, message: str, stripe_frames: bool) -> bool:
        prefix, _, bare = name.rpartition(".")
        if bare not in STRIPE_ERROR_CLASSES:
            return False
        if prefix:
            return prefix.startswith("stripe")
        return bare not in AMBIGUOUS or stripe_frames or "req_" in message

    def _json_line(self, state: _Source, text: str, source: str, read_time: float) -> None:
        try:
            record = json.loads(text)
        except ValueError:
            self._stripe_line(state, text, source, read_time)
            return
        if not isinstance(record, dict):
            return
        stamp = record_time(record)
        if stamp is not None:
            state.time = stamp
            self._on_time(stamp)
        inner = _record_text(record)
        if inner is None:
            self._stripe_line(state, text, source, read_time)
            return
        for inner_line in inner.splitlines():
            self._line(state, inner_line, source, read_time)
            if stamp is not None:
                state.time = stamp
        self._end_block(state, source)

    def _stripe_line(self, state: _Source, text: str, source: str, read_time: float) -> None:
        when = state.time if state.time is not None else read_time
        if "message='Request to Stripe api'" in text:
            self._end_observation(state, source)
            return
        if "message='Stripe API response'" in text:
            self._response(state, text, source, when, read_time)
            return
        one_line = _ONE_LINE.search(text)
        if one_line is not None and self._stripe_class(
            one_line.group(1) + one_line.group(2), one_line.group(3), False
        ):
            stamp = _Observation(when, read_time)
            self._explicit(state, one_line.group(2), one_line.group(3), text, source, stamp)
            return
        self._details(state, text, source, when, read_time)

    def _response(
        self, state: _Source, text: str, source: str, when: float, read_time: float
    ) -> None:
        self._end_observation(state, source)
        found = _RESPONSE_CODE.search(text)
        status = int(found.group(1)) if found else None
        self._on_request(RequestEvent(when, status))
        if status is not None and status >= 400:
            state.observation = _Observation(when, read_time, status=status, sample=text)

    def _details(
        self, state: _Source, text: str, source: str, when: float, read_time: float
    ) -> None:
        """Fields of the current request: its ID, error type, code and decline code."""
        current = self._observation_for(state, text, source, when, read_time)
        if "API error received" in text:
            fields = dict(_LOGFMT.findall(text))
            current = current or self._open(state, when, read_time)
            current.error_type = _unquote(fields.get("error_type")) or current.error_type
            current.code = _none(_unquote(fields.get("error_code"))) or current.code
            current.failed = True
            current.sample = text
            return
        for key, value in _BODY_FIELD.findall(text):
            if key == "type" and (value.endswith("_error") or value in V2_TYPES):
                current = current or self._open(state, when, read_time)
                current.error_type = value
                current.failed = True
                current.sample = current.sample or text
            elif current is not None and current.error_type is not None:
                setattr(current, key, getattr(current, key) or value)

    def _observation_for(
        self, state: _Source, text: str, source: str, when: float, read_time: float
    ) -> _Observation | None:
        link = _DASHBOARD.search(text)
        found = _REQUEST_ID.search(text) if link is None else None
        request_id = link.group(2) if link else found.group(0) if found else None
        current = state.observation
        if request_id is None:
            return current
        if current is not None and current.request_id not in (None, request_id):
            self._end_observation(state, source)
            current = None
        current = current or self._open(state, when, read_time)
        current.request_id = request_id
        if link is not None:
            current.livemode = link.group(1) is None
        return current

    @staticmethod
    def _open(state: _Source, when: float, read_time: float) -> _Observation:
        state.observation = _Observation(when, read_time)
        return state.observation

    def _end_observation(self, state: _Source, source: str) -> None:
        current, state.observation = state.observation, None
        if current is not None and current.is_error():
            self._on_error(current.event(source))


def _record_text(record: dict[str, Any]) -> str | None:
    """The formatted text of a JSON log record (loguru's `text`, or message plus traceback)."""
    parts = [record[key] for key in _JSON_TEXT_KEYS[:1] if isinstance(record.get(key), str)]
    if not parts:
        parts = [record[key] for key in _JSON_TEXT_KEYS if isinstance(record.get(key), str)][:1]
        parts += [record[key] for key in _JSON_EXTRA_KEYS if isinstance(record.get(key), str)]
    return "\n".join(parts) if parts else None


def _unquote(value: str | None) -> str | None:
    if value and value[0] in "'\"" and value[-1] == value[0]:
        return value[1:-1]
    return value


def _none(value: str | None) -> str | None:
    return None if value in (None, "", "None") else value
