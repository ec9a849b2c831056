"""Rules on event time: thresholds, ratios, spikes, pending, hysteresis, repeats, grouping,
caps, backlogs and restarts. Real aggregator and evaluator; the wall clock is a variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from redactor import ConfigError, load_config
from redactor.alerting import Aggregator, ErrorEvent, Evaluator, Message, RequestEvent
from redactor.alerting._rules import load_rule_file
from redactor.alerting._state import AlertState

T0 = 1_800_000_000.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rules_from(tmp_path: Path, text: str) -> list[Any]:
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return load_rule_file(path)


class Harness:
    """Events in at event times; the wall clock follows the events (live) unless told."""

    def __init__(
        self, tmp_path: Path, rules: str, state: Path | None = None, **options: Any
    ) -> None:
        self.clock = Clock(T0)
        self.aggregator = Aggregator()
        self.sent: list[Message] = []
        self.evaluator = Evaluator(
            rules_from(tmp_path, rules),
            self.aggregator,
            self.sent.append,
            AlertState.load(state),
            wall=self.clock,
            group_wait=options.pop("group_wait", 0.0),
            **options,
        )

    def errors(
        self, at: float, count: int = 1, name: str = "CardError", live: bool = True, **fields: Any
    ) -> None:
        for _ in range(count):
            self.aggregator.add_error(ErrorEvent(name, at, **fields))
        if live:
            self.clock.now = max(self.clock.now, at)
        self.evaluator.advance(max(self.aggregator.watermark, at))

    def quiet_until(self, at: float) -> None:
        self.clock.now = at
        self.evaluator.advance(at)

    def kinds(self) -> list[tuple[str, str]]:
        return [(a.rule, a.kind) for m in self.sent for a in m.alerts]


CARD = """
[[rule]]
name = "card"
errors = ["CardError"]
threshold = 20
window = "5m"
repeat = "0s"
"""


def test_threshold_fires_once_when_crossed(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD)
    for second in range(19):
        h.errors(T0 + second)
    assert h.sent == []
    h.errors(T0 + 19)
    h.errors(T0 + 20, count=10)
    assert h.kinds() == [("card", "firing")]
    alert = h.sent[0].alerts[0]
    assert alert.count >= 20 and alert.window == 300 and alert.by_class["CardError"] >= 20


def test_resolved_notice_after_errors_stop(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD)
    h.errors(T0, count=25)
    h.quiet_until(T0 + 300 + 61)
    assert h.kinds() == [("card", "firing"), ("card", "resolved")]


def test_pending_period_must_hold_before_firing(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD.replace('repeat = "0s"', 'repeat = "0s"\npending = "30s"'))
    h.errors(T0, count=25)
    h.quiet_until(T0 + 29)
    assert h.sent == []
    h.quiet_until(T0 + 31)
    assert h.kinds() == [("card", "firing")]


def test_a_rate_hovering_at_the_threshold_does_not_flap(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD)
    # 4 errors every 60 s: a 5-minute window holds 19-21 of them as it slides.
    for minute in range(60):
        h.errors(T0 + minute * 60 + (minute % 3), count=4)
        h.quiet_until(T0 + minute * 60 + 59)
    assert h.kinds() == [("card", "firing")]


def test_repeat_interval_while_firing(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD.replace('repeat = "0s"', 'repeat = "10m"'))
    for minute in range(25):
        h.errors(T0 + minute * 60, count=10)
    assert h.kinds() == [("card", "firing"), ("card", "repeat"), ("card", "repeat")]


def test_error_ratio_needs_the_minimum_of_requests(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        """
[[rule]]
name = "ratio"
ratio = 0.25
min_requests = 40
window = "1m"
""",
    )
    for second in range(30):
        h.aggregator.add_request(RequestEvent(T0 + second))
    h.errors(T0 + 30, count=10)  # 10 of 30: a third, but too few requests
    assert h.sent == []
    for second in range(30, 40):
        h.aggregator.add_request(RequestEvent(T0 + second))
    h.errors(T0 + 40, count=1)
    assert h.kinds() == [("ratio", "firing")]
    assert h.sent[0].alerts[0].requests == 40


def test_spike_against_the_previous_window(tmp_path: Path) -> None:
    h = Harness(
        tmp_path,
        """
[[rule]]
name = "spike"
spike = 3.0
min_count = 15
window = "1m"
""",
    )
    for second in range(0, 120, 6):
        h.errors(T0 + second)  # a steady 10 per minute
    assert h.sent == []
    h.errors(T0 + 125, count=25)
    assert h.kinds() == [("spike", "firing")]
    alert = h.sent[0].alerts[0]
    assert alert.previous is not None and alert.previous >= 9
    assert alert.count >= 3 * alert.previous


TWO = (
    CARD
    + """
