"""RedactingFilter's C++ path: plain records redacted in C++ come out as Python has them.

The C++ filter takes only records it can redact exactly as the Python filter does, and hands
every other one to the Python filter untouched; these tests hold it to both halves.
"""

from __future__ import annotations

import gc
import logging
import sys
import weakref
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import redactor
from redactor import RedactingFilter
from tests.engines import counting
from tests.threads import run_at_once

PAN = "4242424242424242"
EMAIL = "jane.doe@example.com"
# Attributes that differ between two records made one after the other.
_TIMING = {"created", "msecs", "relativeCreated", "asctime"}

MESSAGE_PIECES = [
    "charge ",
    "%s",
    "%d",
    "%r",
    "%%",
    " for ",
    "card ",
    PAN,
    "4242 4242 4242 4242",
    EMAIL,
    "jane%40example.com",
    "sk_live_" + "a1B2" * 10,
    '"cvc": "314"',
    "{",
    "[",
    '{"card": "4242424242424242"}',
    "\x1b[31m",
    "\\u001b",
    "\ud800",
    "é",
    "\n",
]
FORMATS = ("%s", "%d", "%r")
ARGUMENTS = [PAN, EMAIL, 4242424242424242, 1999, 3.5, None, "x", b"card", ("a", PAN)]


def _exc_info() -> Any:
    try:
        raise ValueError("declined " + PAN)
    except ValueError:
        return sys.exc_info()


EXC_INFO = _exc_info()
NOT_A_STR = ValueError("declined " + PAN)


class _Spy(RedactingFilter):
    """Notes each record the C++ filter hands to Python, as it was when handed over."""

    def __init__(self, engine: redactor.Redactor) -> None:
        super().__init__(redactor=engine)
        self.handed: list[dict[str, Any]] = []

    def _filter_in_python(self, record: logging.LogRecord) -> bool:
        self.handed.append(dict(vars(record)))
        return super()._filter_in_python(record)


def _record(msg: object, args: Any, name: str = "shop", **details: Any) -> logging.LogRecord:
    record = logging.LogRecord(name, logging.INFO, __file__, 7, msg, args, details.pop("exc", None))
    for key, value in details.items():
        setattr(record, key, value)
    return record


def _state(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _TIMING}


def _both(
    engine: redactor.Redactor, python_engine: redactor.Redactor, make: Any
) -> tuple[dict[str, Any], dict[str, Any], _Spy]:
    """The record `make` builds, once through the C++ filter and once through Python's.

    What each engine counted is compared too.
    """
    native, python = _Spy(engine), RedactingFilter(redactor=python_engine)
    first, second = make(), make()

    with counting(engine, python_engine) as counted:
        assert native.filter(first) is True and python.filter(second) is True

    assert counted[0] == counted[1]
    return _state(first), _state(second), native


def test_plain_records_are_redacted_in_cpp(
    engine: redactor.Redactor, python_engine: redactor.Redactor
) -> None:
    for msg, args in (
        ("charge ch_3PqRs%d created for order %d", (12, 34)),
        ("charge for %s with card %s declined", (EMAIL, PAN)),
        ("no arguments: card " + PAN, ()),
    ):
        native, python, spy = _both(engine, python_engine, lambda m=msg, a=args: _record(m, a))

        assert native == python
        assert spy.handed == []  # all done in C++
    assert native["msg"] == "no arguments: card <CREDIT_CARD>"


def test_a_record_formatted_before_is_redacted_in_cpp(
    engine: redactor.Redactor, python_engine: redactor.Redactor
) -> None:
    def formatted() -> logging.LogRecord:
        record = _record("card %s", (PAN,))
        logging.Formatter("%(asctime)s %(message)s").format(record)  # an unfiltered handler's
        return record

    native, python, spy = _both(engine, python_engine, formatted)

    assert native == python and spy.handed == []
    assert native["message"] == native["msg"] == "card <CREDIT_CARD>"


