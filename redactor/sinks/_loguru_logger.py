"""loguru's `add`, putting redaction in front of every sink added to a protected core.

`install_loguru` registers the core of a logger (the handler table that every logger made
from it by `bind`, `opt` or `patch` shares, also those made before the call), so that sinks
added afterwards (by the app, a framework or `logger.configure`) are covered as well as the
existing ones, whichever of those loggers adds them.
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

# Engine and recorder per protected loguru core. A logger sent to another process (enqueue
# with multiprocessing) has a core of its own there, with the defaults.
_settings: weakref.WeakKeyDictionary[Any, tuple[Redactor | None, ErrorRecorder | None]] = (
    weakref.WeakKeyDictionary()
)
_loguru_add = Logger.add


def _add(self: Any, sink: Any, **options: Any) -> int:
    """`logger.add`, with only redacted text reaching `sink` when the core is protected."""
    settings = _settings.get(self._core)
    if settings is None or isinstance(sink, (RedactingSink, AsyncRedactingSink)):
        return int(_loguru_add(self, sink, **options))
    redactor, recorder = settings
    if isinstance(sink, (str, os.PathLike)):
        file_options = {k: v for k, v in options.items() if k not in _ADD_OPTIONS}
        options = {k: v for k, v in options.items() if k in _ADD_OPTIONS}
        sink = loguru_sink(sink, redactor=redactor, recorder=recorder, **file_options)
    else:
        sink = loguru_sink(sink, redactor=redactor, recorder=recorder)
    return int(_loguru_add(self, sink, **options))


_add.__doc__ = _loguru_add.__doc__


def protect_later_sinks(
    logger: Any, redactor: Redactor | None, recorder: ErrorRecorder | None
) -> bool:
    """Make `add` wrap the sinks `logger`'s core gets from now on; False if it is not loguru's.

    A second call keeps the engine and recorder of the first.
    """
    if not isinstance(logger, Logger):
        return False
    _settings.setdefault(logger._core, (redactor, recorder))
    if Logger.add is not _add:  # once per process: loguru's class, for all its loggers
        Logger.add = _add
    return True
