"""The C++ scan loop (redactor/_native.cpp) finds exactly what the Python loop finds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import redactor
from redactor._rules import load_rules, pack_paths
from redactor._scanner import Scanner
from redactor._validators import PanValidator
from redactor.sinks._text import redact_message
from tests.engines import counting
from tests.real_logs import RealLogs
from tests.test_public_report_cases import CASES
from tests.threads import run_at_once

SECRETS = [
    b"4242424242424242",
    b"4242 4242 4242 4242",
    b"jane.doe+shop@example.com",
    b"jane%40example.com",
    b"sk_live_" + b"a1B2" * 20,
    b"whsec_" + b"Z9" * 16,
    b"pi_3PqR_secret_Xy12Zz",
    b'"cvc": "314"',
    b"\xe2\x94\x82     \xe2\x94\x94 '731'",
    b"5555555555...",
]
FILLER = [b" ", b"\n", b"=", b'"', b"x", b"12", b"-", b"%20", b"\\u0020", b"\xff", b"\x00", b"@"]


@pytest.fixture(scope="module")
def scanner(engine: redactor.Redactor) -> Scanner:
    return engine._scanner


@pytest.fixture(scope="module")
def python_scanner(engine: redactor.Redactor) -> Scanner:
    """The same rules scanned by the Python loop only."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REDACTOR_PURE_PYTHON", "1")
        built = Scanner(engine._compiled, engine._variables.marker_pattern)
    assert not built.native
    return built


def test_the_cpp_loop_is_built_and_used_here(scanner: Scanner) -> None:
    # `make test` installs with the compiler this machine has: a silent fallback to the Python
    # loop would cost a third of the throughput without failing anything else.
    assert scanner.native
    assert redactor.Redactor().scan_loop == "C++"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(SECRETS + FILLER), max_size=40))
def test_both_loops_find_the_same_candidates(
    scanner: Scanner, python_scanner: Scanner, pieces: list[bytes]
) -> None:
    data = b"".join(pieces)

    assert scanner.candidates(data) == python_scanner.candidates(data)
    assert scanner.matches(data) == python_scanner.matches(data)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from(SECRETS + FILLER), max_size=30),
    st.integers(0, 400),
    st.integers(0, 400),
)
def test_first_agrees_with_the_python_loop(
    scanner: Scanner, python_scanner: Scanner, pieces: list[bytes], start: int, end: int
) -> None:
    data = b"".join(pieces)
    end = min(end, len(data))  # callers never pass an end past the buffer

    assert scanner.first(data, start, end) == python_scanner.first(data, start, end)


def test_both_loops_agree_on_the_real_logs(
    scanner: Scanner, python_scanner: Scanner, real_logs: RealLogs
) -> None:
    for path in real_logs.paths.values():
        data = Path(path).read_bytes()

        assert scanner.candidates(data) == python_scanner.candidates(data)


def test_a_large_buffer_is_scanned_the_same_with_the_lock_released(
    scanner: Scanner, python_scanner: Scanner
) -> None:
    line = b"user jane@example.com paid with 4242424242424242 order 123456789012\n"
    data = line * 4000  # far over the size from which the scan lets other threads run

    candidates, _ = scanner.candidates(data)

    assert candidates == python_scanner.candidates(data)[0]
    assert len(candidates) == 8000


def test_eight_threads_scan_at_once_without_interference(
    scanner: Scanner, python_scanner: Scanner
) -> None:
    texts = [SECRETS[i % len(SECRETS)] * (200 + i) for i in range(8)]
    expected = [python_scanner.candidates(text) for text in texts]
    results: dict[int, object] = {}

    def scan(index: int) -> None:
        results[index] = [scanner.candidates(texts[index]) for _ in range(50)]

    run_at_once(scan)

    for index in range(8):
        assert results[index] == [expected[index]] * 50


