"""Content passes through exactly, secrets never leak, and the daemon behaves in operation."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import redactor
from redactor.tail import LineSink, Tailer, TailSettings
from tests.test_tail_support import (
    CARD,
    EMAIL,
    KEY,
    SECRETS,
    Daemon,
    append,
    daemons,
    follow,
    redacted,
    start,
    wait_for,
)

__all__ = ["daemons"]


class TestContent:
    def test_invalid_utf8_and_nul_bytes_pass_through_unchanged(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons)

        with log.open("ab") as handle:
            handle.write(b"caf\xe1 the rest of the line is kept card=" + CARD.encode() + b"\n")
            handle.write(b"nul\x00byte\x00\xff\xfe end\n")

        expected = (
            b"caf\xe1 the rest of the line is kept card=<CREDIT_CARD>\n"
            b"nul\x00byte\x00\xff\xfe end\n"
        )
        daemon.wait_output(expected)

    def test_a_20_mb_line_is_redacted_with_bounded_memory(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons)
        filler = b"x=" + b"abcdefghij" * 100_000  # 1 MB, so secrets fall on chunk cuts too
        line = (filler + b" card=" + CARD.encode() + b" ") * 20 + b"\n"

        append(log, line)

        expected = redacted(line)
        wait_for(
            lambda: (
                (daemon.out / "app.log").exists()
                and (daemon.out / "app.log").stat().st_size == len(expected)
            ),
            timeout=60,
        )
        assert daemon.output() == expected
        assert CARD.encode() not in daemon.output()
        assert daemon.peak_rss_mb() < 100


class TestSecrets:
    def test_planted_secrets_reach_neither_output_nor_our_logs(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, f"card={CARD} key={KEY} email={EMAIL}\n".encode())
        wait_for(lambda: daemon.output().endswith(b"\n"))
        os.truncate(log, 0)  # and a truncation, a rotation: every event that logs
        append(log, f"again {CARD} {EMAIL} partial {KEY}".encode())
        os.rename(log, tmp_path / "app.log.1")
        wait_for(lambda: b"event=finished" in daemon.log_bytes())
        assert daemon.stop() == 0

        for secret in SECRETS:
            assert secret.encode() not in daemon.output()
            assert secret.encode() not in daemon.log_bytes()
        assert b"<CREDIT_CARD>" in daemon.output()

    def test_outputs_are_mode_0600(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_bytes(b"line\n")
        log.chmod(0o644)
        daemon = Daemon(tmp_path, [str(log)])

        assert daemon.run_once() == 0

        assert stat.S_IMODE((daemon.out / "app.log").stat().st_mode) == 0o600


class TestOperation:
    def test_polling_mode_follows_appends_new_files_and_rotation(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "a.log").write_bytes(b"a1\n")
        daemon = start(daemons, Daemon(tmp_path, [str(logs / "*.log")], args=("--poll",)))
        assert b"mode=poll" in daemon.log_bytes()

        append(logs / "a.log", b"a2\n")
        (logs / "b.log").write_bytes(b"b1\n")
        os.rename(logs / "a.log", logs / "a.log.1")
        (logs / "a.log").write_bytes(b"a3\n")

        daemon.wait_output(b"a1\na2\na3\n", "a.log")
        daemon.wait_output(b"b1\n", "b.log")

    def test_files_that_start_matching_later_are_picked_up(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        logs = tmp_path / "logs"
        daemon = start(daemons, Daemon(tmp_path, [str(logs / "*.log")]))

        logs.mkdir()  # even the folder appears later (found by the periodic rescan)
        (logs / "late.log").write_bytes(b"late\n")
        (logs / "other.txt").write_bytes(b"not matched\n")

        daemon.wait_output(b"late\n", "late.log")
        assert not (daemon.out / "other.txt").exists()

    def test_once_processes_what_is_there_and_shows_progress(self, tmp_path: Path) -> None:
        log = tmp_path / "app.log"
        log.write_bytes(b"2025-01-01 INFO charge ok amount=2000 currency=usd\n" * 200_000)
        daemon = Daemon(tmp_path, [str(log)], extra='progress = "always"')

        assert daemon.run_once() == 0

        assert daemon.output() == log.read_bytes()
        assert b"100.0%" in daemon.log_bytes()

    def test_500_files_with_a_cap_on_open_descriptors(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        logs = tmp_path / "logs"
        logs.mkdir()
        for i in range(500):
            (logs / f"f{i:03d}.log").write_bytes(b"first %d\n" % i)
        daemon = start(
            daemons, Daemon(tmp_path, [str(logs / "*.log")], extra="max_open_files = 40")
        )
        wait_for(
            lambda: all(daemon.output(f"f{i:03d}.log") == b"first %d\n" % i for i in range(500)),
            timeout=30,
        )

        for i in range(500):
            append(logs / f"f{i:03d}.log", b"second %d\n" % i)

        wait_for(
            lambda: all(
                daemon.output(f"f{i:03d}.log") == b"first %d\nsecond %d\n" % (i, i)
                for i in range(500)
            ),
            timeout=30,
        )
        assert daemon.open_fds() <= 40 + 20  # the cap plus interpreter, inotify and pipes

    def test_sighup_reopens_outputs_after_they_were_rotated(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        daemon, log = follow(tmp_path, daemons, b"one\n")
        daemon.wait_output(b"one\n")

        os.rename(daemon.out / "app.log", daemon.out / "app.log.1")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: b"event=outputs_reopened" in daemon.log_bytes())
        append(log, b"two\n")

        daemon.wait_output(b"two\n")
        assert (daemon.out / "app.log.1").read_bytes() == b"one\n"
        assert daemon.stop() == 0

    def test_remove_after_deletes_a_raw_file_once_rotated_and_read(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        content = b"old card=" + CARD.encode() + b"\n"
        daemon, log = follow(tmp_path, daemons, content, extra="remove_after = true")
        daemon.wait_output(b"old card=<CREDIT_CARD>\n")

        os.rename(log, tmp_path / "app.log.1")
        log.write_bytes(b"new\n")

        wait_for(lambda: not (tmp_path / "app.log.1").exists(), what="the raw file removed")
        daemon.wait_output(b"old card=<CREDIT_CARD>\nnew\n")
        assert log.exists()

    def test_lost_inotify_events_trigger_a_rescan(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        logs = tmp_path / "logs"
        logs.mkdir()
        (logs / "a.log").write_bytes(b"")
        (logs / "b.log").write_bytes(b"")
        daemon = start(daemons, Daemon(tmp_path, [str(logs / "*.log")], rescan=3600.0))
        limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())

        daemon.signal(signal.SIGSTOP)  # the kernel queue fills while nobody reads it
        with (logs / "a.log").open("ab") as a, (logs / "b.log").open("ab") as b:
            for _ in range(limit // 2 + 100):
                a.write(b"a\n")
                a.flush()
                b.write(b"b\n")
                b.flush()
        (logs / "c.log").write_bytes(b"created during the overflow\n")
        daemon.signal(signal.SIGCONT)

        wait_for(lambda: b"reason=inotify_events_lost" in daemon.log_bytes(), what="rescan")
        daemon.wait_output(b"created during the overflow\n", "c.log")
        wait_for(lambda: daemon.output("b.log") == (logs / "b.log").read_bytes())


class CollectingSink:
    """A real LineSink that keeps what it is handed."""

    def __init__(self) -> None:
        self.lines: list[tuple[bytes, str]] = []
        self.flushes = 0

    def feed(self, line: bytes, source: str, read_time: float) -> None:
        assert read_time > 0
        self.lines.append((line, source))

    def flush(self) -> None:
        self.flushes += 1


class TestLineSink:
    def test_the_sink_sees_redacted_lines_in_order_per_file(self, tmp_path: Path) -> None:
        (tmp_path / "a.log").write_bytes(f"a1 {CARD}\na2\na3 {EMAIL}\n".encode())
        (tmp_path / "b.log").write_bytes(b"b1\nb2\n")
        sink = CollectingSink()
        settings = TailSettings(
            paths=[str(tmp_path / "*.log")],
            output_dir=str(tmp_path / "o"),
            state_dir=str(tmp_path / "s"),
        )
        hook: LineSink = sink

        assert Tailer(settings, redactor.Redactor(), sink=hook, once=True).run() == 0

        a = [line for line, source in sink.lines if source.endswith("a.log")]
        b = [line for line, source in sink.lines if source.endswith("b.log")]
        assert a == [b"a1 <CREDIT_CARD>\n", b"a2\n", b"a3 <EMAIL_ADDRESS>\n"]
        assert b == [b"b1\n", b"b2\n"]
        assert sink.flushes >= 1

    def test_a_failing_sink_is_reported_on_stderr_and_the_output_is_complete(
        self, tmp_path: Path
    ) -> None:
        module = tmp_path / "broken_sink.py"
        module.write_text(
            "class Broken:\n    def feed(self, line, source, read_time):\n"
            "        raise RuntimeError('sink down')\n"
            "    def flush(self):\n        pass\n"
        )
        log = tmp_path / "app.log"
        log.write_bytes(b"one\ntwo\n")
        daemon = Daemon(tmp_path, [str(log)], extra='sink = "broken_sink:Broken"')
        env = dict(os.environ, PYTHONPATH=str(tmp_path))

        done = subprocess.run(
            daemon.command("--once"), env=env, capture_output=True, timeout=60, cwd=tmp_path
        )

        assert done.returncode == 0
        assert b"line sink feed failed: RuntimeError" in done.stderr
        assert daemon.output() == b"one\ntwo\n"


class TestConfig:
    @pytest.mark.parametrize(
        ("line", "key"),
        [
            ('output_mode = "0666"', "tail.output_mode"),
            ('watch = "fanotify"', "tail.watch"),
            ("max_open_files = 2", "tail.max_open_files"),
            ("no_such_key = 1", "tail.no_such_key"),
        ],
    )
    def test_a_bad_tail_setting_names_the_file_and_key(
        self, tmp_path: Path, line: str, key: str
    ) -> None:
        config = tmp_path / "bad.toml"
        config.write_text(f"[tail]\n{line}\n")

        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "redactor",
                "tail",
                "x.log",
                "--output-dir",
                str(tmp_path / "o"),
                "--config",
                str(config),
            ],
            capture_output=True,
            timeout=60,
        )

        assert done.returncode == 2
        assert f"{config}: {key}:".encode() in done.stderr

    def test_paths_and_output_dir_come_from_the_config(self, tmp_path: Path) -> None:
        (tmp_path / "app.log").write_bytes(b"from config\n")
        config = tmp_path / "c.toml"
        config.write_text('[tail]\npaths = ["*.log"]\noutput_dir = "redacted"\n')

        done = subprocess.run(
            [sys.executable, "-m", "redactor", "--config", str(config), "tail", "--once"],
            capture_output=True,
            timeout=60,
        )

        assert done.returncode == 0, done.stderr
        assert (tmp_path / "redacted" / "app.log").read_bytes() == b"from config\n"


class TestOutputs:
    @pytest.mark.parametrize("policy", ["always", "interval", "never"])
    def test_every_fsync_policy_writes_the_same_output(self, tmp_path: Path, policy: str) -> None:
        log = tmp_path / "app.log"
        log.write_bytes(f"card={CARD}\nplain\n".encode())
        daemon = Daemon(tmp_path, [str(log)], extra=f'fsync = "{policy}"')
        daemon.config.write_text(daemon.config.read_text().replace('fsync = "never"\n', ""))

        assert daemon.run_once() == 0

        assert daemon.output() == b"card=<CREDIT_CARD>\nplain\n"

    def test_the_output_name_template_and_recursive_globs(
        self, tmp_path: Path, daemons: list[Daemon]
    ) -> None:
        logs = tmp_path / "logs"
        (logs / "api").mkdir(parents=True)
        (logs / "api" / "app.log").write_bytes(b"deep\n")
        template = 'output_name = "{stem}.redacted{suffix}"'
        daemon = start(daemons, Daemon(tmp_path, [str(logs / "**" / "*.log")], extra=template))
        (logs / "api" / "v2").mkdir()
        (logs / "api" / "v2" / "later.log").write_bytes(b"deeper\n")

        daemon.wait_output(b"deep\n", "app.redacted.log")
        daemon.wait_output(b"deeper\n", "later.redacted.log")


def test_the_public_names_are_exactly_the_intended_ones() -> None:
    import redactor.tail

    assert sorted(redactor.tail.__all__) == ["LineSink", "TailSettings", "Tailer"]
    assert all(hasattr(redactor.tail, name) for name in redactor.tail.__all__)


def tail_once(source: Path, output_dir: Path) -> subprocess.CompletedProcess[str]:
    """`redactor tail --once` in its own process, as an operator would run it."""
    command = [
        sys.executable,
        "-m",
        "redactor",
        "tail",
        "--once",
        str(source),
        "--output-dir",
        str(output_dir),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "make", [lambda root: root / "proc-like" / "x", lambda root: root / "file"]
)
def test_an_output_folder_that_cannot_be_made_is_reported(tmp_path: Path, make: Any) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"line\n")
    (tmp_path / "file").write_bytes(b"")
    (tmp_path / "proc-like").write_bytes(b"")  # a file where a folder is needed
    done = tail_once(log, make(tmp_path))

    assert done.returncode == 1
    assert "redactor tail:" in done.stderr and "Traceback" not in done.stderr


def test_a_batch_run_that_matches_nothing_says_so(tmp_path: Path) -> None:
    done = tail_once(tmp_path / "nope.log", tmp_path / "out")

    assert done.returncode == 0 and "event=no_inputs" in done.stderr


def test_a_corrupt_checkpoint_stops_the_daemon_with_a_clear_error(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"line\n")
    state = tmp_path / "out" / ".tail-state"
    state.mkdir(parents=True)
    (state / "tail-state.json").write_text("{not json")
    done = tail_once(log, tmp_path / "out")

    assert done.returncode == 2
    assert "tail-state.json" in done.stderr and "move it away" in done.stderr
    assert "Traceback" not in done.stderr
