"""redactor: keeps card numbers, Stripe secrets and customer emails out of stored logs.

`redact(text)` uses the bundled rules; `Redactor` is built from a config file. The in-app
sinks, the tailer and the alerting pipeline all run on the same engine.
"""

from __future__ import annotations

from functools import lru_cache

from ._config import Config, load_config
from ._engine import Finding, Redactor, RedactionStats
from ._schema import ConfigError
from ._stream import StreamRedactor

__all__ = [
    "Config",
    "ConfigError",
    "Finding",
    "RedactionStats",
    "Redactor",
    "StreamRedactor",
    "default_redactor",
    "load_config",
    "redact",
]

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def default_redactor() -> Redactor:
    """The shared Redactor with the bundled configuration, built on first use."""
    return Redactor()


def redact(text: str) -> str:
    """Return `text` with card numbers, Stripe secrets and email addresses replaced."""
    return default_redactor().redact(text)