def test_redactor_pure_python_turns_the_cpp_loop_off() -> None:
    code = (
        "import redactor\n"
        "r = redactor.Redactor()\n"
        "print(r.scan_loop)\n"
        "print(r.redact('card 4242424242424242 jane@example.com'))\n"
    )
    environment = {**os.environ, "REDACTOR_PURE_PYTHON": "1"}

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60
    )

    assert result.stdout.splitlines() == ["Python", "card <CREDIT_CARD> <EMAIL_ADDRESS>"]


@pytest.fixture(scope="module")
def pan_validator() -> PanValidator:
    validator = PanValidator(load_rules(pack_paths([], Path(), "")).issuers)
    if validator._is_pan == validator.is_pan:
        pytest.skip("the C++ PAN check is not built or turned off")
    return validator


PREFIXES = ["4", "51", "2221", "2720", "34", "37", "6011", "62", "81", "5018", "9792", "8600"]


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([*PREFIXES, ""]), st.text("0123456789", min_size=0, max_size=21))
def test_the_cpp_pan_check_agrees_with_the_python_one(
    pan_validator: PanValidator, prefix: str, rest: str
) -> None:
    digits = (prefix + rest).encode()
    if len(digits) < 6:
        return  # callers pass runs of 12 or more digits

    assert pan_validator._is_pan(digits) == pan_validator.is_pan(digits)


def test_the_cpp_pan_check_accepts_test_cards_and_rejects_their_neighbours(
    pan_validator: PanValidator,
) -> None:
    for card in (b"4242424242424242", b"378282246310005", b"6200000000000005", b"5018000000009"):
        wrong = card[:-1] + str((int(card[-1:]) + 1) % 10).encode()

        assert pan_validator._is_pan(card) == pan_validator.is_pan(card)
        assert pan_validator._is_pan(wrong) == pan_validator.is_pan(wrong)
    assert pan_validator._is_pan(b"4242424242424242")
    assert not pan_validator._is_pan(b"4242424242424241")


RECORD_PIECES = [
    b"4242424242424242",
    b"378282246310005",
    b"4242424242424241",
    b"501800000009",
    b"123456789012",
    b"4242 4242 4242 4242",
    b"jane.doe+shop@example.com",
    b"O'Brien@Example.IE",
    b"logo@2x.png",
    b"b'jane@example.com'",
    b"'.jane@example.com",
    b"jane@example",
    b"jane%40example.com",
    b"sk_live_" + b"a1B2" * 12,
    b"pi_3PqR_secret_Xy12Zz",
    b'"cvc": "314"',
    b"card=",
    b"trace_id=",
    b"order_id=",
    b'{"number": ',
    b"...",
    b"\xe2\x80\xa6",
    b"\xc3\xa9",
    b"\x1b[1m",
    b"\x1b[0m",
    b"\x1b[",
]
RECORD_FILLER = [b" ", b"=", b'"', b"'", b"x", b"1", b"-", b"+", b".", b"%", b"\\", b":", b"\n"]


def _reference(engine: redactor.Redactor, data: bytes) -> tuple[bytes, list[str]]:
    findings = engine._find(data)
    return engine._apply(data, findings), [finding.entity for finding in findings]


def _agree(engine: redactor.Redactor, python: redactor.Redactor, data: bytes) -> bool:
    """Whether the C++ answer for `data` and its counts are Python's; False if it defers."""
    assert engine._native is not None
    before = engine._native.counts()
    done = engine._native.redact(data)
    if done is None:
        return False
    output, entities = _reference(python, data)
    counted = Counter(engine._native.counts())
    counted.subtract(before)
    assert (done, +counted) == (output, Counter(entities)), data
    return True


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(RECORD_PIECES + RECORD_FILLER), max_size=16))
def test_short_texts_redacted_in_cpp_come_out_as_the_engine_has_them(
    engine: redactor.Redactor, python_engine: redactor.Redactor, pieces: list[bytes]
) -> None:
    data = b"".join(pieces)

    _agree(engine, python_engine, data)
    assert _reference(engine, data) == _reference(python_engine, data)  # the judged scan too


