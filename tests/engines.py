"""The engine with its C++ parts and the same engine all in Python, to compare the two."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import redactor


@pytest.fixture(scope="module")
def engine() -> redactor.Redactor:
    """The engine with its C++ parts; tests that compare skip under REDACTOR_PURE_PYTHON=1."""
    if os.environ.get("REDACTOR_PURE_PYTHON") == "1":
        pytest.skip("REDACTOR_PURE_PYTHON=1 turns the C++ parts off")
    return redactor.Redactor()


@pytest.fixture(scope="module")
def python_engine() -> redactor.Redactor:
    """The engine with every step in Python: the reference for the C++ ones."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDACTOR_PURE_PYTHON", "1")
        built = redactor.Redactor()
    assert built.scan_loop == "Python" and built.native is None
    return built


@contextmanager
def counting(*engines: redactor.Redactor) -> Iterator[list[Counter[str]]]:
    """What each of `engines` counts inside the block, by entity; filled in when it ends."""
    before = [engine.stats.by_entity for engine in engines]
    counted: list[Counter[str]] = []
    yield counted
    for engine, earlier in zip(engines, before, strict=True):
        total = engine.stats.by_entity
        total.subtract(earlier)
        counted.append(+total)
