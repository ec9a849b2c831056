"""Run every bench/*_bench.py script in turn, passing --quick to those that accept it.

Usage: .venv/bin/python bench/run_all.py [--quick]; exits non-zero if any script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def accepts_quick(script: Path) -> bool:
    """Whether the script declares a --quick option (read from its source, not by running it)."""
    return '"--quick"' in script.read_text(encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs where supported")
    args = parser.parse_args()
    failed = []
    for script in sorted(BENCH.glob("*_bench.py")):
        command = [sys.executable, str(script)]
        if args.quick and accepts_quick(script):
            command.append("--quick")
        print(f"== {script.name} {' '.join(command[2:])}".rstrip(), flush=True)
        start = time.perf_counter()
        code = subprocess.call(command, cwd=BENCH.parent)
        print(
            f"== {script.name}: exit {code} after {time.perf_counter() - start:.1f} s\n", flush=True
        )
        if code != 0:
            failed.append(script.name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
