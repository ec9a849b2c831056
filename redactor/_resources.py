"""Where the bundled rule packs, alert rules and default config are found.

A wheel carries them inside the package (`redactor/_data`); a source checkout has them at the
repository root, which is where people read and edit them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir() -> Path:
    """Return the folder holding `config.toml`, `rules/` and `alerts/`."""
    bundled = _PACKAGE / "_data"
    if (bundled / "rules").is_dir():
        return bundled
    return _PACKAGE.parent


def default_config_path() -> Path:
    """Return the documented default configuration file."""
    return data_dir() / "config.toml"


def bundled_rules_dir() -> Path:
    """Return the folder of the default detection rule packs."""
    return data_dir() / "rules"
