"""A loguru sink that redacts each fully formatted message before the real sink sees it.

loguru renders the traceback (with `diagnose` values), the colours and the `serialize` JSON
only when it writes to a sink, so the whole string handed to the sink is what gets checked.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from .._engine import Redactor, report_failure
from ._error_reports import protect_loguru_reports
from ._stripe_errors import ErrorRecorder, as_recorder, reporter
from ._text import hide_field_values, redact_message, redact_value

# Files the sink creates: log lines, even redacted, are for the app's owner only.
_PRIVATE = 0o600
# Used when even the engine cannot be built: the message is withheld all the same.
_WITHHELD = "<WITHHELD {bytes} bytes>"


def _withheld(redactor: Redactor | None, size: int) -> str:
    """The engine's marker for `size` withheld bytes, counted; never raises."""
    try:
        if redactor is not None:
            redactor.stats.withhold(size)
            return redactor.withheld(size).decode()
    except Exception as error:
        report_failure("withheld marker from the defaults", error)
    return _WITHHELD.format(bytes=size)


class _Writer(Protocol):
    def write(self, message: str) -> None: ...

    def stop(self) -> None: ...


class SafeMessage(str):
    """The redacted text as loguru hands it to sinks, with a redacted copy of the record.

    The copy is made on first use of `.record`: its message and extra are redacted and its
    exception keeps the type only (the value and traceback would carry the raw text).
    """

    __slots__ = ("_raw", "_redactor", "_safe")

    _raw: dict[str, Any] | None
    _redactor: Redactor | None
    _safe: dict[str, Any] | None

    @property
    def record(self) -> dict[str, Any] | None:
        """The redacted record, or None when loguru gave none."""
        if self._safe is None and self._raw is not None:
            self._safe = _record_or_withheld(self._redactor, self._raw)
        return self._safe


def _safe_message(text: str, raw: dict[str, Any] | None, redactor: Redactor | None) -> SafeMessage:
    message = SafeMessage(text)
    message._raw = raw
    message._redactor = redactor
    message._safe = None
    return message


