"""Alerts resolve: in the daemon by the wall clock, in `--once` runs by the lines read past an
episode and by the end of the run; old episodes are summed up with their peak and outcome.
The real tailer runs in a subprocess; notifications go to json:// or aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import email
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from redactor import load_config
from redactor.alerting import AlertPipeline, Delivery
from redactor.alerting._render import Rendered
from tests.alert_support import smtp_server, webhook_server, write_config

FAST = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 3
window = "3s"
resolve_after = "1s"
"""
USERS = """
[[rule]]
name = "card-declines"
errors = ["CardError"]
threshold = 3
window = "5m"
"""


def stamp(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(moment))


def card_error(moment: float, index: int) -> str:
    return (
        f"{stamp(moment)} ERROR payments: stripe.error.CardError: "
        f"Request req_Card{index:08d}: Your card was declined.\n"
    )


def info(moment: float) -> str:
    return f"{stamp(moment)} INFO payments: order shipped\n"


def tail(config: Path, log: Path, out: Path, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "redactor",
        "--config",
        str(config),
        "tail",
        *options,
        str(log),
        "--output-dir",
        str(out),
    ]


def titles(bodies: list[dict[str, Any]]) -> list[str]:
    return [body["title"] for body in bodies]


def wait_for(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def notified(tmp_path: Path) -> bool:
    state = json.loads((tmp_path / "state" / "state.json").read_text())
    return bool(state["rules"]["card-declines"]["notified"])


def test_the_daemon_resolves_by_the_wall_clock_when_errors_stop(tmp_path: Path) -> None:
    log = tmp_path / "live.log"
    log.write_text("")
    with webhook_server() as hook:
        config = write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, FAST)
        daemon = subprocess.Popen(
            tail(config, log, tmp_path / "out"), stderr=subprocess.PIPE, text=True
        )
        try:
            time.sleep(1.0)  # watching
            now = time.time()
            with log.open("a") as handle:
                handle.writelines(card_error(now, index) for index in range(4))
            wait_for(lambda: len(hook.bodies) >= 1, timeout=10)
            # No line is written any more: only the wall clock can end the episode.
            wait_for(lambda: len(hook.bodies) >= 2, timeout=10)
        finally:
            daemon.send_signal(signal.SIGTERM)
            _, errors = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, errors
    assert titles(hook.bodies) == [
        "[redactor] FIRING: card-declines (4 in 3s)",
        "[redactor] RESOLVED: card-declines (0 in 3s)",
    ]
    assert not notified(tmp_path)


def test_a_once_run_resolves_what_an_earlier_run_fired_when_lines_read_on(
    tmp_path: Path,
) -> None:
    log = tmp_path / "app.log"
    started = time.time()
    log.write_text("".join(card_error(started, index) for index in range(4)))
    with webhook_server() as hook:
        config = write_config(tmp_path, {"hook": f"json://127.0.0.1:{hook.port}"}, FAST)
        first = subprocess.run(tail(config, log, tmp_path / "out", "--once"), timeout=60)
        assert first.returncode == 0
        assert titles(hook.bodies) == ["[redactor] FIRING: card-declines (4 in 3s)"]
        assert notified(tmp_path)

        time.sleep(max(0.0, started + 4.5 - time.time()))  # window + resolve_after passed
        with log.open("a") as handle:
            handle.write(info(time.time()))  # no error since: the episode is over
        second = subprocess.run(tail(config, log, tmp_path / "out", "--once"), timeout=60)
    assert second.returncode == 0
    assert titles(hook.bodies)[1:] == ["[redactor] RESOLVED: card-declines (0 in 3s)"]
    assert not notified(tmp_path)


T0 = 1_800_000_000.0


