"""Whole-message redaction as the sinks do it: plain, ANSI-coloured and JSON messages."""

from __future__ import annotations

import json

import pytest

from redactor import Redactor
from redactor.sinks._text import redact_message, redact_value

PAN = "4242424242424242"


@pytest.fixture(scope="module")
def engine() -> Redactor:
    return Redactor()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid with 4242424242424242 ok", "paid with <CREDIT_CARD> ok"),
        ("4242\x1b[0m424242424242", "<CREDIT_CARD>"),
        ("\x1b[31m4242\x1b[0m\x1b[1m4242\x1b[0m42424242 by x", "<CREDIT_CARD> by x"),
        ("\x1b[1m4242424242424242\x1b[0m7", "<CREDIT_CARD>7"),
        ("\x1b[32mjane@example.com\x1b[0m", "<EMAIL_ADDRESS>"),
        ("line one\n\x1b[33m4242 4242\x1b[0m 4242 4242\n", "line one\n<CREDIT_CARD>\n"),
        ("\x1b]8;;http://x\x07sk_test_abcdefghijklmnop\x1b]8;;\x07", "<STRIPE_SECRET_KEY>"),
    ],
)
def test_secrets_are_found_through_colour_codes(engine: Redactor, text: str, expected: str) -> None:
    assert redact_message(engine, text) == expected


def test_a_clean_coloured_line_keeps_its_codes(engine: Redactor) -> None:
    text = "\x1b[32m2024-05-01\x1b[0m | \x1b[1mINFO\x1b[0m | order 77 packed\n"
    assert redact_message(engine, text) == text


def test_clean_text_comes_back_as_the_same_object(engine: Redactor) -> None:
    text = "2024-05-01 12:00:00 INFO charge ch_3Ab created for order 1234"
    assert redact_message(engine, text) is text


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"text": f"card {PAN}", "n": 1}, ["text"]),
        ({"record": {"extra": {"card": int(PAN)}}}, ["record", "extra", "card"]),
        ({"record": {"extra": {"card": float(PAN)}}}, ["record", "extra", "card"]),
        ({"text": "4242\x1b[0m424242424242"}, ["text"]),
        ({"list": [1, f"{PAN}", {"deep": ["jane@example.com"]}]}, ["list", 1]),
        ({"jane@example.com": "a key that is a secret"}, None),
    ],
)
def test_json_messages_stay_valid_json(engine: Redactor, document: object, path: list) -> None:
    text = json.dumps(document, ensure_ascii=False) + "\n"
    out = redact_message(engine, text)
    parsed = json.loads(out)
    assert out.endswith("\n")
    assert PAN not in out and "jane@example.com" not in out
    value = parsed
    for step in path or []:
        value = value[step]
    assert path is None or "<CREDIT_CARD>" in value


def test_json_text_without_secrets_is_left_byte_for_byte(engine: Redactor) -> None:
    text = '{"a":  1,   "order": "ord_123456789012", "b": [1,2]}\n'
    assert redact_message(engine, text) == text


def test_text_that_only_looks_like_json_is_redacted_as_text(engine: Redactor) -> None:
    assert redact_message(engine, "{not json} 4242424242424242") == "{not json} <CREDIT_CARD>"


def test_values_are_copied_only_where_something_changed(engine: Redactor) -> None:
    clean = {"order": 7, "items": ["a", "b"], "nested": {"x": None, "y": True}}
    assert redact_value(engine, clean) is clean
    dirty = {"order": 7, "customer": {"emails": ("jane@example.com",), "card": int(PAN)}}
    out = redact_value(engine, dirty)
    assert out == {
        "order": 7,
        "customer": {"emails": ("<EMAIL_ADDRESS>",), "card": "<CREDIT_CARD>"},
    }
    assert dirty["customer"]["card"] == int(PAN)


def test_objects_with_secret_text_are_replaced_by_their_redacted_text(engine: Redactor) -> None:
    class Customer:
        def __str__(self) -> str:
            return "Customer(jane@example.com)"

    assert redact_value(engine, Customer()) == "Customer(<EMAIL_ADDRESS>)"


def test_values_under_security_code_names_are_redacted_whole(engine: Redactor) -> None:
    extras = {"cvc": "271", "card": {"number": "4242424242424242", "securityCode": 382}, "n": 3}

    out = redact_value(engine, extras)

    assert out == {
        "cvc": "<CARD_CVC>",
        "card": {"number": "<CREDIT_CARD>", "securityCode": "<CARD_CVC>"},
        "n": 3,
    }


def test_stdlib_extra_fields_named_like_a_cvc_are_redacted() -> None:
    import io
    import logging

    from redactor import RedactingFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s %(cvc)s %(card)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("tests.sink_text.cvc")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("declined", extra={"cvc": "456", "card": {"cvc": "321"}})
    finally:
        logger.removeHandler(handler)

    assert stream.getvalue() == "declined <CARD_CVC> {'cvc': '<CARD_CVC>'}\n"