def test_the_cpp_filter_stands_in_for_the_method_and_counts_what_it_finds(
    engine: redactor.Redactor,
) -> None:
    chosen = RedactingFilter(redactor=engine)
    record = _record("charge for %s with card %s", (EMAIL, PAN))

    with counting(engine) as counted:
        chosen.filter(record)

    assert "filter" in vars(chosen)  # the C++ filter, where the method was
    assert record.getMessage() == "charge for <EMAIL_ADDRESS> with card <CREDIT_CARD>"
    assert counted == [{"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1}]


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: _record("card %s", (PAN,), card=PAN), id="extra field"),
        pytest.param(lambda: _record("card %s", (PAN,), stack_info="at " + PAN), id="stack"),
        pytest.param(lambda: _record("card %s", (PAN,), exc_text="E: " + PAN), id="exc_text"),
        pytest.param(lambda: _record("card %s", (PAN,), exc=EXC_INFO), id="exc_info"),
        pytest.param(lambda: _record("card %s", (PAN,), name="stripe"), id="stripe logger"),
        pytest.param(lambda: _record("%(cvc)s %(card)s", ({"cvc": 314, "card": PAN},)), id="map"),
        pytest.param(lambda: _record(NOT_A_STR, ()), id="message not a str"),
        pytest.param(lambda: _record("card %s %s", (PAN,)), id="arguments that do not fit"),
        pytest.param(lambda: _record('{"card": "%s"}', (PAN,)), id="json with a secret"),
        pytest.param(lambda: _record("\x1b[31mcard %s\x1b[0m", (PAN,)), id="colour codes"),
        pytest.param(lambda: _record("card %s \ud800", (PAN,)), id="lone surrogate"),
        pytest.param(lambda: _record("card %s", [PAN]), id="arguments in a list"),
        pytest.param(lambda: _Subclass("x", 20, "p", 1, "card %s", (PAN,), None), id="subclass"),
    ],
)
def test_records_the_cpp_filter_cannot_settle_reach_python_untouched(
    engine: redactor.Redactor, python_engine: redactor.Redactor, make: Any
) -> None:
    untouched = _state(make())

    native, python, spy = _both(engine, python_engine, make)

    assert [_state_of(handed) for handed in spy.handed] == [untouched]
    assert native == python
    assert PAN not in repr(native)


class _Meddling:
    """An argument whose __str__ gives the record being rendered a field with a secret."""

    def __init__(self) -> None:
        self.record: logging.LogRecord | None = None

    def __str__(self) -> str:
        if self.record is not None:
            self.record.card = PAN
        return "meddler"


def test_a_field_an_argument_adds_while_rendered_is_redacted(engine: redactor.Redactor) -> None:
    meddling = _Meddling()
    record = _record("charge by %s", (meddling,))
    meddling.record = record

    RedactingFilter(redactor=engine).filter(record)

    assert record.getMessage() == "charge by meddler" and record.card == "<CREDIT_CARD>"


class _Subclass(logging.LogRecord):
    """A record class of an app's own: its getMessage may differ, so Python renders it."""


def _state_of(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if key not in _TIMING}


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from(MESSAGE_PIECES), max_size=8),
    st.lists(st.sampled_from(ARGUMENTS), max_size=3),
)
def test_any_record_comes_out_of_the_cpp_filter_as_out_of_python(
    engine: redactor.Redactor,
    python_engine: redactor.Redactor,
    pieces: list[str],
    arguments: list[object],
) -> None:
    msg, args = "".join(pieces), tuple(arguments)

    native, python, _ = _both(engine, python_engine, lambda: _record(msg, args))

    assert native == python


