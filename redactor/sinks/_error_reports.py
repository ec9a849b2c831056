"""The reports loguru and stdlib logging print on stderr when a handler fails, redacted.

Both print the record and the traceback of the handler's error, whose chained context is
often the app's own exception, raw; stderr is often kept as a log too. These stand in for
the printing code and write the same report, redacted, in one write; they never raise.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import sys
import traceback
from types import TracebackType
from typing import Any, Protocol, cast

from .._engine import Redactor, report_failure
from ._text import redact_message, redact_value

_LOGGING_DIR = os.path.dirname(logging.__file__)
_STOCK_HANDLE_ERROR = logging.Handler.__dict__["handleError"]
# Used when even the engine cannot be built: the report is withheld all the same.
_WITHHELD = "<WITHHELD {bytes} bytes>\n"
_UNPRINTABLE_ARGUMENTS = (
    "Unable to print the message and arguments - possible formatting error.\n"
    "Use the traceback above to help find the error.\n"
)

_ErrorInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class EngineSource(Protocol):
    """Anything that names the engine to use (a `RedactingFilter`)."""

    @property
    def redactor(self) -> Redactor:
        """The engine."""
        ...


def _redacted(engine: Redactor, body: str) -> str:
    """`body` redacted; the withheld marker if that fails."""
    try:
        return redact_message(engine, body)
    except Exception as error:
        report_failure("logging error report withheld", error)
        return _WITHHELD.format(bytes=len(body))


def _traceback_text(info: _ErrorInfo) -> str:
    try:
        return "".join(traceback.format_exception(*info))
    except Exception:  # an exception whose own text fails: its type is still worth telling
        return f"{getattr(info[0], '__name__', info[0])}: (unprintable)\n"


# -- loguru ---------------------------------------------------------------------------------


def protect_loguru_reports() -> None:
    """Make every loguru handler's error report go out redacted, from now on.

    A handler of loguru's own logger whose sink is ours uses that sink's engine; any other
    handler (a plain sink, a copied logger's) uses the default one.
    """
    try:
        interceptor: Any = importlib.import_module("loguru._error_interceptor").ErrorInterceptor
    except (ImportError, AttributeError) as error:
        report_failure("loguru's error reports are left unredacted", error)
        return
    if interceptor.__dict__.get("print") is not _print_loguru_report:
        interceptor.print = _print_loguru_report


def _print_loguru_report(
    self: Any, record: Any = None, *, exception: BaseException | None = None
) -> None:
    """What loguru's `ErrorInterceptor.print` writes, redacted."""
    if not sys.stderr:
        return
    info: _ErrorInfo = (
        sys.exc_info()
        if exception is None
        else (type(exception), exception, exception.__traceback__)
    )
    try:
        engine = _loguru_engine(self)
        body = f"Record was: {_loguru_record_text(engine, record)}\n{_traceback_text(info)}"
        header = f"--- Logging error in Loguru Handler #{self._handler_id} ---\n"
        footer = "--- End of logging error ---\n"
        sys.stderr.write(header + _redacted(engine, body) + footer)
    except Exception as error:  # OSError from stderr included: the app goes on regardless
        _report_quietly("loguru error report", error)
    finally:
        del info


def _loguru_engine(interceptor: Any) -> Redactor:
    """The engine of the sink whose handler owns `interceptor`, else the default one."""
    try:
        from loguru import logger

        handler: Any = logger._core.handlers.get(interceptor._handler_id)  # type: ignore[attr-defined]
        if handler is not None and handler._error_interceptor is interceptor:
            # Ours is the handler's sink (install_loguru) or inside loguru's StreamSink, or
            # its AsyncSink for a coroutine.
            sink = handler._sink
            for inner in (sink, getattr(sink, "_stream", None), getattr(sink, "_function", None)):
                engine = getattr(inner, "redactor", None)
                if isinstance(engine, Redactor):
                    return engine
    except Exception as error:  # loguru's internals moved: the default engine still redacts
        report_failure("loguru error report uses the default engine", error)
    from .. import default_redactor  # late: the package imports this module

    return default_redactor()


def _loguru_record_text(engine: Redactor, record: Any) -> str:
    # `extra` is redacted field by field first: a security code is known by its key only.
    try:
        if isinstance(record, dict) and isinstance(record.get("extra"), dict):
            record = {**record, "extra": redact_value(engine, record["extra"])}
        return str(record)
    except Exception:
        return "/!\\ Unprintable record /!\\"


# -- stdlib logging -------------------------------------------------------------------------


class _HandleError:
    """Stands in for `logging.Handler.handleError` on the class.

    With a `source` (from `install_logging`), every handler's report is redacted; without,
    only the reports of handlers that carry one of our filters are, and every other handler
    prints logging's own report, unchanged.
    """

    def __init__(self, source: EngineSource | None) -> None:
        self.source = source

    def __get__(self, handler: logging.Handler | None, owner: type | None = None) -> Any:
        if handler is None:
            return self
        return functools.partial(self.report, handler)

    def report(self, handler: logging.Handler, record: logging.LogRecord) -> None:
        """`handler.handleError(record)`."""
        source = self.source or _filter_of(handler)
        if source is None:
            _STOCK_HANDLE_ERROR(handler, record)
            return
        if not (logging.raiseExceptions and sys.stderr):
            return
        info = sys.exc_info()
        try:
            engine = source.redactor
            body = _handler_report_body(engine, record, info)
            sys.stderr.write("--- Logging error ---\n" + _redacted(engine, body))
        except Exception as error:
            _report_quietly("logging error report", error)
        finally:
            del info


# The filter class whose presence on a handler makes its report redacted (RedactingFilter).
_filter_kinds: list[type] = []


def _filter_of(handler: logging.Handler) -> EngineSource | None:
    for candidate in handler.filters:
        if isinstance(candidate, tuple(_filter_kinds)):
            return cast(EngineSource, candidate)
    return None


def protect_handler_errors(source: EngineSource) -> None:
    """Every handler's error report goes out redacted, unless its class prints its own.

    A second call keeps the first one's engine.
    """
    current = logging.Handler.__dict__["handleError"]
    if isinstance(current, _HandleError) and current.source is not None:
        return
    if current is _STOCK_HANDLE_ERROR or isinstance(current, _HandleError):
        logging.Handler.handleError = _HandleError(source)  # type: ignore[assignment,method-assign]
        return
    report_failure(
        "logging error reports are left to the handleError already in place",
        TypeError(f"logging.Handler.handleError is {current!r}"),
    )


def protect_filtered_handlers(kind: type) -> None:
    """The report of a handler that carries a `kind` filter goes out redacted.

    Handlers without one print logging's own report, as before; a handler class that
    overrides `handleError` without calling `super()` keeps its own.
    """
    if kind not in _filter_kinds:
        _filter_kinds.append(kind)
    if logging.Handler.__dict__["handleError"] is _STOCK_HANDLE_ERROR:
        logging.Handler.handleError = _HandleError(None)  # type: ignore[assignment,method-assign]


def _handler_report_body(engine: Redactor, record: logging.LogRecord, info: _ErrorInfo) -> str:
    """What logging prints after its header: traceback, call stack, message and arguments."""
    frame = info[2].tb_frame if info[2] is not None else None
    while frame is not None and os.path.dirname(frame.f_code.co_filename) == _LOGGING_DIR:
        frame = frame.f_back
    if frame is not None:
        stack = "".join(traceback.format_stack(frame))
    else:
        stack = f"Logged from file {record.filename}, line {record.lineno}\n"

    try:
        # Redacted as values first: a security code in a mapping is known by its key only.
        message = redact_value(engine, record.msg)
        arguments = redact_value(engine, record.args)
        call = "Message: %r\nArguments: %s\n" % (message, arguments)  # noqa: UP031
    except Exception:
        call = _UNPRINTABLE_ARGUMENTS
    return f"{_traceback_text(info)}Call stack:\n{stack}{call}"


def _report_quietly(what: str, error: BaseException) -> None:
    # When stderr itself is gone, there is no one left to tell.
    with contextlib.suppress(Exception):
        report_failure(f"{what} withheld", error)
