"""Alert rules: the `[[rule]]` tables of alerts/*.toml, validated with file and key named."""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .._schema import ConfigError, build
from ._classes import STRIPE_ERROR_CLASSES
from ._settings import parse_duration

if TYPE_CHECKING:
    from .._config import Config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclass
class RuleSpec:
    """One `[[rule]]` table as written: exactly one of threshold, ratio or spike is set."""

    name: str = ""
    errors: list[str] = field(default_factory=lambda: ["*"])
    decline_codes: list[str] = field(default_factory=list)
    window: str = "5m"
    threshold: int | None = None
    ratio: float | None = None
    min_requests: int = 20
    spike: float | None = None
    min_count: int = 10
    pending: str = "0s"
    hysteresis: float = 0.2
    resolve_after: str = "1m"
    send_resolved: bool = True
    repeat: str = "1h"
    channels: list[str] = field(default_factory=list)
    severity: Literal["info", "warning", "critical"] = "warning"


@dataclass(frozen=True)
class Rule:
    """A validated rule with its durations in seconds."""

    name: str
    errors: tuple[str, ...]
    decline_codes: tuple[str, ...]
    kind: Literal["threshold", "ratio", "spike"]
    limit: float
    window: int
    min_requests: int
    min_count: int
    pending: float
    hysteresis: float
    resolve_after: float
    send_resolved: bool
    repeat: float
    channels: tuple[str, ...]
    severity: str
    source: str


def load_rules(config: Config) -> list[Rule]:
    """Every rule of the files `[alerts] rules` names (globs, relative to the config file)."""
    rules: list[Rule] = []
    config_name = str(config.source) if config.source else "<config>"
    for index, pattern in enumerate(config.alerts.rules):
        paths = sorted(glob.glob(str(config.resolve(pattern))))
        if not paths:
            raise ConfigError(
                config_name, f"alerts.rules[{index}]", f"no rule file matches {pattern!r}"
            )
        for path in paths:
            rules += load_rule_file(Path(path))
    _check_unique(rules)
    _check_channels(rules, set(config.alerts.channels))
    return rules


def load_rule_file(path: Path) -> list[Rule]:
    """The rules of one TOML file."""
    source = str(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(source, "", f"cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "", f"not valid TOML: {error}") from None
    for key in table:
        if key != "rule":
            raise ConfigError(source, key, "unknown key (rule files hold [[rule]] tables)")
    entries = table.get("rule", [])
    if not isinstance(entries, list):
        raise ConfigError(source, "rule", "expected [[rule]] tables")
    return [
        _rule(build(RuleSpec, entry, source, f"rule[{i}]"), source, f"rule[{i}]")
        for i, entry in enumerate(entries)
    ]


def _rule(spec: RuleSpec, source: str, key: str) -> Rule:
    if not spec.name:
        raise ConfigError(source, f"{key}.name", "expected a non-empty rule name")
    key = f"{key} ({spec.name})"
    for index, name in enumerate(spec.errors):
        if name != "*" and name not in STRIPE_ERROR_CLASSES:
            known = ", ".join(sorted(STRIPE_ERROR_CLASSES))
            raise ConfigError(
                source,
                f"{key}.errors[{index}]",
                f"unknown Stripe error class {name!r} (known: *, {known})",
            )
    kind, limit = _condition(spec, source, key)
    window = parse_duration(spec.window, source, f"{key}.window")
    if window < 1:
        raise ConfigError(source, f"{key}.window", "expected a window of at least 1s")
    if not 0 <= spec.hysteresis < 1:
        raise ConfigError(source, f"{key}.hysteresis", "expected a fraction from 0 to below 1")
    return Rule(
        spec.name,
        tuple(spec.errors),
        tuple(spec.decline_codes),
        kind,
        limit,
        int(window),
        spec.min_requests,
        spec.min_count,
        parse_duration(spec.pending, source, f"{key}.pending"),
        spec.hysteresis,
        parse_duration(spec.resolve_after, source, f"{key}.resolve_after"),
        spec.send_resolved,
        parse_duration(spec.repeat, source, f"{key}.repeat"),
        tuple(spec.channels),
        spec.severity,
        source,
    )


def _condition(
    spec: RuleSpec, source: str, key: str
) -> tuple[Literal["threshold", "ratio", "spike"], float]:
    given = [
        (name, value)
        for name, value in (
            ("threshold", spec.threshold),
            ("ratio", spec.ratio),
            ("spike", spec.spike),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise ConfigError(source, key, "expected exactly one of threshold, ratio or spike")
    name, value = given[0]
    problem = _condition_problem(name, value)
    if problem:
        raise ConfigError(source, f"{key}.{name}", f"{problem}, got {value}")
    return name, float(value)  # type: ignore[return-value]


def _condition_problem(name: str, value: float) -> str:
    """What is wrong with a condition's value ("" when nothing is)."""
    if name == "threshold":
        return "" if value >= 1 else "expected a threshold of at least 1"
    if name == "ratio":
        return "" if 0 < value <= 1 else "expected a ratio above 0 and at most 1"
    return "" if value > 0 else "expected a spike factor above 0"


def _check_unique(rules: list[Rule]) -> None:
    seen: dict[str, str] = {}
    for rule in rules:
        if rule.name in seen:
            raise ConfigError(
                rule.source,
                f"rule ({rule.name}).name",
                f"duplicate rule name (also in {seen[rule.name]})",
            )
        seen[rule.name] = rule.source


def _check_channels(rules: list[Rule], channels: set[str]) -> None:
    for rule in rules:
        for index, name in enumerate(rule.channels):
            if name not in channels:
                known = ", ".join(sorted(channels)) or "none configured"
                raise ConfigError(
                    rule.source,
                    f"rule ({rule.name}).channels[{index}]",
                    f"unknown channel {name!r} ([alerts.channels]: {known})",
                )
