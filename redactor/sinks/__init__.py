"""In-app protection: the loguru sink and the stdlib logging filter.

Both redact what the app logs before any destination sees it, and hand the Stripe errors
they see to a recorder (the alerting aggregator, or any object with `record(event)`).
"""

from __future__ import annotations

from ._logging import RedactingFilter, install_logging
from ._loguru import AsyncRedactingSink, RedactingSink, install_loguru, loguru_sink
from ._stripe_errors import ErrorRecorder, get_error_recorder, set_error_recorder

__all__ = [
    "AsyncRedactingSink",
    "ErrorRecorder",
    "RedactingFilter",
    "RedactingSink",
    "get_error_recorder",
    "install_logging",
    "install_loguru",
    "loguru_sink",
    "set_error_recorder",
]
