"""`[alerts]` settings: `check`, `tail` and `alerts test` refuse the same bad values, naming
file and key, and never print a channel URL (or the token in it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from redactor._cli import main
from tests.alert_support import webhook_server, write_config

RULE = """
[[rule]]
name = "any-error"
threshold = 1
window = "5m"
"""
TOKEN = "T01ABCDEF/B02GHIJKL/abcdefghijklmnopqrstuvwx"
GOOD = {"hook": "json://127.0.0.1:9/alerts", "slack": f"https://hooks.slack.com/services/{TOKEN}"}


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(
    ("channels", "settings", "key", "expected"),
    [
        (
            {"slack": "${SLACK_WEBHOOK_URL}"},
            {},
            "alerts.channels.slack",
            "environment variable SLACK_WEBHOOK_URL is not set",
        ),
        ({"pager": "notaurl"}, {}, "alerts.channels.pager", "not an apprise URL"),
        ({"pager": f"pagerz://{TOKEN}"}, {}, "alerts.channels.pager", "no plugin for pagerz://"),
        ({"slack": f"slack://{TOKEN[:9]}"}, {}, "alerts.channels.slack", "rejects this slack://"),
        ({}, {"group_wait": "5 parsecs"}, "alerts.group_wait", "expected a duration"),
        ({}, {"retry_initial": "soon"}, "alerts.retry_initial", "expected a duration"),
        ({}, {"retry_initial": "0s"}, "alerts.retry_initial", "above zero"),
        ({}, {"retry_max": "100ms"}, "alerts.retry_max", "at least retry_initial"),
        ({}, {"stale_after": "banana"}, "alerts.stale_after", "expected a duration"),
        ({}, {"delivery_timeout": "-5s"}, "alerts.delivery_timeout", "expected a duration"),
        ({}, {"max_per_minute": -3}, "alerts.max_per_minute", "expected 1 to 10000, got -3"),
        ({}, {"queue_size": 0}, "alerts.queue_size", "expected 1 to 1000000, got 0"),
        ({}, {"sample_lines": -1}, "alerts.sample_lines", "expected 0 to 50, got -1"),
        ({}, {"group_wait": "1d"}, "alerts.group_wait", "expected at most 5m"),
        (
            {},
            {"stale_after": "0s"},
            "alerts.stale_after",
            "expected more than the longest rule window (300s), got 0s",
        ),
        (
            {},
            {"stale_after": "5m"},
            "alerts.stale_after",
            "expected more than the longest rule window (300s), got 300s",
        ),
    ],
)
def test_check_refuses_bad_alert_settings_naming_file_and_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    channels: dict[str, str],
    settings: dict[str, Any],
    key: str,
    expected: str,
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    config = write_config(tmp_path, channels, RULE, **settings)

    status, out, err = run(["--config", str(config), "check"], capsys)

    assert status == 2
    assert f"{config}: {key}: " in err and expected in err
    assert TOKEN[:9] not in err + out and "ok" not in out


def test_a_token_from_the_environment_is_never_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"slack:/{TOKEN}")  # a typo: one slash
    config = write_config(tmp_path, {"slack": "${SLACK_WEBHOOK_URL}"}, RULE)

    status, _, err = run(["--config", str(config), "check"], capsys)

    assert status == 2 and "alerts.channels.slack: not an apprise URL" in err
    assert TOKEN[:9] not in err


def test_check_passes_what_tail_and_alerts_test_accept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"https://hooks.slack.com/services/{TOKEN}")
    channels = {**GOOD, "env": "${SLACK_WEBHOOK_URL}"}
    config = write_config(tmp_path, channels, RULE, group_wait="1s", max_per_minute=1)

    status, out, err = run(["--config", str(config), "check"], capsys)

    assert (status, err) == (0, "")
    assert f"{config}: alerts ok (1 alert rule, 3 channels)" in out


def test_alerts_test_refuses_what_check_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, GOOD, RULE, stale_after="banana")

    status, _, err = run(["--config", str(config), "alerts", "test"], capsys)

    assert status == 2 and f"{config}: alerts.stale_after: expected a duration" in err


def test_tail_refuses_a_negative_cap_and_sends_nothing(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("stripe.error.AuthenticationError: Invalid API Key provided (req_Abc123def)\n")
    with webhook_server() as hook:
        channels = {"hook": f"json://127.0.0.1:{hook.port}"}
        config = write_config(tmp_path, channels, RULE, max_per_minute=-3)
        command = [sys.executable, "-m", "redactor", "--config", str(config), "tail", "--once"]
        command += [str(log), "--output-dir", str(tmp_path / "out")]

        done = subprocess.run(command, capture_output=True, text=True, timeout=60)

        assert done.returncode == 2
        assert f"{config}: alerts.max_per_minute: expected 1 to 10000, got -3" in done.stderr
        assert hook.bodies == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (
            "threshold = 0",
            "rule[0] (any-error).threshold: expected a threshold of at least 1, got 0",
        ),
        (
            "ratio = 0.0",
            "rule[0] (any-error).ratio: expected a ratio above 0 and at most 1, got 0.0",
        ),
        (
            "ratio = 1.5",
            "rule[0] (any-error).ratio: expected a ratio above 0 and at most 1, got 1.5",
        ),
        ("spike = -2.0", "rule[0] (any-error).spike: expected a spike factor above 0, got -2.0"),
        ("", "rule[0] (any-error): expected exactly one of threshold, ratio or spike"),
        (
            "threshold = 1\nspike = 2.0",
            "rule[0] (any-error): expected exactly one of threshold, ratio or spike",
        ),
    ],
)
def test_check_says_what_is_wrong_with_a_rule_condition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], condition: str, expected: str
) -> None:
    rule = f'[[rule]]\nname = "any-error"\n{condition}\nwindow = "5m"\n'
    config = write_config(tmp_path, GOOD, rule)

    status, _, err = run(["--config", str(config), "check"], capsys)

    assert status == 2
    assert f"{tmp_path / 'rules.toml'}: {expected}" in err


def test_alert_state_folders_are_private(tmp_path: Path) -> None:
    from redactor import load_config
    from redactor.alerting import AlertPipeline, Delivery, ErrorEvent

    config = write_config(tmp_path, GOOD, RULE)
    deeper = str(tmp_path / "a" / "b" / "state")
    config.write_text(config.read_text().replace(str(tmp_path / "state"), deeper))

    pipeline = AlertPipeline(load_config(config), sender=lambda url, r: Delivery(True, "kept"))
    pipeline.error(ErrorEvent("CardError", 1_800_000_000.0))
    assert pipeline.close()

    assert (tmp_path / "a" / "b" / "state" / "state.json").exists()
    for folder in ["a", "a/b", "a/b/state", "a/b/state/outbox"]:
        assert oct((tmp_path / folder).stat().st_mode & 0o777) == "0o700", folder
