"""Alerting figures: aggregator cost per event, extractor cost per line, and the time from a
threshold crossing to the notification handed to apprise (real apprise, json:// on 127.0.0.1).

Writes the figures to bench/RESULTS.md under "## alerts". Usage:
    .venv/bin/python bench/alert_bench.py [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from _common import head, machine_facts, write_section  # noqa: E402

from redactor import load_config  # noqa: E402
from redactor.alerting import Aggregator, AlertPipeline, ErrorEvent, TextEventExtractor  # noqa: E402

SECTION = "alerts"
COMMAND = ".venv/bin/python bench/alert_bench.py"


def aggregator_cost(events: int) -> tuple[float, float]:
    """Best-of-5 ns per add_error: unique request IDs, a decline code on half of them."""
    base = time.time()
    classes = ["CardError", "RateLimitError", "APIError", "InvalidRequestError"]
    batch = [
        ErrorEvent(
            classes[i % 4],
            base + i * 0.001,
            decline_code="insufficient_funds" if i % 2 else None,
            request_id=f"req_{i:014d}",
        )
        for i in range(events)
    ]
    runs = []
    for _ in range(5):
        aggregator = Aggregator()
        add = aggregator.add_error
        start = time.perf_counter()
        for event in batch:
            add(event)
        runs.append((time.perf_counter() - start) / events * 1e9)
    return min(runs), statistics.median(runs)


def extractor_cost(lines: int) -> float:
    """ns per line on a stripe-python stdlib log mix (response, body, link, error, app lines)."""
    sample = [
        b"2026-12-04 10:16:22,137 INFO [stripe] message='Stripe API response' "
        b"path=https://api.stripe.com/v1/payment_intents response_code=402\n",
        b"2026-12-04 10:16:22,137 DEBUG [stripe] link=https://dashboard.stripe.com/test/logs/"
        b"req_JZkEnznMDWtECF message='Dashboard link for request'\n",
        b"2026-12-04 10:16:22,138 INFO [stripe] error_code=card_declined error_message='Your "
        b"card was declined.' error_param=None error_type=card_error message='Stripe v1 API "
        b"error received'\n",
        b"2026-12-04 10:16:22,140 INFO [shop.checkout] order ord_1001 shipped to <EMAIL_ADDRESS>\n",
    ]
    counter = [0]
    extractor = TextEventExtractor(lambda e: counter.__setitem__(0, counter[0] + 1))
    start = time.perf_counter()
    for index in range(lines):
        extractor.feed(sample[index % 4], "app.log", 0.0)
    extractor.flush()
    return (time.perf_counter() - start) / lines * 1e9


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def crossing_latency(rounds: int) -> list[float]:
    """Seconds from the event that crosses a threshold to apprise being called, live pipeline."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    figures = []
    try:
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as folder:
                figures.append(_one_crossing(Path(folder), server.server_address[1]))
    finally:
        server.shutdown()
    return figures


def _one_crossing(folder: Path, port: int) -> float:
    (folder / "rules.toml").write_text(
        '[[rule]]\nname = "card"\nerrors = ["CardError"]\nthreshold = 20\nwindow = "5m"\n'
    )
    (folder / "config.toml").write_text(
        f'[alerts]\nrules = ["rules.toml"]\nstate_dir = "{folder}/state"\n'
        f'[alerts.channels]\nhook = "json://127.0.0.1:{port}"\n'
    )
    pipeline = AlertPipeline(load_config(folder / "config.toml"), live=True)
    for index in range(19):
        pipeline.error(ErrorEvent("CardError", time.time(), request_id=f"req_{index:010d}"))
    time.sleep(0.3)
    crossed = time.time()
    pipeline.error(ErrorEvent("CardError", crossed, request_id="req_crossing01"))
    deadline = time.monotonic() + 10
    while not pipeline.notifier.handed and time.monotonic() < deadline:
        time.sleep(0.002)
    handed = pipeline.notifier.handed[0] if pipeline.notifier.handed else float("inf")
    pipeline.close()
    return handed - crossed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer events and rounds")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    events, rounds = (100_000, 3) if args.quick else (1_000_000, 10)

    best, median = aggregator_cost(events)
    per_line = extractor_cost(events)
    latency = crossing_latency(rounds)
    lines = [
        "Machine: " + "; ".join(machine_facts(commit=head())),
        f"(1) Aggregator.add_error, {events} events (unique request IDs, half with a decline "
        f"code), best of 5: {best:.0f} ns/event (median {median:.0f}) — target <= 2000 ns: "
        f"{'met' if best <= 2000 else 'MISSED'}",
        f"(2) TextEventExtractor.feed on a stripe-python log mix: {per_line:.0f} ns/line "
        "(informational)",
        f"(3) threshold crossing -> notification handed to apprise (live pipeline, group_wait "
        f"500ms, {rounds} rounds): median {statistics.median(latency) * 1000:.0f} ms, max "
        f"{max(latency) * 1000:.0f} ms — target <= 1000 ms: "
        f"{'met' if max(latency) <= 1.0 else 'MISSED'}",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(SECTION, lines, COMMAND)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
