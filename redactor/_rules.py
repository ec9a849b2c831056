"""Detection rule packs: TOML files of patterns, validators and issuer ranges."""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import re2

from ._resources import bundled_rules_dir
from ._schema import ConfigError, build

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

VALIDATORS = ("pan", "pan_prefix", "email", "word", "none")
MaskStyle = Literal["pan", "keep", "email", "all"]
_GROUPS = {"value", "keep"}


@dataclass
class Rule:
    """One detector: a linear-time pattern proposing candidates and a validator judging them."""

    id: str
    entity: str
    pattern: str
    validator: str = "none"
    mask: MaskStyle = "all"
    description: str = ""
    score: float = 0.8
    enabled: bool = True
    ignore_after: list[str] = field(default_factory=list)
    allow_hmac: bool = True
    source: str = ""


@dataclass
class Issuer:
    """A card brand's leading-digit ranges and the PAN lengths it uses."""

    brand: str
    prefixes: list[str]
    lengths: list[int]
    luhn: bool = True


@dataclass
class SensitiveVariable:
    """Variable names whose values a diagnose traceback shows without a key beside them."""

    entity: str
    names: list[str]
    description: str = ""


@dataclass
class _PackFile:
    rule: list[Rule] = field(default_factory=list)
    issuer: list[Issuer] = field(default_factory=list)
    variable: list[SensitiveVariable] = field(default_factory=list)


@dataclass
class RuleSet:
    """All rules and issuer ranges from the configured packs, in load order."""

    rules: list[Rule]
    issuers: list[Issuer]
    variables: list[SensitiveVariable] = field(default_factory=list)

    def get(self, rule_id: str) -> Rule | None:
        """Return the rule with this ID, if any pack defines it."""
        return next((rule for rule in self.rules if rule.id == rule_id), None)


def pack_paths(patterns: list[str], base: Path, source: str, bundled: bool = True) -> list[Path]:
    """The bundled packs (unless `bundled` is False), then the configured pack globs.

    A configured pack adds rules, or replaces a bundled rule by giving its ID: a config that
    names a pack of its own keeps the card, key and email rules unless it turns them off.
    """
    paths = sorted(bundled_rules_dir().glob("*.toml")) if bundled or not patterns else []
    for pattern in patterns:
        full = pattern if Path(pattern).is_absolute() else str(base / pattern)
        matches = sorted(glob.glob(full))
        if not matches:
            raise ConfigError(source, "redact.packs", f"no rule pack matches {pattern!r}")
        paths += [Path(match) for match in matches]
    return paths


def load_rules(paths: list[Path]) -> RuleSet:
    """Load and validate rule packs; the same rule ID in a later pack replaces the earlier."""
    rules: dict[str, Rule] = {}
    issuers: list[Issuer] = []
    variables: list[SensitiveVariable] = []
    for path in paths:
        pack = load_pack(path)
        rules.update((rule.id, rule) for rule in pack.rule)
        issuers += pack.issuer
        variables += pack.variable
    return RuleSet(list(rules.values()), issuers, variables)


def load_pack(path: Path) -> _PackFile:
    """Parse one rule pack and check every pattern, validator and issuer range in it."""
    source = str(path)
    try:
        table: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(source, "", f"cannot read rule pack: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, "", f"not valid TOML: {error}") from None

    pack = build(_PackFile, table, source, "")
    for index, rule in enumerate(pack.rule):
        rule.source = source
        check_rule(rule, source, f"rule[{index}]")
    for index, issuer in enumerate(pack.issuer):
        _check_issuer(issuer, source, f"issuer[{index}]")
    return pack


def check_rule(rule: Rule, source: str, key: str) -> None:
    """Fail with a ConfigError unless the rule's pattern compiles and its validator exists."""
    if rule.validator not in VALIDATORS:
        known = ", ".join(VALIDATORS)
        raise ConfigError(
            source, f"{key}.validator", f"unknown validator {rule.validator!r} (known: {known})"
        )
    try:
        compiled = re2.compile(rule.pattern.encode("utf-8"), latin1_options())
    except re2.error as error:
        raise ConfigError(source, f"{key}.pattern", f"does not compile: {error}") from None
    if compiled.fullmatch(b"") is not None:
        raise ConfigError(source, f"{key}.pattern", "matches the empty string, so everywhere")
    names = {name.decode() for name in compiled.groupindex}
    if names - _GROUPS:
        raise ConfigError(
            source,
            f"{key}.pattern",
            f"only the named groups {sorted(_GROUPS)} are allowed, got {sorted(names)}",
        )
    if rule.mask == "keep" and "keep" not in names:
        raise ConfigError(source, f"{key}.mask", 'mask "keep" needs a (?P<keep>...) group')


def _check_issuer(issuer: Issuer, source: str, key: str) -> None:
    for prefix in issuer.prefixes:
        low, _, high = prefix.partition("-")
        high = high or low
        if not (low.isdigit() and high.isdigit() and len(low) == len(high) and low <= high):
            raise ConfigError(
                source,
                f"{key}.prefixes",
                f"expected digits or a range of equal-width digits, got {prefix!r}",
            )
    if not issuer.lengths or any(not 12 <= n <= 19 for n in issuer.lengths):
        raise ConfigError(source, f"{key}.lengths", "expected PAN lengths from 12 to 19")


def latin1_options() -> Any:
    """RE2 options for matching raw bytes: invalid UTF-8 must neither fail nor hide a match."""
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.max_mem = 64 << 20
    return options
