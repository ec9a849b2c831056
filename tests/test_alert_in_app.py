"""Alerting from inside an app: the sink's Stripe errors reach the rules and an email goes out."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.alert_support import smtp_server, write_config
from tests.stripe_fake import StripeFake

APP = Path(__file__).parent / "apps" / "alerting_app.py"
RULES = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 3
window = "1m"
channels = ["email"]
"""


def test_card_declines_logged_in_app_send_an_email_while_it_runs(tmp_path: Path) -> None:
    with StripeFake() as fake, smtp_server() as (port, mailbox):
        email = f"mailto://127.0.0.1:{port}?from=redactor@example.com&to=ops@example.com"
        config = write_config(tmp_path, {"email": email}, RULES, group_wait="200ms")
        app = subprocess.Popen(
            [sys.executable, str(APP), fake.url, str(config), str(tmp_path / "app.log"), "4"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert app.stdout is not None and app.stdout.readline().strip() == "logged"
            logged = time.monotonic()
            while not mailbox.messages and time.monotonic() - logged < 10:
                time.sleep(0.05)
            arrived = time.monotonic() - logged
        finally:
            _, stderr = app.communicate("", timeout=60)

    assert len(mailbox.messages) == 1, stderr
    assert arrived < 5
    message = mailbox.messages[0]
    assert "CardError" in message and "card-declines" in message
    assert "4242424242424242" not in message and "sk_test_4eC39" not in message
    assert "jane.doe@example.com" not in message
    assert "4242424242424242" not in (tmp_path / "app.log").read_text()