MESSAGE_PIECES = [b"{", b"[", b"\x1b[31m", b"\\u001b", "\ud800".encode("utf-8", "surrogatepass")]


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(RECORD_PIECES + RECORD_FILLER + MESSAGE_PIECES), max_size=16))
def test_messages_redacted_in_cpp_come_out_as_python_has_them(
    engine: redactor.Redactor, python_engine: redactor.Redactor, pieces: list[bytes]
) -> None:
    text = b"".join(pieces).decode("utf-8", "surrogatepass")
    assert engine.native is not None

    with counting(engine, python_engine) as counted:
        done = engine.native.redact_message(text)
        expected = redact_message(python_engine, text) if done is not None else None

    if done is not None:  # else Python's to do, which the sink tests cover
        assert (done, counted[0]) == (expected, counted[1])


def test_the_common_records_are_redacted_in_cpp(
    engine: redactor.Redactor, python_engine: redactor.Redactor
) -> None:
    records = [
        b"charge ch_3PqRs12 created for order 12 amount 1999 usd",
        b"charge for jane.doe@example.com with card 4242424242424242 declined (order 7)",
        b"key sk_live_" + b"Zz09" * 20 + b" rejected",
        b"client secret pi_3PqR_secret_Xy12Zz sent to jane@example.com",
        b"card=4242424242424242&email=jane@example.org",
    ]

    assert all(_agree(engine, python_engine, record) for record in records)


def test_short_texts_agree_with_the_engine_on_every_real_log_line(
    engine: redactor.Redactor, python_engine: redactor.Redactor, real_logs: RealLogs
) -> None:
    answered = 0
    for path in real_logs.paths.values():
        data = Path(path).read_bytes()
        for line in data.splitlines():
            answered += _agree(engine, python_engine, line)

        assert engine.redact_bytes(data) == python_engine.redact_bytes(data)
    assert answered > 100  # most lines are plain enough for the C++ path


def test_short_texts_agree_with_the_engine_on_the_public_report_cases(
    engine: redactor.Redactor, python_engine: redactor.Redactor
) -> None:
    for case in CASES:
        text = str(case["input"]).encode("utf-8", "surrogatepass")

        _agree(engine, python_engine, text)
        assert engine.redact_bytes(text) == python_engine.redact_bytes(text)


def test_a_large_buffer_is_redacted_as_python_does_with_the_lock_released(
    engine: redactor.Redactor, python_engine: redactor.Redactor
) -> None:
    lines = [
        b"user jane@example.com paid with 4242424242424242 order 123456789012\n",
        b"card=4242 4242 4242 4242 trace_id=4242424242424242 b'o@example.org'\n",
        b'{"number": 4242424242424242, "cvc": "314", "key": "sk_live_' + b"x" * 30 + b'"}\n',
    ]
    data = b"".join(lines) * 2000

    assert engine.redact_bytes(data) == python_engine.redact_bytes(data)


def test_native_objects_not_initialised_raise_instead_of_crashing(
    engine: redactor.Redactor,
) -> None:
    from redactor import _native

    for kind, method in (
        (_native.Scanner, "candidates"),
        (_native.IssuerTable, "is_pan"),
        (_native.RecordRedactor, "redact"),
        (_native.RecordRedactor, "judge"),
    ):
        empty = kind.__new__(kind)

        with pytest.raises(RuntimeError, match="not initialised"):
            getattr(empty, method)(b"4242424242424242")


def test_a_record_redactor_built_with_too_few_rules_refuses_their_matches(
    engine: redactor.Redactor,
) -> None:
    from redactor import _native

    assert engine._scanner.native_loop is not None
    issuers = _native.IssuerTable([])
    short = _native.RecordRedactor(engine._scanner.native_loop, issuers, [], [], [])

    assert short.redact(b"card 4242424242424242") is None  # Python's to do
    with pytest.raises(RuntimeError):
        short.judge(b"card 4242424242424242")
