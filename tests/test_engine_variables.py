"""Values that loguru's diagnose prints alone under a source line, judged by variable name."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from loguru import logger

from redactor import StreamRedactor, default_redactor


def charge(api_key: str, number: str, cvc: str, amount: int) -> None:
    raise ValueError("declined")


def pay() -> None:
    cvc = "731"
    security_code = 555
    charge("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4242424242424242", cvc, 2000 + security_code)


class Utf8Stream(io.StringIO):
    """A text stream that says it is UTF-8, so loguru draws its box characters."""

    encoding = "utf-8"


def logged_failure(stream: io.StringIO, **options: Any) -> str:
    """What loguru writes to `stream` for a failed `pay()` with diagnose on."""
    handler = logger.add(stream, diagnose=True, backtrace=False, **options)
    try:
        pay()
    except ValueError:
        logger.exception("payment failed")
    finally:
        logger.remove(handler)
    return stream.getvalue()


@pytest.fixture(params=[Utf8Stream, io.StringIO], ids=["box-drawing", "ascii"])
def diagnose_traceback(request: pytest.FixtureRequest) -> str:
    return logged_failure(request.param(), colorize=False, format="{message}")


def corner(traceback: str) -> str:
    return "└ " if "└ " in traceback else "-> "


def test_the_traceback_shows_the_values_alone(diagnose_traceback: str) -> None:
    mark = corner(diagnose_traceback)

    assert f"{mark}'731'" in diagnose_traceback and f"{mark}555" in diagnose_traceback


def test_values_of_sensitive_variables_are_redacted(diagnose_traceback: str) -> None:
    out = default_redactor().redact(diagnose_traceback)
    mark = corner(diagnose_traceback)

    assert f"{mark}'731'" not in out and f"{mark}555" not in out
    assert f"{mark}'<CARD_CVC>'" in out and f"{mark}<CARD_CVC>" in out
    assert "sk_live_4eC39" not in out and "4242424242424242" not in out


def test_other_values_and_the_rest_of_the_traceback_are_kept(diagnose_traceback: str) -> None:
    out = default_redactor().redact(diagnose_traceback)

    assert "ValueError: declined" in out
    assert out.count("\n") == diagnose_traceback.count("\n")
    assert "<function charge at" in out


def test_a_traceback_fed_line_by_line_is_still_understood(diagnose_traceback: str) -> None:
    stream = StreamRedactor(default_redactor())
    lines = diagnose_traceback.encode().splitlines(keepends=True)

    out = b"".join(stream.feed(line) for line in lines) + stream.flush()

    assert out.decode() == default_redactor().redact(diagnose_traceback)


def test_a_value_under_a_harmless_name_is_kept() -> None:
    text = "    total(order, 731)\n    │     └ 'ord_731'\n    └ <function total>\n"

    assert default_redactor().redact(text) == text


def test_loguru_json_keeps_the_traceback_in_one_string_and_is_still_redacted() -> None:
    raw = logged_failure(Utf8Stream(), serialize=True)

    out = default_redactor().redact(raw)

    record = json.loads(out)
    assert "└ '731'" in json.loads(raw)["text"]
    assert "└ '731'" not in record["text"] and "└ 555" not in record["text"]
    assert "└ '<CARD_CVC>'" in record["text"] and "└ <CARD_CVC>" in record["text"]


def vault(pan: str, code: str) -> None:
    raise ValueError("declined")


def tokenize(pan: str, code: str) -> None:
    vault(pan, code)


def create_payment(card_number: str, cvc: str) -> None:
    tokenize(card_number, cvc)


def test_a_code_passed_on_under_another_name_is_redacted_in_the_next_frame() -> None:
    stream = Utf8Stream()
    handler = logger.add(stream, diagnose=True, backtrace=False, colorize=False, format="{message}")
    try:
        create_payment("4242424242424242", "314")
    except ValueError:
        logger.exception("failed")
    finally:
        logger.remove(handler)
    raw = stream.getvalue()
    assert raw.count("└ '314'") == 2  # under `cvc`, then under `code`

    out = default_redactor().redact(raw)

    assert "└ '314'" not in out and out.count("└ '<CARD_CVC>'") == 2
