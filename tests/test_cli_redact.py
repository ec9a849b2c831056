"""`redactor redact`: stdin to stdout, files, gzip, -o, exact bytes, fail closed."""

from __future__ import annotations

import gzip
import os
import re
import select
import signal
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

RAW = (
    b"2026-12-04 10:00:00,123 card=4242424242424242\r\n"
    b"\ttab\x00nul \xe1\xff invalid utf-8 jane@example.com\n"
    b"key sk_live_4eC39HqLyjWDarjtT1zdp7dc and no newline at the end"
)
REDACTED = (
    b"2026-12-04 10:00:00,123 card=<CREDIT_CARD>\r\n"
    b"\ttab\x00nul \xe1\xff invalid utf-8 <EMAIL_ADDRESS>\n"
    b"key <STRIPE_SECRET_KEY> and no newline at the end"
)
REDACTOR = [sys.executable, "-m", "redactor"]


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*REDACTOR, *args], input=stdin, capture_output=True, timeout=60)


def test_stdin_to_stdout_keeps_every_other_byte() -> None:
    result = run("redact", stdin=RAW)

    assert result.returncode == 0, result.stderr
    assert result.stdout == REDACTED


def test_files_are_concatenated_and_gzip_is_read_transparently(tmp_path: Path) -> None:
    plain = tmp_path / "a.log"
    plain.write_bytes(RAW + b"\n")
    packed = tmp_path / "b.log.gz"
    packed.write_bytes(gzip.compress(RAW))

    result = run("redact", str(plain), str(packed))

    assert result.returncode == 0, result.stderr
    assert result.stdout == REDACTED + b"\n" + REDACTED


def test_output_file_is_private(tmp_path: Path) -> None:
    source = tmp_path / "in.log"
    source.write_bytes(RAW)
    target = tmp_path / "out.log"

    result = run("redact", str(source), "-o", str(target))

    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == REDACTED
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("redactor")

    result = subprocess.run([str(script), "redact"], input=RAW, capture_output=True, timeout=60)

    assert result.stdout == REDACTED


def test_large_input_streams_in_bounded_memory(tmp_path: Path) -> None:
    line = b"2026-12-04 INFO charge ch_3Nq8ZrT3vKp0LmWx card=4242424242424242 amount=2000\n"
    source = tmp_path / "big.log"
    with source.open("wb") as handle:
        for _ in range(40):
            handle.write(line * 20_000)
    code = (
        "import resource, subprocess, sys\n"
        f"subprocess.run({[*REDACTOR, 'redact', str(source), '-o', os.devnull]!r}, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )

    peak_kib = int(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
        ).stdout
    )

    assert source.stat().st_size > 60_000_000
    assert peak_kib < 100 * 1024


def test_progress_bar_is_drawn_on_request_for_big_inputs(tmp_path: Path) -> None:
    source = tmp_path / "big.log"
    source.write_bytes(b"charge ch_3Nq8ZrT3vKp0LmWx amount=2000\n" * 300_000)

    result = run("redact", str(source), "-o", os.devnull, "--progress", "always")

    assert result.returncode == 0
    assert b"100.0%" in result.stderr and b"MB/s" in result.stderr


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    source = tmp_path / "big.log"
    source.write_bytes(b"charge ch_3Nq8ZrT3vKp0LmWx amount=2000\n" * 300_000)

    result = run("redact", str(source), "-o", os.devnull)

    assert result.returncode == 0 and result.stderr == b""


def test_gzip_on_stdin_is_read_transparently() -> None:
    result = run("redact", stdin=gzip.compress(RAW))

    assert result.returncode == 0, result.stderr
    assert result.stdout == REDACTED


def test_a_dash_among_files_reads_stdin(tmp_path: Path) -> None:
    source = tmp_path / "a.log"
    source.write_bytes(b"file 4242424242424242\n")

    result = run("redact", str(source), "-", stdin=b"stdin 5555555555554444\n")

    assert result.stdout == b"file <CREDIT_CARD>\nstdin <CREDIT_CARD>\n"


def test_the_output_may_not_be_an_input(tmp_path: Path) -> None:
    source = tmp_path / "same.log"
    source.write_bytes(RAW)

    result = run("redact", str(source), "-o", str(source))

    assert result.returncode == 2
    assert b"is also an input" in result.stderr
    assert source.read_bytes() == RAW


