"""The host-side tailer: follows log files and writes redacted copies.

`Tailer` is the daemon behind `redactor tail`; a `LineSink` receives every redacted line
(the alerting classifier plugs in there). Only redacted bytes ever leave the tailer. Names
load on first use, so `import redactor` in an app does not load watchdog.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._settings import TailSettings
    from ._sink import LineSink
    from ._tailer import Tailer

_HOMES = {"LineSink": "_sink", "TailSettings": "_settings", "Tailer": "_tailer"}

__all__ = ["LineSink", "TailSettings", "Tailer"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
