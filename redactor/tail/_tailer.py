"""The tail daemon's main loop: discover inputs, read them in order, write, checkpoint.

Everything runs on one thread; watchdog's thread only records which paths changed. The
outputs and the checkpoint move together, so a crash at any moment loses and repeats nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG
from typing import TYPE_CHECKING

from .._progress import Progress
from ._fdpool import FdPool
from ._output import Output
from ._settings import TailSettings
from ._sink import LineSink, SinkFeeder
from ._source import FileKey, TrackedFile, open_file
from ._state import FileMark, OutputMark, State, load_state, save_state
from ._watch import Changes, Watcher, expand, matches

if TYPE_CHECKING:
    from .._engine import Redactor

log = logging.getLogger("redactor.tail")
TICK = 0.1
# Read at most this much of one file per round, so other files and checkpoints get their turn.
ROUND_LIMIT = 8 << 20


class Tailer:
    """Follows the files matching `settings.paths` into redacted copies in `output_dir`."""

    def __init__(
        self,
        settings: TailSettings,
        redactor: Redactor,
        *,
        sink: LineSink | None = None,
        once: bool = False,
        show_progress: bool = False,
    ) -> None:
        self._settings = settings
        self._redactor = redactor
        self._patterns = [os.path.abspath(pattern) for pattern in settings.paths]
        self._output_dir = Path(settings.output_dir).resolve()
        self._state_dir = Path(settings.state_dir or self._output_dir / ".tail-state").resolve()
        self._feeder = SinkFeeder(sink) if sink is not None else None
        self._once = once
        self._show_progress = show_progress
        self._pool = FdPool(settings.max_open_files)
        ignore = [str(self._output_dir), str(self._state_dir)]
        self._ignore = tuple(os.path.join(path, "") for path in ignore)
        self._watcher = Watcher(self._patterns, settings.watch == "poll", ignore)
        self._files: dict[FileKey, TrackedFile] = {}
        self._live: dict[str, TrackedFile] = {}
        self._outputs: dict[str, Output] = {}
        self._backlog: set[TrackedFile] = set()
        self._seq = 0
        self._saved = State()
        self._checkpointed = 0.0
        self._rescanned = 0.0
        self._stopping = False
        self._reopen = False
        self._progress: Progress | None = None
        self.bytes_read = 0

    def stop(self) -> None:
        """Finish the current block, checkpoint and return from `run` (signal-safe)."""
        self._stopping = True
        self._watcher.wake()

    def reopen_outputs(self) -> None:
        """Reopen every output by name before the next write (after logrotate moved them)."""
        self._reopen = True
        self._watcher.wake()

    def run(self) -> int:
        """Follow the inputs until `stop` (or, with `once`, until all are read); exit status."""
        self._output_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._restore()
        self._scan()
        self._start_progress()
        if self._once:
            self._run_once()
        else:
            self._follow()
        self._shutdown()
        return 0

    def _follow(self) -> None:
        self._watcher.start()
        log.info("event=watching mode=%s files=%d", self._settings.watch, len(self._files))
        try:
            while not self._stopping:
                poll = self._settings.poll_interval if self._settings.watch == "poll" else TICK
                changes = self._watcher.wait(0 if self._backlog else poll)
                self._round(changes)
        finally:
            self._watcher.stop()

    def _run_once(self) -> None:
        if not self._files:
            # A batch run that found nothing is worth a word: a typo in a path looks the same.
            log.warning("event=no_inputs patterns=%d", len(self._settings.paths))
        while not self._stopping and self._pump(list(self._files.values())):
            pass
        now = time.time()
        for file in list(self._files.values()):
            file.flush_partial(self._emitter(file), self._settings.partial_line_timeout, now)
            if not file.live and file.at_end():
                self._finish(file)

    def _round(self, changes: Changes) -> None:
        now = time.time()
        if self._reopen:
            self._reopen = False
            for output in self._outputs.values():
                output.reopen()
            log.info("event=outputs_reopened outputs=%d", len(self._outputs))
        if changes.events_lost:
            log.warning("event=rescan reason=inotify_events_lost")
        full = changes.rescan or now - self._rescanned >= self._settings.rescan_interval
        if full:
            self._watcher.refresh()
            self._scan()
        for src, dest in changes.moves:
            self._follow_move(src, dest)
        for path in sorted(changes.paths):
            self._look_at(path)
        self._pump(self._due(changes, full))
        self._housekeeping(now)

    def _due(self, changes: Changes, full: bool) -> list[TrackedFile]:
        if full:
            return list(self._files.values())
        due = {file for file in self._files.values() if not file.live}
        due.update(self._live[path] for path in changes.paths if path in self._live)
        return list(due | self._backlog)

    # Discovery: which files exist, which were rotated, renamed or replaced.

    def _scan(self) -> None:
        self._rescanned = time.time()
        for path in list(self._live):
            self._look_at(path)
        for path in expand(self._patterns):
            if path not in self._live:
                self._look_at(path)

    def _matches(self, path: str) -> bool:
        if path.startswith(self._ignore):
            return False
        return any(matches(path, pattern) for pattern in self._patterns)

    def _look_at(self, path: str) -> None:
        """Bring what we know about `path` up to date with what is on disk."""
        current = self._live.get(path)
        try:
            stat = os.stat(path)
        except OSError:
            stat = None
        if current is not None and (stat is None or FileKey.of(stat) != current.key):
            self._detach(current)
            if stat is not None:
                self._find_skipped(current)
        if stat is None or not S_ISREG(stat.st_mode):
            return
        known = self._files.get(FileKey.of(stat))
        if known is not None and not known.is_open and known.path == path and not known.reopen():
            self._lose(known, "inode reused by new content")
            known = None
        if known is None:
            if self._matches(path):
                self._discover(path, origin=path, live=True)
        elif known.path != path:
            self._moved(known, path)

    def _follow_move(self, src: str, dest: str) -> None:
        try:
            key = FileKey.of(os.stat(dest))
        except OSError:
            return
        known = self._files.get(key)
        if known is not None:
            self._moved(known, dest)
        elif self._matches(src) and not self._matches(dest):
            # Rotated before we saw it (we were busy or stopped): read it under its old name.
            self._discover(dest, origin=src, live=False)

    def _moved(self, file: TrackedFile, path: str) -> None:
        if self._live.get(file.path) is file:
            del self._live[file.path]
        file.path = path
        file.live = self._matches(path) and path not in self._live
        if file.live:
            self._live[path] = file
        log.info("event=renamed origin=%s path=%s", file.origin, path)

    def _detach(self, file: TrackedFile) -> None:
        """`file.path` no longer leads to `file`: it was rotated away or deleted."""
        del self._live[file.path]
        file.live = False
        if not file.is_open and not self._find_moved(file):
            self._lose(file, "rotated while closed and not found")
            return
        log.info("event=rotated origin=%s path=%s offset=%d", file.origin, file.path, file.offset)

    def _find_moved(self, file: TrackedFile) -> bool:
        folder = os.path.dirname(file.path)
        try:
            entries = [entry.path for entry in os.scandir(folder) if entry.inode() == file.key.ino]
        except OSError:
            return False
        for path in entries:
            file.path = path
            if file.reopen():
                return True
        return False

    def _find_skipped(self, old: TrackedFile) -> None:
        """Read generations that were created and rotated on between two looks at a path.

        They are the rotated siblings (`app.log.1`, `app.log-2024...`) we do not know that were
        written after our last read of the old file; oldest first, before the new file.
        """
        folder, name = os.path.split(old.origin)
        try:
            entries = [e for e in os.scandir(folder) if e.name.startswith(name) and e.is_file()]
        except OSError:
            return
        skipped = []
        for entry in entries:
            stat = entry.stat()
            fresh = stat.st_mtime > old.last_read and FileKey.of(stat) not in self._files
            if fresh and entry.path != old.origin and not self._matches(entry.path):
                skipped.append((stat.st_mtime, entry.path))
        for _, path in sorted(skipped):
            log.info("event=skipped_generation origin=%s path=%s", old.origin, path)
            self._discover(path, origin=old.origin, live=False)

    def _discover(self, path: str, origin: str, live: bool) -> None:
        opened = open_file(path)
        if opened is None:
            return
        fd, stat = opened
        key = FileKey.of(stat)
        if key in self._files:
            os.close(fd)
            return
        file = self._track(key, path, origin, live)
        file.adopt(fd, stat)
        log.info("event=discovered origin=%s path=%s size=%d", origin, path, stat.st_size)

    def _track(self, key: FileKey, path: str, origin: str, live: bool) -> TrackedFile:
        self._seq += 1
        file = TrackedFile(
            key,
            path,
            origin,
            self._seq,
            self._redactor,
            self._pool,
            self._settings.fingerprint_bytes,
        )
        file.live = live
        self._files[key] = file
        if live:
            self._live[path] = file
        self._output_for(origin)
        return file

    def _lose(self, file: TrackedFile, why: str) -> None:
        log.warning(
            "event=lost origin=%s path=%s offset=%d reason=%r",
            file.origin,
            file.path,
            file.offset,
            why,
        )
        self._forget(file)

    def _forget(self, file: TrackedFile) -> None:
        file.release()
        self._files.pop(file.key, None)
        self._backlog.discard(file)
        if self._live.get(file.path) is file:
            del self._live[file.path]

    # Reading and writing.

    def _pump(self, files: list[TrackedFile]) -> int:
        """Read the given files in order (older generations of a name first); bytes read."""
        total = 0
        blocked: set[str] = set()
        for file in sorted(files, key=lambda f: (f.live, f.seq)):
            if self._stopping:
                break
            if file.origin in blocked or file.key not in self._files:
                self._backlog.add(file)
                continue
            done = file.pump(self._emitter(file), ROUND_LIMIT, lambda: self._stopping)
            total += done
            if done >= ROUND_LIMIT:
                self._backlog.add(file)
                blocked.add(file.origin)
            else:
                self._backlog.discard(file)
        self.bytes_read += total
        if self._progress is not None:
            self._progress.advance(total)
            if not total:
                self._progress.close()
                self._progress = None
        return total

    def _emitter(self, file: TrackedFile) -> Callable[[bytes, float], None]:
        output = self._outputs[file.origin]
        feeder = self._feeder
        origin = file.origin

        def emit(data: bytes, read_time: float) -> None:
            output.write(data)
            if feeder is not None and data:
                feeder.feed(data, origin, read_time)

        return emit

    def _housekeeping(self, now: float) -> None:
        timeout = self._settings.partial_line_timeout
        for file in list(self._files.values()):
            if file.pending:
                file.flush_partial(self._emitter(file), timeout, now)
            if file.settled(now, self._settings.rotate_wait):
                self._finish(file)
        if self._feeder is not None:
            self._feeder.flush()
        if now - self._checkpointed >= self._settings.checkpoint_interval:
            self._checkpoint()
        elif self._settings.fsync == "interval":
            for output in self._outputs.values():
                output.sync(due_only=True)

    def _finish(self, file: TrackedFile) -> None:
        """A rotated-away file is read to its end: let it go (and maybe delete it)."""
        file.finish(self._emitter(file))
        self._forget(file)
        log.info("event=finished origin=%s path=%s bytes=%d", file.origin, file.path, file.read_pos)
        if self._settings.remove_after and self._same_file(file):
            os.unlink(file.path)
            log.info("event=removed path=%s", file.path)

    def _same_file(self, file: TrackedFile) -> bool:
        try:
            stat = os.stat(file.path)
        except OSError:
            return False
        return FileKey.of(stat) == file.key and stat.st_size == file.read_pos

    # Outputs and checkpoints.

    def _output_for(self, origin: str, mark: OutputMark | None = None) -> Output:
        output = self._outputs.get(origin)
        if output is None:
            name = mark.name if mark is not None else self._name_for(origin)
            output = Output(self._output_dir / name, self._settings, self._pool)
            output.restore(mark)
            self._outputs[origin] = output
        return output

    def _name_for(self, origin: str) -> str:
        path = Path(origin)
        name = self._settings.output_name.format(name=path.name, stem=path.stem, suffix=path.suffix)
        taken = {output.path.name for output in self._outputs.values()}
        if name in taken:  # same file name in two folders
            name = f"{hashlib.sha1(origin.encode()).hexdigest()[:8]}-{name}"
        return name

    def _restore(self) -> None:
        state = load_state(self._state_dir)
        for origin, mark in state.outputs.items():
            self._output_for(origin, mark)
        for file_mark in state.files:
            self._resume(file_mark)
        self._saved = state
        log.info("event=restored files=%d outputs=%d", len(self._files), len(self._outputs))

    def _resume(self, mark: FileMark) -> None:
        key = FileKey(mark.dev, mark.ino)
        folder = os.path.dirname(mark.path)
        candidates = [mark.path]
        with contextlib.suppress(OSError):
            candidates += [e.path for e in os.scandir(folder) if e.inode() == key.ino]
        for path in candidates:
            opened = open_file(path)
            if opened is None:
                continue
            fd, stat = opened
            if FileKey.of(stat) != key:
                os.close(fd)
                continue
            live = self._matches(path) and path not in self._live
            file = self._track(key, path, mark.origin, live)
            file.adopt(fd, stat)
            if file.resume(mark):
                return
            self._forget(file)  # the inode now holds other content: a new file
            break
        log.info("event=gone path=%s offset=%d", mark.path, mark.offset)

    def _checkpoint(self) -> None:
        self._checkpointed = time.time()
        for output in self._outputs.values():
            output.sync()
        files = [file.mark() for file in self._files.values()]
        outputs = {origin: output.mark() for origin, output in self._outputs.items()}
        state = State(files, outputs)
        if state != self._saved:
            save_state(self._state_dir, state)
            self._saved = state

    def _start_progress(self) -> None:
        if not self._show_progress:
            return
        backlog = sum(max(0, file.size() - file.read_pos) for file in self._files.values())
        if backlog > 8 << 20:
            self._progress = Progress(backlog, enabled=True)

    def _shutdown(self) -> None:
        if self._progress is not None:
            self._progress.close()
        if self._feeder is not None:
            self._feeder.flush()
        self._checkpoint()
        for file in list(self._files.values()):
            file.release()
        for output in self._outputs.values():
            output.release()
        stats = self._redactor.stats
        found = " ".join(f"{k.lower()}={v}" for k, v in sorted(stats.by_entity.items()))
        log.info(
            "event=stopped files=%d bytes_read=%d withheld_lines=%d truncations=%d %s",
            len(self._files),
            self.bytes_read,
            stats.withheld_lines,
            sum(f.truncations for f in self._files.values()),
            found,
        )