def test_an_existing_output_file_is_made_private(tmp_path: Path) -> None:
    source, target = tmp_path / "in.log", tmp_path / "out.log"
    source.write_bytes(RAW)
    target.write_bytes(b"old")
    target.chmod(0o644)

    run("redact", str(source), "-o", str(target))

    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert target.read_bytes() == REDACTED


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda folder: folder / "missing.log", b"No such file or directory"),
        (lambda folder: folder, b"Is a directory"),
        (
            lambda folder: _write(folder / "cut.gz", gzip.compress(RAW)[:20]),
            b"corrupt or cut short",
        ),
        (lambda folder: _write(folder / "bad.gz", b"\x1f\x8bnot gzip at all"), b"not a valid gzip"),
    ],
    ids=["missing", "directory", "cut-gzip", "bad-gzip"],
)
def test_unreadable_inputs_are_reported_without_a_traceback(
    tmp_path: Path, make: Callable[[Path], Path], message: bytes
) -> None:
    result = run("redact", str(make(tmp_path)))

    assert result.returncode == 1
    assert message in result.stderr and b"Traceback" not in result.stderr


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


COLOURED_APP = """
import sys
from loguru import logger
logger.remove()
logger.add(sys.argv[1], colorize=True, diagnose=True, backtrace=False)
def charge(cvc, amount):
    raise ValueError("declined")
def pay():
    cvc = "271"
    charge(cvc, 2000)
try:
    pay()
except ValueError:
    logger.exception("failed")
logger.opt(colors=True).info("order <b>4242</b>424242424242 to <y>jane</y>@example.com")
"""


def test_a_coloured_log_file_is_redacted_as_a_terminal_shows_it(tmp_path: Path) -> None:
    log, app = tmp_path / "coloured.log", tmp_path / "app.py"
    app.write_text(COLOURED_APP)  # a file, so that diagnose can show the source lines
    subprocess.run([sys.executable, str(app), str(log)], check=True, timeout=60)
    assert b"\x1b[" in log.read_bytes()

    result = run("redact", str(log))

    plain = re.sub(rb"\x1b\[[0-9;]*m", b"", result.stdout)
    assert b"'271'" not in plain and b"'<CARD_CVC>'" in plain
    assert b"4242424242424242" not in plain and b"order <CREDIT_CARD>" in plain
    assert b"jane@example.com" not in plain and b"<EMAIL_ADDRESS>" in plain


def test_a_failing_input_leaves_an_existing_output_as_it_was(tmp_path: Path) -> None:
    target = tmp_path / "keep.log"
    target.write_bytes(b"earlier output\n")

    result = run("redact", str(tmp_path / "missing.log"), "-o", str(target))

    assert result.returncode == 1
    assert target.read_bytes() == b"earlier output\n"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.log"]  # no temporary file left


@pytest.mark.parametrize("where", ["missing-folder/out.log", "."], ids=["no-folder", "directory"])
def test_an_output_that_cannot_be_written_is_reported(tmp_path: Path, where: str) -> None:
    source = tmp_path / "in.log"
    source.write_bytes(RAW)

    result = run("redact", str(source), "-o", str(tmp_path / where))

    assert result.returncode == 1
    assert b"cannot write" in result.stderr and b"Traceback" not in result.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(tmp_path: Path) -> None:
    source = tmp_path / "big.log"
    source.write_bytes(b"charge 4242424242424242\n" * 400_000)
    command = f"{sys.executable} -m redactor redact {source} | head -c 10"

    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, timeout=60
    )

    assert result.returncode == 0 and result.stderr == b""


def _read_line(stream: Any, seconds: float) -> bytes:
    """One line from a pipe, or b"" when none comes in time."""
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else b""


@contextmanager
def _piped(data: bytes) -> Iterator[tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]]:
    """`redactor redact` reading a pipe, `data` written to it so far; and its stdin, stdout."""
    with subprocess.Popen(
        [*REDACTOR, "redact"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    ) as cli:
        assert cli.stdin is not None and cli.stdout is not None
        cli.stdin.write(data)
        cli.stdin.flush()
        yield cli, cli.stdin, cli.stdout


def test_lines_from_a_pipe_come_out_as_they_come_in() -> None:
    # app | redactor redact > log: each line is written when it is read, not a block later.
    with _piped(b"charge declined for card 4242424242424242\n") as (_, stdin, stdout):
        assert _read_line(stdout, 20) == b"charge declined for card <CREDIT_CARD>\n"
        stdin.close()


def test_sigterm_writes_out_what_is_held_redacted() -> None:
    with _piped(b"first line\nunfinished, card 4242424242424242") as (cli, _, stdout):
        assert _read_line(stdout, 20) == b"first line\n"

        cli.send_signal(signal.SIGTERM)
        rest = stdout.read()

        assert cli.wait(20) == 128 + signal.SIGTERM
    assert rest == b"unfinished, card <CREDIT_CARD>"
