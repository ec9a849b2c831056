"""The text of a notification for scripted events: subject and body state the same counts,
taken from one window, as of the moment the message is composed (saved expected outputs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from redactor import load_config
from redactor.alerting import AlertPipeline, Delivery, ErrorEvent
from redactor.alerting._render import Rendered
from tests.alert_support import write_config

T0 = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
RULES = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 2
window = "5m"

[[rule]]
name = "bad-credentials"
errors = ["AuthenticationError", "PermissionError"]
threshold = 1
window = "5m"
severity = "critical"

[[rule]]
name = "insufficient-funds"
errors = ["CardError"]
decline_codes = ["insufficient_funds"]
threshold = 3
window = "1m"
"""
CODES = ["insufficient_funds", "generic_decline", "insufficient_funds", "insufficient_funds"]

BATCH_TITLE = (
    "[redactor] FIRING: bad-credentials (1 in 5m), card-declines (5 in 5m), "
    "insufficient-funds (3 in 1m)"
)
BATCH_BODY = """\
FIRING: bad-credentials (critical) at 2027-01-15 08:00:01 UTC
Condition: 1 or more in 5m
Errors: 1 in the 5m up to 08:00:29 (0.2/min); by type: AuthenticationError 1
Sample: AuthenticationError: Invalid API Key provided: <STRIPE_SECRET_KEY>
Request: req_Auth00000000 https://dashboard.stripe.com/test/logs/req_Auth00000000

FIRING: card-declines (warning) at 2027-01-15 08:00:09 UTC
Condition: 2 or more in 5m
Errors: 5 in the 5m up to 08:00:29 (1.0/min); by type: CardError 5
Top decline codes: insufficient_funds 3, generic_decline 1
Sample: CardError #2 insufficient_funds
Request: req_Card00000002 https://dashboard.stripe.com/test/logs/req_Card00000002
Sample: CardError #3 insufficient_funds
Request: req_Card00000003 https://dashboard.stripe.com/test/logs/req_Card00000003
Sample: CardError #4
Request: req_Card00000004 https://dashboard.stripe.com/test/logs/req_Card00000004

FIRING: insufficient-funds (warning) at 2027-01-15 08:00:23 UTC
Condition: 3 or more in 1m
Errors: 3 in the 1m up to 08:00:29 (3.0/min); by type: CardError 3
Top decline codes: insufficient_funds 3
Sample: CardError #0 insufficient_funds
Request: req_Card00000000 https://dashboard.stripe.com/test/logs/req_Card00000000
Sample: CardError #2 insufficient_funds
Request: req_Card00000002 https://dashboard.stripe.com/test/logs/req_Card00000002
Sample: CardError #3 insufficient_funds
Request: req_Card00000003 https://dashboard.stripe.com/test/logs/req_Card00000003"""


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Render clock times in UTC, whatever the machine's zone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


class Script:
    """A pipeline whose wall clock follows the script and whose channel keeps what it gets."""

    def __init__(self, tmp_path: Path) -> None:
        self.now = T0
        self.received: list[Rendered] = []
        config = load_config(write_config(tmp_path, {"hook": "json://127.0.0.1:9"}, RULES))
        self.pipeline = AlertPipeline(config, sender=self._send, wall=lambda: self.now)

    def _send(self, url: str, rendered: Rendered) -> Delivery:
        self.received.append(rendered)
        return Delivery(True, "kept")

    def auth_error(self, at: float) -> None:
        sample = "AuthenticationError: Invalid API Key provided: <STRIPE_SECRET_KEY>"
        self.pipeline.error(
            ErrorEvent("AuthenticationError", at, 401, sample=sample, **_id(0, "Auth"))
        )

    def card_error(self, at: float, index: int) -> None:
        code = CODES[index] if index < len(CODES) else None
        sample = f"CardError #{index}" + (f" {code}" if code else "")
        event = ErrorEvent(
            "CardError", at, 402, "card_declined", code, sample=sample, **_id(index, "Card")
        )
        self.pipeline.error(event)


def _id(index: int, kind: str) -> dict[str, object]:
    return {"request_id": f"req_{kind}{index:08d}", "livemode": False}


def test_a_backlog_read_at_once_is_one_message_with_the_counts_of_its_end(
    tmp_path: Path,
) -> None:
    script = Script(tmp_path)
    script.auth_error(T0 + 0.5)
    for index in range(5):  # 5 CardErrors within 30 s, 3 of them insufficient_funds
        script.card_error(T0 + 1.5 + 7 * index, index)

    script.pipeline.flush()  # the tailer read them in one batch
    assert script.pipeline.close()

    (message,) = script.received
    assert message.title == BATCH_TITLE
    assert message.body == BATCH_BODY


def test_live_events_are_counted_up_to_when_the_grouped_message_leaves(tmp_path: Path) -> None:
    script = Script(tmp_path)
    for index, at in enumerate([T0 + 1.5, T0 + 8.5, T0 + 15.5]):
        script.now = at
        script.card_error(at, index + 4)  # no decline codes
        script.pipeline.flush()
    script.now = T0 + 16.5
    assert script.pipeline.close()

    (message,) = script.received  # fired at the second error, sent after group_wait
    assert message.title == "[redactor] FIRING: card-declines (3 in 5m)"
    assert message.body.splitlines()[:3] == [
        "FIRING: card-declines (warning) at 2027-01-15 08:00:08 UTC",
        "Condition: 2 or more in 5m",
        "Errors: 3 in the 5m up to 08:00:15 (0.6/min); by type: CardError 3",
    ]


def test_every_alert_counts_by_type_what_it_counts_in_total(tmp_path: Path) -> None:
    script = Script(tmp_path)
    script.auth_error(T0)
    for index in range(12):
        script.card_error(T0 + 3 * index, index % 5)
        script.pipeline.flush()
    assert script.pipeline.close()

    alerts = [alert for message in script.pipeline.messages for alert in message.alerts]
    assert {alert.rule for alert in alerts} == {
        "card-declines",
        "bad-credentials",
        "insufficient-funds",
    }
    for alert in alerts:
        assert sum(alert.by_class.values()) == alert.count
        assert len(alert.samples) <= 3 and all(e.time <= alert.until for e in alert.samples)
