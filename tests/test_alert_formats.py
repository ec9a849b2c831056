"""Which log lines count as Stripe errors and requests in the tailer: the examples of
docs/alerting.md as a case table (lines in -> classes and request count out)."""

from __future__ import annotations

import pytest

from redactor.alerting import ErrorEvent, RequestEvent, TextEventExtractor

TRACEBACK = [
    "2024-05-01 12:00:00,123 ERROR app: charge failed",
    "Traceback (most recent call last):",
    '  File "/app/pay.py", line 12, in charge',
    '    stripe.PaymentIntent.create(amount=500, currency="usd")',
    "stripe._error.CardError: Request req_Nb8sJ2tEkq1Lm: Your card was declined.",
]
LOGFMT = [
    "message='Request to Stripe api' method=post url=https://api.stripe.com/v1/payment_intents",
    "message='Stripe API response' path=https://api.stripe.com/v1/payment_intents "
    "response_code=402",
    "error_code=card_declined error_message='Your card was declined.' error_param=None "
    "error_type=card_error message='Stripe v1 API error received'",
]
LOGFMT_OK = [
    "message='Request to Stripe api' method=get url=https://api.stripe.com/v1/customers/cus_1",
    "message='Stripe API response' path=https://api.stripe.com/v1/customers/cus_1 "
    "response_code=200",
]
JSON_BODY = [
    '{"error": {"type": "card_error", "code": "card_declined", "decline_code": '
    '"insufficient_funds", "message": "Your card has insufficient funds.", '
    '"request_log_url": "https://dashboard.stripe.com/test/logs/req_Q3w9xYz1AbCd"}}'
]
LOGURU_JSON = [
    '{"text": "2024-05-01 12:00:00.123 | ERROR | pay:charge:12 - charge failed\\n'
    "Traceback (most recent call last):\\n"
    '  File \\"/app/pay.py\\", line 12, in charge\\n'
    'stripe._error.RateLimitError: Request req_Zx81KqLm2Np: Too many requests\\n", '
    '"record": {"time": {"timestamp": 1714564800.123}}}'
]
ONE_LINE = [
    "2024-05-01 12:00:00 ERROR payments: stripe.error.AuthenticationError: "
    "Invalid API Key provided: <STRIPE_SECRET_KEY>"
]
BARE_AMBIGUOUS = ["2024-05-01 12:00:00 ERROR payments: APIError: Something went wrong"]
BARE_WITH_REQUEST = [
    "2024-05-01 12:00:00 ERROR payments: APIError: Something went wrong (request req_Ab12Cd34Ef5)"
]
FREE_TEXT = [
    "2024-05-01 12:00:00 ERROR stripe Stripe API error: Invalid API Key provided: "
    "<STRIPE_SECRET_KEY> (request req_Ab12Cd34Ef5)"
]
PYTHON_PERMISSION = ["PermissionError: [Errno 13] Permission denied: '/var/x'"]


def extract(lines: list[str]) -> tuple[list[ErrorEvent], list[RequestEvent]]:
    errors: list[ErrorEvent] = []
    requests: list[RequestEvent] = []
    extractor = TextEventExtractor(errors.append, requests.append)
    for line in lines:
        extractor.feed(line.encode(), "app.log", 100.0)
    extractor.flush()
    return errors, requests


@pytest.mark.parametrize(
    ("lines", "classes", "requests"),
    [
        (TRACEBACK, [("CardError", "req_Nb8sJ2tEkq1Lm")], 0),
        (LOGFMT, [("CardError", None)], 1),
        (LOGFMT_OK, [], 1),
        (JSON_BODY, [("CardError", "req_Q3w9xYz1AbCd")], 0),
        (LOGURU_JSON, [("RateLimitError", "req_Zx81KqLm2Np")], 0),
        (ONE_LINE, [("AuthenticationError", None)], 0),
        (BARE_WITH_REQUEST, [("APIError", "req_Ab12Cd34Ef5")], 0),
        (BARE_AMBIGUOUS, [], 0),
        (FREE_TEXT, [], 0),
        (PYTHON_PERMISSION, [], 0),
    ],
    ids=[
        "traceback",
        "stripe-logfmt-error",
        "stripe-logfmt-success",
        "stripe-error-json-body",
        "loguru-json-record",
        "class-name-in-a-line",
        "ambiguous-class-with-request-id",
        "ambiguous-class-alone",
        "app-free-text",
        "python-permission-error",
    ],
)
def test_what_counts_as_a_stripe_error_or_request(
    lines: list[str], classes: list[tuple[str, str | None]], requests: int
) -> None:
    errors, seen = extract(lines)

    assert [(event.error_class, event.request_id) for event in errors] == classes
    assert len(seen) == requests


def test_the_line_timestamp_is_the_event_time() -> None:
    (traceback,), _ = extract(TRACEBACK)
    (loguru,), _ = extract(LOGURU_JSON)

    assert traceback.time == loguru.time == 1714564800.123  # 2024-05-01 12:00:00.123 UTC


def test_a_json_body_keeps_its_decline_code() -> None:
    (event,), _ = extract(JSON_BODY)

    assert (event.decline_code, event.livemode) == ("insufficient_funds", False)
