"""Benchmark of `redactor tail`: catch-up throughput, append-to-write latency, peak memory.

Generates a backlog of realistic Stripe logs (bench/gen_logs.py), times `redactor redact` and
`redactor tail --once` on it in the same run (outputs must be byte-identical), then follows a
live file while a writer appends timestamped lines. Writes bench/RESULTS.md "## tail". Usage:
    .venv/bin/python bench/tail_bench.py [--size 1G] [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, write_section
from gen_logs import generate
from redact_bench import _CHILD, Run, cli_machine_facts, run_cli

SECTION = "tail"
TARGET_RATIO = 0.8
TARGET_P99_MS = 250.0
TARGET_RSS_MB = 100.0
_STAMP = re.compile(rb"t=(\d+\.\d+) ")


def parse_size(text: str) -> int:
    """`1G`, `256M`, `64k` or a plain number of bytes."""
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    unit = units.get(text[-1].lower(), 1)
    return int(float(text[:-1] if unit != 1 else text) * unit)


def run_tail_once(source: Path, work: Path) -> Run:
    """`redactor tail --once` on the backlog in a child process; wall, CPU and peak RSS."""
    command = [
        sys.executable,
        "-c",
        _CHILD,
        "tail",
        str(source),
        "--output-dir",
        str(work / "out"),
        "--state-dir",
        str(work / "state"),
        "--once",
    ]
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        errors.seek(0)
        error = errors.read().decode(errors="replace")
    peak = re.search(r"bench-peak-rss-kb (\d+)", error)
    if os.waitstatus_to_exitcode(status) != 0 or peak is None:
        raise SystemExit(f"redactor tail failed: {error[-2000:]}")
    return Run(wall, usage.ru_utime + usage.ru_stime, int(peak.group(1)) / 1024)


def live_latency(work: Path, seconds: float, rate: int) -> tuple[list[float], float]:
    """Follow a live file while a writer appends; per-line latencies (s) and the peak RSS."""
    log = work / "live.log"
    log.touch()
    errors_path = work / "daemon.stderr"
    command = [
        sys.executable,
        "-c",
        _CHILD,
        "tail",
        str(log),
        "--output-dir",
        str(work / "live-out"),
        "--state-dir",
        str(work / "live-state"),
    ]
    with errors_path.open("wb") as errors:
        daemon = subprocess.Popen(command, cwd=ROOT, stderr=errors)
    deadline = time.monotonic() + 30
    while b"event=watching" not in errors_path.read_bytes():
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise SystemExit("the tail daemon did not start")
        time.sleep(0.01)

    writer = threading.Thread(target=_append, args=(log, seconds, rate))
    writer.start()
    latencies = _watch_output(work / "live-out" / "live.log", writer, int(seconds * rate))
    writer.join()
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    peak = re.search(rb"bench-peak-rss-kb (\d+)", errors_path.read_bytes())
    return latencies, int(peak.group(1)) / 1024 if peak else float("nan")


def _append(log: Path, seconds: float, rate: int) -> None:
    secrets = ["card=4242424242424242", "customer=jane.doe@example.com", "request_id=req_8f3a"]
    with log.open("ab", buffering=0) as handle:
        for i in range(int(seconds * rate)):
            due = time.time()
            line = f"t={due:.6f} INFO app.payments charge {secrets[i % 3]} amount={i}\n"
            handle.write(line.encode())
            time.sleep(1 / rate)


def _watch_output(path: Path, writer: threading.Thread, expected: int) -> list[float]:
    latencies: list[float] = []
    position, rest = 0, b""
    deadline = None
    while len(latencies) < expected:
        if not writer.is_alive():
            deadline = deadline or time.monotonic() + 10
            if time.monotonic() > deadline:
                break
        try:
            with path.open("rb") as handle:
                handle.seek(position)
                data = handle.read()
        except FileNotFoundError:
            data = b""
        now = time.time()
        position += len(data)
        rest += data
        *lines, rest = rest.split(b"\n")
        for line in lines:
            stamp = _STAMP.match(line)
            if stamp:
                latencies.append(now - float(stamp.group(1)))
        time.sleep(0.001)
    return latencies


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(args: argparse.Namespace) -> list[str]:
    lines: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        lines.append(line)

    size = parse_size("64M" if args.quick else args.size)
    work = Path(tempfile.mkdtemp(prefix="redactor-tail-bench-"))
    try:
        say("Machine: " + "; ".join(cli_machine_facts()))
        source = work / "stripe-backlog.log"
        planted = generate(source, size, seed=7)
        total = source.stat().st_size
        summary = ", ".join(f"{entity} {count}" for entity, count in sorted(planted.items()))
        say(
            f"Backlog: {total / 1e6:.1f} MB of generated Stripe app logs (seed 7); "
            f"planted: {summary}"
        )

        redact = run_cli(source, work / "redact.out")
        tail = run_tail_once(source, work)
        same = filecmp.cmp(work / "redact.out", work / "out" / source.name, shallow=False)
        ratio = redact.wall / tail.wall
        say(
            f"(1) catch-up: redactor redact {total / 1e6 / redact.wall:.1f} MB/s "
            f"({redact.wall:.1f} s), redactor tail --once {total / 1e6 / tail.wall:.1f} MB/s "
            f"({tail.wall:.1f} s): {ratio:.0%} of redact — target >= {TARGET_RATIO:.0%}: "
            f"{verdict(ratio >= TARGET_RATIO)}"
        )
        say(f"    outputs byte-identical: {'yes' if same else 'NO'}")

        latencies, live_rss = live_latency(work, args.seconds, args.rate)
        written = int(args.seconds * args.rate)
        p50, p99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
        say(
            f"(2) append -> redacted write, {len(latencies)} of {written} lines seen at "
            f"{args.rate} lines/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
            f"{max(latencies) * 1e3:.1f} ms — target p99 <= {TARGET_P99_MS:.0f} ms: "
            f"{verdict(p99 <= TARGET_P99_MS and len(latencies) == written)}"
        )
        peak = max(tail.rss_mb, live_rss)
        say(
            f"(3) peak RSS of the tail daemon: {tail.rss_mb:.1f} MB catching up, "
            f"{live_rss:.1f} MB following — target < {TARGET_RSS_MB:.0f} MB: "
            f"{verdict(peak < TARGET_RSS_MB)}"
        )
        say(
            f"    redactor redact on the same backlog: {redact.rss_mb:.1f} MB; "
            f"mean latency {statistics.mean(latencies) * 1e3:.1f} ms"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return lines


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1G", help="backlog size, e.g. 1G, 256M (default 1G)")
    parser.add_argument("--quick", action="store_true", help="a 64 MB backlog")
    parser.add_argument("--seconds", type=float, default=10.0, help="live phase length")
    parser.add_argument("--rate", type=int, default=200, help="live lines per second")
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    lines = measure(args)
    if not args.no_write:
        flags = " --quick" if args.quick else (f" --size {args.size}" if args.size != "1G" else "")
        write_section(SECTION, lines, f".venv/bin/python bench/tail_bench.py{flags}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
