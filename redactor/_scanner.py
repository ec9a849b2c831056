"""One RE2 alternation over a set of rules, and the mapping of a match back to its rule.

The alternation has one group per rule and no others: capture groups cost RE2 a slower
matching engine on every match, so a rule's inner groups (`value`, `keep`) are read with a
second, anchored match of that rule alone, and only when they are needed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

import re2

from ._replace import Replacer
from ._rules import Rule, latin1_options
from ._speedups import scan_loop
from ._validators import Validator, whole_candidate, word_start_candidate

if TYPE_CHECKING:
    from . import _native

_INNER_GROUP = re.compile(r"\(\?P<(value|keep)>")
# Checked with both scan loops when a Scanner is built: one of each kind of secret.
_PROBE = (
    b"card=4242 4242 4242 4242 jane.doe%40example.com sk_live_"
    + b"x" * 40
    + b' "cvc": "314" 5555555555554444 \xe2\x94\x82 \xe2\x94\x94 \'pi_1_secret_2\'\n'
)


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its validator and replacer, ready to scan with."""

    rule: Rule
    validator: Validator
    replacer: Replacer
    regex: Any = field(init=False)
    value_group: int = field(init=False)
    keep_group: int = field(init=False)
    needs_groups: bool = field(init=False)
    ignore_keys: tuple[bytes, ...] = field(init=False)
    whole: bool = field(init=False)  # a match is a finding as it stands (see word_start)
    word_start: bool = field(init=False)  # only where it does not start inside a word
    rule_id: str = field(init=False)
    entity: str = field(init=False)

    def __post_init__(self) -> None:
        regex = re2.compile(self.rule.pattern.encode(), latin1_options())
        groups = regex.groupindex
        value, keep = groups.get(b"value", 0), groups.get(b"keep", 0)
        masking = self.replacer.mode == "mask"
        object.__setattr__(self, "regex", regex)
        object.__setattr__(self, "value_group", value)
        object.__setattr__(self, "keep_group", keep if masking else 0)
        object.__setattr__(self, "needs_groups", bool(value or (keep and masking)))
        keys = tuple(key.lower().encode() for key in self.rule.ignore_after)
        object.__setattr__(self, "ignore_keys", keys)
        as_matched = self.validator in (whole_candidate, word_start_candidate)
        whole = as_matched and not keys and not self.needs_groups
        object.__setattr__(self, "whole", whole)
        object.__setattr__(self, "word_start", self.validator is word_start_candidate)
        object.__setattr__(self, "rule_id", self.rule.id)
        object.__setattr__(self, "entity", self.rule.entity)


class Candidate(NamedTuple):
    """A pattern match: the rule, the span to validate and where a mask's kept prefix ends."""

    compiled: CompiledRule
    start: int
    end: int
    keep_end: int


