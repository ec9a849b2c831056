"""`redactor stats`: counts per Stripe error class, and one-line errors for inputs it cannot
read (missing, a folder, corrupt or cut-short gzip), worded as `redactor redact` words them."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

LINE = b"2027-01-15 08:00:00 ERROR pay: stripe.error.CardError: Request req_Card0001: declined\n"


def stats(*names: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redactor", "stats", "--spark", "never", *names]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_stats_counts_a_gzip_log(tmp_path: Path) -> None:
    (tmp_path / "app.log.gz").write_bytes(gzip.compress(LINE * 3))

    done = stats("app.log.gz", cwd=tmp_path)

    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines()[1].split()[:2] == ["CardError", "1"]  # one request ID


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("nope.log", None, "No such file or directory"),
        ("folder", "dir", "Is a directory"),
        ("bad.gz", b"\x1f\x8b" + b"not gzip at all", "not a valid gzip file"),
        ("cut.gz", gzip.compress(LINE * 50)[:30], "the gzip data is corrupt or cut short"),
    ],
    ids=["missing", "folder", "not-gzip", "cut-short-gzip"],
)
def test_an_unreadable_input_is_one_line_naming_it(
    tmp_path: Path, name: str, content: bytes | str | None, problem: str
) -> None:
    (tmp_path / "good.log").write_bytes(LINE)
    if content == "dir":
        (tmp_path / name).mkdir()
    elif isinstance(content, bytes):
        (tmp_path / name).write_bytes(content)

    done = stats("good.log", name, cwd=tmp_path)

    assert done.returncode == 1
    assert done.stderr == f"redactor: {name}: {problem}\n"
    assert done.stdout == ""


def test_more_errors_than_logged_requests_gives_no_share_above_one_hundred_percent(
    tmp_path: Path,
) -> None:
    response = (
        "2027-01-15 08:00:01 INFO stripe: message='Stripe API response' "
        "path=https://api.stripe.com/v1/charges response_code=200\n"
    )
    errors = LINE + LINE.replace(b"req_Card0001", b"req_Card0002")
    (tmp_path / "app.log").write_bytes(response.encode() + errors)

    done = stats("app.log", cwd=tmp_path)

    total = done.stdout.splitlines()[-1]
    assert total.split()[:2] == ["total", "2;"]
    assert "%" not in total and "1 requests logged" in total
