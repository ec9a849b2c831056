"""Alert state kept across restarts, and the 0700 folders and 0600 atomic writes it shares.

The state remembers which rules a channel last heard firing and up to which event time
transitions were handled, so reading the same log lines again after a restart stays quiet.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class RuleMemory:
    """What the channels last heard about one rule."""

    notified: bool = False
    last_sent: float = 0.0


@dataclass
class AlertState:
    """Per-rule memory and the event-time watermark, saved to `path` (None: memory only)."""

    path: Path | None = None
    watermark: float = float("-inf")
    rules: dict[str, RuleMemory] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> AlertState:
        """The saved state, or a fresh one when there is none yet."""
        if path is None or not path.exists():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        rules = {name: RuleMemory(**value) for name, value in data.get("rules", {}).items()}
        return cls(path, float(data.get("watermark", float("-inf"))), rules)

    def rule(self, name: str) -> RuleMemory:
        """The memory of rule `name`, created on first use."""
        return self.rules.setdefault(name, RuleMemory())

    def save(self) -> None:
        """Write the state atomically (no-op without a path)."""
        if self.path is None:
            return
        data = {
            "watermark": self.watermark if self.watermark != float("-inf") else None,
            "rules": {name: asdict(memory) for name, memory in self.rules.items()},
        }
        if data["watermark"] is None:
            del data["watermark"]
        write_private(self.path, json.dumps(data, indent=1).encode())


def private_dir(folder: Path) -> None:
    """Create `folder` and the missing folders above it, each for the owner only (0700)."""
    missing = [folder, *folder.parents]
    missing = missing[: next(i for i, path in enumerate(missing) if path.is_dir())]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode passes through the umask


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically, readable by the owner only (0600)."""
    private_dir(path.parent)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_json(path: Path) -> Any:
    """A JSON file's content, or None when it is missing or unreadable (a torn write)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