class Scanner:
    """Finds candidates of many rules in one linear pass."""

    def __init__(self, rules: Sequence[CompiledRule], marker: str = "") -> None:
        self._rules = list(rules)
        parts = [_INNER_GROUP.sub("(?:", c.rule.pattern) for c in rules]
        # A marker is a pattern whose matches only say "look closer" (a diagnose traceback's
        # corner): folding it into the one scan keeps clean text at a single RE2 call.
        self._marker = len(parts) if marker else -1
        alternatives = parts + ([marker] if marker else [])
        self.pattern = "|".join(f"(?:{part})" for part in alternatives)
        # Capture groups cost RE2 its slower engines on every match, so the scan has none; a
        # set of the same patterns, each anchored at both ends, then names a match's rule.
        # `_regexp` is the pybind object under google-re2's wrapper: its Match returns the
        # span table directly, without the wrapper's per-match Python bookkeeping.
        options = latin1_options()
        options.never_capture = True
        regexp = re2.compile(self.pattern.encode(), options)._regexp
        self._match = regexp.Match
        self._which = re2._re2.Set(re2._Anchor.ANCHOR_BOTH, latin1_options())
        for part in alternatives:
            self._which.Add(part.encode())
        self._which.Compile()
        self._unanchored = re2._Anchor.UNANCHORED
        self._anchored = re2._Anchor.ANCHOR_START
        self._native = scan_loop(regexp, self._which, self._marker)
        if self._native is not None and self._native.candidates(_PROBE) != self._spans(_PROBE):
            self._native = None  # never expected; the Python loop is the reference

    @property
    def native(self) -> bool:
        """Whether the scan loop runs in C++ (redactor/_native.cpp) rather than in Python."""
        return self._native is not None

    @property
    def native_loop(self) -> _native.Scanner | None:
        """The C++ scan loop itself, when it runs."""
        return self._native

    @property
    def rules(self) -> list[CompiledRule]:
        """The rules scanned for, in the order their indices in `spans` refer to."""
        return self._rules

    def spans(self, data: bytes) -> tuple[list[tuple[int, int, int]], list[int]]:
        """Every non-overlapping match in `data`, leftmost first, as (rule index, start, end).

        Also returns where the marker pattern matched. `candidate_of` turns a match into the
        candidate to validate.
        """
        if self._native is not None:
            return self._native.candidates(data)
        return self._spans(data)

    def candidates(self, data: bytes) -> tuple[list[Candidate], list[int]]:
        """Every non-overlapping candidate in `data`, leftmost first, and the markers."""
        spans, marked = self.spans(data)
        return [self.candidate_of(index, data, b, e) for index, b, e in spans], marked

    def _spans(self, data: bytes) -> tuple[list[tuple[int, int, int]], list[int]]:
        """The scan loop in Python: the reference for the C++ one."""
        end = len(data)
        start = 0
        found: list[tuple[int, int, int]] = []
        marked: list[int] = []
        match, unanchored, marker, which = self._match, self._unanchored, self._marker, self._which
        window = _LOOK_WINDOW
        while True:
            begin, finish, window = _next_match(match, unanchored, data, start, end, window)
            if begin < 0:
                return found, marked
            # The alternation prefers the first alternative that matches at `begin`; of the
            # rules that match exactly this text, that is the one with the lowest index.
            index = min(which.Match(data[begin:finish]))
            if index == marker:
                marked.append(begin)
            else:
                found.append((index, begin, finish))
            start = _resume_at(index == marker, data, begin, finish)

    def matches(self, data: bytes) -> bool:
        """Whether any rule (or the marker) has a candidate in `data`."""
        if self._native is not None:
            return bool(self._native.matches(data))
        return bool(self._match(self._unanchored, data, 0, len(data))[0][0] >= 0)

    def first(self, data: bytes, start: int, end: int) -> Candidate | None:
        """The leftmost candidate within `data[start:end]`, if any (markers skipped)."""
        if self._native is not None:
            found = self._native.first(data, start, end)
            if found is None:
                return None
            index, begin, finish = found
            return self.candidate_of(index, data, begin, finish)
        window = _LOOK_WINDOW
        while True:
            begin, finish, window = _next_match(
                self._match, self._unanchored, data, start, end, window
            )
            if begin < 0:
                return None
            index = self._rule_index(data, begin, finish)
            if index != self._marker:
                return self.candidate_of(index, data, begin, finish)
            start = _resume_at(True, data, begin, finish)

    def _rule_index(self, data: bytes, begin: int, finish: int) -> int:
        # The alternation prefers the first alternative that matches at `begin`; of the rules
        # that match exactly this text, that is the one with the lowest index.
        indices: list[int] = self._which.Match(data[begin:finish])
        return min(indices)

    def candidate_of(self, index: int, data: bytes, begin: int, finish: int) -> Candidate:
        """The candidate of rule `index` that matched `data[begin:finish]`."""
        compiled = self._rules[index]
        if not compiled.needs_groups:
            return Candidate(compiled, begin, finish, begin)
        spans = compiled.regex._regexp.Match(self._anchored, data, begin, finish)
        start, end = spans[compiled.value_group] if compiled.value_group else (begin, finish)
        keep_end = spans[compiled.keep_group][1] if compiled.keep_group else start
        return Candidate(compiled, start, end, keep_end)


# RE2 finds the leftmost match, but to tell where it ends it reads on for as long as an
# alternative that started no later could still match (an address's local part runs over any
# word): a text of back-to-back key prefixes would cost a pass to its end per match. So the
# search looks no further than a window, doubled until it holds a match that ends _LOOK_MARGIN
# bytes before the window does (no secret is that long) or reaches the end. The next search
# starts with a window eight times as far as this one needed. The C++ loop (next_match in
# _native.cpp) does the same.
_LOOK_WINDOW = 2048
_LOOK_MARGIN = 512


def _next_match(
    match: Any, anchor: Any, data: bytes, start: int, end: int, window: int
) -> tuple[int, int, int]:
    """The leftmost match in data[start:end] ((-1, -1) when none), and the next window."""
    while True:
        stop = end if end - start <= window else start + window
        begin, finish = match(anchor, data, start, stop)[0]
        if stop == end or (begin >= 0 and finish + _LOOK_MARGIN <= stop):
            return begin, finish, max(_LOOK_WINDOW, 8 * (finish - start) + _LOOK_MARGIN)
        if begin < 0:  # nothing ends inside: a match, no longer than the margin, starts late
            start = stop - _LOOK_MARGIN
        window *= 2


def _resume_at(marker: bool, data: bytes, begin: int, finish: int) -> int:
    """Where the scan goes on after a match at data[begin:finish].

    After a marker it goes on one byte in: a marker only says "look closer", and its last
    byte (the blank after a diagnose corner, the ">" of "->") may be the boundary that a card
    number right behind it needs. For the same reason it goes on at the last byte of a match
    that an "=" follows: "jane@example.com=4242..." has the card's "m=" in the address.
    """
    if marker:
        return begin + 1
    if finish - begin >= 2 and data[finish : finish + 1] == b"=":
        return finish - 1
    return finish if finish > begin else finish + 1
