"""Notifications waiting for delivery, one 0600 JSON file each in the state directory.

A file is written before the first attempt and rewritten as each channel succeeds, so a
restart resends only what no channel has confirmed yet.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ._state import private_dir, read_json, write_private


@dataclass
class Pending:
    """One notification: per channel, its rendered title, body and format still to send."""

    id: str
    created: float
    bodies: dict[str, dict[str, str]]
    attempts: dict[str, int] = field(default_factory=dict)
    next_try: dict[str, float] = field(default_factory=dict)


class Outbox:
    """The folder of pending notifications (None: kept in memory only)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            private_dir(folder)

    def save(self, pending: Pending) -> None:
        """Write (or rewrite) one notification; remove it once every channel has it."""
        if self.folder is None:
            return
        path = self.folder / f"{pending.id}.json"
        if not pending.bodies:
            path.unlink(missing_ok=True)
            return
        write_private(path, json.dumps(asdict(pending)).encode())

    def load(self) -> list[Pending]:
        """Every notification left from before, oldest first."""
        if self.folder is None:
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            data = read_json(path)
            if isinstance(data, dict):
                found.append(Pending(**data))
        return sorted(found, key=lambda pending: pending.created)

    def files(self) -> list[Path]:
        """The outbox files on disk (for tests and `redactor stats`)."""
        return sorted(self.folder.glob("*.json")) if self.folder is not None else []


def clean_temporaries(folder: Path) -> None:
    """Remove half-written files a crash may have left behind."""
    for path in folder.glob(".tmp-*"):
        os.unlink(path)
