"""Structured (key=value) logs of the daemon on stderr, set up only by its entry point.

Messages name events, files, offsets and counts; they never carry a line of a log.
"""

from __future__ import annotations

import logging
import sys
import time


class KeyValueFormatter(logging.Formatter):
    """`ts=… level=… logger=… event=…`, one record per line."""

    def format(self, record: logging.LogRecord) -> str:
        """Render one record."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        millis = int(record.msecs)
        level = record.levelname.lower()
        return f"ts={stamp}.{millis:03d}Z level={level} logger={record.name} {record.getMessage()}"


def setup_logging(level: int = logging.INFO) -> None:
    """Send the `redactor.tail` logger to stderr in key=value form."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    logger = logging.getLogger("redactor.tail")
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
