"""Settings of the `[alerts]` table of config.toml and the durations they are written in.

`check_alerts` validates them all; `redactor check`, `tail` and `alerts test` run it first.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._schema import ConfigError

if TYPE_CHECKING:
    from .._config import Config

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


@dataclass(frozen=True)
class CheckedAlerts:
    """The `[alerts]` settings once validated: durations in seconds, channel URLs resolved."""

    channels: dict[str, str]
    group_wait: float
    stale_after: float
    retry_initial: float
    retry_max: float
    delivery_timeout: float


_MAX_GROUP_WAIT = 300.0
_RANGES = {"max_per_minute": (1, 10_000), "queue_size": (1, 1_000_000), "sample_lines": (0, 50)}


def check_alerts(config: Config) -> CheckedAlerts:
    """Validate every `[alerts]` setting, naming file and key; channel URLs are never shown."""
    settings = config.alerts
    source = str(config.source) if config.source else "<config>"

    for name, (low, high) in _RANGES.items():
        value = getattr(settings, name)
        if not low <= value <= high:
            raise ConfigError(source, f"alerts.{name}", f"expected {low} to {high}, got {value}")

    def seconds(name: str) -> float:
        return parse_duration(getattr(settings, name), source, f"alerts.{name}")

    checked = CheckedAlerts(
        {name: _channel(url, source, name) for name, url in settings.channels.items()},
        seconds("group_wait"),
        seconds("stale_after"),
        seconds("retry_initial"),
        seconds("retry_max"),
        seconds("delivery_timeout"),
    )
    if checked.retry_initial <= 0:
        raise ConfigError(source, "alerts.retry_initial", "expected a duration above zero")
    if checked.retry_max < checked.retry_initial:
        raise ConfigError(source, "alerts.retry_max", "expected at least retry_initial")
    if checked.group_wait > _MAX_GROUP_WAIT:
        # Grouping is for the moments around one transition; longer only delays the page.
        raise ConfigError(source, "alerts.group_wait", "expected at most 5m")
    _check_stale_after(config, checked.stale_after, source)
    return checked


def _check_stale_after(config: Config, stale_after: float, source: str) -> None:
    """A transition is old news only once a whole window of it has passed."""
    from ._rules import load_rules

    longest = max((rule.window for rule in load_rules(config)), default=0)
    if stale_after <= longest:
        raise ConfigError(
            source,
            "alerts.stale_after",
            f"expected more than the longest rule window ({longest:g}s), got {stale_after:g}s",
        )


def _channel(url: str, source: str, name: str) -> str:
    """One channel URL with `${VAR}` expanded, if apprise can build a notifier from it."""
    from .._config import expand_env
    from ._notifier import load_apprise

    key = f"alerts.channels.{name}"
    resolved = expand_env(url, source, key)
    apprise = load_apprise()
    if apprise.Apprise.instantiate(resolved) is not None:
        return resolved
    scheme, found, _ = resolved.partition("://")
    if not found or not re.fullmatch(r"[A-Za-z][\w+.-]*", scheme):
        problem = "not an apprise URL (expected scheme://..., e.g. slack://, mailto://, json://)"
    elif scheme.lower() not in apprise.NotificationManager():
        problem = f"apprise has no plugin for {scheme.lower()}://"
    else:
        problem = f"apprise rejects this {scheme.lower()}:// URL (check its parts and tokens)"
    raise ConfigError(source, key, problem)


def default_state_dir() -> Path:
    """Where the outbox and alert state live when `[alerts] state_dir` is not set."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "redactor" / "alerts"
