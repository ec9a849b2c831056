"""Restarts: kill -9 at random moments, SIGTERM, and unfinished last lines."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.test_tail_support import (
    Daemon,
    append,
    daemons,
    follow,
    generations,
    redacted,
    seqs,
    start_writer,
    wait_for,
)

__all__ = ["daemons"]


def test_30_kill_9_while_a_writer_appends_neither_lose_nor_repeat_a_line(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    log = tmp_path / "app.log"
    log.touch()
    daemon = Daemon(tmp_path, [str(log)])
    daemons.append(daemon)  # started only at the end, after 30 short-lived ones
    writer = start_writer(log, count=6000, every=1500, mode="rename", pause=0.002)
    chance = random.Random(20240601)

    for _ in range(30):
        process = subprocess.Popen(daemon.command(), stderr=subprocess.DEVNULL, cwd=tmp_path)
        time.sleep(chance.uniform(0.05, 0.6))  # anywhere: start-up, catch-up, a checkpoint
        process.kill()
        process.wait(timeout=10)
    assert writer.wait(timeout=60) == 0

    daemon.start()
    daemon.wait_output(redacted(generations(log)), timeout=30, what="the full output")
    assert daemon.stop() == 0
    assert seqs(daemon.output()) == list(range(6000))


def test_sigterm_drains_checkpoints_and_exits_0(tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon, _ = follow(tmp_path, daemons, b"one\ntwo\n")
    daemon.wait_output(b"one\ntwo\n")

    assert daemon.stop() == 0

    assert b'"offset":8' in (daemon.state / "tail-state.json").read_bytes()
    assert b"event=stopped" in daemon.log_bytes()


def test_sigint_also_exits_0(tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon, _ = follow(tmp_path, daemons, b"one\n")

    daemon.signal(signal.SIGINT)

    assert daemon.process is not None
    assert daemon.process.wait(timeout=20) == 0


def test_a_partial_line_across_sigterm_and_restart_stays_one_line(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon, log = follow(tmp_path, daemons, b"before\n")
    daemon.wait_output(b"before\n")

    append(log, b"abc")  # printf abc
    time.sleep(0.3)
    assert daemon.stop() == 0
    append(log, b"def\n")  # echo def
    daemon.start()

    daemon.wait_output(b"before\nabcdef\n", what="abcdef")
    assert daemon.stop() == 0
    assert daemon.output() == b"before\nabcdef\n"


def test_a_partial_line_across_kill_9_is_not_lost_or_split(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    daemon, log = follow(tmp_path, daemons, b"before\nhalf of a line with card 4242 4242")
    daemon.wait_output(b"before\n")
    time.sleep(0.2)

    daemon.kill()
    append(log, b" 4242 4242 declined\n")
    daemon.start()

    expected = b"before\nhalf of a line with card <CREDIT_CARD> declined\n"
    daemon.wait_output(expected, what="the completed line")


def test_a_partial_line_is_written_after_the_timeout(tmp_path: Path, daemons: list[Daemon]) -> None:
    daemon, log = follow(tmp_path, daemons, partial=0.3)

    append(log, b"no newline yet")
    # Written after the timeout, but for its last word: that could be half a secret.
    daemon.wait_output(b"no newline ", what="the timed-out line")
    append(log, b", now ended\n")

    daemon.wait_output(b"no newline yet, now ended\n")


@pytest.mark.parametrize("separator", [b" ", b"\t", b"+"])
def test_a_card_number_cut_by_the_partial_line_timeout_does_not_leak(
    tmp_path: Path, daemons: list[Daemon], separator: bytes
) -> None:
    groups = separator.join([b"4242"] * 3) + separator  # cut right after a separator
    output = _cut_by_the_timeout(tmp_path, daemons, b"paid with card ", groups, b"4242 ok\n")

    assert output == b"paid with card <CREDIT_CARD> ok\n"


def test_a_key_cut_by_the_partial_line_timeout_does_not_leak(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    output = _cut_by_the_timeout(
        tmp_path,
        daemons,
        b"auth failed ",
        b"key=sk_live_51Nq8ZrT3v",
        b"Kp0LmWx7YbC2dE4fG6hJ9kQ1 retry\n",
    )

    assert output == b"auth failed key=<STRIPE_SECRET_KEY> retry\n"


def test_a_cvc_whose_key_went_out_with_the_timeout_does_not_leak(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    output = _cut_by_the_timeout(tmp_path, daemons, b'{"card": {"cvc": ', b"", b'"314"}}\n')

    assert output == b'{"card": {"cvc": "<CARD_CVC>"}}\n'


def test_kill_9_in_the_middle_of_a_20_mb_line_resumes_mid_line_exactly(
    tmp_path: Path, daemons: list[Daemon]
) -> None:
    piece = b"x=" + b"0123456789" * 50_000 + b" card=4242424242424242 "
    line = piece * 40 + b"\n"  # 20 MB
    daemon, log = follow(tmp_path, daemons)
    log.write_bytes(line)
    out = daemon.out / "app.log"

    wait_for(lambda: out.exists() and out.stat().st_size > 9 << 20, timeout=60)
    daemon.kill()
    state = (daemon.state / "tail-state.json").read_text()
    daemon.start()

    expected = redacted(line)
    wait_for(lambda: out.stat().st_size >= len(expected), timeout=60, what="the whole line")
    assert daemon.output() == expected
    assert '"offset":0,' not in state.split('"outputs"')[0], "no checkpoint inside the line"


def _cut_by_the_timeout(
    root: Path, daemons: list[Daemon], words: bytes, unfinished: bytes, rest: bytes
) -> bytes:
    """The output of a line written in two parts, the first cut in the middle of a secret.

    `words + unfinished` is written first; the partial-line timeout lets out `words` only.
    Then `rest` ends the line, and the output is returned once it holds the line's end.
    """
    daemon, log = follow(root, daemons, partial=0.3)

    append(log, words + unfinished)
    daemon.wait_output(words, what="the words before it")
    append(log, rest)

    wait_for(lambda: daemon.output().endswith(b"\n"), what="the rest of the line")
    return daemon.output()
