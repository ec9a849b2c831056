"""The host-side tailer: follows log files and writes redacted copies.

`Tailer` is the daemon behind `redactor tail`; a `LineSink` receives every redacted line
(the alerting classifier plugs in there). Only redacted bytes ever leave the tailer.
"""

from __future__ import annotations

from ._settings import TailSettings
from ._sink import LineSink
from ._tailer import Tailer

__all__ = ["LineSink", "TailSettings", "Tailer"]
