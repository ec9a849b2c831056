"""Settings of the `[tail]` table of config.toml."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TailSettings:
    """How `redactor tail` follows files and where it writes."""

    output_dir: str = ""