def safe_record(redactor: Redactor, record: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of a loguru record that holds no secret."""
    safe = dict(record)
    message = _hide_arguments(redactor, record, record["message"])
    safe["message"] = redact_message(redactor, message)
    safe["extra"] = redact_value(redactor, record["extra"])
    _keep_exception_type(safe)
    return safe


def _hide_arguments(redactor: Redactor, record: dict[str, Any] | None, text: str) -> str:
    """`text` without the security codes of `extra` fields, wherever the format shows them."""
    extra = record.get("extra") if record is not None else None
    if record is None or not extra or not isinstance(extra, dict):
        return text
    return hide_field_values(redactor, extra, text)


def _record_or_withheld(redactor: Redactor | None, record: dict[str, Any]) -> dict[str, Any]:
    try:
        if redactor is None:
            raise RuntimeError("no engine: redaction of this message failed")
        return safe_record(redactor, record)
    except Exception as error:
        report_failure("loguru record withheld", error)
        safe = dict(record)
        safe["message"] = _WITHHELD.format(bytes=len(str(record.get("message", ""))))
        safe["extra"] = {}
        _keep_exception_type(safe)
        return safe


def _keep_exception_type(record: dict[str, Any]) -> None:
    exception = record.get("exception")
    if exception is not None:
        record["exception"] = type(exception)(exception.type, None, None)


class RedactingSink:
    """Stands between loguru and a real sink: redacts, counts Stripe errors, never raises.

    loguru sees an object with `write`, so it treats it as a stream sink; `isatty` and
    `encoding` answer for the target, which keeps loguru's colour and encoding choices.
    The writer gets a `SafeMessage`, unless `reads_record` is False: then a plain `str`.
    """

    def __init__(
        self,
        writer: _Writer,
        *,
        name: str,
        redactor: Redactor | None = None,
        recorder: ErrorRecorder | None = None,
        isatty: Callable[[], bool] | None = None,
        encoding: str | None = None,
        reads_record: bool = True,
    ) -> None:
        self._writer = writer
        self._name = name
        self._redactor = redactor
        self._recorder = recorder
        self._isatty = isatty
        self.encoding = encoding
        self._reads_record = reads_record

    def __repr__(self) -> str:
        return f"loguru_sink({self._name})"

    @property
    def redactor(self) -> Redactor:
        """The engine in use (the shared default unless one was given)."""
        if self._redactor is None:
            from .. import default_redactor  # late: the package imports this module

            self._redactor = default_redactor()
        return self._redactor

    def isatty(self) -> bool:
        """Whether the target is a terminal, so that loguru's `colorize=None` works as usual."""
        try:
            return bool(self._isatty and self._isatty())
        except Exception:
            return False

    def write(self, message: str) -> None:
        """Redact one formatted message and pass it on; failures go to stderr."""
        raw = getattr(message, "record", None)
        text = self._redact(message, raw)
        safe = _safe_message(text, raw, self._redactor) if self._reads_record else text
        try:
            self._writer.write(safe)
        except Exception as error:
            report_failure(f"loguru sink {self._name} could not write; message dropped", error)

    def prepare(self, message: str) -> SafeMessage:
        """The redacted message, or the withheld marker if redaction failed."""
        raw = getattr(message, "record", None)
        return _safe_message(self._redact(message, raw), raw, self._redactor)

    def _redact(self, message: str, raw: dict[str, Any] | None) -> str:
        """The redacted text (the withheld marker if that fails); Stripe errors are counted."""
        redactor = self._redactor
        try:
            if redactor is None:
                redactor = self.redactor
            text = str(message)
            if raw is not None and raw.get("extra"):  # most records have no named arguments
                text = _hide_arguments(redactor, raw, text)
            text = redact_message(redactor, text)
        except Exception as error:
            report_failure("loguru message withheld", error)
            text = _withheld(redactor, len(message)) + "\n"
        if raw is not None and raw.get("exception") is not None:
            self._count(raw, text)
        return text

    def _count(self, raw: dict[str, Any], text: str) -> None:
        try:
            key = (raw["process"].id, raw["thread"].id, raw["time"])
            source = f"loguru:{raw['name']}"
            time = raw["time"].timestamp()
            reporter.report(self._recorder, raw["exception"].value, time, text, source, key)
        except Exception as error:
            report_failure("Stripe error not counted", error)

    def tasks_to_complete(self) -> list[Any]:
        """What loguru's `complete()` waits for, when the wrapped sink is one of loguru's."""
        tasks = getattr(self._writer, "tasks_to_complete", None)
        return list(tasks()) if callable(tasks) else []

    def stop(self) -> None:
        """Called by loguru on `logger.remove()`: close what we opened."""
        try:
            self._writer.stop()
        except Exception as error:
            report_failure(f"loguru sink {self._name} failed to stop", error)


class AsyncRedactingSink:
    """The same protection for a coroutine-function target, which loguru schedules itself."""

    def __init__(self, target: Callable[[str], Awaitable[None]], sink: RedactingSink) -> None:
        self._target = target
        self._sink = sink

    def __repr__(self) -> str:
        return repr(self._sink)

    @property
    def redactor(self) -> Redactor:
        """The engine in use."""
        return self._sink.redactor

    async def __call__(self, message: str) -> None:
        """Redact, then await the target; its failures are reported, not raised."""
        safe = self._sink.prepare(message)
        try:
            await self._target(safe)
        except Exception as error:
            report_failure(f"{self._sink!r} could not write; message dropped", error)


class _StreamWriter:
    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._flush = getattr(stream, "flush", None)

    def write(self, message: str) -> None:
        self._stream.write(message)
        if callable(self._flush):
            self._flush()

    def stop(self) -> None:
        """The stream belongs to the app: it is left open, as loguru does."""


class _CallableWriter:
    def __init__(self, function: Callable[[str], object]) -> None:
        self._function = function

    def write(self, message: str) -> None:
        self._function(message)

    def stop(self) -> None:
        pass


class _HandlerWriter:
    """Feeds a stdlib handler a record built from the redacted text and record only."""

    def __init__(self, handler: logging.Handler) -> None:
        self._handler = handler

    def write(self, message: str) -> None:
        record = getattr(message, "record", None)
        if record is None:
            return
        log_record = logging.LogRecord(
            record["name"],
            record["level"].no,
            record["file"].path,
            record["line"],
            message.rstrip("\n"),
            (),
            None,
            record["function"],
        )
        log_record.levelname = record["level"].name
        log_record.extra = record["extra"]
        self._handler.handle(log_record)

    def stop(self) -> None:
        self._handler.close()


def _file_writer(path: str | os.PathLike[str], options: dict[str, Any]) -> _Writer:
    # loguru's own file sink keeps rotation, retention, compression, delay and watch exactly
    # as users know them; it is private, so an import failure is explained, not hidden.
    try:
        from loguru._file_sink import FileSink
    except ImportError as error:
        raise RuntimeError(
            "redactor.loguru_sink needs loguru's file sink (loguru 0.7.x) for a path target"
        ) from error
    private = "opener" not in options
    file_sink: Callable[..., _Writer] = FileSink
    writer = file_sink(path, **({"opener": _private_opener} | options))
    compression = options.get("compression")
    if private and isinstance(compression, str):
        _keep_archives_private(writer, compression)
    return writer


def _private_opener(path: str, flags: int) -> int:
    """Opens log files as loguru does, but a file it creates is readable by its owner only."""
    return os.open(path, flags, _PRIVATE)


def _keep_archives_private(writer: Any, compression: str) -> None:
    """An archive made at rotation gets the log file's own 0600 (loguru creates it 0644)."""
    compress = getattr(writer, "_compression_function", None)
    if not callable(compress):
        return
    extension = "." + compression.strip().lstrip(".")

    def compress_privately(path: str) -> None:
        compress(path)
        try:
            os.chmod(path + extension, _PRIVATE)
        except OSError as error:
            report_failure("log archive left with its default permissions", error)

    writer._compression_function = compress_privately


def loguru_sink(
    target: Any,
    *,
    redactor: Redactor | None = None,
    recorder: object | None = None,
    **options: Any,
) -> RedactingSink | AsyncRedactingSink:
    """Wrap anything `logger.add` accepts so that only redacted text reaches it.

    Use as `logger.add(redactor.loguru_sink(target, **file_options), **add_options)`. The
    file options (`rotation`, `retention`, `compression`, `encoding`, `mode`, `delay`, ...)
    go to `loguru_sink` for a path target; every other `logger.add` option stays where it is.

    Args:
        target: a path, a stream (an object with `write`), a `logging.Handler`, a callable or
            a coroutine function.
        redactor: the engine to use; the shared default when None.
        recorder: where Stripe errors go (`record(event)` or `add(event)`); when None, the
            one set with `redactor.set_error_recorder`.
        **options: loguru's file sink options, for a path target only.

    Returns:
        The sink to pass to `logger.add`.
    """
    chosen = as_recorder(recorder)
    protect_loguru_reports()
    if options and not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"file options {sorted(options)} only apply to a path target")
    if isinstance(target, (str, os.PathLike)):
        writer = _file_writer(target, options)
        # Rotation functions may read `message.record` (loguru's by time does); nothing else
        # in loguru's file sink does, so without one it is spared building a SafeMessage.
        plain = getattr(writer, "_rotation_function", True) is None
        return _sink(writer, repr(str(target)), redactor, chosen, reads_record=not plain)
    if isinstance(target, logging.Handler):
        return _sink(_HandlerWriter(target), repr(target), redactor, chosen)
    if callable(getattr(target, "write", None)):
        return _stream_sink(target, redactor, chosen)
    if inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        getattr(target, "__call__", None)  # noqa: B004
    ):
        return AsyncRedactingSink(
            target, _sink(_CallableWriter(target), _name(target), redactor, chosen)
        )
    if callable(target):
        return _sink(_CallableWriter(target), _name(target), redactor, chosen)
    raise TypeError(f"loguru cannot log to objects of type {type(target).__name__!r}")


