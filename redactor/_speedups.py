"""The optional C++ module built from redactor/_native.cpp, where it exists and is wanted.

Each function returns None where the C++ code cannot run: the wheel was built without a
compiler, REDACTOR_PURE_PYTHON=1 is set, or google-re2's binding lacks what the loop needs.
Callers then use the Python code, which gives the same results.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import re2

if TYPE_CHECKING:
    from . import _native


def scan_loop(regexp: Any, rule_set: Any, marker: int) -> _native.Scanner | None:
    """The scan loop over google-re2's compiled alternation and its set of rules."""
    if not _available():
        return None
    from . import _native

    try:
        _native.bind(re2._re2.__file__)
        return _native.Scanner(regexp, rule_set, marker, _pybind11_abi_id())
    except (ImportError, AttributeError, TypeError, RuntimeError, LookupError):
        return None


def issuer_table(ranges: list[tuple[int, int, int, bool]]) -> _native.IssuerTable | None:
    """The PAN check over (lowest six digits, highest six digits, length, Luhn) ranges."""
    if not _available():
        return None
    from . import _native

    return _native.IssuerTable(ranges)


def record_redactor(
    loop: _native.Scanner,
    issuers: _native.IssuerTable,
    rules: list[tuple[int, bytes, list[bytes], bool, bool]],
    entities: list[str],
    file_extensions: list[bytes],
) -> _native.RecordRedactor:
    """The whole redaction of a short text in C++, for the common cases of `rules`."""
    from . import _native

    return _native.RecordRedactor(loop, issuers, rules, entities, file_extensions)


def log_record_filter(
    redactor: _native.RecordRedactor,
    record_class: type,
    done: object,
    fresh: tuple[str, ...],
    formatted: tuple[str, ...],
    fallback: Callable[[Any], bool],
) -> _native.LogRecordFilter:
    """A stdlib logging filter that redacts plain records in C++ and marks them `done`.

    `fresh` are the attribute names of a record fresh from `record_class`, in their order,
    `formatted` those a formatter then adds ("message" first); every other record goes to
    `fallback`.
    """
    from . import _native

    return _native.LogRecordFilter(redactor, record_class, done, fresh, formatted, fallback)


def _available() -> bool:
    if os.environ.get("REDACTOR_PURE_PYTHON") == "1":
        return False
    try:
        from . import _native  # noqa: F401
    except ImportError:
        return False
    return True


def _pybind11_abi_id() -> bytes:
    """The ABI tag google-re2's pybind11 was built with, which its conduit asks for.

    pybind11 keeps its shared state in builtins under a name ending in that tag.
    """
    for name in vars(builtins):
        found = re.fullmatch(r"__pybind11_internals_v\d+(_\w+?)__", name)
        if found:
            return found.group(1).encode()
    raise LookupError("no pybind11 state in builtins")
