"""The `redactor alerts test [CHANNEL]` and `redactor stats FILE...` subcommands."""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._engine import Redactor
    from ._aggregator import Aggregator
    from ._extractor import TextEventExtractor

_SPARKS = "▁▂▃▄▅▆▇█"


def add_alert_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `redactor alerts` and `redactor stats` to the command line."""
    from .._cli import command

    alerts = commands.add_parser("alerts", help="alert channels: send a test notification")
    actions = alerts.add_subparsers(dest="alerts_command", required=True)
    test = actions.add_parser("test", help="send a test notification (all channels by default)")
    test.add_argument("channel", nargs="?", help="a name from [alerts.channels]")

    stats = commands.add_parser("stats", help="Stripe error counts and rates per type in logs")
    stats.add_argument("files", nargs="+", help="log files (gzip is read transparently)")
    stats.add_argument("--spark", choices=["auto", "always", "never"], default="auto")

    command("alerts")(_alerts)
    command("stats")(_stats)


def _alerts(args: argparse.Namespace) -> int:
    from .._config import load_config
    from ._notifier import apprise_send, masked
    from ._render import Rendered
    from ._settings import check_alerts

    config = load_config(args.config)
    channels = check_alerts(config).channels
    names = [args.channel] if args.channel else sorted(channels)
    if not names or any(name not in channels for name in names):
        known = ", ".join(sorted(channels)) or "none"
        sys.stderr.write(f"redactor alerts test: unknown or no channel (configured: {known})\n")
        return 2
    message = Rendered(
        "[redactor] test notification",
        "This is a test of redactor's Stripe error alerts. No action needed.",
        "text",
    )
    failed = 0
    for name in names:
        outcome = apprise_send(channels[name], message)
        print(
            f"{name} ({masked(channels[name])}): {'ok' if outcome.ok else 'FAILED'}"
            + ("" if outcome.ok else f" - {outcome.detail}")
        )
        failed += not outcome.ok
    return 1 if failed else 0


def _stats(args: argparse.Namespace) -> int:
    from .._cli import EXIT_FAILED, redactor_for
    from ._aggregator import Aggregator
    from ._extractor import TextEventExtractor

    redactor = redactor_for(args)
    aggregator = Aggregator()
    extractor = TextEventExtractor(aggregator.add_error, aggregator.add_request)
    now = time.time()
    for name in args.files:
        failure = _read_stats_input(redactor, extractor, name, now)
        if failure:
            sys.stderr.write(f"redactor: {failure}\n")
            return EXIT_FAILED
    extractor.flush()
    spark = args.spark == "always" or (args.spark == "auto" and sys.stdout.isatty())
    print(format_stats(aggregator, spark))
    return 0


def _read_stats_input(
    redactor: Redactor, extractor: TextEventExtractor, name: str, now: float
) -> str:
    """Count one input's errors; return what went wrong (as `redact` words it), or ""."""
    from .._cli import _open_input
    from .._stream import StreamRedactor

    stream = StreamRedactor(redactor)
    try:
        with _open_input(name) as handle:
            while chunk := handle.read(1 << 20):
                _feed_lines(extractor, stream.feed(chunk), name, now)
    except OSError as error:
        if isinstance(error, gzip.BadGzipFile):
            return f"{name}: not a valid gzip file"
        return f"{name}: {error.strerror or type(error).__name__}"
    except (EOFError, zlib.error):
        return f"{name}: the gzip data is corrupt or cut short"
    _feed_lines(extractor, stream.flush(), name, now)
    return ""


def _feed_lines(extractor: TextEventExtractor, data: bytes, source: str, now: float) -> None:
    for line in data.splitlines():
        extractor.feed(line, source, now)


def format_stats(aggregator: Aggregator, spark: bool, width: int = 40) -> str:
    """A table of errors per class: count, share, rate per minute over the span, sparkline."""
    seconds = sorted(aggregator.buckets)
    if not aggregator.totals:
        return f"no Stripe errors found ({aggregator.requests_total} requests)"
    start, end = seconds[0], seconds[-1] + 1
    minutes = max((end - start) / 60.0, 1 / 60)
    total = sum(aggregator.totals.values())
    lines = [f"{'type':<28} {'count':>7} {'share':>6} {'per min':>8}"]
    for name, count in sorted(aggregator.totals.items(), key=lambda item: -item[1]):
        row = f"{name:<28} {count:>7} {count / total:>6.1%} {count / minutes:>8.2f}"
        if spark:
            row += "  " + _sparkline(aggregator, name, start, end, width)
        lines.append(row)
    requests = aggregator.requests_total
    ratio = f", {total / requests:.1%} of {requests} requests" if requests else ""
    if total > requests > 0:  # not every call logs its response line (stripe logs at INFO)
        ratio = f"; {requests} requests logged"
    lines.append(
        f"{'total':<28} {total:>7}{ratio}; span {_span(end - start)}; "
        f"{aggregator.duplicates} repeated request IDs merged"
    )
    return "\n".join(lines)


def _sparkline(aggregator: Aggregator, name: str, start: int, end: int, width: int) -> str:
    step = max(1, -(-(end - start) // width))
    counts = [0] * (-(-(end - start) // step))
    for second, bucket in aggregator.buckets.items():
        counts[(second - start) // step] += bucket.get(name, 0)
    peak = max(counts) or 1
    return "".join(" " if not c else _SPARKS[min(7, c * 8 // (peak + 1))] for c in counts)


def _span(seconds: int) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 60:.1f}m" if seconds >= 60 else f"{seconds}s"