def _sink(
    writer: _Writer,
    name: str,
    redactor: Redactor | None,
    recorder: ErrorRecorder | None,
    *,
    reads_record: bool = True,
) -> RedactingSink:
    encoding = getattr(writer, "encoding", None)
    return RedactingSink(
        writer,
        name=name,
        redactor=redactor,
        recorder=recorder,
        encoding=encoding,
        reads_record=reads_record,
    )


def _stream_sink(
    stream: Any, redactor: Redactor | None, recorder: ErrorRecorder | None
) -> RedactingSink:
    isatty = getattr(stream, "isatty", None)
    return RedactingSink(
        _StreamWriter(stream),
        name=getattr(stream, "name", None) or repr(stream),
        redactor=redactor,
        recorder=recorder,
        isatty=isatty if callable(isatty) else None,
        encoding=getattr(stream, "encoding", None),
    )


def _name(target: Any) -> str:
    return str(getattr(target, "__name__", None) or repr(target))


def install_loguru(
    logger: Any = None, *, redactor: Redactor | None = None, recorder: object | None = None
) -> int:
    """Put redaction in front of every sink the logger has now and every sink added later.

    The sinks present are wrapped in place (loguru has no public way to list them, so this
    reaches into its handler table); `add` then wraps each new sink in `loguru_sink`, on this
    logger and on every logger sharing its handlers (made by `bind`, `opt` or `patch`, before
    the call or after). A sink already wrapped is left alone, and a second call keeps the first
    call's engine for later sinks.

    Returns:
        How many sinks present at the call were wrapped.
    """
    if logger is None:
        from loguru import logger as default_logger

        logger = default_logger
    chosen = as_recorder(recorder)
    protect_loguru_reports()
    from ._loguru_logger import protect_later_sinks  # late: it builds on this module

    if not protect_later_sinks(logger, redactor, chosen):
        report_failure(
            "install_loguru: sinks added later are not covered",
            TypeError(f"a logger of class {type(logger).__name__}"),
        )
    wrapped = 0
    for handler in list(logger._core.handlers.values()):
        inner = handler._sink
        if isinstance(inner, RedactingSink):
            continue
        name = getattr(handler, "_name", None) or repr(inner)
        handler._sink = RedactingSink(inner, name=str(name), redactor=redactor, recorder=chosen)
        wrapped += 1
    return wrapped
