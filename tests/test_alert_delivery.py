"""Delivery through apprise's real plugins: email to aiosmtpd, Slack at the transport, json://
to a local server; channels down and back, restarts with pending alerts, no secret leaks."""

from __future__ import annotations

import email
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from redactor import load_config
from redactor.alerting import AlertPipeline, ErrorEvent, masked
from redactor.alerting._notifier import quiet_apprise_logger
from tests.alert_support import slack_transport, smtp_server, webhook_server, write_config

RULE = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 3
window = "5m"
"""
SLACK = "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/abcdefghijklmnopqrstuvwx"
SECRET_KEY = "sk_live_51Hx" + "Q" * 40


def fire(pipeline: AlertPipeline, count: int = 3, sample: str = "") -> None:
    now = time.time()
    for index in range(count):
        pipeline.error(
            ErrorEvent(
                "CardError",
                now,
                402,
                "card_declined",
                "insufficient_funds",
                f"req_Abc{index}defGhi",
                sample or f"declined #{index}",
                "app.log",
                False,
            )
        )
    pipeline.flush()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_email_through_apprise_to_smtp(tmp_path: Path) -> None:
    with smtp_server() as (port, box):
        url = f"mailto://127.0.0.1:{port}?from=redactor@example.com&to=ops@example.com"
        config = load_config(write_config(tmp_path, {"email": url}, RULE))
        pipeline = AlertPipeline(config)
        fire(pipeline)
        assert pipeline.close()
    (raw,) = box.messages
    parsed = email.message_from_string(raw)
    mail = f"Subject: {parsed['Subject']}\n" + parsed.get_payload(decode=True).decode()
    assert "Subject: [redactor] FIRING: card-declines (3 in 5m)" in mail
    assert "CardError 3" in mail and "insufficient_funds 3" in mail
    assert "https://dashboard.stripe.com/test/logs/req_Abc2defGhi" in mail


def test_slack_through_the_real_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with slack_transport(monkeypatch) as slack:
        config = load_config(write_config(tmp_path, {"slack": SLACK}, RULE))
        pipeline = AlertPipeline(config)
        fire(pipeline)
        assert pipeline.close()
    assert slack.urls == [SLACK]
    text = str(slack.sent[0])
    assert "card-declines" in text and "CardError 3" in text
    assert "<https://dashboard.stripe.com/test/logs/req_Abc0defGhi|req_Abc0defGhi>" in text
    assert "insufficient_funds" in text and "declined #2" in text


def test_live_requests_link_to_the_live_dashboard(tmp_path: Path) -> None:
    with webhook_server() as hook:
        config = load_config(
            write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, RULE)
        )
        pipeline = AlertPipeline(config)
        now = time.time()
        for index in range(3):
            pipeline.error(
                ErrorEvent("CardError", now, request_id=f"req_Live{index}xyz", livemode=True)
            )
        pipeline.flush()
        assert pipeline.close()
    body = hook.bodies[0]["message"]
    assert "https://dashboard.stripe.com/logs/req_Live0xyz" in body


def test_channel_down_is_retried_until_it_answers(tmp_path: Path) -> None:
    with smtp_server() as (port, box), webhook_server() as hook:
        box.refuse = True
        hook.status = 500
        channels = {
            "email": f"mailto://127.0.0.1:{port}?from=a@example.com&to=b@example.com",
            "hook": f"json://127.0.0.1:{hook.port}",
        }
        config = load_config(
            write_config(tmp_path, channels, RULE, retry_initial="100ms", retry_max="200ms")
        )
        pipeline = AlertPipeline(config, live=True)
        fire(pipeline)
        wait_for(lambda: pipeline.notifier.handed.__len__() >= 4)
        assert box.messages == [] and hook.bodies == []
        box.refuse = False
        hook.status = 200
        assert pipeline.close()
    assert len(box.messages) == 1 and len(hook.bodies) == 1


def test_slack_500_and_timeout_then_delivered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with slack_transport(monkeypatch) as slack:
        slack.status = 500
        config = load_config(
            write_config(tmp_path, {"slack": SLACK}, RULE, retry_initial="50ms", retry_max="100ms")
        )
        pipeline = AlertPipeline(config, live=True)
        fire(pipeline)
        wait_for(lambda: len(slack.urls) >= 2)
        slack.timeout = True
        wait_for(lambda: len(slack.urls) >= 4)
        slack.timeout, slack.status = False, 200
        assert pipeline.close()
    assert len(slack.sent) == 1


def test_restart_with_a_pending_alert_delivers_it_once(tmp_path: Path) -> None:
    with webhook_server() as hook:
        hook.status = 503
        path = write_config(
            tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, RULE, delivery_timeout="300ms"
        )
        first = AlertPipeline(load_config(path))
        fire(first)
        assert not first.close()  # the channel is down: the alert waits in the outbox
        outbox = list((tmp_path / "state" / "outbox").glob("*.json"))
        assert len(outbox) == 1 and oct(outbox[0].stat().st_mode & 0o777) == "0o600"

        hook.status = 200
        second = AlertPipeline(load_config(path))
        fire(second)  # the same episode goes on after the restart: no second alert
        assert second.close()
        assert len(hook.bodies) == 1
        assert list((tmp_path / "state" / "outbox").glob("*.json")) == []

        third = AlertPipeline(load_config(path))
        assert third.close()
    assert len(hook.bodies) == 1


def test_a_secret_in_a_sample_never_reaches_a_notification(tmp_path: Path) -> None:
    with webhook_server() as hook:
        config = load_config(
            write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, RULE)
        )
        pipeline = AlertPipeline(config)
        # A sample that (wrongly) still holds a key and a card number.
        fire(pipeline, sample=f"declined key={SECRET_KEY} card 4242 4242 4242 4242")
        assert pipeline.close()
    text = str(hook.bodies)
    assert SECRET_KEY not in text and "4242 4242 4242 4242" not in text
    assert "<STRIPE_SECRET_KEY>" in text


def test_channel_urls_are_masked_and_apprise_stays_above_debug(tmp_path: Path, capsys: Any) -> None:
    logging.getLogger("apprise").setLevel(logging.NOTSET)
    root = logging.getLogger()
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        quiet_apprise_logger()
        assert logging.getLogger("apprise").getEffectiveLevel() >= logging.INFO
    finally:
        root.setLevel(old)
    assert "abcdefghijklmnopqrstuvwx" not in masked(SLACK)
    config = load_config(
        write_config(
            tmp_path,
            {"hook": "json://127.0.0.1:9/x"},
            RULE,
            delivery_timeout="200ms",
            retry_initial="1s",
        )
    )
    pipeline = AlertPipeline(config)
    fire(pipeline)
    pipeline.close()
    err = capsys.readouterr().err
    assert "alert to hook failed" in err


def test_submit_never_blocks_when_the_queue_is_full(tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path, {"hook": "json://127.0.0.1:9/x"}, RULE, queue_size=1, delivery_timeout="0s"
        )
    )
    pipeline = AlertPipeline(config)
    from redactor.alerting._render import Rendered

    started = time.perf_counter()
    for _ in range(200):
        pipeline.notifier.submit({"hook": Rendered("t", "b", "text")})
    assert time.perf_counter() - started < 0.5
    assert pipeline.notifier.dropped > 0
    pipeline.close()


def test_alerts_test_command_sends_to_a_channel(tmp_path: Path, capsys: Any) -> None:
    from redactor._cli import main

    with webhook_server() as hook:
        path = write_config(
            tmp_path, {"hook": f"json://127.0.0.1:{hook.port}/${{HOOK_PATH}}"}, RULE
        )
        import os

        os.environ["HOOK_PATH"] = "secret-path-token"
        try:
            assert main(["--config", str(path), "alerts", "test", "hook"]) == 0
        finally:
            del os.environ["HOOK_PATH"]
    assert "test notification" in hook.bodies[0]["title"]
    assert "hook (" in capsys.readouterr().out


def test_a_failed_delivery_names_the_channel_without_its_token(tmp_path: Path, capsys: Any) -> None:
    from redactor._cli import main

    with webhook_server() as hook:
        hook.status = 501
        url = f"jsons://user:PASSWORDX@127.0.0.1:{hook.port}/hooks/T0000/XXSECRETTOKENXX"
        path = write_config(tmp_path, {"hook": url}, RULE)

        status = main(["--config", str(path), "alerts", "test", "hook"])

    out, err = capsys.readouterr()
    assert status != 0 and "FAILED" in out
    for part in ("XXSECRETTOKENXX", "PASSWORDX", "T0000"):
        assert part not in out + err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://127.0.0.1:18765/secrettoken123?x=1", "json://127.0.0.1:18765/…"),
        ("tgram://123456:ABCsecret/999", "tgram://…/…"),
        ("mailto://user:pw@smtp.example.com?to=ops@example.com", "mailto://smtp.example.com/…"),
    ],
)
def test_a_masked_url_shows_no_path_query_or_credentials(url: str, shown: str) -> None:
    assert masked(url) == shown
