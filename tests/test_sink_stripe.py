"""Stripe errors seen by the sinks reach the recorder with their exact class and fields."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import stripe
from loguru import logger

import redactor
from redactor.alerting._events import ErrorEvent, RequestEvent
from redactor.sinks._stripe_errors import find_stripe_error
from tests.stripe_fake import StripeFake

PAN = "4242424242424242"


class Events:
    """A recorder that keeps what it gets."""

    def __init__(self) -> None:
        self.events: list[ErrorEvent | RequestEvent] = []

    def record(self, event: ErrorEvent | RequestEvent) -> None:
        self.events.append(event)

    @property
    def errors(self) -> list[ErrorEvent]:
        return [event for event in self.events if isinstance(event, ErrorEvent)]


class Adder:
    """Shaped like the alerting aggregator: `add(event)`."""

    def __init__(self) -> None:
        self.added: list[object] = []

    def add(self, event: object) -> None:
        self.added.append(event)


class SplitAdder:
    """Shaped like the alerting aggregator: `add_error(event)` and `add_request(event)`."""

    def __init__(self) -> None:
        self.errors: list[ErrorEvent] = []
        self.requests: list[RequestEvent] = []

    def add_error(self, event: ErrorEvent) -> bool:
        self.errors.append(event)
        return True

    def add_request(self, event: RequestEvent) -> None:
        self.requests.append(event)


class AppError(Exception):
    pass


@pytest.fixture(scope="module")
def fake() -> Iterator[StripeFake]:
    with StripeFake() as server, server.patch_stripe():
        yield server


@pytest.fixture(autouse=True)
def no_sinks() -> Iterator[None]:
    logger.remove()
    yield
    logger.remove()
    redactor.set_error_recorder(None)


def declined(fake: StripeFake, scenario: str) -> stripe.StripeError:
    try:
        stripe.Charge.create(
            api_key="sk_test_x", amount=100, currency="usd", metadata={"scenario": scenario}
        )
    except stripe.StripeError as error:
        return error
    raise AssertionError("the fake accepted the charge")


def test_loguru_sink_records_a_card_error_once_for_several_sinks(fake: StripeFake) -> None:
    events = Events()
    redactor.set_error_recorder(events)
    for _ in range(3):
        logger.add(redactor.loguru_sink(io.StringIO()))
    error = declined(fake, "insufficient_funds")
    try:
        raise AppError(f"checkout with {PAN} failed") from error
    except AppError:
        logger.exception("checkout failed")
    assert [(e.error_class, e.http_status, e.code, e.decline_code) for e in events.errors] == [
        ("CardError", 402, "card_declined", "insufficient_funds")
    ]
    event = events.errors[0]
    assert event.request_id == fake.requests[-1].request_id
    assert event.source == "loguru:tests.test_sink_stripe" and PAN not in event.sample


def test_logging_filter_records_through_the_chain_and_sees_responses(fake: StripeFake) -> None:
    events = Events()
    log = logging.Logger("test.stripe")
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(redactor.RedactingFilter(recorder=events))
    log.addHandler(handler)
    error = declined(fake, "rate_limit")
    try:
        try:
            raise error
        except stripe.StripeError:
            raise RuntimeError("retry loop gave up") from None
    except RuntimeError:
        log.exception("gave up")  # RuntimeError's context is the RateLimitError
    response = logging.LogRecord(
        "stripe", 20, "", 0, "message='Stripe API response' path=x response_code=429", (), None
    )
    handler.handle(response)
    assert [e.error_class for e in events.errors] == ["RateLimitError"]
    assert [e.http_status for e in events.events if isinstance(e, RequestEvent)] == [429]


def test_an_object_with_add_serves_as_recorder(fake: StripeFake) -> None:
    adder = Adder()
    logger.add(redactor.loguru_sink(io.StringIO(), recorder=adder))
    try:
        raise declined(fake, "authentication")
    except stripe.StripeError:
        logger.exception("auth")
    assert [type(e).__name__ for e in adder.added] == ["ErrorEvent"]
    assert adder.added[0].error_class == "AuthenticationError"  # type: ignore[attr-defined]


def test_an_aggregator_shaped_object_gets_errors_and_requests(fake: StripeFake) -> None:
    target = SplitAdder()
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(redactor.RedactingFilter(recorder=target))
    log = logging.Logger("stripe")
    log.addHandler(handler)
    log.info("message='Stripe API response' path=x response_code=402")
    try:
        raise declined(fake, "card_declined")
    except stripe.StripeError:
        log.exception("declined")
    assert [e.error_class for e in target.errors] == ["CardError"]
    assert [e.http_status for e in target.requests] == [402]


def test_errors_of_stripe_before_v8_are_recognised_by_module_and_name() -> None:
    namespace: dict[str, Any] = {"__name__": "stripe.error"}
    exec(
        "class StripeError(Exception):\n"
        "    def __init__(self, message, http_status=None, code=None):\n"
        "        super().__init__(message)\n"
        "        self.http_status, self.code, self.request_id = http_status, code, 'req_1'\n"
        "        self.json_body = {'error': {'decline_code': 'lost_card'}}\n"
        "class CardError(StripeError):\n"
        "    pass\n",
        namespace,
    )
    error = namespace["CardError"]("declined", 402, "card_declined")
    events = Events()
    logger.add(redactor.loguru_sink(io.StringIO(), recorder=events))
    try:
        raise AppError("wrapped") from error
    except AppError:
        logger.exception("failed")
    assert events.errors[0].error_class == "CardError"
    assert events.errors[0].decline_code == "lost_card"


def test_a_look_alike_from_another_package_is_not_a_stripe_error() -> None:
    StripeError = type("StripeError", (Exception,), {"__module__": "mystripe.errors"})
    assert find_stripe_error(StripeError("x")) is None


def test_a_failing_recorder_is_reported_on_stderr(
    fake: StripeFake, capsys: pytest.CaptureFixture[str]
) -> None:
    class Failing:
        def record(self, event: object) -> None:
            raise RuntimeError("aggregator down")

    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream, recorder=Failing()), format="{message}")
    try:
        raise declined(fake, "api_error")
    except stripe.StripeError:
        logger.exception("boom")
    assert stream.getvalue().startswith("boom")
    assert "error recorder failed; event dropped: RuntimeError" in capsys.readouterr().err


def test_importing_redactor_does_not_import_stripe() -> None:
    code = "import sys, redactor, io; redactor.RedactingFilter(); print('stripe' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_public_names_are_exactly_the_intended_ones() -> None:
    assert redactor.__all__ == sorted(redactor.__all__)
    sinks = {
        "ErrorRecorder",
        "RedactingFilter",
        "install_logging",
        "install_loguru",
        "loguru_sink",
        "set_error_recorder",
    }
    assert sinks <= set(redactor.__all__)
    engine = {"Config", "ConfigError", "Finding", "RedactionStats", "Redactor", "StreamRedactor"}
    helpers = {"default_redactor", "load_config", "presidio_recognizers", "redact", "start_alerts"}
    assert set(redactor.__all__) == sinks | engine | helpers
