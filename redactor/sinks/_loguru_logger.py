"""A loguru logger whose `add` puts redaction in front of every sink it is given.

`install_loguru` gives loguru's logger object this class, so sinks added after the call
(by the app, a framework or `logger.configure`) are covered as well as the existing ones.
"""

from __future__ import annotations

import os
import weakref
from typing import Any

from loguru import _logger

from .._engine import Redactor
from ._loguru import AsyncRedactingSink, RedactingSink, loguru_sink
from ._stripe_errors import ErrorRecorder

# What `logger.add` itself takes; for a path sink, every other option is a file option.
_ADD_OPTIONS = frozenset(
    (
        "level",
        "format",
        "filter",
        "colorize",
        "serialize",
        "backtrace",
        "diagnose",
        "enqueue",
        "context",
        "catch",
        "loop",
    )
)

# loguru's stubs describe the public logger only; its class is taken as it is at run time.
Logger: Any = _logger.Logger

# Engine and recorder per loguru core (shared by all loggers made from one by bind/opt/patch).
# A logger copied or sent to another process keeps the class but uses the defaults.
_settings: weakref.WeakKeyDictionary[Any, tuple[Redactor | None, ErrorRecorder | None]] = (
    weakref.WeakKeyDictionary()
)


class RedactingLogger(Logger):  # type: ignore[misc]
    """loguru's logger, with `add` wrapping each new sink in `loguru_sink` first.

    A sink made with `loguru_sink` already is added as it is; the loggers that `bind`, `opt`
    and `patch` return are of this class too.
    """

    def add(self, sink: Any, **options: Any) -> int:
        """`logger.add`, with only redacted text reaching `sink`."""
        redactor, recorder = _settings.get(self._core, (None, None))
        if isinstance(sink, (RedactingSink, AsyncRedactingSink)):
            return int(super().add(sink, **options))
        if isinstance(sink, (str, os.PathLike)):
            file_options = {k: v for k, v in options.items() if k not in _ADD_OPTIONS}
            options = {k: v for k, v in options.items() if k in _ADD_OPTIONS}
            sink = loguru_sink(sink, redactor=redactor, recorder=recorder, **file_options)
        else:
            sink = loguru_sink(sink, redactor=redactor, recorder=recorder)
        return int(super().add(sink, **options))

    def bind(__self, **kwargs: Any) -> RedactingLogger:  # as loguru: a key may be `self`
        """`logger.bind`, keeping the protection."""
        return _protected(super().bind(**kwargs))

    def opt(self, *args: Any, **kwargs: Any) -> RedactingLogger:
        """`logger.opt`, keeping the protection."""
        return _protected(super().opt(*args, **kwargs))

    def patch(self, patcher: Any) -> RedactingLogger:
        """`logger.patch`, keeping the protection."""
        return _protected(super().patch(patcher))


def _protected(logger: Any) -> RedactingLogger:
    if type(logger) is Logger:
        logger.__class__ = RedactingLogger
    result: RedactingLogger = logger
    return result


def protect_later_sinks(
    logger: Any, redactor: Redactor | None, recorder: ErrorRecorder | None
) -> bool:
    """Make `logger.add` wrap the sinks it gets from now on; False for a logger of another class.

    A second call keeps the engine and recorder of the first.
    """
    if type(logger) is RedactingLogger:
        return True
    if type(logger) is not Logger:
        return False
    _settings.setdefault(logger._core, (redactor, recorder))
    logger.__class__ = RedactingLogger
    return True
