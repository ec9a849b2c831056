"""Counts of Stripe errors and requests in one-second buckets, per class and decline code.

`add_error` is on the hot path (one call per event, well under 2 µs); rule windows are
summed from these buckets by the evaluator, which also prunes what no window needs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from ._events import ErrorEvent, RequestEvent

REQUESTS = "__requests__"
Key = str | tuple[str, str]


class Aggregator:
    """Per-second counters, request-ID deduplication and recent samples per class."""

    def __init__(self, dedup_window: float = 300.0, samples: int = 5) -> None:
        self.buckets: dict[int, dict[Key, int]] = {}
        self.totals: dict[str, int] = {}
        self.requests_total = 0
        self.duplicates = 0
        self.watermark = float("-inf")
        self.samples: dict[str, deque[ErrorEvent]] = {}
        # Buckets below `complete_before` have been summed into rule windows already.
        self.complete_before = -(2**62)
        self.late: list[tuple[int, Key, int]] = []
        self._dedup_window = dedup_window
        self._sample_count = samples
        self._seen: dict[str, float] = {}

    def add_error(self, event: ErrorEvent) -> bool:
        """Count one error event; False when its request ID was already counted."""
        request_id = event.request_id
        if request_id is not None:
            seen = self._seen.get(request_id)
            if seen is not None and abs(event.time - seen) <= self._dedup_window:
                self.duplicates += 1
                return False
            self._seen[request_id] = event.time

        second = int(event.time)
        bucket = self.buckets.get(second)
        if bucket is None:
            bucket = self.buckets[second] = {}
        name = event.error_class
        bucket[name] = bucket.get(name, 0) + 1
        if event.decline_code is not None:
            pair = (name, event.decline_code)
            bucket[pair] = bucket.get(pair, 0) + 1
        self.totals[name] = self.totals.get(name, 0) + 1

        recent = self.samples.get(name)
        if recent is None:
            recent = self.samples[name] = deque(maxlen=self._sample_count)
        recent.append(event)
        if event.time > self.watermark:
            self.watermark = event.time
        if second < self.complete_before:
            self.late.append((second, name, 1))
        return True

    def add_request(self, event: RequestEvent) -> None:
        """Count one Stripe request seen (failed or not), for error ratios."""
        second = int(event.time)
        bucket = self.buckets.get(second)
        if bucket is None:
            bucket = self.buckets[second] = {}
        bucket[REQUESTS] = bucket.get(REQUESTS, 0) + 1
        self.requests_total += 1
        if event.time > self.watermark:
            self.watermark = event.time
        if second < self.complete_before:
            self.late.append((second, REQUESTS, 1))

    def observe(self, moment: float) -> None:
        """A log line stamped at `moment` was read: event time has reached it."""
        if moment > self.watermark:
            self.watermark = moment

    def window_counts(self, start: int, end: int) -> dict[Key, int]:
        """Summed counts of the buckets in seconds [start, end)."""
        total: dict[Key, int] = {}
        for second in self._seconds(start, end):
            for key, count in self.buckets[second].items():
                total[key] = total.get(key, 0) + count
        return total

    def recent(self, classes: Iterable[str], since: float) -> list[ErrorEvent]:
        """The kept samples of these classes from `since` on, newest last."""
        found = [
            event for name in classes for event in self.samples.get(name, ()) if event.time >= since
        ]
        return sorted(found, key=lambda event: event.time)

    def prune(self, before: int) -> None:
        """Forget buckets and request IDs no window can use any more."""
        for second in [s for s in self.buckets if s < before]:
            del self.buckets[second]
        horizon = before - self._dedup_window
        for request_id in [r for r, t in self._seen.items() if t < horizon]:
            del self._seen[request_id]

    def _seconds(self, start: int, end: int) -> list[int]:
        if end - start > len(self.buckets):
            return sorted(s for s in self.buckets if start <= s < end)
        return [s for s in range(start, end) if s in self.buckets]
