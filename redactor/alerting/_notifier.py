"""Delivery through apprise on a background worker: bounded queue, outbox, retries.

`submit` never blocks: a full queue drops the notification and says so on stderr. Each
channel is retried with exponential backoff and jitter until it confirms; URLs appear only in
apprise's privacy form in anything we print.
"""

from __future__ import annotations

import logging
import queue
import random
import re
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._outbox import Outbox, Pending
from ._render import Rendered

_APPRISE_LOGGER = "apprise"


@dataclass(frozen=True)
class Delivery:
    """The answer of one attempt: ok, and what the channel said (URL masked)."""

    ok: bool
    detail: str


Sender = Callable[[str, Rendered], Delivery]


def quiet_apprise_logger() -> None:
    """Keep apprise's logger above DEBUG, where it prints webhook URLs with their tokens."""
    logger = logging.getLogger(_APPRISE_LOGGER)
    if logger.getEffectiveLevel() < logging.INFO:
        logger.setLevel(logging.INFO)


def load_apprise() -> Any:
    """Import apprise (once), hiding the deprecation its email plugin's pgpy import raises."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="'imghdr' is deprecated", category=DeprecationWarning
        )
        import apprise

        apprise.Apprise().add("json://127.0.0.1")  # loads the plugins while filtered
    return apprise


_HOST = re.compile(r"[A-Za-z0-9.-]+(?::[0-9]+)?")


def masked(url: str) -> str:
    """A channel URL as it may be shown: its scheme and host, nothing after.

    apprise's privacy form stars passwords but keeps paths and queries, and a webhook's
    token often sits in its path (json://host/TOKEN, Slack's T.../B.../secret).
    """
    scheme, separator, rest = url.partition("://")
    if not separator:
        return "<a channel URL>"
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    # Some services keep a token where the host goes (tgram://BOTTOKEN/...): show a host only
    # when it looks like one.
    name = host.split(":", 1)[0] if _HOST.fullmatch(host) else ""
    return f"{scheme}://{host if '.' in name or name == 'localhost' else '…'}/…"


def apprise_send(url: str, rendered: Rendered) -> Delivery:
    """Send one notification to one apprise URL and read apprise 2.x's result object."""
    apprise = load_apprise()

    quiet_apprise_logger()
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return Delivery(False, "not a valid apprise URL")
    shown = masked(url)  # apprise's own privacy form keeps a webhook's token in the path
    with notifier.notify(
        body=rendered.body,
        title=rendered.title,
        body_format=rendered.body_format,
        log_level=logging.WARNING,
    ) as result:
        if bool(result):
            return Delivery(True, f"{shown}: {result.status.name}")
        return Delivery(False, f"{shown}: {result.status.name}{_messages(result)}")


def _messages(result: Any) -> str:
    texts = [str(getattr(entry, "message", entry)) for entry in result.logs()]
    texts = [text for text in texts if "://" not in text][-2:]  # never a URL with a token
    return f" ({'; '.join(texts)})" if texts else ""


class Notifier:
    """Delivers rendered notifications per channel from a worker thread."""

    def __init__(
        self,
        channels: dict[str, str],
        outbox_dir: Path | None,
        *,
        queue_size: int = 1000,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        sender: Sender = apprise_send,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._channels = channels
        self._outbox = Outbox(outbox_dir)
        self._queue: queue.Queue[Pending | None] = queue.Queue(maxsize=queue_size)
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._send = sender
        if sender is apprise_send:
            load_apprise()  # in the caller's thread: warnings filters are not thread-safe
        self._clock = clock
        self._pending: list[Pending] = self._outbox.load()
        for pending in self._pending:
            pending.next_try.clear()  # left from before a restart: try again at once
        self._lock = threading.Lock()
        self._open = len(self._pending)  # submitted or loaded, not yet done by every channel
        self._stop = threading.Event()
        self.delivered = 0
        self.dropped = 0
        self.handed: list[float] = []
        self._thread = threading.Thread(target=self._run, name="redactor-alerts", daemon=True)
        self._thread.start()

    def submit(self, bodies: dict[str, Rendered]) -> bool:
        """Queue one notification (rendered per channel name); False when the queue is full."""
        now = self._clock()
        pending = Pending(
            uuid.uuid4().hex,
            now,
            {name: vars(rendered).copy() for name, rendered in bodies.items()},
        )
        with self._lock:
            self._open += 1
        try:
            self._queue.put_nowait(pending)
        except queue.Full:
            with self._lock:
                self._open -= 1
            self.dropped += 1
            sys.stderr.write("redactor: alert queue full; a notification was dropped\n")
            return False
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every notification is delivered; True if that happened in `timeout`."""
        deadline = time.monotonic() + timeout
        while self.outstanding:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Deliver what can be delivered within `timeout`; the rest stays in the outbox."""
        done = self.wait_idle(timeout)
        self._stop.set()
        self._queue.put(None)
        self._thread.join(timeout=5.0)
        return done

    @property
    def outstanding(self) -> int:
        """Notifications not yet confirmed by every channel."""
        with self._lock:
            return self._open

    def _run(self) -> None:
        while not self._stop.is_set():
            self._take(self._next_wait())
            self._deliver_due()

    def _next_wait(self) -> float:
        with self._lock:
            dues = [p.next_try.get(name, 0.0) for p in self._pending for name in p.bodies]
        if not dues:
            return 3600.0
        return max(0.0, min(min(dues) - self._clock(), 0.5))

    def _take(self, wait: float) -> None:
        try:
            item = self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return
        while item is not None:
            self._outbox.save(item)
            with self._lock:
                self._pending.append(item)
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return

    def _deliver_due(self) -> None:
        with self._lock:
            batch = list(self._pending)
        for pending in batch:
            for name in list(pending.bodies):
                if pending.next_try.get(name, 0.0) <= self._clock():
                    self._attempt(pending, name)
            if not pending.bodies:
                with self._lock:
                    self._pending.remove(pending)
                    self._open -= 1

    def _attempt(self, pending: Pending, name: str) -> None:
        url = self._channels.get(name)
        if url is None:
            sys.stderr.write(f"redactor: alert channel {name!r} is not configured; dropped\n")
            del pending.bodies[name]
            self._outbox.save(pending)
            return
        self.handed.append(self._clock())
        try:
            outcome = self._send(url, Rendered(**pending.bodies[name]))
        except Exception as error:  # a broken plugin must not kill the worker
            outcome = Delivery(False, f"{type(error).__name__}")
        if outcome.ok:
            del pending.bodies[name]
            pending.next_try.pop(name, None)
            self.delivered += 1
        else:
            self._schedule_retry(pending, name, outcome)
        self._outbox.save(pending)

    def _schedule_retry(self, pending: Pending, name: str, outcome: Delivery) -> None:
        attempt = pending.attempts.get(name, 0) + 1
        pending.attempts[name] = attempt
        delay = min(self._retry_max, self._retry_initial * 2 ** (attempt - 1))
        delay *= random.uniform(0.5, 1.0)
        pending.next_try[name] = self._clock() + delay
        sys.stderr.write(
            f"redactor: alert to {name} failed ({outcome.detail}); "
            f"retry {attempt} in {delay:.1f}s\n"
        )
