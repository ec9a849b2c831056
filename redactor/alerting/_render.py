"""The text of a notification: Slack markdown or a plain-text email, with the same facts.

Every string that leaves here has been through the redactor once more, so a sample line that
somehow kept a secret still cannot carry it into a channel.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from ._evaluator import Alert, BacklogEntry, Message

Style = str  # "slack", "email" or "text"
_HEADLINE = {"firing": "FIRING", "repeat": "STILL FIRING", "resolved": "RESOLVED"}


@dataclass(frozen=True)
class Rendered:
    """Title and body for one channel, and apprise's body format for it."""

    title: str
    body: str
    body_format: str


def style_for(url: str) -> Style:
    """How a channel URL wants its text: Slack markdown, email, or plain text."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "slack" or "hooks.slack.com" in url:
        return "slack"
    if scheme in ("mailto", "mailtos"):
        return "email"
    return "text"


def render(
    message: Message, style: Style, dashboard: str, redact: Callable[[str], str]
) -> Rendered:
    """The notification for `message` in `style`, redacted again as defence in depth."""
    title = _title(message)
    slack = style == "slack"
    parts = [_alert_text(alert, slack, dashboard) for alert in message.alerts]
    if message.backlog:
        parts.append(_backlog_text(message.backlog, slack))
    body = "\n\n".join(parts)
    return Rendered(redact(title), redact(body), "markdown" if slack else "text")


def _title(message: Message) -> str:
    if not message.alerts:
        return f"[redactor] Stripe errors while catching up: {len(message.backlog)} rule(s)"
    firing = [a for a in message.alerts if a.kind != "resolved"]
    shown = sorted(firing or message.alerts, key=lambda alert: alert.rule)
    state = "FIRING" if firing else "RESOLVED"
    # Per rule, as in the body: rules may overlap, so a sum would count an error twice.
    counts = ", ".join(f"{a.rule} ({a.count} in {_window(a.window)})" for a in shown)
    return f"[redactor] {state}: {counts}"


def _alert_text(alert: Alert, slack: bool, dashboard: str) -> str:
    bold = "*" if slack else ""
    classes = (
        ", ".join(
            f"{name} {count}"
            for name, count in sorted(alert.by_class.items(), key=lambda item: -item[1])
        )
        or "none"
    )
    until = _clock(alert.until, "%H:%M:%S")
    lines = [
        f"{bold}{_HEADLINE[alert.kind]}: {alert.rule}{bold} ({alert.severity}) at "
        f"{_clock(alert.time)}",
        f"Condition: {alert.condition}",
        f"Errors: {alert.count} in the {_window(alert.window)} up to {until} "
        f"({alert.rate_per_minute:.1f}/min); by type: {classes}",
    ]
    if alert.requests:
        ratio = alert.ratio or 0.0
        lines.append(f"Requests: {alert.requests} ({ratio:.1%} failed)")
    if alert.previous is not None:
        lines.append(f"Previous window: {alert.previous}")
    if alert.decline_codes:
        codes = ", ".join(f"{code} {count}" for code, count in alert.decline_codes)
        lines.append(f"Top decline codes: {codes}")
    lines += _samples(alert, slack, dashboard)
    return "\n".join(lines)


def _samples(alert: Alert, slack: bool, dashboard: str) -> list[str]:
    lines: list[str] = []
    for event in alert.samples:
        sample = event.sample.replace("`", "'")
        lines.append(f"Sample: `{sample}`" if slack else f"Sample: {sample}")
        if event.request_id:
            link = dashboard_link(event.request_id, event.livemode, dashboard)
            # apprise turns a markdown link into Slack's <url|text> form
            lines.append(
                f"Request: [{event.request_id}]({link})"
                if slack
                else f"Request: {event.request_id} {link}"
            )
    return lines


def dashboard_link(request_id: str, livemode: bool | None, default: str) -> str:
    """The Stripe dashboard page of a request: /test/ for test mode, none for live."""
    live = livemode if livemode is not None else default == "live"
    prefix = "" if live else "test/"
    return f"https://dashboard.stripe.com/{prefix}logs/{request_id}"


def _backlog_text(entries: list[BacklogEntry], slack: bool) -> str:
    bold = "*" if slack else ""
    lines = [
        f"{bold}Summary of old log lines read while catching up{bold} (not alerted one by one):"
    ]
    for entry in entries:
        state = "still firing" if entry.firing_now else "resolved"
        lines.append(
            f"- {entry.rule}: fired {entry.firings} time(s) between "
            f"{_clock(entry.first)} and {_clock(entry.last)}, peak {entry.peak}; {state}"
        )
    return "\n".join(lines)


def _clock(seconds: float, layout: str = "%Y-%m-%d %H:%M:%S %Z") -> str:
    return time.strftime(layout, time.localtime(seconds))


def _window(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 else f"{seconds}s"