@settings(max_examples=800, deadline=None)
@given(
    st.lists(st.sampled_from([p for p in MESSAGE_PIECES if p not in FORMATS]), max_size=6),
    st.lists(st.sampled_from(ARGUMENTS), max_size=3),
)
def test_records_whose_arguments_fit_come_out_of_the_cpp_filter_as_out_of_python(
    engine: redactor.Redactor,
    python_engine: redactor.Redactor,
    pieces: list[str],
    arguments: list[object],
) -> None:
    # Most of these the C++ filter settles itself.
    msg, args = "".join(pieces) + " %s" * len(arguments), tuple(arguments)

    native, python, _ = _both(engine, python_engine, lambda: _record(msg, args))

    assert native == python


def test_a_record_already_redacted_is_checked_again_in_cpp(engine: redactor.Redactor) -> None:
    spy = _Spy(engine)
    record = _record("card %s", (PAN,))
    spy.filter(record)
    done = _state(record)

    spy.filter(record)
    assert _state(record) == done

    record.msg += f" for {EMAIL}"  # as an app's filter on the next handler might
    spy.filter(record)
    assert record.getMessage() == "card <CREDIT_CARD> for <EMAIL_ADDRESS>"
    assert spy.handed == []


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(MESSAGE_PIECES), max_size=6),
    st.lists(st.sampled_from(MESSAGE_PIECES), max_size=4),
    st.booleans(),
)
def test_a_record_changed_after_redaction_comes_out_as_out_of_python(
    engine: redactor.Redactor,
    python_engine: redactor.Redactor,
    first: list[str],
    added: list[str],
    formatted: bool,
) -> None:
    def changed(chosen: RedactingFilter) -> logging.LogRecord:
        record = _record("".join(first), ())
        chosen.filter(record)
        if formatted:
            logging.Formatter("%(asctime)s %(message)s").format(record)
        record.msg = f"{record.msg}{''.join(added)}"
        chosen.filter(record)
        return record

    native = changed(RedactingFilter(redactor=engine))
    python = changed(RedactingFilter(redactor=python_engine))

    assert _state(native) == _state(python)


def test_a_subclass_with_its_own_filter_keeps_it(engine: redactor.Redactor) -> None:
    seen: list[str] = []

    class Counting(RedactingFilter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(record.name)
            return super().filter(record)

    chosen = Counting(redactor=engine)
    for _ in range(2):
        chosen.filter(record := _record("card %s", (PAN,)))
        assert record.getMessage() == "card <CREDIT_CARD>"

    assert seen == ["shop", "shop"] and "filter" not in vars(chosen)


def test_a_filter_with_the_cpp_path_is_freed_with_its_handler(engine: redactor.Redactor) -> None:
    chosen = RedactingFilter(redactor=engine)
    chosen.filter(_record("card %s", (PAN,)))  # the C++ filter now holds the filter back
    gone = weakref.ref(chosen)

    del chosen
    gc.collect()

    assert gone() is None


def test_eight_threads_filter_through_cpp_at_once(engine: redactor.Redactor) -> None:
    chosen = RedactingFilter(redactor=engine)
    made = [
        [_record("order %d card %s for %s", (n, PAN, EMAIL)) for n in range(500)] for _ in "8" * 8
    ]
    before = engine.stats.by_entity["CREDIT_CARD"]

    run_at_once(lambda index: [chosen.filter(record) for record in made[index]], 8)

    for records in made:
        for number, record in enumerate(records):
            assert record.msg == f"order {number} card <CREDIT_CARD> for <EMAIL_ADDRESS>"
    assert engine.stats.by_entity["CREDIT_CARD"] - before == 8 * 500


def test_the_cpp_filter_refuses_to_run_half_built(engine: redactor.Redactor) -> None:
    from redactor import _native

    empty = _native.LogRecordFilter.__new__(_native.LogRecordFilter)
    with pytest.raises(RuntimeError, match="not initialised"):
        empty.filter(_record("card %s", (PAN,)))

    assert engine.native is not None
    with pytest.raises(ValueError, match="no msg attribute"):
        _native.LogRecordFilter(
            engine.native, logging.LogRecord, (), ("name", "args"), ("message",), print
        )
