"""Rule evaluation on event time: windows, pending periods, hysteresis, repeats, grouping.

The evaluator steps through completed one-second buckets in event-time order, so a backlog
is judged as it happened; transitions older than `stale_after` (by the wall clock) are folded
into one backlog summary instead of being notified one by one. Time never goes backwards.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ._aggregator import REQUESTS, Aggregator, Key
from ._events import ErrorEvent
from ._rules import Rule
from ._state import AlertState, RuleMemory

Kind = Literal["firing", "resolved", "repeat"]
_EMPTY: dict[Key, int] = {}


@dataclass
class Alert:
    """One rule's transition, with the facts a person needs to act on it.

    `time` is when the rule changed state; the counts are those of the rule's window ending
    at `until` (event time), the newest moment evaluated when the notification was composed.
    Every count comes from the same window, so `by_class` sums to `count`.
    """

    rule: str
    kind: Kind
    time: float
    until: float
    severity: str
    channels: tuple[str, ...]
    condition: str
    count: int = 0
    window: int = 1
    requests: int = 0
    previous: int | None = None
    by_class: dict[str, int] = field(default_factory=dict)
    decline_codes: list[tuple[str, int]] = field(default_factory=list)
    samples: list[ErrorEvent] = field(default_factory=list)

    @property
    def rate_per_minute(self) -> float:
        return self.count * 60.0 / self.window

    @property
    def ratio(self) -> float | None:
        return self.count / self.requests if self.requests else None


@dataclass
class BacklogEntry:
    """What one rule would have notified while old log lines were being caught up."""

    rule: str
    firings: int = 0
    first: float = 0.0
    last: float = 0.0
    peak: int = 0
    firing_now: bool = False


@dataclass
class Message:
    """One notification: grouped alerts and/or a backlog summary, for a set of channels."""

    channels: tuple[str, ...]
    alerts: list[Alert] = field(default_factory=list)
    backlog: list[BacklogEntry] = field(default_factory=list)


class _Runtime:
    """A rule's sliding windows (current and previous) and its alert state."""

    def __init__(self, rule: Rule, memory: RuleMemory) -> None:
        self.rule = rule
        self.size = 2 * rule.window
        self.ring = [0] * self.size
        self.requests_ring = [0] * self.size
        self.current = self.previous = self.requests = 0
        self.phase: Literal["ok", "pending", "firing"] = "ok"
        self.since = 0.0
        self.below_since: float | None = None
        self.memory = memory
        self.value = self._matcher()

    def _matcher(self) -> Callable[[dict[Key, int]], int]:
        classes, codes = self.rule.errors, self.rule.decline_codes
        if codes:
            every = "*" in classes
            wanted = set(codes)
            return lambda b: sum(
                n
                for k, n in b.items()
                if isinstance(k, tuple) and k[1] in wanted and (every or k[0] in classes)
            )
        if "*" in classes:
            return lambda b: sum(n for k, n in b.items() if isinstance(k, str) and k != REQUESTS)
        if len(classes) == 1:
            only = classes[0]
            return lambda b: b.get(only, 0)
        return lambda b: sum(b.get(name, 0) for name in classes)

    def push(self, second: int, bucket: dict[Key, int]) -> None:
        slot, middle = second % self.size, (second - self.rule.window) % self.size
        value, requests = self.value(bucket), bucket.get(REQUESTS, 0)
        self.current += value - self.ring[middle]
        self.previous += self.ring[middle] - self.ring[slot]
        self.ring[slot] = value
        self.requests += requests - self.requests_ring[middle]
        self.requests_ring[slot] = requests

    def add_late(self, second: int, key: Key, count: int, cursor: int) -> None:
        age = cursor - 1 - second
        if age >= self.size:
            return
        value = count if key == REQUESTS else self.value({key: count})
        if key == REQUESTS:
            self.requests_ring[second % self.size] += count
            self.requests += count if age < self.rule.window else 0
            return
        self.ring[second % self.size] += value
        if age < self.rule.window:
            self.current += value
        else:
            self.previous += value

    def idle(self) -> bool:
        return self.phase == "ok" and not (self.current or self.previous or self.requests)

    def level(self, extra: int = 0, extra_requests: int = 0) -> float:
        """How far the condition is met: 1.0 at the limit."""
        rule, count = self.rule, self.current + extra
        if rule.kind == "threshold":
            return count / rule.limit
        if rule.kind == "ratio":
            requests = max(self.requests + extra_requests, count)
            if requests < rule.min_requests:
                return 0.0
            return count / requests / rule.limit
        if count < rule.min_count:
            return 0.0
        return count / (rule.limit * max(self.previous, 1))


