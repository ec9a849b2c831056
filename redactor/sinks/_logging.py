"""A stdlib logging filter and record factory that redact each record before any handler.

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
from ._text import hide_named_values, redact_field, redact_message

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)
# A record fresh from LogRecord.__init__ has these attributes, in this order.
_FRESH_KEYS = tuple(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
_STRIPE_RESPONSE = re.compile(r"message='Stripe API response'.*\bresponse_code=(\d{3})\b")
_FORMATTER = logging.Formatter()
# Used when even the engine cannot be built: the record is withheld all the same.
_FALLBACK_MARKER = "<WITHHELD {bytes} bytes>"


class _NoArguments(tuple[()]):
    """The empty `args` a redacted record is left with, which also marks it as redacted.

    Telling a record done is then one identity test (a weak set of records cost a third of
    a microsecond a record), and formatters that dump `record.__dict__` see an empty tuple,
    no mark. New `args`, a pickled or a deep-copied record (a plain tuple then) are redacted
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
    A record is done once: later filters and handlers see the redacted record. The report a
    handler that carries this filter prints on stderr when it fails is redacted too.
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
        """Redact `record` in place (once) and let it through; never raises."""
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
        if record.args is not _DONE:
            try:
                self._redact(record)  # marks the record done
            except Exception as error:
                report_failure("log record withheld", error)
                self._withhold(record)
                record.args = _DONE
        return True

    def _redact(self, record: logging.LogRecord) -> None:
        redactor = self._redactor or self.redactor
        args = record.args
        # The tuple test first: `isinstance` against an ABC is slow, and args are a tuple.
        if type(args) is not tuple and isinstance(args, Mapping) and args:
            record.args = hide_named_values(redactor, args) or args
        record.msg = redact_message(redactor, _message(record))
        record.args = _DONE  # rendered into msg: no formatter may apply them again
        attributes = record.__dict__
        if "message" in attributes:
            record.message = record.msg

        if record.exc_info or record.exc_text:
            self._redact_exception(record)
        if record.stack_info:
            record.stack_info = redact_message(redactor, record.stack_info)

        if not _STANDARD.issuperset(attributes):
            self._redact_extra_fields(redactor, attributes)
        if record.name == "stripe":
            self._count_response(record)

    def _redact_extra_fields(self, redactor: Redactor, attributes: dict[str, Any]) -> None:
        for key in attributes.keys() - _STANDARD:
            # Stored past `_Attributes.__setitem__`: the value is redacted here already.
            dict.__setitem__(attributes, key, redact_field(redactor, key, attributes[key]))

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

    def redact_extra(self, key: str, value: object) -> object:
        """One `extra=` value, redacted; the withheld marker if that fails. Never raises."""
        try:
            return redact_field(self._redactor or self.redactor, key, value)
        except Exception as error:
            report_failure("log record field withheld", error)
            return self._marker(value)

    def _withhold(self, record: logging.LogRecord) -> None:
        marker = self._marker(record.msg)
        record.msg, record.args = marker, ()
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        for key in record.__dict__.keys() - _STANDARD:
            dict.__setitem__(record.__dict__, key, marker)

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
    engine settles alone) and hands every other one to `fallback` untouched.
    """
    native = redactor.native
    if native is None:
        return None
    return log_record_filter(native, logging.LogRecord, _DONE, _FRESH_KEYS, fallback).filter


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # the app's own format mistake: keep both parts, still redacted later
        return f"{record.msg!s} (arguments that did not fit: {record.args!r})"


class _Attributes(dict[str, Any]):
    """The attribute table of a record redacted at creation: `extra=` values are redacted too.

    `Logger.makeRecord` stores `extra=` with `record.__dict__[key] = value` after the factory
    has returned, so this is the one place where they can be seen. A bulk `update`, as
    `logging.makeLogRecord` does, replaces what was redacted: the record is no longer done,
    so the filters redact it again.
    """

    __slots__ = ("_filter",)

    _filter: RedactingFilter

    def __setitem__(self, key: str, value: object) -> None:
        super().__setitem__(key, self._filter.redact_extra(key, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Take the new attributes unredacted, and leave the record to the filters."""
        super().update(*args, **kwargs)
        if self.get("args") is _DONE:  # the mark, kept or copied from another record
            super().__setitem__("args", ())

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        # A pickled or copied record carries a plain dict: the receiver needs no redactor.
        return dict, (dict(self),)


class _RecordFactory:
    """Chained in front of the previous log record factory: each record is redacted when made.

    This covers handlers, loggers and `QueueHandler`s added after `install_logging`, which
    no filter reaches.
    """

    def __init__(self, previous: Callable[..., logging.LogRecord], chosen: RedactingFilter):
        self.previous = previous
        self.chosen = chosen

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        """The previous factory's record, redacted in place; never raises on our side."""
        record = self.previous(*args, **kwargs)
        if record.args is _DONE and type(record.__dict__) is _Attributes:
            return record  # another of our factories is further down the chain
        self.chosen.filter(record)
        try:
            attributes = _Attributes(record.__dict__)
            attributes._filter = self.chosen
            record.__dict__ = attributes
        except Exception as error:  # an odd record class: `extra=` is left to the filters
            report_failure("log record extra fields left to the filters", error)
            record.args = ()
        return record


def install_logging(
    *, redactor: Redactor | None = None, recorder: object | None = None
) -> RedactingFilter:
    """Redact every log record as it is made, and filter every logger and handler there is now.

    The log record factory is wrapped (once; the previous factory is chained), so every
    record made by a logger is redacted before any handler sees it: handlers, loggers and
    `QueueHandler`s added later are covered. The filter on the root logger, every existing
    logger (the `stripe` logger always), all their handlers and logging's last-resort handler
    covers records built without a logger, such as `logging.makeLogRecord` in a socket
    receiver. The report a failing handler prints on stderr (`Handler.handleError`) is
    redacted for every handler class that does not print its own. A second call adds no
    second factory and no second filter, and keeps the first call's engine for those reports.

    Returns:
        The filter, for adding to handlers created later that get records from elsewhere.
    """
    chosen = RedactingFilter(redactor=redactor, recorder=recorder)
    protect_handler_errors(chosen)
    _protect_formatted_output(chosen)
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RecordFactory):
        logging.setLogRecordFactory(_RecordFactory(current, chosen))

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
