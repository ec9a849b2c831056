"""Classifying Stripe errors from text: real stripe-python logs in every style, and case tables."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import stripe
from stripe._api_requestor import _APIRequestor

from redactor.alerting import STRIPE_ERROR_CLASSES, Aggregator, TextEventExtractor
from redactor.alerting._classes import class_for_response
from redactor.alerting._timestamps import line_time
from tests.real_logs import produce_logs
from tests.stripe_fake import SCENARIOS, Call, StripeFake


def stripe_class(status: int, body: dict[str, Any]) -> str:
    """The class the installed stripe-python raises for this response."""
    error = _APIRequestor().specific_v1_api_error(json.dumps(body), status, body, {}, body["error"])
    return type(error).__name__


@pytest.fixture(scope="module")
def app_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Counter[str]]:
    with StripeFake(seed=5) as fake:
        logs = produce_logs(tmp_path_factory.mktemp("alert_logs"), fake)
        replies = [r for r in fake.requests if r.status >= 400]
        # Each failed request is made once per logging style (four app runs).
        expected: Counter[str] = Counter()
        for served in replies:
            call = Call(
                fake, served.method, served.path, served.params, "sk_test_x", served.request_id
            )
            reply = SCENARIOS[served.scenario](call)
            expected[stripe_class(reply.status, reply.body)] += 1
    expected = Counter({name: count // 4 for name, count in expected.items()})
    kinds = Counter(step["kind"] for step in logs.steps)
    expected["SignatureVerificationError"] += kinds["webhook"]
    expected["APIConnectionError"] += kinds["refused"]
    return logs, expected


def classify(path: Path) -> tuple[Aggregator, list[Any]]:
    aggregator = Aggregator()
    events: list[Any] = []

    def on_error(event: Any) -> None:
        events.append(event)
        aggregator.add_error(event)

    extractor = TextEventExtractor(on_error, aggregator.add_request)
    with path.open("rb") as handle:
        for line in handle:
            extractor.feed(line, path.name, 1.0)
    extractor.flush()
    return aggregator, events


@pytest.mark.parametrize("style", ["loguru", "loguru_json", "stdlib", "traceback"])
def test_each_failed_call_counts_once_with_the_class_stripe_raised(
    app_run: Any, style: str
) -> None:
    logs, expected = app_run
    aggregator, _ = classify(logs.paths[style])
    assert Counter(aggregator.totals) == expected


def test_stripe_console_lines_alone_classify_by_status_and_type(app_run: Any) -> None:
    logs, expected = app_run
    aggregator, events = classify(logs.paths["stripe_console"])
    http_only = {
        k: v
        for k, v in expected.items()
        if k not in ("SignatureVerificationError", "APIConnectionError")
    }
    assert Counter(aggregator.totals) == http_only
    declines = {e.decline_code for e in events if e.error_class == "CardError"}
    assert "insufficient_funds" in declines
    assert all(e.request_id and e.request_id.startswith("req_") for e in events)


def test_requests_are_counted_from_the_response_lines(app_run: Any) -> None:
    logs, _ = app_run
    aggregator, _ = classify(logs.paths["loguru"])
    text = logs.paths["loguru"].read_text()
    assert aggregator.requests_total == text.count("message='Stripe API response'")


def test_event_time_comes_from_the_log_line(app_run: Any) -> None:
    logs, _ = app_run
    _, events = classify(logs.paths["stdlib"])
    first = next(
        line
        for line in logs.paths["stdlib"].read_text().splitlines()
        if "response_code=402" in line
    )
    assert events[0].time == pytest.approx(line_time(first), abs=0.01)
    _, from_stderr = classify(logs.paths["traceback"])
    assert all(event.time == 1.0 for event in from_stderr)  # no timestamps: read time


def test_the_class_list_matches_the_installed_stripe() -> None:
    installed = {
        name
        for name, value in vars(stripe._error).items()
        if isinstance(value, type)
        and issubclass(value, stripe._error.StripeError)
        and value not in (stripe._error.StripeError, stripe._error.StripeErrorWithParamCode)
    }
    assert installed == set(STRIPE_ERROR_CLASSES)


@pytest.mark.parametrize(
    ("status", "error_type", "code", "expected"),
    [
        (429, "invalid_request_error", None, "RateLimitError"),
        (400, "invalid_request_error", "rate_limit", "RateLimitError"),
        (401, "invalid_request_error", None, "AuthenticationError"),
        (402, "card_error", "card_declined", "CardError"),
        (403, "invalid_request_error", None, "PermissionError"),
        (400, "idempotency_error", None, "IdempotencyError"),
        (404, "invalid_request_error", "resource_missing", "InvalidRequestError"),
        (409, "idempotency_error", None, "APIError"),
        (500, "api_error", None, "APIError"),
        (None, None, None, "APIConnectionError"),
    ],
)
def test_error_bodies_map_as_stripe_python_maps_them(
    status: int | None, error_type: str | None, code: str | None, expected: str
) -> None:
    assert class_for_response(status, error_type, code) == expected
    if status is not None:
        body = {"error": {"type": error_type, "code": code, "message": "m"}}
        assert stripe_class(status, body) == expected


LINES = [
    ("stripe.error.CardError: Request req_abc123XYZ: Your card was declined.", "CardError"),
    ("stripe._error.RateLimitError: Request req_abc123XYZ: Too many", "RateLimitError"),
    (
        "2024-05-01 12:00:00,123 ERROR charge failed CardError: Request req_Q1w2e3r4: declined",
        "CardError",
    ),
    (
        "PermissionError: Request req_abc123XYZ: The provided key lacks permissions",
        "PermissionError",
    ),
    (
        '{"error": {"type": "card_error", "code": "card_declined", "decline_code": "lost_card"}}',
        "CardError",
    ),
    (
        '{"text": "2024-05-01T12:00:00Z | ERROR | x\\nstripe._error.APIError: boom\\n", '
        '"record": {"time": {"timestamp": 1714564800.0}}}',
        "APIError",
    ),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_one_line_formats(line: str, expected: str) -> None:
    events: list[Any] = []
    extractor = TextEventExtractor(events.append)
    extractor.feed(line.encode(), "app.log", 5.0)
    extractor.flush()
    assert [e.error_class for e in events] == [expected]


def test_a_python_permission_error_is_not_a_stripe_error() -> None:
    events: list[Any] = []
    extractor = TextEventExtractor(events.append)
    for line in [
        "Traceback (most recent call last):",
        '  File "app.py", line 3, in <module>',
        "PermissionError: [Errno 13] Permission denied: '/var/x'",
        "next line",
    ]:
        extractor.feed(line.encode(), "app.log", 5.0)
    extractor.flush()
    assert events == []


def test_json_decline_code_is_kept_as_a_label() -> None:
    events: list[Any] = []
    extractor = TextEventExtractor(events.append)
    extractor.feed(LINES[4][0].encode(), "app.log", 5.0)
    extractor.flush()
    assert (events[0].code, events[0].decline_code) == ("card_declined", "lost_card")


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-05-01T12:00:00Z", 1714564800.0),
        ("2024-05-01T14:00:00.250+02:00", 1714564800.25),
        ("2024-05-01 12:00:00,500 INFO x", None),  # local time: compared below
    ],
)
def test_timestamps(stamp: str, expected: float | None) -> None:
    import time

    if expected is None:
        expected = time.mktime((2024, 5, 1, 12, 0, 0, 0, 0, -1)) + 0.5
    assert line_time(stamp) == pytest.approx(expected)


def test_stats_command_prints_counts_rates_and_sparklines(app_run: Any, capsys: Any) -> None:
    from redactor._cli import main

    logs, expected = app_run
    assert main(["stats", str(logs.paths["loguru"]), "--spark", "always"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()}
    for name, count in expected.items():
        assert int(rows[name][1]) == count
    assert any(char in "".join(rows["CardError"][4:]) for char in "▁▂▃▄▅▆▇█")
