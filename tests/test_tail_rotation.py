"""Rotation, truncation and file identity, with a separate writer process and the daemon."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.test_tail_support import (
    Daemon,
    append,
    caught_up,
    daemons,
    follow,
    generations,
    redacted,
    seqs,
    start_writer,
    wait_for,
)

__all__ = ["daemons"]


class TestRenameAndCreate:
    def test_every_generation_is_read_to_its_end_exactly_once(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons)

        writer = start_writer(log, count=3000, every=700, mode="rename", pause=0.0005)
        assert writer.wait(timeout=60) == 0

        wait_for(lambda: caught_up(daemon, lambda: redacted(generations(log))), what="output")
        assert daemon.stop() == 0
        assert seqs(daemon.output()) == list(range(3000))

    def test_a_file_deleted_while_open_is_read_to_its_end(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, b"first line\n")
        daemon.wait_output(b"first line\n")

        with log.open("ab") as handle:  # a writer that keeps writing after the unlink
            os.unlink(log)
            handle.write(b"written after the delete\n")

        daemon.wait_output(b"first line\nwritten after the delete\n")
        wait_for(lambda: b"event=finished" in daemon.log_bytes(), what="let go")

    def test_two_rotations_while_the_daemon_is_stalled_keep_the_middle_file(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, b"gen1 a\n")
        daemon.wait_output(b"gen1 a\n")

        daemon.signal(signal.SIGSTOP)  # the output side is stuck: no reads for a while
        with log.open("ab") as handle:
            handle.write(b"gen1 b\n")
        os.rename(log, tmp_path / "app.log.1")
        log.write_bytes(b"gen2 a\ngen2 b\n")
        os.rename(log, tmp_path / "app.log.1")  # the first rotated file is replaced
        log.write_bytes(b"gen3 a\n")
        daemon.signal(signal.SIGCONT)

        expected = b"gen1 a\ngen1 b\ngen2 a\ngen2 b\ngen3 a\n"
        daemon.wait_output(expected, what="all three generations")


# rotate_wait of the daemons below: long enough that a write just after a rename is in time.
WAIT = 0.6


class TestWritesThroughTheOldDescriptorAfterARename:
    """logrotate's create mode: an app appends through its old descriptor just after the rename.

    The renamed file is followed until it has been quiet for rotate_wait counted from the
    rename (or from its last growth after it), however long it was quiet before.
    """

    def _rotate_after_a_quiet_spell(self, daemon: Daemon, log: Path) -> None:
        time.sleep(WAIT + 0.3)  # quiet for longer than rotate_wait before the rotation
        mark = len(daemon.log_bytes())
        os.rename(log, log.with_name("app.log.1"))
        log.touch()
        seen = (b"event=renamed", b"event=rotated")
        wait_for(lambda: any(e in daemon.log_bytes()[mark:] for e in seen), what="the rename")

    def test_a_line_written_just_after_the_rename_is_copied_once_and_in_order(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, rotate_wait=WAIT)
        lines = [
            b"line 1 card=4242424242424242\n",
            b"line 2 through the old descriptor key=sk_live_51Nq8ZrT3vKp0LmWx7YbC2dE4\n",
            b"line 3 in the new file\n",
        ]
        with log.open("ab", buffering=0) as app:
            app.write(lines[0])
            daemon.wait_output(redacted(lines[0]))
            self._rotate_after_a_quiet_spell(daemon, log)

            app.write(lines[1])
        append(log, lines[2])

        expected = redacted(b"".join(lines))
        daemon.wait_output(expected, what="the line written after the rename")
        wait_for(lambda: b"event=finished" in daemon.log_bytes(), what="the old file let go")
        assert daemon.stop() == 0
        assert daemon.output() == expected

    def test_late_lines_keep_the_renamed_file_followed_until_it_is_quiet(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, b"before the rotation\n", rotate_wait=WAIT)
        late = [b"late line %d\n" % i for i in range(4)]
        with log.open("ab", buffering=0) as app:
            daemon.wait_output(b"before the rotation\n")
            self._rotate_after_a_quiet_spell(daemon, log)
            for line in late:  # each within rotate_wait of the one before, all after it
                time.sleep(WAIT / 2)
                app.write(line)

            expected = b"before the rotation\n" + b"".join(late)
            daemon.wait_output(expected, what="every late line")
        wait_for(lambda: b"event=finished" in daemon.log_bytes(), what="the old file let go")
        assert daemon.stop() == 0
        assert daemon.output() == expected

    def test_kill_9_while_the_renamed_file_is_followed_neither_loses_nor_repeats(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, rotate_wait=WAIT)
        lines = [b"line %d email=jane.doe@example.com\n" % i for i in range(4)]
        with log.open("ab", buffering=0) as app:
            app.write(lines[0])
            daemon.wait_output(redacted(lines[0]))
            self._rotate_after_a_quiet_spell(daemon, log)
            app.write(lines[1])
            daemon.wait_output(redacted(b"".join(lines[:2])))

            daemon.kill()
            app.write(lines[2])  # written while the daemon is down, just after the rotation
            mark = len(daemon.log_bytes())
            daemon.start()
            daemon.wait_output(redacted(b"".join(lines[:3])), what="the line written while down")
        wait_for(lambda: b"event=finished" in daemon.log_bytes()[mark:], what="the old file let go")

        daemon.kill()
        daemon.start()
        append(log, lines[3])
        daemon.wait_output(redacted(b"".join(lines)))
        assert daemon.stop() == 0
        assert daemon.output() == redacted(b"".join(lines))


class TestTruncation:
    def _follow_truncating_writer(
        self, tmp_path: Path, daemons: list[Daemon], mode: str
    ) -> tuple[Daemon, Path]:
        daemon, log = follow(tmp_path, daemons)
        writer = start_writer(log, count=2000, every=500, mode=mode, pause=0.001)
        assert writer.wait(timeout=60) == 0
        wait_for(lambda: seqs(daemon.output())[-1:] == [1999], what="the last line")
        return daemon, log

    def _check(self, daemon: Daemon) -> None:
        got = seqs(daemon.output())
        assert len(got) == len(set(got)), "a line was repeated"
        assert got == sorted(got), "lines out of order"
        assert (
            daemon.log_bytes().count(b"event=truncated")
            + daemon.log_bytes().count(b"event=rewritten")
            == 3
        )
        # Lines written between the last read and a truncation may be gone; each is counted
        # in a loss window. Everything after the last truncation (seq 1501...) is there.
        assert set(range(1501, 2000)) <= set(got)
        assert len(got) >= 2000 - 3 * 50

    def test_copytruncate_restarts_at_zero_without_repeats(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, _ = self._follow_truncating_writer(tmp_path, daemons, "copytruncate")
        self._check(daemon)

    def test_plain_truncation_restarts_at_zero_without_repeats(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, _ = self._follow_truncating_writer(tmp_path, daemons, "truncate")
        self._check(daemon)

    def test_truncated_and_quickly_rewritten_with_100_lines_reads_each_once(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        old = b"".join(b"old line %03d\n" % i for i in range(20))
        daemon, log = follow(tmp_path, daemons, old)
        daemon.wait_output(old)

        new = b"".join(b"new line %03d, longer than the old ones\n" % i for i in range(100))
        daemon.signal(signal.SIGSTOP)  # truncate and rewrite past the old end before it looks
        with log.open("r+b") as handle:
            handle.truncate(0)
            handle.write(new)
        daemon.signal(signal.SIGCONT)

        daemon.wait_output(old + new, what="the rewritten lines")
        assert daemon.stop() == 0
        assert daemon.output() == old + new

    def test_truncated_to_50_bytes_and_appended_then_restarted_sends_nothing_twice(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        before = b"".join(b"before %03d ................................\n" % i for i in range(20))
        daemon, log = follow(tmp_path, daemons, before)
        daemon.wait_output(before)

        os.truncate(log, 50)
        append(log, b"after truncation\n")
        after = before + log.read_bytes()  # reading restarts at 0
        daemon.wait_output(after, what="the truncated file")
        assert daemon.stop() == 0

        daemon.start()
        append(log, b"after restart\n")
        daemon.wait_output(after + b"after restart\n")
        assert daemon.stop() == 0
        assert daemon.output() == after + b"after restart\n"


class TestIdentity:
    def test_a_reused_inode_with_new_content_is_read_from_its_start(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        log = tmp_path / "app.log"
        log.write_bytes(b"the first file, first line\nits second line\n")
        daemon = Daemon(tmp_path, [str(log)])
        assert daemon.run_once() == 0
        inode = log.stat().st_ino

        log.unlink()
        reused = _create_with_inode(tmp_path, inode)
        reused.write_bytes(b"another file entirely, longer than the first one was\n")
        reused.rename(log)
        assert log.stat().st_ino == inode

        assert daemon.run_once() == 0
        assert daemon.output() == (
            b"the first file, first line\nits second line\n"
            b"another file entirely, longer than the first one was\n"
        )

    def test_two_files_with_the_same_first_line_are_both_read(self, tmp_path: Path) -> None:
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "a.log").write_bytes(b"service started\nonly in a\n")
        (logs / "b.log").write_bytes(b"service started\nonly in b\n")
        daemon = Daemon(tmp_path, [str(logs / "*.log")])

        assert daemon.run_once() == 0

        assert daemon.output("a.log") == b"service started\nonly in a\n"
        assert daemon.output("b.log") == b"service started\nonly in b\n"


def _create_with_inode(folder: Path, inode: int) -> Path:
    """ext4 and tmpfs hand a freed inode out again soon; create files until one gets it."""
    candidates = []
    for i in range(2000):
        path = folder / f"candidate{i}"
        path.touch()
        if path.stat().st_ino == inode:
            for other in candidates:
                other.unlink()
            return path
        candidates.append(path)
    raise AssertionError("the file system did not reuse the inode")
