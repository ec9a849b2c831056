"""The configuration file: load, validate, and resolve paths relative to it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._resources import default_config_path
from ._schema import ConfigError, build
from .alerting._settings import AlertSettings
from .tail._settings import TailSettings, check_tail

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

Mode = Literal["placeholder", "mask", "hmac"]


@dataclass
class RuleSettings:
    """Per-rule overrides of `[redact.rules.<rule-id>]`."""

    enabled: bool | None = None
    mode: Mode | None = None
    keep_first: int = 0
    keep_last: int = 4
    placeholder: str | None = None


@dataclass
class HmacSettings:
    """The keyed hash used by `mode = "hmac"`; the key itself never sits in a file."""

    key_env: str = "REDACTOR_HMAC_KEY"
    length: int = 12


@dataclass
class RedactSettings:
    """The `[redact]` table: which rule packs, and how matches are replaced."""

    packs: list[str] = field(default_factory=list)
    bundled_packs: bool = True
    mode: Mode = "placeholder"
    placeholder: str = "<{entity}>"
    withheld_marker: str = "<WITHHELD {bytes} bytes>"
    hmac: HmacSettings = field(default_factory=HmacSettings)
    rules: dict[str, RuleSettings] = field(default_factory=dict)


@dataclass
class PresidioSettings:
    """Extra presidio recognizers to run after ours (the slow, opt-in path)."""

    recognizers: list[str] = field(default_factory=list)
    nlp_model: str = ""
    entities: list[str] = field(default_factory=list)
    language: str = "en"
    score_threshold: float = 0.5


@dataclass
class Config:
    """The whole configuration, with the file it came from (paths resolve against it)."""

    redact: RedactSettings = field(default_factory=RedactSettings)
    presidio: PresidioSettings = field(default_factory=PresidioSettings)
    tail: TailSettings = field(default_factory=TailSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    source: Path | None = None

    @property
    def base_dir(self) -> Path:
        """The folder that relative paths in the config are resolved against."""
        return (self.source or default_config_path()).resolve().parent

    def resolve(self, path: str) -> Path:
        """Return `path` (with `~` and `${VAR}` expanded) relative to the config file."""
        expanded = Path(os.path.expanduser(expand_env(path, str(self.source), "path")))
        return expanded if expanded.is_absolute() else self.base_dir / expanded


_SECTIONS = {"redact", "presidio", "tail", "alerts"}


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate a config file; with no path, the bundled default configuration."""
    source = Path(path) if path is not None else default_config_path()
    try:
        with source.open("rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(str(source), "", "file not found") from None
    except OSError as error:
        raise ConfigError(str(source), "", f"cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(source), "", f"not valid TOML: {error}") from None
    return config_from_table(table, source)


def config_from_table(table: dict[str, Any], source: Path | None) -> Config:
    """Validate an already parsed TOML document."""
    name = str(source) if source else "<config>"
    for key in table:
        if key not in _SECTIONS:
            known = ", ".join(sorted(_SECTIONS))
            raise ConfigError(name, key, f"unknown section (known sections: {known})")
    config = build(Config, {k: v for k, v in table.items()}, name, "")
    config.source = source
    _check_redact(config.redact, name)
    check_tail(config.tail, name)
    return config


def _check_redact(settings: RedactSettings, source: str) -> None:
    for rule_id, rule in settings.rules.items():
        key = f"redact.rules.{rule_id}"
        if not 0 <= rule.keep_first <= 6:
            raise ConfigError(source, f"{key}.keep_first", "PCI allows 0 to 6 first digits")
        if not 0 <= rule.keep_last <= 4:
            raise ConfigError(source, f"{key}.keep_last", "PCI allows 0 to 4 last digits")
        if rule.placeholder is not None:
            _check_template(rule.placeholder, "entity", source, f"{key}.placeholder")
    _check_template(settings.placeholder, "entity", source, "redact.placeholder")
    _check_template(settings.withheld_marker, "bytes", source, "redact.withheld_marker")
    if not 8 <= settings.hmac.length <= 64:
        raise ConfigError(source, "redact.hmac.length", "expected 8 to 64 token characters")


def _check_template(template: str, field: str, source: str, key: str) -> None:
    """A placeholder or marker must name `field` and no other: it is filled in per secret."""
    try:
        template.format(**{field: "x"})
    except (KeyError, IndexError, ValueError, AttributeError):
        raise ConfigError(
            source, key, f"expected a text whose only {{...}} field is {{{field}}}"
        ) from None
    if "{" + field not in template:
        raise ConfigError(source, key, f"expected a text containing {{{field}}}")


def expand_env(value: str, source: str, key: str) -> str:
    """Replace `${VAR}` with the environment variable VAR; a missing one is an error."""
    out: list[str] = []
    rest = value
    while "${" in rest:
        head, _, tail = rest.partition("${")
        name, closed, rest = tail.partition("}")
        if not closed or not name:
            raise ConfigError(source, key, "unterminated ${...} reference")
        if name not in os.environ:
            raise ConfigError(source, key, f"environment variable {name} is not set")
        out += [head, os.environ[name]]
    out.append(rest)
    return "".join(out)
