"""Benchmark of `redactor redact`: throughput, the ratio to presidio, and peak memory.

Generates realistic Stripe logs (bench/gen_logs.py), times the real CLI on them in a child
process, measures presidio (pattern recognizers, no NLP) on a slice of the same data, and
writes the figures to bench/RESULTS.md under "## redact". Usage:
    .venv/bin/python bench/redact_bench.py [--quick] [--size-mb 128] [--no-write]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.metadata
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import RESULTS, ROOT, machine_facts, revision, write_section
from gen_logs import generate

SECTION = "redact"
TARGET_MBPS = 150.0
TARGET_RATIO = 100.0
TARGET_RSS_MB = 100.0
_PLACEHOLDER = re.compile(rb"<([A-Z_]+)>")


@dataclass
class Run:
    """One child process: wall time, CPU time and peak RSS."""

    wall: float
    cpu: float
    rss_mb: float


def cli_machine_facts() -> list[str]:
    """The machine facts for a benchmark of the CLI (tail_bench.py reports the same)."""
    return machine_facts(
        commit=revision(),
        cores_note="the CLI uses one",
        packages=("google-re2", "presidio-analyzer"),
    )


def log_file(size_mb: float, seed: int) -> tuple[Path, Counter[str]]:
    """The generated log file, written afresh (deterministically) on every run."""
    folder = Path(tempfile.gettempdir()) / "redactor-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"stripe-{size_mb:g}MB-seed{seed}.log"
    planted = generate(path, int(size_mb * 1e6), seed)  # ~1 s per 30 MB
    return path, planted


# The CLI's own entry point, reporting its peak RSS (VmHWM) at exit. The child's ru_maxrss
# would not do: after a vfork it starts from this bigger process's high-water mark.
_CHILD = """
import atexit, sys
def _peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                sys.stderr.write("bench-peak-rss-kb " + line.split()[1] + "\\n")
atexit.register(_peak)
from redactor._cli import main
sys.exit(main(sys.argv[1:]))
"""


def compile_bytecode() -> None:
    """Write the package's bytecode, as pip does when it installs a wheel.

    Without it, a checkout run with PYTHONDONTWRITEBYTECODE=1 compiles every module of ours
    from source at each start (about 16 ms here), which no installed copy does.
    """
    compileall.compile_dir(ROOT / "redactor", quiet=1)


def run_cli(source: Path, output: Path) -> Run:
    """Run `redactor redact source -o output` in a child process; time it, read its peak RSS."""
    command = [sys.executable, "-c", _CHILD, "redact", str(source), "-o", str(output)]
    with tempfile.TemporaryFile() as errors:  # a pipe could fill up and stall the child
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=ROOT, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = code = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        error = errors.read().decode(errors="replace")
    peak = re.search(r"bench-peak-rss-kb (\d+)", error)
    if code not in (0, 1) or peak is None:
        raise SystemExit(f"redactor redact failed ({code}): {error}")
    return Run(wall, usage.ru_utime + usage.ru_stime, int(peak.group(1)) / 1024)


def best_of(source: Path, output: Path, repeat: int) -> list[Run]:
    return [run_cli(source, output) for _ in range(repeat)]


def slice_of(path: Path, size: int) -> bytes:
    """The first `size` bytes of `path`, cut at a line end."""
    with path.open("rb") as handle:
        data = handle.read(size)
    return data[: data.rfind(b"\n") + 1]


# Pattern recognizers equivalent to our rules. presidio's own EmailRecognizer validates with
# tldextract, which fetches a suffix list over the network: its pattern is used without that.
PRESIDIO_PATTERNS = {
    "EMAIL_ADDRESS": (r"\b[A-Za-z0-9._%+'-]+(?:@|%40)[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b", 0.9),
    "STRIPE_SECRET_KEY": (r"\b(?:sk|rk|ek)_(?:live|test)_[0-9A-Za-z*]+", 0.95),
    "STRIPE_WEBHOOK_SECRET": (r"\bwhsec_[0-9A-Za-z+/=*]+", 0.95),
    "STRIPE_CLIENT_SECRET": (r"\b(?:pi|seti)_[0-9A-Za-z]+_secret_[0-9A-Za-z*]+", 0.9),
    "CARD_CVC": (
        r"(?i:cvc|cvv|cvc2|cvv2|cid)(?:\]|%5D)?[\"']?\s*(?:=|:|%3D)\s*[\"']?[0-9]{3,4}\b",
        0.6,
    ),
}


def presidio_engine() -> object:
    """presidio with pattern recognizers equivalent to our rules and no NLP pipeline."""
    from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry
    from presidio_analyzer.nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer

    def patterned(entity: str, regex: str, score: float) -> PatternRecognizer:
        return PatternRecognizer(entity, patterns=[Pattern(entity.lower(), regex, score)])

    recognizers = [CreditCardRecognizer()]
    recognizers += [patterned(entity, *spec) for entity, spec in PRESIDIO_PATTERNS.items()]
    registry = RecognizerRegistry(recognizers=recognizers)
    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine)


def presidio_redact(engine: object, data: bytes) -> tuple[float, Counter[str]]:
    """Analyze and anonymize `data` line by line as a presidio pipeline would; return seconds."""
    lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
    found: Counter[str] = Counter()
    start = time.perf_counter()
    for line in lines:
        results = engine.analyze(line, language="en")  # type: ignore[attr-defined]
        found.update(result.entity_type for result in results)
        replace_spans(line, results)
    return time.perf_counter() - start, found


def replace_spans(text: str, results: list[object]) -> str:
    """What presidio-anonymizer's `replace` does: spans become <ENTITY>, overlaps collapse."""
    out: list[str] = []
    position = 0
    for result in sorted(results, key=lambda r: (r.start, -r.end)):  # type: ignore[attr-defined]
        if result.start < position:  # type: ignore[attr-defined]
            continue
        out += [text[position : result.start], f"<{result.entity_type}>"]  # type: ignore[attr-defined]
        position = result.end  # type: ignore[attr-defined]
    out.append(text[position:])
    return "".join(out)


