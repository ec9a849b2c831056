"""redactor: keeps card numbers, Stripe secrets and customer emails out of stored logs.

`redact(text)` uses the bundled rules; `Redactor` is built from a config file. The in-app
sinks, the tailer and the alerting pipeline all run on the same engine.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ._config import Config, load_config
from ._engine import Finding, RedactionStats, Redactor
from ._schema import ConfigError
from ._stream import StreamRedactor

if TYPE_CHECKING:
    from pathlib import Path

    from presidio_analyzer import EntityRecognizer

    from .alerting import AlertPipeline
    from .sinks import (
        ErrorRecorder,
        RedactingFilter,
        install_logging,
        install_loguru,
        loguru_sink,
        set_error_recorder,
    )

__all__ = [
    "Config",
    "ConfigError",
    "ErrorRecorder",
    "Finding",
    "RedactingFilter",
    "RedactionStats",
    "Redactor",
    "StreamRedactor",
    "default_redactor",
    "install_logging",
    "install_loguru",
    "load_config",
    "loguru_sink",
    "presidio_recognizers",
    "redact",
    "set_error_recorder",
    "start_alerts",
]

__version__ = "0.1.0"

# The in-app sinks load on first use: the command line and the tailer never need them.
_SINK_NAMES = frozenset(
    (
        "ErrorRecorder",
        "RedactingFilter",
        "install_logging",
        "install_loguru",
        "loguru_sink",
        "set_error_recorder",
    )
)


def __getattr__(name: str) -> Any:
    if name in _SINK_NAMES:
        from . import sinks

        return getattr(sinks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_default: list[Redactor] = []
_default_lock = threading.Lock()


def default_redactor() -> Redactor:
    """The shared Redactor with the bundled configuration, built on first use.

    Built once, also when many threads log their first records at the same time: one
    engine holds all the counts.
    """
    if not _default:
        with _default_lock:
            if not _default:
                _default.append(Redactor())
    return _default[0]


def redact(text: str) -> str:
    """Return `text` with card numbers, Stripe secrets and email addresses replaced."""
    return default_redactor().redact(text)


def start_alerts(config: Config | str | Path | None = None) -> AlertPipeline:
    """Alert on the Stripe errors this app logs: see `redactor.alerting.start_alerts`."""
    from .alerting._pipeline import start_alerts as start

    return start(config)


def presidio_recognizers(
    redactor: Redactor | None = None, *, language: str = "en"
) -> list[EntityRecognizer]:
    """Our enabled rules as presidio recognizers, to add to a presidio AnalyzerEngine.

    presidio is imported here, not with redactor: it loads spaCy, which takes about a second.
    """
    from ._presidio import presidio_recognizers as build

    return build(redactor, language=language)
