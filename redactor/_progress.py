"""A small progress bar on stderr for big inputs on a terminal."""

from __future__ import annotations

import sys
import time


class Progress:
    """Bytes done out of a known total, redrawn at most five times a second."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._total = total
        self._enabled = enabled and total > 0
        self._done = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    def advance(self, size: int) -> None:
        """Count `size` more bytes done."""
        self._done += size
        now = time.monotonic()
        if self._enabled and now - self._drawn >= 0.2:
            self._drawn = now
            self._draw(now)

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._enabled:
            self._draw(time.monotonic())
            sys.stderr.write("\n")

    def _draw(self, now: float) -> None:
        share = min(1.0, self._done / self._total)
        filled = int(share * 30)
        rate = self._done / max(now - self._started, 1e-6) / 1e6
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r[{bar}] {share:6.1%} {rate:7.1f} MB/s")
        sys.stderr.flush()
