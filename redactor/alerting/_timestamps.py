"""Event time from a log line: loguru, stdlib `asctime`, ISO 8601 and JSON record times.

Times without a zone are local time, as loguru and logging write them by default.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime
from functools import lru_cache
from typing import Any

_STAMP = re.compile(
    r"\[?(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?\s?(Z|[+-]\d\d:?\d\d)?"
)


def line_time(line: str) -> float | None:
    """The timestamp at the start of `line`, in seconds since the epoch, or None."""
    match = _STAMP.match(line)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    base = _hour_start(year, month, day, hour, zone)
    if base is None:
        return None
    seconds = base + int(minute) * 60 + int(second)
    return seconds + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


@lru_cache(maxsize=256)
def _hour_start(year: str, month: str, day: str, hour: str, zone: str | None) -> float | None:
    fields = (int(year), int(month), int(day), int(hour), 0, 0)
    try:
        datetime(*fields)
    except ValueError:
        return None
    if zone is None:
        return time.mktime((*fields, 0, 0, -1))
    utc = calendar.timegm((*fields, 0, 0, 0))
    return utc - _offset_seconds(zone)


def _offset_seconds(zone: str) -> int:
    if zone == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + int(digits[2:]) * 60
    return -offset if zone[0] == "-" else offset


_JSON_KEYS = ("timestamp", "time", "@timestamp", "asctime", "ts", "created")


def record_time(record: dict[str, Any]) -> float | None:
    """The time of a JSON log record: loguru's `record.time.timestamp` or a common key."""
    loguru = record.get("record")
    if isinstance(loguru, dict):
        stamp = loguru.get("time")
        if isinstance(stamp, dict) and isinstance(stamp.get("timestamp"), int | float):
            return float(stamp["timestamp"])
    for key in _JSON_KEYS:
        value = record.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) / 1000 if value > 1e11 else float(value)
        if isinstance(value, str):
            parsed = line_time(value)
            if parsed is not None:
                return parsed
    return None
