"""A cap on open file descriptors: the least recently used idle holders give theirs back.

Inputs and outputs both register here; a holder reopens its file by path (and, for inputs,
checks the identity) the next time it is used.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol


class Holder(Protocol):
    """Something that keeps a file open and can close it, to reopen it later."""

    @property
    def pinned(self) -> bool:
        """True while the file could not be found again once closed (rotated or deleted)."""
        ...

    def release(self) -> None:
        """Close the descriptor."""
        ...


class FdPool:
    """Keeps at most `cap` holders open, closing the least recently used unpinned ones."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._open: OrderedDict[int, Holder] = OrderedDict()

    def opened(self, holder: Holder) -> None:
        """Note that `holder` uses a descriptor now; close others when over the cap."""
        self._open[id(holder)] = holder
        self._open.move_to_end(id(holder))
        if len(self._open) > self._cap:
            self._evict(holder)

    def used(self, holder: Holder) -> None:
        """Mark `holder` as the most recently used."""
        if id(holder) in self._open:
            self._open.move_to_end(id(holder))

    def closed(self, holder: Holder) -> None:
        """Forget `holder`, which closed its descriptor."""
        self._open.pop(id(holder), None)

    def _evict(self, keep: Holder) -> None:
        for key, holder in list(self._open.items()):
            if len(self._open) <= self._cap:
                return
            if holder is not keep and not holder.pinned:
                del self._open[key]
                holder.release()