def test_a_timestamped_line_without_an_error_moves_event_time_on(tmp_path: Path) -> None:
    sent: list[Rendered] = []

    def keep(url: str, rendered: Rendered) -> Delivery:
        sent.append(rendered)
        return Delivery(True, "kept")

    config = load_config(write_config(tmp_path, {"hook": "json://127.0.0.1:9"}, USERS))
    config.alerts.group_wait = "0s"
    pipeline = AlertPipeline(config, sender=keep, wall=lambda: T0 + 600)
    for index in range(4):
        pipeline.feed(card_error(T0 + index, index).encode(), "app.log", T0 + 600)
    pipeline.flush()
    firing = [(a.rule, a.kind) for m in pipeline.messages for a in m.alerts]
    assert firing == [("card-declines", "firing")]

    pipeline.feed(info(T0 + 420).encode(), "app.log", T0 + 600)
    pipeline.flush()  # before close: the INFO line alone ended the episode

    kinds = [(a.kind, a.time) for m in pipeline.messages for a in m.alerts]
    # Below 80% of 3 once the 2nd error left the window (its second complete), then 1m more.
    assert kinds[1:] == [("resolved", T0 + 1 + 300 + 1 + 60)]
    assert pipeline.close()


@pytest.fixture
def utc() -> Iterator[None]:
    """Log lines and notifications in UTC, here and in the tailer (which inherits TZ)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.mark.usefixtures("utc")
def test_an_old_backlog_is_summed_up_with_its_peak_and_resolved(tmp_path: Path) -> None:
    base = float(int(time.time()) // 60 * 60 - 3 * 3600)  # well past stale_after
    bursts = [(base, 5), (base + 1800, 8), (base + 3600, 11)]
    lines: list[str] = []
    for start, count in bursts:  # one error every 2 seconds
        lines += [card_error(start + 2 * i, len(lines) + i) for i in range(count)]
        lines.append(info(start + 60))
    log = tmp_path / "app.log"
    log.write_text("".join(lines))

    with smtp_server() as (port, box):
        url = f"mailto://127.0.0.1:{port}?from=redactor@example.com&to=ops@example.com"
        config = write_config(tmp_path, {"email": url}, USERS)
        command = tail(config, log, tmp_path / "out", "--once")
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr

    (raw,) = box.messages
    parsed = email.message_from_string(raw)
    assert parsed["Subject"] == "[redactor] Stripe errors while catching up: 1 rule(s)"
    body = parsed.get_payload(decode=True).decode().replace("\r\n", "\n").strip()
    # Fired when the 3rd error's second was complete; resolved when the window held only 2
    # (below 80% of 3) for 1m: the 9th of 11 errors, at +16 s, left the window at +316 s.
    first, last = base + 4 + 1, base + 3600 + 16 + 300 + 1 + 60
    assert body == (
        "Summary of old log lines read while catching up (not alerted one by one):\n"
        f"- card-declines: fired 3 time(s) between {clock(first)} and {clock(last)}, peak 11; "
        "resolved"
    )
    assert not notified(tmp_path)


def clock(moment: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(moment))


def test_a_live_pipeline_resolves_when_the_log_clock_runs_ahead_of_the_wall(
    tmp_path: Path,
) -> None:
    wall = [T0]
    config = load_config(write_config(tmp_path, {"hook": "json://127.0.0.1:9"}, USERS))
    config.alerts.group_wait = "0s"
    sent: list[Rendered] = []
    pipeline = AlertPipeline(
        config,
        live=True,
        sender=lambda url, r: sent.append(r) or Delivery(True, ""),
        wall=lambda: wall[0],
    )
    ahead = T0 + 3600  # the app logs naive UTC on a machine whose local time is behind
    for index in range(4):
        pipeline.feed(card_error(ahead, index).encode(), "app.log", T0)
    pipeline.flush()

    wall[0] = T0 + 400  # nothing more is written: 400 s of wall time pass
    wait_for(lambda: len(pipeline.messages) >= 2, timeout=5)
    assert pipeline.close()
    kinds = [a.kind for m in pipeline.messages for a in m.alerts]
    assert kinds == ["firing", "resolved"]
