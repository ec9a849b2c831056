"""A stdlib logging filter, and the install that runs it on every record before any handler.

The message is rendered with its arguments, the traceback is rendered into `exc_text` and
`exc_info` is cleared, so no handler or formatter downstream can reach the raw text again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from .._engine import Redactor, report_failure
from .._speedups import log_record_filter
from ..alerting._events import RequestEvent
from ._error_reports import protect_filtered_handlers, protect_handler_errors
from ._stripe_errors import ErrorRecorder, as_recorder, deliver, get_error_recorder, reporter
from ._text import hide_named_values, redact_field, redact_message, snapshot

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
# A record fresh from LogRecord.__init__ has these attributes, in this order.
_FRESH_KEYS = tuple(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
_STRIPE_RESPONSE = re.compile(r"message='Stripe API response'.*\bresponse_code=(\d{3})\b")
_FORMATTER = logging.Formatter()
_STOCK_GET_MESSAGE = logging.LogRecord.getMessage
# Used when even the engine cannot be built: the record is withheld all the same.
_FALLBACK_MARKER = "<WITHHELD {bytes} bytes>"


class _NoArguments(tuple[()]):
    """The empty `args` a redacted record is left with, which marks it rendered and counted.

    Telling such a record is then one identity test (a weak set of records cost a third of
    a microsecond a record), and formatters that dump `record.__dict__` see an empty tuple,
    no mark. New `args`, a pickled or a deep-copied record (a plain tuple then) are rendered
    again; a shallow copy shares the mark, and the redacted content with it.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type[tuple[()]], tuple[()]]:
        return tuple, ()


_DONE = _NoArguments()


