"""Build Redactors from small config files written for a test."""

from __future__ import annotations

from pathlib import Path

from redactor import Redactor, load_config


def redactor_with(tmp_path: Path, toml: str) -> Redactor:
    """A Redactor from a config file holding `toml`."""
    path = tmp_path / "config.toml"
    path.write_text(toml)
    return Redactor(load_config(path))
