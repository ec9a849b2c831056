"""The hook through which redacted lines leave the tailer (the alerting classifier plugs in).

Only redacted bytes are handed over, line by line and in order per input. A failing sink is
reported on stderr and never stops the tailer.
"""

from __future__ import annotations

import importlib
import sys
from typing import Protocol


class LineSink(Protocol):
    """Receives each redacted line; a line longer than 1 MiB arrives in pieces."""

    def feed(self, line: bytes, source: str, read_time: float) -> None:
        """One redacted line (with its newline) of input `source`, read at `read_time`."""
        ...

    def flush(self) -> None:
        """Deliver anything buffered (called after each batch and at exit)."""
        ...


def load_sink(spec: str) -> LineSink:
    """Build a sink from `"module:factory"` (the `tail.sink` setting)."""
    module_name, _, attribute = spec.partition(":")
    factory = getattr(importlib.import_module(module_name), attribute)
    sink: LineSink = factory()
    return sink


class TeeSink:
    """Hands every line to several sinks (the configured one and the alert rules)."""

    def __init__(self, sinks: list[LineSink]) -> None:
        self._sinks = sinks

    def feed(self, line: bytes, source: str, read_time: float) -> None:
        """Pass the line to each sink in turn."""
        for sink in self._sinks:
            sink.feed(line, source, read_time)

    def flush(self) -> None:
        """Flush each sink in turn."""
        for sink in self._sinks:
            sink.flush()


class SinkFeeder:
    """Splits redacted output into lines for a sink and keeps its failures contained."""

    def __init__(self, sink: LineSink) -> None:
        self._sink = sink
        self.failures = 0

    def feed(self, data: bytes, source: str, read_time: float) -> None:
        """Hand each line of `data` to the sink."""
        try:
            start = 0
            while start < len(data):
                end = data.find(b"\n", start) + 1 or len(data)
                self._sink.feed(data[start:end], source, read_time)
                start = end
        except Exception as error:  # a sink must not stop the tailer
            self._report("feed", error)

    def flush(self) -> None:
        """Ask the sink to deliver what it buffered."""
        try:
            self._sink.flush()
        except Exception as error:
            self._report("flush", error)

    def _report(self, step: str, error: Exception) -> None:
        self.failures += 1
        sys.stderr.write(f"redactor tail: line sink {step} failed: {type(error).__name__}\n")