class RedactingFilter(logging.Filter):
    """Redacts message, arguments, traceback, stack and `extra=` fields of each record.

    It never drops a record; `name` is accepted for the `logging.Filter` signature only.

    Attach it to any handler, or to a logger (it then covers the records logged there
    before any handler, including the root's, sees them). In `dictConfig`, use
    `{"()": "redactor.RedactingFilter"}`, optionally with `"config": "path/to/config.toml"`.
    Later filters and handlers see the redacted record; a further RedactingFilter checks it
    again, for what was changed or added since. The report a handler that carries this
    filter prints on stderr when it fails is redacted too.
    """

    def __init__(
        self,
        name: str = "",
        *,
        redactor: Redactor | None = None,
        config: str | None = None,
        recorder: object | None = None,
    ) -> None:
        super().__init__(name)
        self._redactor = Redactor.from_config(config) if config else redactor
        self._recorder: ErrorRecorder | None = as_recorder(recorder)
        self._chosen: _Filter | None = None  # chosen with the engine, when it is first needed
        protect_filtered_handlers(RedactingFilter)

    @property
    def redactor(self) -> Redactor:
        """The engine in use (the shared default unless one was given)."""
        if self._redactor is None:
            from .. import default_redactor  # late: the package imports this module

            self._redactor = default_redactor()
        return self._redactor

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place and let it through; never raises."""
        chosen = self._chosen or self._choose()
        return chosen(record)

    def _choose(self) -> _Filter:
        """The C++ filter where it runs, else the Python one.

        The C++ filter hands the Python one every record it cannot redact exactly as Python
        would. It then stands in for `filter` on the instance, sparing a Python call a
        record, unless a subclass has a `filter` of its own.
        """
        chosen = _native_filter(self.redactor, self._filter_in_python) or self._filter_in_python
        self._chosen = chosen
        if type(self).filter is RedactingFilter.filter:
            self.filter = chosen  # type: ignore[method-assign,assignment]
        return chosen

    def _filter_in_python(self, record: logging.LogRecord) -> bool:
        try:
            self._redact(record)  # marks the record done
        except Exception as error:
            report_failure("log record withheld", error)
            self._withhold(record)
            record.args = _DONE
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        """Redact the record in place and mark it done.

        A record already done is checked again: a filter (of another handler, say) may
        have changed its message or given it fields since.
        """
        redactor = self._redactor or self.redactor
        first = record.args is not _DONE
        if first:
            self._render_message(redactor, record)
        else:
            record.msg = redact_message(redactor, str(record.msg))
        attributes = record.__dict__
        if "message" in attributes:
            record.message = record.msg

        if record.exc_info or record.exc_text:
            self._redact_exception(record)
        if record.stack_info:
            record.stack_info = redact_message(redactor, record.stack_info)

        if not _STANDARD.issuperset(attributes):
            self._redact_extra_fields(redactor, attributes)
        if first and record.name == "stripe":
            self._count_response(record)

    def _render_message(self, redactor: Redactor, record: logging.LogRecord) -> None:
        """The message rendered with its arguments into `msg`, redacted; `args` the mark."""
        args = record.args
        # The tuple test first: `isinstance` against an ABC is slow, and args are a tuple.
        if type(args) is not tuple and isinstance(args, Mapping) and args:
            record.args = hide_named_values(redactor, args) or args
        msg, args = record.msg, record.args
        record.msg = redact_message(redactor, _message(record))
        record.args = _DONE  # rendered into msg: no formatter may apply them again
        if type(record).getMessage is not _STOCK_GET_MESSAGE and _renders_again(record):
            # A record class of the app's that adds to the message each time it renders (a
            # request tag, say) would add it twice: it gets the plain rendering instead.
            record.msg, record.args = msg, args
            plain = _message(record, _STOCK_GET_MESSAGE)
            record.msg, record.args = redact_message(redactor, plain), _DONE

    def _redact_extra_fields(self, redactor: Redactor, attributes: dict[str, Any]) -> None:
        """Each field redacted into a copy; one that cannot be redacted is withheld alone.

        A dict or list the app fills in after logging it must not reach a handler that
        formats later (behind a queue).
        """
        for key in attributes.keys() - _STANDARD:
            value = attributes[key]
            try:
                attributes[key] = redact_field(redactor, key, snapshot(value))
            except Exception as error:
                report_failure("log record field withheld", error)
                attributes[key] = self._marker(value)

    def _redact_exception(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            text = record.exc_text or _FORMATTER.formatException(record.exc_info)
            record.exc_text = redact_message(self.redactor, text)
            self._count_error(record)
            # Cleared so that no formatter can render the raw exception again.
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact_message(self.redactor, record.exc_text)

    def _count_error(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        source = f"logging:{record.name}"
        key = (record.process, record.thread, record.created, record.msecs)
        reporter.report(self._recorder, error, record.created, record.msg, source, key)

    def _count_response(self, record: logging.LogRecord) -> None:
        """stripe-python logs each response's status on the `stripe` logger at INFO."""
        if not isinstance(record.msg, str):
            return
        recorder = self._recorder or get_error_recorder()
        match = _STRIPE_RESPONSE.match(record.msg) if recorder is not None else None
        if recorder is not None and match is not None:
            deliver(recorder, RequestEvent(time=record.created, http_status=int(match[1])))

    def _withhold(self, record: logging.LogRecord) -> None:
        marker = self._marker(record.msg)
        record.msg, record.args = marker, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        for key in record.__dict__.keys() - _STANDARD:
            record.__dict__[key] = marker

    def _marker(self, value: object) -> str:
        try:
            size = len(str(value))
        except Exception:
            size = 0
        try:
            return self.redactor.withheld(size).decode()
        except Exception:  # the engine itself failed to build
            return _FALLBACK_MARKER.format(bytes=size)


_Filter = Callable[[logging.LogRecord], bool]


def _native_filter(redactor: Redactor, fallback: _Filter) -> _Filter | None:
    """The C++ filter (redactor/_native.cpp) over `redactor`; None where it does not run.

    It redacts an app's plain records (no extra fields, exception or stack; a text the C++
    engine settles alone), checks them again when they come back, and hands every other
    record to `fallback` untouched.
    """
    native = redactor.native
    if native is None:
        return None
    formatted = ("message", "asctime")  # what Formatter.format adds, in this order
    return log_record_filter(
        native, logging.LogRecord, _DONE, _FRESH_KEYS, formatted, fallback
    ).filter


def _renders_again(record: logging.LogRecord) -> bool:
    """Whether the record's own getMessage changes an already rendered message."""
    try:
        return record.getMessage() != record.msg
    except Exception:
        return True


def _message(
    record: logging.LogRecord, render: Callable[[logging.LogRecord], str] | None = None
) -> str:
    try:
        return render(record) if render else record.getMessage()
    except Exception:  # the app's own format mistake: keep both parts, still redacted later
        return f"{record.msg!s} (arguments that did not fit: {record.args!r})"


