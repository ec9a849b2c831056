"""Typed settings from TOML tables: unknown keys and wrong types fail with file and key named.

Each settings section is a dataclass; `build` walks its fields, so the dataclass itself is the
documentation of what a table may hold.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")
_HINTS: dict[type, dict[str, Any]] = {}


class ConfigError(ValueError):
    """A configuration or rule-pack problem, naming the file, the key and what was expected."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(where + message)


def build(cls: type[T], table: Any, source: str, prefix: str) -> T:
    """Return an instance of dataclass `cls` from a TOML `table`, validating every key."""
    if not isinstance(table, dict):
        raise ConfigError(source, prefix, f"expected a table, got {_describe(table)}")

    hints = _type_hints(cls)
    declared = dataclasses.fields(cls)  # type: ignore[arg-type]
    fields = {f.name.replace("_", "-"): f for f in declared}
    fields.update({f.name: f for f in declared})
    values: dict[str, Any] = {}
    for key, value in table.items():
        field = fields.get(key)
        if field is None:
            known = ", ".join(sorted(f.name for f in declared))
            raise ConfigError(source, _join(prefix, key), f"unknown key (known keys: {known})")
        values[field.name] = convert(hints[field.name], value, source, _join(prefix, key))
    return cls(**values)


def _type_hints(cls: type) -> dict[str, Any]:
    # Evaluating string annotations compiles each one: once per class, not once per table.
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = get_type_hints(cls)
    return hints


def convert(hint: Any, value: Any, source: str, key: str) -> Any:
    """Check `value` against type `hint`, converting nested tables to dataclasses."""
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _convert_union(hint, value, source, key)
    if origin is Literal:
        choices = get_args(hint)
        if value not in choices:
            wanted = " or ".join(repr(c) for c in choices)
            raise ConfigError(source, key, f"expected {wanted}, got {value!r}")
        return value
    if origin is list:
        (item,) = get_args(hint)
        _expect(isinstance(value, list), "a list", value, source, key)
        return [convert(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        _, item = get_args(hint)
        _expect(isinstance(value, dict), "a table", value, source, key)
        return {k: convert(item, v, source, _join(key, k)) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return build(hint, value, source, key)  # type: ignore[arg-type]
    return _convert_scalar(hint, value, source, key)


def _convert_union(hint: Any, value: Any, source: str, key: str) -> Any:
    args = [a for a in get_args(hint) if a is not type(None)]
    errors = []
    for arg in args:
        try:
            return convert(arg, value, source, key)
        except ConfigError as error:
            errors.append(error.message)
    raise ConfigError(source, key, " or ".join(errors))


def _convert_scalar(hint: Any, value: Any, source: str, key: str) -> Any:
    if hint is bool:
        _expect(isinstance(value, bool), "true or false", value, source, key)
    elif hint is int:
        _expect(
            isinstance(value, int) and not isinstance(value, bool), "an integer", value, source, key
        )
    elif hint is float:
        _expect(
            isinstance(value, int | float) and not isinstance(value, bool),
            "a number",
            value,
            source,
            key,
        )
        value = float(value)
    elif hint is str:
        _expect(isinstance(value, str), "a string", value, source, key)
    return value


def _expect(ok: bool, wanted: str, value: Any, source: str, key: str) -> None:
    if not ok:
        raise ConfigError(source, key, f"expected {wanted}, got {_describe(value)}")


def _describe(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    return f"{names.get(type(value), type(value).__name__)} ({value!r})"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key
