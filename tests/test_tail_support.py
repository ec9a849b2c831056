"""Helpers for the tail tests: a real daemon process, a real writer process, polling waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import redactor

CARD = "4242424242424242"
KEY = "sk_live_51Nq8ZrT3vKp0LmWx7YbC2dE4fG6hJ9kQ1sU5wA8z"
EMAIL = "jane.doe@example.com"
SECRETS = (CARD, KEY, EMAIL)

FAST = """
[tail]
checkpoint_interval = 0.05
rotate_wait = {rotate_wait}
rescan_interval = {rescan}
poll_interval = 0.05
partial_line_timeout = {partial}
fsync = "never"
{extra}
"""

# A separate writer process: appends numbered lines (some with secrets) and rotates the file.
WRITER = textwrap.dedent(
    """
    import os, sys, time, shutil
    path, count, every, mode, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \\
        sys.argv[4], float(sys.argv[5])
    secrets = ["card=4242424242424242", "key=sk_live_51Nq8ZrT3vKp0LmWx7YbC2dE4fG6hJ9kQ1sU5w",
               "email=jane.doe@example.com", "ok"]
    handle = open(path, "ab", buffering=0)
    rotations = 0
    for i in range(count):
        line = f"{time.time():.6f} seq={i:06d} charge {secrets[i % 4]} status=200\\n"
        handle.write(line.encode())
        if every and i and i % every == 0:
            rotations += 1
            if mode == "rename":
                handle.close()
                os.rename(path, f"{path}.{rotations}")
                handle = open(path, "ab", buffering=0)
            elif mode == "copytruncate":
                shutil.copyfile(path, f"{path}.{rotations}")
                os.truncate(path, 0)
            elif mode == "truncate":
                os.truncate(path, 0)
        if pause:
            time.sleep(pause)
    handle.close()
    """
)


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    """Poll `condition` until it holds; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def redacted(data: bytes) -> bytes:
    """What the tailer's output must be for `data`, by the engine directly."""
    return redactor.Redactor().redact_bytes(data)


def start_writer(
    path: Path, count: int, every: int = 0, mode: str = "none", pause: float = 0.0
) -> subprocess.Popen[bytes]:
    """Start the writer process."""
    args = [sys.executable, "-c", WRITER, str(path), str(count), str(every), mode, str(pause)]
    return subprocess.Popen(args)


class Daemon:
    """`redactor tail` as a real process, with its stderr kept in a file."""

    def __init__(
        self,
        root: Path,
        patterns: list[str],
        *,
        partial: float = 5.0,
        rescan: float = 1.0,
        rotate_wait: float = 0.3,
        extra: str = "",
        args: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.out = root / "out"
        self.state = root / "state"
        self.config = root / "tail.toml"
        settings = {"partial": partial, "rescan": rescan, "rotate_wait": rotate_wait}
        self.config.write_text(FAST.format(extra=extra, **settings))
        self.stderr_path = root / "daemon.stderr"
        self.patterns = patterns
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *more: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "redactor",
            "tail",
            *self.patterns,
            "--output-dir",
            str(self.out),
            "--state-dir",
            str(self.state),
            "--config",
            str(self.config),
            *self.args,
            *more,
        ]

    def start(self) -> Daemon:
        """Start the daemon and wait until it watches for changes."""
        mark = len(self.log_bytes())
        stderr = self.stderr_path.open("ab")
        process = subprocess.Popen(self.command(), stderr=stderr, cwd=self.root)
        stderr.close()
        self.process = process
        wait_for(
            lambda: b"event=watching" in self.log_bytes()[mark:] or process.poll() is not None,
            20,
            "the daemon to start",
        )
        assert process.poll() is None, self.log_bytes()[mark:].decode(errors="replace")
        return self

    def run_once(self) -> int:
        with self.stderr_path.open("ab") as stderr:
            return subprocess.run(
                self.command("--once"), stderr=stderr, cwd=self.root, timeout=60
            ).returncode

    def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)

    def stop(self) -> int:
        """SIGTERM and wait; the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.process = None
        return code

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    def output(self, name: str = "app.log") -> bytes:
        path = self.out / name
        return path.read_bytes() if path.exists() else b""

    def wait_output(
        self, expected: bytes, name: str = "app.log", timeout: float = 20.0, what: str = ""
    ) -> None:
        """Wait until the output `name` holds exactly `expected`."""
        what = what or f"{name} to hold {expected[:60]!r}"
        wait_for(lambda: self.output(name) == expected, timeout, what)

    def log_bytes(self) -> bytes:
        return self.stderr_path.read_bytes() if self.stderr_path.exists() else b""

    def peak_rss_mb(self) -> float:
        assert self.process is not None
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM"))
        return int(line.split()[1]) / 1024

    def open_fds(self) -> int:
        assert self.process is not None
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def close(self) -> None:
        if self.process is not None:
            self.kill()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    """Daemons started by a test; any still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.close()


def caught_up(daemon: Daemon, expected: Callable[[], bytes], name: str = "app.log") -> bool:
    """Whether the output equals the expectation computed now."""
    return daemon.output(name) == expected()


def start(daemons: list[Daemon], daemon: Daemon) -> Daemon:
    """Register `daemon` for clean-up before starting it, so a failed start leaks nothing."""
    daemons.append(daemon)
    return daemon.start()


def follow(
    root: Path,
    daemons: list[Daemon],
    content: bytes = b"",
    *,
    partial: float = 5.0,
    rotate_wait: float = 0.3,
    extra: str = "",
) -> tuple[Daemon, Path]:
    """Write `root/app.log` holding `content` and start a daemon that follows it."""
    log = root / "app.log"
    log.write_bytes(content)
    daemon = Daemon(root, [str(log)], partial=partial, rotate_wait=rotate_wait, extra=extra)
    return start(daemons, daemon), log


def append(path: Path, data: bytes) -> None:
    """Append `data` to `path` in one write and close it again, as `echo >>` does."""
    with path.open("ab") as handle:
        handle.write(data)


def generations(log: Path) -> bytes:
    """The rotated files oldest first, then the live one: everything the writer wrote."""
    rotated = sorted(log.parent.glob(log.name + ".*"), key=lambda p: int(p.suffix[1:]))
    return b"".join(path.read_bytes() for path in [*rotated, log])


def seqs(data: bytes) -> list[int]:
    """The writer's sequence numbers, in the order its lines appear in `data`."""
    return [int(line.split(b"seq=")[1][:6]) for line in data.splitlines()]