def install_logging(
    *, redactor: Redactor | None = None, recorder: object | None = None
) -> RedactingFilter:
    """Redact every record a logger handles, and filter every logger and handler there is now.

    `logging.Logger.handle` is wrapped (once), so every record a logger handles is redacted
    before the logger's filters and any handler see it: handlers, loggers and `QueueHandler`s
    added later are covered, and so are records a socket receiver passes to `logger.handle`.
    The filter on every existing logger (the `stripe` logger always), all their handlers and
    logging's last-resort handler covers records handed to a handler directly. Every handler's
    formatted text is checked once more (`Handler.format`), and the report a failing handler
    prints on stderr (`Handler.handleError`) is redacted for every handler class that does not
    print its own. A second call adds no second wrapper and no second filter, and keeps the
    first call's engine.

    Returns:
        The filter, for adding to handlers created later that get records from elsewhere.
    """
    chosen = RedactingFilter(redactor=redactor, recorder=recorder)
    protect_handler_errors(chosen)
    _protect_formatted_output(chosen)
    _protect_logger_records(chosen)

    loggers: list[logging.Logger] = [logging.getLogger(), logging.getLogger("stripe")]
    for item in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(item, logging.Logger):
            loggers.append(item)
    for logger in loggers:
        _attach(logger, chosen)
        for handler in list(logger.handlers):
            _attach(handler, chosen)
    if logging.lastResort is not None:
        _attach(logging.lastResort, chosen)
    return chosen


_STOCK_HANDLE = logging.Logger.handle
# The filter that redacts every record a logger handles, once install_logging ran.
_record_check: list[RedactingFilter] = []


def _redacting_handle(logger: logging.Logger, record: logging.LogRecord) -> None:
    """`Logger.handle` that redacts the record first, `extra=` fields and all.

    This runs after `Logger.makeRecord` has attached the `extra=` fields and before the
    logger's own filters, for every logger, including those made later.
    """
    if not logger.disabled:
        _record_check[0].filter(record)
    _STOCK_HANDLE(logger, record)


def _protect_logger_records(chosen: RedactingFilter) -> None:
    """Every record a logger handles is redacted first; a second call keeps the first engine."""
    if logging.Logger.__dict__["handle"] is _STOCK_HANDLE:
        _record_check[:] = [chosen]
        logging.Logger.handle = _redacting_handle  # type: ignore[method-assign,assignment]
        logging.makeLogRecord = _unmarked_log_record


_STOCK_MAKE_LOG_RECORD = logging.makeLogRecord


def _unmarked_log_record(dict: Mapping[str, object]) -> logging.LogRecord:  # logging's name
    """`logging.makeLogRecord` that drops a redacted record's mark from the attributes.

    They may be a redacted record's with a new, raw message: the record is then redacted
    again, where the mark would have let it through as done.
    """
    record = _STOCK_MAKE_LOG_RECORD(dict)
    if record.args is _DONE:
        record.args = ()
    return record


_STOCK_FORMAT = logging.Handler.format
# The filter whose engine checks every handler's formatted text, once install_logging ran.
_format_check: list[RedactingFilter] = []


def _checked_format(handler: logging.Handler, record: logging.LogRecord) -> str:
    """`Handler.format` with a last look at the text it returns, before any handler writes it.

    The record is redacted when it is made, but an app's filter may add fields later (request
    bodies as `record.body`), and a formatter may print what no filter saw (`%(field)r`, a JSON
    formatter's `default=repr`): the formatted text is what is stored, so it is checked too.
    """
    text = _STOCK_FORMAT(handler, record)
    chosen = _format_check[0]
    try:
        return redact_message(chosen._redactor or chosen.redactor, text)
    except Exception as error:  # never raise into the app: withhold the text instead
        report_failure("formatted log record withheld", error)
        return chosen._marker(text)


def _protect_formatted_output(chosen: RedactingFilter) -> None:
    """Every handler's formatted text goes through the engine once more.

    A second call keeps the first one's engine.
    """
    if logging.Handler.__dict__["format"] is _STOCK_FORMAT:
        _format_check[:] = [chosen]
        logging.Handler.format = _checked_format  # type: ignore[method-assign,assignment]


def _attach(target: logging.Filterer, chosen: RedactingFilter) -> None:
    if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
        target.addFilter(chosen)
