"""Inputs that other redactors got wrong (tests/data/public_report_cases.jsonl)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import redactor
from tests.spellings import leaks

CASES = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "public_report_cases.jsonl")
    .read_text()
    .splitlines()
    if line.strip()
]


@pytest.mark.parametrize("case", CASES, ids=[case["note"] for case in CASES])
def test_case_from_public_reports(case: dict[str, object]) -> None:
    output = redactor.redact(str(case["input"]))

    for secret in case["absent"]:  # type: ignore[attr-defined]
        assert not leaks(output, secret), f"{secret!r} survived in {output!r}"
    for kept in case["present"]:  # type: ignore[attr-defined]
        assert kept in output, f"{kept!r} lost from {output!r}"


def test_the_cases_file_is_not_empty() -> None:
    assert len(CASES) >= 13
