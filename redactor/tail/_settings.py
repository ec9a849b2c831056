"""Settings of the `[tail]` table of config.toml.

Every key has a default that suits a daemon on a local disk; `check_tail` rejects values that
would make the tailer lose or leak lines, naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from .._schema import ConfigError

Watch = Literal["inotify", "poll"]
Fsync = Literal["always", "interval", "never"]
ProgressMode = Literal["auto", "always", "never"]


@dataclass
class TailSettings:
    """How `redactor tail` follows files and where it writes."""

    paths: list[str] = field(default_factory=list)
    output_dir: str = ""
    state_dir: str = ""
    output_name: str = "{name}"
    output_mode: str = "0600"
    watch: Watch = "inotify"
    poll_interval: float = 0.25
    rescan_interval: float = 10.0
    fsync: Fsync = "interval"
    fsync_interval: float = 1.0
    checkpoint_interval: float = 1.0
    partial_line_timeout: float = 5.0
    rotate_wait: float = 2.0
    remove_after: bool = False
    max_open_files: int = 128
    fingerprint_bytes: int = 1024
    sink: str = ""
    progress: ProgressMode = "auto"

    @property
    def file_mode(self) -> int:
        """`output_mode` as a number."""
        return int(self.output_mode, 8)


def check_tail(settings: TailSettings, source: str) -> None:
    """Raise ConfigError for a `[tail]` value that cannot work."""
    try:
        mode = settings.file_mode
    except ValueError:
        message = "expected an octal mode such as 0600"
        raise ConfigError(source, "tail.output_mode", message) from None
    if mode & 0o007:
        raise ConfigError(source, "tail.output_mode", "redacted logs must not be world-accessible")
    if "{name}" not in settings.output_name and "{stem}" not in settings.output_name:
        raise ConfigError(source, "tail.output_name", "expected a template with {name} or {stem}")
    for key in ("poll_interval", "rescan_interval", "fsync_interval", "checkpoint_interval"):
        if getattr(settings, key) <= 0:
            raise ConfigError(source, f"tail.{key}", "expected a number of seconds above 0")
    for key in ("partial_line_timeout", "rotate_wait"):
        if getattr(settings, key) < 0:
            raise ConfigError(source, f"tail.{key}", "expected a number of seconds, 0 or more")
    if settings.max_open_files < 8:
        raise ConfigError(source, "tail.max_open_files", "expected at least 8")
    if not 16 <= settings.fingerprint_bytes <= 65536:
        raise ConfigError(source, "tail.fingerprint_bytes", "expected 16 to 65536 bytes")
    if settings.sink and ":" not in settings.sink:
        raise ConfigError(source, "tail.sink", "expected 'module:factory'")