def ours_in_process(data: bytes) -> tuple[float, Counter[str]]:
    """Our engine on `data` in this process, through the streaming redactor: seconds, finds."""
    import redactor

    engine = redactor.Redactor()
    stream = redactor.StreamRedactor(engine)
    start = time.perf_counter()
    stream.feed(data)
    stream.flush()
    return time.perf_counter() - start, engine.stats.by_entity


def count_placeholders(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            counts.update(match.decode() for match in _PLACEHOLDER.findall(block))
    return counts


def counts(counter: Counter[str]) -> str:
    return ", ".join(f"{entity} {count}" for entity, count in sorted(counter.items()))


def mbps(size: int, seconds: float) -> float:
    return size / 1e6 / seconds


def measure(args: argparse.Namespace) -> list[str]:
    out: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    say("Machine: " + "; ".join(cli_machine_facts()))
    source, planted = log_file(args.size_mb, args.seed)
    size = source.stat().st_size
    say(
        f"Input: {size / 1e6:.1f} MB of generated Stripe app logs (bench/gen_logs.py, seed "
        f"{args.seed}); planted: " + counts(planted)
    )
    say()

    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "redacted.log"
        empty = Path(folder) / "empty.log"
        empty.write_bytes(b"")
        startup = min(run.wall for run in best_of(empty, output, 3))
        runs = best_of(source, output, args.repeat)
        found = count_placeholders(output)
        small = Path(folder) / "small.log"
        small.write_bytes(slice_of(source, size // 8))
        small_rss = run_cli(small, output).rss_mb

    best = min(runs, key=lambda run: run.wall)
    median = statistics.median(run.wall for run in runs)
    throughput = mbps(size, best.wall)
    say(
        f"(1) redactor redact, file in, file out, one process, best of {args.repeat}: "
        f"{throughput:.1f} MB/s ({best.wall:.2f} s wall, {best.cpu:.2f} s CPU; median "
        f"{mbps(size, median):.1f} MB/s) — target >= {TARGET_MBPS:.0f} MB/s: "
        f"{'met' if throughput >= TARGET_MBPS else 'MISSED'}"
    )
    say(
        f"    without the {startup:.2f} s interpreter and config start-up: "
        f"{mbps(size, best.wall - startup):.1f} MB/s"
    )
    say("    placeholders written: " + counts(found))
    short = {entity for entity, count in planted.items() if found[entity] < count}
    say(
        f"    fewer placeholders than planted secrets for: {sorted(short) or 'none'}; extra "
        f"CREDIT_CARD placeholders are decimal trace IDs and order numbers that pass Luhn"
    )

    slice_data = slice_of(source, int(args.presidio_mb * 1e6))
    engine = presidio_engine()
    presidio_seconds, presidio_found = presidio_redact(engine, slice_data)
    presidio_rate = mbps(len(slice_data), presidio_seconds)
    ours_seconds, ours_found = ours_in_process(slice_data)
    ours_slice = mbps(len(slice_data), ours_seconds)
    ratio = throughput / presidio_rate
    say(
        f"(2) presidio {importlib.metadata.version('presidio-analyzer')}, pattern recognizers "
        f"only, NoOpNlpEngine, line by line + span replacement, measured on the first "
        f"{len(slice_data) / 1e6:.1f} MB of the same file: {presidio_rate:.3f} MB/s"
    )
    say(
        f"    ratio (CLI on the whole file / presidio on the slice): {ratio:.0f}x — target >= "
        f"{TARGET_RATIO:.0f}x: {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
    )
    say(
        f"    same slice in one process, our engine: {ours_slice:.1f} MB/s "
        f"({ours_slice / presidio_rate:.0f}x presidio)"
    )
    say("    found in the slice by presidio: " + counts(presidio_found))
    say("    found in the slice by redactor: " + counts(ours_found))
    say(
        f"(3) peak RSS of the redact process: {best.rss_mb:.1f} MB on {size / 1e6:.0f} MB, "
        f"{small_rss:.1f} MB on {size / 8e6:.0f} MB — target < {TARGET_RSS_MB:.0f} MB: "
        f"{'met' if max(r.rss_mb for r in runs) < TARGET_RSS_MB else 'MISSED'}"
    )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="16 MB, one run, 0.5 MB presidio")
    parser.add_argument("--size-mb", type=float, default=128.0)
    parser.add_argument("--presidio-mb", type=float, default=1.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="do not update RESULTS.md")
    args = parser.parse_args()
    if args.quick:
        args.size_mb, args.presidio_mb, args.repeat = 16.0, 0.5, 1
    compile_bytecode()
    lines = measure(args)
    if not args.no_write and not args.quick:
        write_section(SECTION, lines, "make bench  # or: .venv/bin/python bench/redact_bench.py")
        print(f"written to {RESULTS.relative_to(ROOT)} under '## {SECTION}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
