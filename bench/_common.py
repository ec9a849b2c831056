"""What the bench scripts share: the facts about the machine and revision measured, and the
writer that puts a script's figures into bench/RESULTS.md under its own "## section".

Imported as `_common`: the scripts run as `python bench/x_bench.py`, so bench/ is on sys.path.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import subprocess
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "RESULTS.md"
_UNKNOWN = "an unknown revision (not a git checkout)"


def machine_facts(
    *, commit: str | None = None, cores_note: str = "", packages: tuple[str, ...] = ()
) -> list[str]:
    """The revision (if given), CPU, core count, Python and the versions of `packages`."""
    facts = [f"redactor at {commit}"] if commit is not None else []
    cores = f"cores: {os.cpu_count()}" + (f" ({cores_note})" if cores_note else "")
    facts += [
        f"CPU: {cpu_model()}",
        cores,
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
    ]
    facts += [f"{name}: {importlib.metadata.version(name)}" for name in packages]
    return [*facts, f"scan loop: {scan_loop()}"]


def scan_loop() -> str:
    """Where the engine's scan loop runs here: C++ or Python (REDACTOR_PURE_PYTHON=1)."""
    import redactor

    return redactor.default_redactor().scan_loop


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or "unknown"."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def head() -> str:
    """The short hash of the commit checked out."""
    return _git("rev-parse", "--short", "HEAD") or _UNKNOWN


def revision() -> str:
    """The commit measured, and whether the engine or rules had uncommitted changes."""
    commit = _git("rev-parse", "--short", "HEAD")
    if not commit:
        return _UNKNOWN
    dirty = _git("status", "--porcelain", "redactor", "rules")
    return commit + (" with uncommitted changes to redactor/ or rules/" if dirty else "")


def _git(*args: str) -> str:
    """What `git args` prints in the checkout, stripped; "" when git or the checkout is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, text=True, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return ""
    return done.stdout.strip()


def write_section(section: str, lines: list[str], command: str) -> None:
    """Replace the figures under "## section" in RESULTS.md; keep its ### notes and the rest."""
    body = [f"## {section}", "", f"Measured {time.strftime('%Y-%m-%d')} with `{command}`:", ""]
    figures = "\n".join([*body, "```", *lines, "```", "", ""])
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n\n"

    pattern = re.compile(rf"^## {section}\n.*?(?=^### |^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: figures, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + figures
    RESULTS.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
