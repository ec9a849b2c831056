"""Checkpoints: where each input was read to and where each output was written to, together.

One JSON document holds both, so a restart after any crash can cut the outputs back to what
the checkpoint covers and read the inputs again from there. It never holds log content.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .._schema import ConfigError

VERSION = 1
NAME = "tail-state.json"


@dataclass
class FileMark:
    """One input file: its identity, where it was last seen and how far it is done."""

    dev: int
    ino: int
    head_len: int
    head: str
    path: str
    origin: str
    offset: int


@dataclass
class OutputMark:
    """One output file: its inode and the length the checkpointed inputs account for."""

    name: str
    ino: int
    offset: int


@dataclass
class State:
    """Everything a restart needs."""

    files: list[FileMark] = field(default_factory=list)
    outputs: dict[str, OutputMark] = field(default_factory=dict)


def load_state(directory: Path) -> State:
    """The last checkpoint in `directory`, or an empty state when there is none."""
    path = directory / NAME
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return State()
    except ValueError:
        raise ConfigError(str(path), "", _UNREADABLE) from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise ConfigError(str(path), "version", _UNREADABLE)
    try:
        files = [FileMark(**mark) for mark in document["files"]]
        outputs = {origin: OutputMark(**mark) for origin, mark in document["outputs"].items()}
    except (KeyError, TypeError, AttributeError):
        raise ConfigError(str(path), "", _UNREADABLE) from None
    return State(files, outputs)


# Starting afresh could repeat or skip lines, so the daemon stops and says what to do.
_UNREADABLE = (
    "not a checkpoint this version can read; move it away to start reading every input "
    "from its beginning again"
)


def save_state(directory: Path, state: State) -> None:
    """Write the checkpoint atomically: a temporary file, fsync, rename, fsync the folder."""
    document = {
        "version": VERSION,
        "files": [asdict(mark) for mark in state.files],
        "outputs": {origin: asdict(mark) for origin, mark in state.outputs.items()},
    }
    temporary = directory / (NAME + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(json.dumps(document, separators=(",", ":")).encode())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, directory / NAME)
    fsync_dir(directory)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
