"""`redactor tail` on UTF-16 and UTF-32 files: withheld with the marker, never copied raw."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.test_tail_support import Daemon, append, daemons, follow, wait_for

__all__ = ["daemons"]

BOMS = {
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}
LINE = "card 4242424242424242 key sk_live_abc123 jane@example.com\r\n"
MARKER = re.compile(rb"<WITHHELD (\d+) bytes>\n")


def withheld_bytes(output: bytes) -> int:
    """The bytes the markers in `output` stand for; fails if anything else is in it."""
    assert MARKER.sub(b"", output) == b"", "something other than markers was written"
    return sum(int(size) for size in MARKER.findall(output))


def events(daemon: Daemon) -> int:
    return daemon.log_bytes().count(b"event=unsupported_encoding")


@pytest.mark.parametrize("codec", BOMS)
def test_a_file_with_a_wide_byte_order_mark_is_withheld_whole(tmp_path: Path, codec: str) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(BOMS[codec] + (LINE * 50).encode(codec))
    daemon = Daemon(tmp_path, [str(log)])

    assert daemon.run_once() == 0

    assert withheld_bytes(daemon.output()) == log.stat().st_size
    assert events(daemon) == 1
    assert f"encoding={codec}".encode() in daemon.log_bytes()


def test_a_followed_utf16_file_stays_withheld_across_appends_and_restarts(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon, log = follow(tmp_path, daemons, b"\xff\xfe" + LINE.encode("utf-16-le"))
    wait_for(lambda: daemon.output() != b"", what="the first marker")

    append(log, (LINE * 3).encode("utf-16-le"))
    wait_for(lambda: withheld_bytes(daemon.output()) == log.stat().st_size, what="the appends")
    assert events(daemon) == 1  # one event per file, not one per read

    daemon.kill()
    append(log, LINE.encode("utf-16-le"))
    daemon.start()
    wait_for(lambda: withheld_bytes(daemon.output()) == log.stat().st_size, what="after restart")
    assert daemon.stop() == 0
    assert withheld_bytes(daemon.output()) == log.stat().st_size  # nothing twice, nothing lost


def test_a_byte_order_mark_written_in_two_parts_is_still_recognised(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon, log = follow(tmp_path, daemons, b"\x00\x00", partial=0.1)
    time.sleep(0.5)  # several rounds and a partial-line timeout with only the mark's start

    append(log, b"\xfe\xff" + LINE.encode("utf-32-be"))
    wait_for(lambda: daemon.output() != b"", what="the marker")
    wait_for(lambda: withheld_bytes(daemon.output()) == log.stat().st_size, what="all of it")
    assert events(daemon) == 1


def test_a_utf8_file_with_a_byte_order_mark_is_redacted_as_usual(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"\xef\xbb\xbf" + LINE.encode())
    daemon = Daemon(tmp_path, [str(log)])

    assert daemon.run_once() == 0

    assert (
        daemon.output()
        == b"\xef\xbb\xbfcard <CREDIT_CARD> key <STRIPE_SECRET_KEY> <EMAIL_ADDRESS>\r\n"
    )
    assert events(daemon) == 0