class Evaluator:
    """Evaluates every rule as event time advances and hands out `Message`s to send."""

    def __init__(
        self,
        rules: list[Rule],
        aggregator: Aggregator,
        send: Callable[[Message], None],
        state: AlertState,
        *,
        group_wait: float = 0.5,
        max_per_minute: int = 6,
        stale_after: float = 900.0,
        sample_lines: int = 3,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.aggregator = aggregator
        self._send = send
        self._state = state
        self._rules = [_Runtime(rule, state.rule(rule.name)) for rule in rules]
        self._group_wait = group_wait
        self._max_per_minute = max_per_minute
        self._stale_after = stale_after
        self._sample_lines = sample_lines
        self._wall = wall
        self._cursor: int | None = None
        self._started: float | None = None
        self._resumed = state.watermark  # the previous run read every line up to here
        self._groups: dict[tuple[str, ...], list[Alert]] = {}
        self._group_since: float | None = None
        self._sent: deque[float] = deque()
        self._backlog: dict[str, BacklogEntry] = {}
        self._span = max((rule.window * 2 for rule in rules), default=2)
        self._window_end = (0, 0.0)  # (first second not counted, the moment evaluated)
        self.last_time = float("-inf")

    def advance(self, clock: float) -> None:
        """Evaluate every completed second up to `clock` (event time), then the current one.

        A `clock` behind the newest moment evaluated changes nothing: judging an older moment
        again would count its errors as current once more and restart the resolve timer.
        """
        if self._cursor is None:
            if self.aggregator.watermark == float("-inf"):
                return
            self._cursor = min(self.aggregator.buckets, default=int(clock))
        clock = max(clock, self.last_time)
        target = int(clock)
        while self._cursor < target:
            self._step(target)
        self._apply_late()
        self.aggregator.complete_before = self._cursor
        self._evaluate(clock, self.aggregator.buckets.get(target, _EMPTY))
        self._flush(clock, force=False)

    def finish(self) -> None:
        """End of input: evaluate up to now, send what is grouped and the backlog.

        Everything there was has been read, so the rules are advanced to the wall clock: an
        episode whose window emptied long before is resolved (in the backlog when it is old).
        """
        read = max(self.aggregator.watermark, self.last_time)
        if read != float("-inf"):
            self.advance(max(read, self._wall()))
        self._flush(read, force=True)
        self._send_backlog(force=True)
        self._state.watermark = max(self._state.watermark, read)  # what was read, not now
        self._state.save()

    def _step(self, target: int) -> None:
        assert self._cursor is not None
        if all(runtime.idle() for runtime in self._rules):
            later = [s for s in self.aggregator.buckets if self._cursor <= s < target]
            self._cursor = min(later, default=target)
            if self._cursor == target:
                return
        second = self._cursor
        bucket = self.aggregator.buckets.get(second, _EMPTY)
        for runtime in self._rules:
            runtime.push(second, bucket)
        self._cursor = second + 1
        self._evaluate(float(self._cursor), _EMPTY)
        if second % 60 == 0:
            self.aggregator.prune(second - self._span)

    def _apply_late(self) -> None:
        late, self.aggregator.late = self.aggregator.late, []
        assert self._cursor is not None
        for second, key, count in late:
            for runtime in self._rules:
                runtime.add_late(second, key, count, self._cursor)

    def _evaluate(self, now: float, partial: dict[Key, int]) -> None:
        assert self._cursor is not None
        # The rules judge the pushed seconds before the cursor, plus the partial one at it.
        self._window_end = (self._cursor + (1 if partial else 0), now)
        self.last_time = max(self.last_time, now)
        if self._started is None:
            self._started = now
        for runtime in self._rules:
            extra = runtime.value(partial) if partial else 0
            self._transition(runtime, now, runtime.level(extra, partial.get(REQUESTS, 0)), extra)
        if now >= self._wall() - self._stale_after:
            self._send_backlog(force=False)

    def _transition(self, runtime: _Runtime, now: float, level: float, extra: int) -> None:
        rule, memory = runtime.rule, runtime.memory
        if runtime.phase == "ok" and level >= 1:
            runtime.phase, runtime.since = "pending", now
        if runtime.phase == "pending":
            if level < 1:
                runtime.phase = "ok"
            elif now - runtime.since >= rule.pending:
                runtime.phase, runtime.since, runtime.below_since = "firing", now, None
                if not memory.notified:
                    self._emit(runtime, "firing", now, extra)
        elif runtime.phase == "firing":
            self._while_firing(runtime, now, level, extra)
        elif (
            memory.notified
            and now - self._known_since() >= rule.window + rule.resolve_after
            and level < 1 - rule.hysteresis
        ):
            self._emit(runtime, "resolved", now, extra)  # fired before a restart, over now

    def _known_since(self) -> float:
        """Since when every error is in the windows.

        That is this run's start, or the end of what the previous run read, when this run
        reads on from there.
        """
        assert self._started is not None
        if self._resumed == float("-inf"):
            return self._started
        return min(self._started, self._resumed)

    def _while_firing(self, runtime: _Runtime, now: float, level: float, extra: int) -> None:
        rule, memory = runtime.rule, runtime.memory
        if level >= 1 - rule.hysteresis:
            runtime.below_since = None
        elif runtime.below_since is None:
            runtime.below_since = now
        if runtime.below_since is not None and now - runtime.below_since >= rule.resolve_after:
            runtime.phase = "ok"
            if memory.notified:
                self._emit(runtime, "resolved", now, extra)
            return
        entry = self._backlog.get(rule.name)
        if entry is not None and now < self._wall() - self._stale_after:
            entry.peak = max(entry.peak, runtime.current + extra)  # the episode's largest window
        if not memory.notified:
            self._emit(runtime, "firing", now, extra)
        elif rule.repeat and now - memory.last_sent >= rule.repeat:
            self._emit(runtime, "repeat", now, extra)

    def _emit(self, runtime: _Runtime, kind: Kind, now: float, extra: int) -> None:
        memory = runtime.memory
        if now <= self._state.watermark:
            return  # handled before a restart: the same log lines were read again
        memory.notified = kind != "resolved"
        memory.last_sent = now
        # An old transition goes into the summary, unless it resolves what a channel heard
        # firing before this backlog: that channel is owed a RESOLVED of its own.
        heard = kind == "resolved" and runtime.rule.name not in self._backlog
        if now < self._wall() - self._stale_after and not heard:
            self._note_backlog(runtime, kind, now, extra)
            return
        if kind == "resolved" and not runtime.rule.send_resolved:
            return
        alert = self._alert(runtime, kind, now)
        self._groups.setdefault(alert.channels, []).append(alert)
        if self._group_since is None:
            self._group_since = self._wall()

    def _note_backlog(self, runtime: _Runtime, kind: Kind, now: float, extra: int) -> None:
        entry = self._backlog.setdefault(
            runtime.rule.name, BacklogEntry(runtime.rule.name, first=now)
        )
        entry.firings += kind == "firing"
        entry.last = now
        entry.peak = max(entry.peak, runtime.current + extra)
        entry.firing_now = kind != "resolved"

    def _alert(self, runtime: _Runtime, kind: Kind, now: float) -> Alert:
        rule = runtime.rule
        alert = Alert(rule.name, kind, now, now, rule.severity, rule.channels, _describe(rule))
        self._count(alert, runtime)
        return alert

    def _count(self, alert: Alert, runtime: _Runtime) -> None:
        """Fill in the alert's counts, all from the rule's window as last evaluated."""
        rule, (end, alert.until) = runtime.rule, self._window_end
        start = end - rule.window
        counts = self.aggregator.window_counts(start, end)
        alert.count = runtime.value(counts)
        alert.window = rule.window
        alert.requests = counts.get(REQUESTS, 0)
        alert.previous = None
        if rule.kind == "spike":
            alert.previous = runtime.value(
                self.aggregator.window_counts(start - rule.window, start)
            )
        alert.by_class = _by_class(rule, counts)
        codes = _decline_codes(rule, counts, alert.by_class)
        alert.decline_codes = sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:5]
        samples = [
            event
            for event in self.aggregator.recent(alert.by_class, start)
            if event.time < end and (not rule.decline_codes or event.decline_code in codes)
        ]
        alert.samples = samples[-self._sample_lines :] if self._sample_lines else []

    def _flush(self, now: float, force: bool) -> None:
        if not self._groups or self._group_since is None:
            return
        wall = self._wall()
        if not force and wall - self._group_since < self._group_wait:
            return
        while self._sent and self._sent[0] < wall - 60:
            self._sent.popleft()
        if not force and len(self._sent) >= self._max_per_minute:
            return  # capped: keep collecting; the next allowed message carries them all
        groups, self._groups, self._group_since = self._groups, {}, None
        runtimes = {runtime.rule.name: runtime for runtime in self._rules}
        for channels, alerts in groups.items():
            for alert in alerts:  # what is known now, not at the transition group_wait ago
                self._count(alert, runtimes[alert.rule])
            self._sent.append(wall)
            self._send(Message(channels, alerts))
        self._state.watermark = max(self._state.watermark, now)
        self._state.save()

    def _send_backlog(self, force: bool) -> None:
        if not self._backlog:
            return
        entries, self._backlog = list(self._backlog.values()), {}
        channels = sorted(
            {
                c
                for r in self._rules
                if r.rule.name in {e.rule for e in entries}
                for c in r.rule.channels
            }
        )
        self._send(Message(tuple(channels), backlog=entries))
        self._state.save()


