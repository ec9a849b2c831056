"""Per-record cost of the in-app sinks: the same file sink with and without redaction.

loguru: `logger.add(path)` against `logger.add(redactor.loguru_sink(path))`; stdlib: a
FileHandler with and without `RedactingFilter`, and one added after `install_logging()`.
Clean records and records holding one card number and one email address; rounds alternate
and the best round counts. Writes the figures to bench/RESULTS.md under "## sinks". Usage:
    .venv/bin/python bench/sink_bench.py [--quick] [--records 20000] [--no-write]
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _common import machine_facts, write_section
from loguru import logger

import redactor

SECTION = "sinks"
TARGETS = {"clean": 0.10, "secret": 0.30}
PAN = "4242424242424242"
EMAIL = "jane.doe@example.com"


def loguru_clean(index: int) -> None:
    logger.info("charge ch_3PqRs{} created for order {} amount {} usd", index, index, 1999)


def loguru_secret(index: int) -> None:
    logger.info("charge for {} with card {} declined (order {})", EMAIL, PAN, index)


def loguru_run(folder: Path, protected: bool, emit: Callable[[int], None], count: int) -> float:
    path = folder / f"loguru-{protected}-{time.perf_counter_ns()}.log"
    sink = redactor.loguru_sink(path) if protected else path
    logger.remove()
    logger.add(sink, level="INFO")
    start = time.perf_counter()
    for index in range(count):
        emit(index)
    elapsed = time.perf_counter() - start
    logger.remove()
    path.unlink()
    return elapsed / count


def stdlib_run(folder: Path, protected: bool, secret: bool, count: int) -> float:
    path = folder / f"stdlib-{protected}-{time.perf_counter_ns()}.log"
    log = logging.Logger("bench.checkout", logging.INFO)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
    if protected:
        handler.addFilter(redactor.RedactingFilter())
    log.addHandler(handler)
    start = time.perf_counter()
    if secret:
        for index in range(count):
            log.info("charge for %s with card %s declined (order %d)", EMAIL, PAN, index)
    else:
        for index in range(count):
            log.info("charge ch_3PqRs%d created for order %d amount %d usd", index, index, 1999)
    elapsed = time.perf_counter() - start
    handler.close()
    path.unlink()
    return elapsed / count


def installed_run(folder: Path, protected: bool, secret: bool, count: int) -> float:
    """The same FileHandler added after `install_logging()`: no filter of its own on it."""
    if not protected:
        return stdlib_run(folder, False, secret, count)
    # install_logging wraps methods of logging's classes and one of its functions: put all of
    # it back, or every later run (the baselines too) would pay for it.
    stock = [
        (owner, name, owner.__dict__[name])
        for owner, name in (
            (logging.Handler, "format"),
            (logging.Handler, "handleError"),
            (logging.Logger, "handle"),
        )
    ]
    make_log_record = logging.makeLogRecord
    redactor.install_logging()
    try:
        return stdlib_run(folder, False, secret, count)
    finally:
        for owner, name, method in stock:
            setattr(owner, name, method)
        logging.makeLogRecord = make_log_record


def best_pair(measure: Callable[[bool], float], rounds: int) -> tuple[float, float]:
    """Best per-record time without and with protection, in alternating rounds."""
    plain, protected = [], []
    for _ in range(rounds):
        plain.append(measure(False))
        protected.append(measure(True))
    return min(plain), min(protected)


def figure(label: str, kind: str, plain: float, protected: float) -> str:
    overhead = protected / plain - 1
    target = TARGETS[kind]
    verdict = "met" if overhead <= target else "MISSED"
    return (
        f"{label:<30} {plain * 1e6:6.2f} µs -> {protected * 1e6:6.2f} µs per record: "
        f"{overhead:+6.1%} (target <= +{target:.0%}: {verdict})"
    )


def measure_all(count: int, rounds: int) -> list[str]:
    redactor.default_redactor()  # built once, outside the timings
    lines = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for kind, emit in (("clean", loguru_clean), ("secret", loguru_secret)):
            pair = best_pair(lambda on, e=emit: loguru_run(folder, on, e, count), rounds)
            lines.append(figure(f"loguru file sink, {kind}", kind, *pair))
        for kind in ("clean", "secret"):
            secret = kind == "secret"
            pair = best_pair(lambda on, s=secret: stdlib_run(folder, on, s, count), rounds)
            lines.append(figure(f"stdlib FileHandler, {kind}", kind, *pair))
            pair = best_pair(lambda on, s=secret: installed_run(folder, on, s, count), rounds)
            lines.append(figure(f"stdlib install_logging, {kind}", kind, *pair))
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5000 records, 3 rounds")
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.records, args.rounds = 5000, 3
    facts = machine_facts(cores_note="one thread logs", packages=("loguru", "google-re2"))
    lines = ["Machine: " + "; ".join(facts)]
    lines.append(f"Records: {args.records} a round, best of {args.rounds} alternating rounds")
    lines += measure_all(args.records, args.rounds)
    print("\n".join(lines))
    if not args.no_write and not args.quick:
        write_section(SECTION, lines, "make bench  # or: .venv/bin/python bench/sink_bench.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
