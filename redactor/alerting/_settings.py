"""Settings of the `[alerts]` table of config.toml."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AlertSettings:
    """Where alert rules live and which channels they may notify."""

    rules: list[str] = field(default_factory=list)
    channels: dict[str, str] = field(default_factory=dict)
