"""Running one piece of work on several threads at once, as a busy app logs."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_at_once(work: Callable[[int], None], count: int = 8) -> None:
    """Start `count` threads running `work(index)` and wait for all of them."""
    threads = [threading.Thread(target=work, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
