"""The alerting pipeline: extractor -> aggregator -> rules -> notifier, built from a config.

The tailer hands it redacted lines (`feed`/`flush`), the in-app sink hands it events
(`error`/`request`); both are cheap and never wait for a channel.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .._schema import ConfigError
from ._aggregator import Aggregator
from ._evaluator import Evaluator, Message
from ._events import ErrorEvent, RequestEvent
from ._extractor import TextEventExtractor
from ._notifier import Notifier, Sender, apprise_send
from ._render import render, style_for
from ._rules import Rule, load_rules
from ._settings import check_alerts, default_state_dir
from ._state import AlertState

if TYPE_CHECKING:
    from .._config import Config
    from .._engine import Redactor

_TICK = 0.1


def resolve_channels(config: Config) -> dict[str, str]:
    """The `[alerts.channels]` URLs with `${VAR}` expanded (every `[alerts]` setting checked)."""
    return check_alerts(config).channels


def state_dir(config: Config) -> Path:
    """The folder of the outbox and the alert state."""
    setting = config.alerts.state_dir
    return config.resolve(setting) if setting else default_state_dir()


class AlertPipeline:
    """Everything between a log line (or a sink's event) and a notification handed to apprise.

    With `live=True` a ticker thread advances the rules by the wall clock, so alerts resolve
    when errors stop; otherwise rules advance with the lines read (any timestamped line moves
    event time on) and `close()` advances them to the wall clock and finishes them.
    """

    def __init__(
        self,
        config: Config,
        *,
        live: bool = False,
        sender: Sender = apprise_send,
        wall: Callable[[], float] = time.time,
        redactor: Redactor | None = None,
    ) -> None:
        settings, checked = config.alerts, check_alerts(config)
        self.rules: list[Rule] = load_rules(config)
        self.channels = checked.channels
        folder = state_dir(config)
        self._dashboard = settings.dashboard
        self._redact = redactor.redact if redactor is not None else _default_redact()
        self._wall = wall
        self._lock = threading.Lock()
        self.aggregator = Aggregator(dedup_window=max([r.window for r in self.rules] + [300]))
        self.extractor = TextEventExtractor(
            self._on_error, self._on_request, on_time=self.aggregator.observe
        )
        self.notifier = Notifier(
            self.channels,
            folder / "outbox",
            queue_size=settings.queue_size,
            retry_initial=checked.retry_initial,
            retry_max=checked.retry_max,
            sender=sender,
        )
        self.evaluator = Evaluator(
            self.rules,
            self.aggregator,
            self._send,
            AlertState.load(folder / "state.json"),
            group_wait=checked.group_wait,
            max_per_minute=settings.max_per_minute,
            stale_after=checked.stale_after,
            sample_lines=settings.sample_lines,
            wall=wall,
        )
        self._delivery_timeout = checked.delivery_timeout
        self.messages: list[Message] = []
        self._stop = threading.Event()
        self._mark = (float("-inf"), 0.0)  # the newest event time, and when the ticker saw it
        self._ticker: threading.Thread | None = None
        if live:
            self._ticker = threading.Thread(target=self._tick, name="redactor-rules", daemon=True)
            self._ticker.start()

    def feed(self, line: bytes, source: str, read_time: float) -> None:
        """One redacted log line from the tailer."""
        with self._lock:
            self.extractor.feed(line, source, read_time)

    def flush(self) -> None:
        """The tailer finished a batch: evaluate rules up to the newest event."""
        with self._lock:
            self._live_clock(self._wall())  # notes when the newest event time was read
            self.evaluator.advance(self.aggregator.watermark)

    def error(self, event: ErrorEvent) -> None:
        """One classified error from the in-app sink."""
        with self._lock:
            self._on_error(event)

    def request(self, event: RequestEvent) -> None:
        """One Stripe request seen by the in-app sink (success or not)."""
        with self._lock:
            self.aggregator.add_request(event)

    def record(self, event: ErrorEvent | RequestEvent) -> None:
        """Take an event from the in-app sinks (the `ErrorRecorder` protocol)."""
        if isinstance(event, ErrorEvent):
            self.error(event)
        else:
            self.request(event)

    def close(self) -> bool:
        """Finish: classify what is held, evaluate, deliver (up to `delivery_timeout`)."""
        if self._stop.is_set():
            return True  # closed already (by the app, then again at exit)
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self.extractor.flush()
            self.evaluator.finish()
        return self.notifier.close(self._delivery_timeout)

    def _on_error(self, event: ErrorEvent) -> None:
        self.aggregator.add_error(event)

    def _on_request(self, event: RequestEvent) -> None:
        self.aggregator.add_request(event)

    def _send(self, message: Message) -> None:
        names = message.channels or tuple(self.channels)
        bodies = {}
        for name in names:
            if name not in self.channels:
                continue
            style = style_for(self.channels[name])
            bodies[name] = render(message, style, self._dashboard, self._redact)
        self.messages.append(message)
        if bodies:
            self.notifier.submit(bodies)

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            now = self._wall()
            try:
                with self._lock:
                    self.extractor.expire(now)
                    if self.aggregator.watermark != float("-inf"):
                        self.evaluator.advance(self._live_clock(now))
            except Exception as error:  # keep ticking; report outside logging
                sys.stderr.write(f"redactor: alert rules failed: {type(error).__name__}\n")

    def _live_clock(self, now: float) -> float:
        """Event time while following files.

        The wall clock, or, when the log's clock runs ahead of it, the newest event time plus
        the wall time passed since it was seen.
        """
        watermark = self.aggregator.watermark
        if watermark != self._mark[0]:
            self._mark = (watermark, now)
        return max(now, watermark + now - self._mark[1])


def _default_redact() -> Callable[[str], str]:
    from .. import default_redactor

    return default_redactor().redact  # built now, so a bad rule pack fails here, not later


def start_alerts(config: Config | str | Path | None = None) -> AlertPipeline:
    """Alert from inside the app: Stripe errors the sinks and filters see feed the rules.

    Builds a live pipeline from the config (a path, a loaded Config, or the bundled one),
    makes it the recorder of every sink and filter without a `recorder=` of its own, and
    closes it (delivering what is pending) when the interpreter exits.
    """
    from .._config import Config, load_config
    from ..sinks import set_error_recorder

    loaded = config if isinstance(config, Config) else load_config(config)
    pipeline = AlertPipeline(loaded, live=True)
    set_error_recorder(pipeline)
    atexit.register(pipeline.close)
    return pipeline


def build_alert_pipeline(config: Config) -> tuple[AlertPipeline, Callable[[], bool]]:
    """For the tailer: the line sink (feed/flush) and the function that finishes it."""
    if not config.alerts.rules:
        raise ConfigError(str(config.source), "alerts.rules", "no alert rules configured")
    pipeline = AlertPipeline(config)
    return pipeline, pipeline.close
