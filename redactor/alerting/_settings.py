"""Settings of the `[alerts]` table of config.toml, and the durations they are written in."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .._schema import ConfigError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass
class AlertSettings:
    """Where alert rules live, which channels they may notify, and how delivery behaves."""

    rules: list[str] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)
    state_dir: str = ""
    dashboard: Literal["test", "live"] = "test"
    group_wait: str = "500ms"
    max_per_minute: int = 6
    stale_after: str = "15m"
    queue_size: int = 1000
    retry_initial: str = "1s"
    retry_max: str = "5m"
    delivery_timeout: str = "30s"
    sample_lines: int = 3


def parse_duration(value: str | int | float, source: str, key: str) -> float:
    """Seconds in a duration such as "500ms", "30s", "5m", "1h", "1d" or a plain number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip())
        if match is None:
            raise ConfigError(
                source, key, f'expected a duration such as "30s" or "5m", got {value!r}'
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds < 0:
        raise ConfigError(source, key, "expected a duration of zero or more")
    return seconds


def default_state_dir() -> Path:
    """Where the outbox and alert state live when `[alerts] state_dir` is not set."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "redactor" / "alerts"