[[rule]]
name = "outage"
errors = ["APIError", "APIConnectionError"]
threshold = 5
window = "1m"
"""
)


def test_a_burst_across_types_is_one_message(tmp_path: Path) -> None:
    h = Harness(tmp_path, TWO, group_wait=0.5)
    h.errors(T0, count=25, name="CardError")
    h.errors(T0 + 0.2, count=6, name="APIError")
    h.clock.now = T0 + 1
    h.evaluator.advance(T0 + 1)
    assert len(h.sent) == 1
    assert sorted(a.rule for a in h.sent[0].alerts) == ["card", "outage"]


def test_cap_on_messages_per_minute(tmp_path: Path) -> None:
    rules = "".join(
        f'\n[[rule]]\nname = "r{i}"\nerrors = ["CardError"]\nthreshold = {i + 1}\nwindow = "1h"\n'
        for i in range(10)
    )
    h = Harness(tmp_path, rules, max_per_minute=3)
    for i in range(10):
        h.errors(T0 + i * 2)
        h.clock.now = T0 + i * 2 + 1
        h.evaluator.advance(T0 + i * 2 + 1)
    assert len(h.sent) == 3
    h.quiet_until(T0 + 61)
    assert len(h.sent) == 4
    assert sorted(a.rule for m in h.sent for a in m.alerts) == sorted(f"r{i}" for i in range(10))


def test_a_day_of_backlog_is_one_summary(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD)
    h.clock.now = T0 + 86400 + 3600
    for hour in range(24):  # a burst every hour, a day ago
        h.errors(T0 + hour * 3600, count=30, live=False)
    h.evaluator.finish()
    assert h.kinds() == []
    assert len(h.sent) == 1
    (entry,) = h.sent[0].backlog
    assert (entry.rule, entry.firings, entry.peak) == ("card", 24, 30)


def test_caught_up_backlog_then_live_alerts_normally(tmp_path: Path) -> None:
    h = Harness(tmp_path, CARD)
    h.clock.now = T0 + 7200
    h.errors(T0, count=30, live=False)
    h.errors(T0 + 7200, count=30)
    assert len(h.sent) == 2
    assert h.sent[0].backlog and h.kinds() == [("card", "firing")]


def test_reading_the_same_lines_after_a_restart_is_quiet(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = Harness(tmp_path, CARD, state=state)
    first.errors(T0, count=25)
    first.evaluator.finish()
    assert first.kinds() == [("card", "firing")]
    again = Harness(tmp_path, CARD, state=state)
    again.errors(T0, count=25)
    again.errors(T0 + 30, count=5)
    again.evaluator.finish()
    assert again.sent == []
    assert oct(state.stat().st_mode & 0o777) == "0o600"


def test_a_restart_during_an_episode_does_not_fire_again(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = Harness(tmp_path, CARD, state=state)
    first.errors(T0, count=25)
    first.evaluator.finish()
    resumed = Harness(tmp_path, CARD, state=state)  # resumes after the last line read
    resumed.errors(T0 + 60, count=25)
    assert resumed.sent == []
    resumed.quiet_until(T0 + 60 + 300 + 61)
    assert resumed.kinds() == [("card", "resolved")]


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ('[[rule]]\nname = "a"\nthreshold = "many"\n', "rule[0].threshold", "expected an integer"),
        (
            '[[rule]]\nname = "a"\nthreshold = 1\nwindow = "5 minutes"\n',
            "rule[0] (a).window",
            "duration",
        ),
        (
            '[[rule]]\nname = "a"\nthreshold = 1\nerrors = ["CardErorr"]\n',
            "rule[0] (a).errors[0]",
            "unknown Stripe error class",
        ),
        ('[[rule]]\nname = "a"\nthreshold = 1\nratio = 0.1\n', "rule[0] (a)", "exactly one"),
        ('[[rule]]\nname = "a"\nthreshold = 1\ncolour = "red"\n', "rule[0].colour", "unknown key"),
        (
            '[[rule]]\nname = "a"\nthreshold = 1\nchannels = ["pager"]\n',
            "rule (a).channels[0]",
            "unknown channel",
        ),
    ],
)
def test_bad_rule_files_name_file_and_key(
    tmp_path: Path, text: str, key: str, message: str
) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.toml").write_text(text)
    config = tmp_path / "config.toml"
    config.write_text('[alerts]\nrules = ["rules/*.toml"]\n[alerts.channels]\nslack = "json://x"\n')
    from redactor.alerting import load_rules

    with pytest.raises(ConfigError) as caught:
        load_rules(load_config(config))
    assert caught.value.source == str(tmp_path / "rules" / "bad.toml")
    assert caught.value.key == key and message in caught.value.message


def test_check_command_validates_alert_rules(tmp_path: Path, capsys: Any) -> None:
    from redactor._cli import main

    (tmp_path / "bad.toml").write_text('[[rule]]\nname = "a"\nthreshold = 1\nwindow = "x"\n')
    config = tmp_path / "config.toml"
    config.write_text('[alerts]\nrules = ["bad.toml"]\n')
    assert main(["--config", str(config), "check"]) == 2
    assert "bad.toml: rule[0] (a).window" in capsys.readouterr().err


def test_shipped_rules_load() -> None:
    rules = load_rule_file(Path(__file__).parent.parent / "alerts" / "stripe.toml")
    assert {r.name for r in rules} >= {"card-declines", "error-ratio", "error-spike"}