def _by_class(rule: Rule, counts: dict[Key, int]) -> dict[str, int]:
    """Errors per class that the rule counts (with decline codes: only those codes)."""
    found: dict[str, int] = {}
    for key, count in counts.items():
        name = key[0] if isinstance(key, tuple) else key
        if name == REQUESTS or ("*" not in rule.errors and name not in rule.errors):
            continue
        if isinstance(key, tuple) == bool(rule.decline_codes) and _coded(rule, key):
            found[name] = found.get(name, 0) + count
    return found


def _decline_codes(rule: Rule, counts: dict[Key, int], classes: dict[str, int]) -> dict[str, int]:
    codes: dict[str, int] = {}
    for key, count in counts.items():
        if isinstance(key, tuple) and key[0] in classes and _coded(rule, key):
            codes[key[1]] = codes.get(key[1], 0) + count
    return codes


def _coded(rule: Rule, key: Key) -> bool:
    """Whether a bucket key passes the rule's decline-code filter (a class name always does)."""
    return not rule.decline_codes or not isinstance(key, tuple) or key[1] in rule.decline_codes


def _describe(rule: Rule) -> str:
    window = _human(rule.window)
    if rule.kind == "threshold":
        return f"{int(rule.limit)} or more in {window}"
    if rule.kind == "ratio":
        return (
            f"error ratio {rule.limit:.1%} or more of at least {rule.min_requests} requests"
            f" in {window}"
        )
    return f"{rule.limit:g}x the previous {window} (at least {rule.min_count})"


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
