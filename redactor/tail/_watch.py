"""What changed on disk: inotify events through watchdog, or plain polling.

Both hand the main loop the same `Changes`; an inotify queue overflow asks for a full rescan
instead of losing track, and polling rescans every time.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import (
    EventsLostEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver

_EVENTS: list[type[FileSystemEvent]] = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileDeletedEvent,
    FileClosedEvent,
    EventsLostEvent,
]
_MAGIC = frozenset("*?[")


@dataclass
class Changes:
    """Paths touched since the last call, renames, and whether to rescan everything."""

    paths: set[str] = field(default_factory=set)
    moves: list[tuple[str, str]] = field(default_factory=list)
    rescan: bool = False
    events_lost: bool = False


def watch_roots(patterns: list[str]) -> dict[str, bool]:
    """The folder to watch for each glob, and whether below it must be watched too."""
    roots: dict[str, bool] = {}
    for pattern in patterns:
        parts = Path(pattern).parts
        depth = next((i for i, part in enumerate(parts) if _MAGIC & set(part)), len(parts) - 1)
        root = str(Path(*parts[:depth])) if depth else os.sep
        recursive = depth < len(parts) - 1
        roots[root] = roots.get(root, False) or recursive
    return roots


def expand(patterns: list[str]) -> list[str]:
    """The files matching the globs now, in a stable order."""
    found: set[str] = set()
    for pattern in patterns:
        found.update(glob.glob(pattern, recursive=True))
    return sorted(path for path in found if os.path.isfile(path))


def matches(path: str, pattern: str) -> bool:
    """Whether `path` matches the glob `pattern` (`**` stands for any number of folders)."""
    return _match_parts(Path(path).parts, Path(pattern).parts)


def _match_parts(parts: tuple[str, ...], patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return not parts
    head, rest = patterns[0], patterns[1:]
    if head == "**":
        return any(_match_parts(parts[i:], rest) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], head) and _match_parts(parts[1:], rest)


class Watcher:
    """Collects changes from watchdog (or only wakes up, when polling)."""

    def __init__(self, patterns: list[str], poll: bool, ignore: list[str]) -> None:
        self._roots = watch_roots(patterns)
        self._poll = poll
        self._ignore = tuple(os.path.join(path, "") for path in ignore)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._changes = Changes(rescan=True)
        self._observer: BaseObserver | None = None
        self._watched: set[str] = set()

    def start(self) -> None:
        """Begin watching the roots that exist (others are picked up by `refresh`)."""
        if self._poll:
            return
        from watchdog.observers.inotify import InotifyObserver

        self._observer = InotifyObserver()
        self.refresh()
        self._observer.start()

    def refresh(self) -> None:
        """Watch roots that appeared since the start."""
        if self._observer is None:
            return
        handler = _Handler(self)
        for root, recursive in self._roots.items():
            if root not in self._watched and os.path.isdir(root):
                self._observer.schedule(handler, root, recursive=recursive, event_filter=_EVENTS)
                self._watched.add(root)

    def stop(self) -> None:
        """Stop the watchdog thread."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None

    def wake(self) -> None:
        """Make `wait` return now (from a signal handler or another thread)."""
        self._wake.set()

    def wait(self, timeout: float) -> Changes:
        """Block until something changed or `timeout` passed; return what changed."""
        self._wake.wait(timeout)
        with self._lock:
            self._wake.clear()
            changes, self._changes = self._changes, Changes()
        changes.rescan = changes.rescan or self._poll
        return changes

    def note(self, event: FileSystemEvent) -> None:
        """Record one watchdog event (called on the watchdog thread)."""
        if isinstance(event, EventsLostEvent):
            with self._lock:
                self._changes.rescan = self._changes.events_lost = True
            self._wake.set()
            return
        src = os.fsdecode(event.src_path)
        if src.startswith(self._ignore):
            return
        with self._lock:
            self._changes.paths.add(src)
            if isinstance(event, FileMovedEvent):
                dest = os.fsdecode(event.dest_path)
                self._changes.paths.add(dest)
                self._changes.moves.append((src, dest))
        self._wake.set()


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher

    def on_any_event(self, event: FileSystemEvent) -> None:
        self._watcher.note(event)
