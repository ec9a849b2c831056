"""End to end: logs written by the real stripe package, read by the real tailer (once), counted
per class and alerted through apprise to a JSON webhook on 127.0.0.1 — exactly once."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from redactor import Redactor, load_config
from redactor.alerting import build_alert_pipeline
from redactor.tail._settings import TailSettings
from redactor.tail._tailer import Tailer
from tests.alert_support import webhook_server, write_config
from tests.real_logs import produce_logs
from tests.stripe_fake import SCENARIOS, Call, StripeFake
from tests.test_alert_extract import stripe_class

RULES = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 5
window = "5m"

[[rule]]
name = "bad-credentials"
errors = ["AuthenticationError", "PermissionError"]
threshold = 1
window = "5m"
severity = "critical"

[[rule]]
name = "rate-limited"
errors = ["RateLimitError"]
threshold = 50
window = "1m"
"""


@pytest.fixture(scope="module")
def app_logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Counter[str]]:
    with StripeFake(seed=9) as fake:
        logs = produce_logs(tmp_path_factory.mktemp("e2e_logs"), fake)
        expected: Counter[str] = Counter()
        for served in (r for r in fake.requests if r.status >= 400):
            call = Call(fake, served.method, served.path, served.params, "k", served.request_id)
            reply = SCENARIOS[served.scenario](call)
            expected[stripe_class(reply.status, reply.body)] += 1
    expected = Counter({name: count // 4 for name, count in expected.items()})
    expected["SignatureVerificationError"] += 1
    expected["APIConnectionError"] += 1
    return logs, expected


def tail_once(config_path: Path, log: Path, out: Path) -> Any:
    config = load_config(config_path)
    sink, close = build_alert_pipeline(config)
    settings = TailSettings(
        paths=[str(log)],
        output_dir=str(out / "redacted"),
        state_dir=str(out / "tail-state"),
        progress="never",
    )
    assert Tailer(settings, Redactor(config), sink=sink, once=True).run() == 0
    assert close()
    return sink


@pytest.mark.parametrize("style", ["stdlib", "loguru_json"])
def test_tail_once_counts_and_alerts_exactly_once(
    app_logs: Any, tmp_path: Path, style: str
) -> None:
    logs, expected = app_logs
    with webhook_server() as hook:
        path = write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, RULES)
        pipeline = tail_once(path, logs.paths[style], tmp_path)
        assert Counter(pipeline.aggregator.totals) == expected

        assert len(hook.bodies) == 1  # both rules fired together: one grouped message
        body = hook.bodies[0]
        assert "card-declines" in body["title"] and "bad-credentials" in body["title"]
        assert f"CardError {expected['CardError']}" in body["message"]
        assert "rate-limited" not in json.dumps(body)
        for secret in logs.secrets:
            assert secret.value not in json.dumps(body)

        tail_once(path, logs.paths[style], tmp_path / "again")  # a restart reading it again
    assert len(hook.bodies) == 1


def test_the_tail_once_command_delivers_what_fires_before_it_exits(
    app_logs: Any, tmp_path: Path
) -> None:
    logs, expected = app_logs
    with webhook_server() as hook:
        path = write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, RULES)
        command = [
            sys.executable,
            "-m",
            "redactor",
            "--config",
            str(path),
            "tail",
            "--once",
            str(logs.paths["stdlib"]),
            "--output-dir",
            str(tmp_path / "out"),
        ]

        done = subprocess.run(command, capture_output=True, text=True, timeout=120)

        assert done.returncode == 0, done.stderr
        assert len(hook.bodies) == 1
    body = json.dumps(hook.bodies[0])
    assert "card-declines" in body and f"CardError {expected['CardError']}" in body
    assert all(secret.value not in body for secret in logs.secrets)
    assert not any(secret.shows_in(done.stderr) for secret in logs.secrets)
