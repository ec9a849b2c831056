"""One RE2 alternation over a set of rules, and the mapping of a match back to its rule."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import re2

from ._replace import Replacer
from ._rules import Rule, latin1_options
from ._validators import Validator


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its validator and replacer, ready to scan with."""

    rule: Rule
    validator: Validator
    replacer: Replacer


class Candidate(NamedTuple):
    """A pattern match: the rule, the span to validate and where a mask's kept prefix ends."""

    compiled: CompiledRule
    start: int
    end: int
    keep_end: int


class Scanner:
    """Finds candidates of many rules in one linear pass."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        parts = []
        for index, compiled in enumerate(rules):
            pattern = compiled.rule.pattern
            pattern = pattern.replace("(?P<value>", f"(?P<r{index}v>")
            pattern = pattern.replace("(?P<keep>", f"(?P<r{index}k>")
            parts.append(f"(?P<r{index}>{pattern})")
        self.pattern = "|".join(parts)
        self._regex = re2.compile(self.pattern.encode(), latin1_options())
        self._count = self._regex.groups + 1
        groups = {name.decode(): number for name, number in self._regex.groupindex.items()}
        self._rules = list(rules)
        # Per rule: its outer group, the group holding the value, the group a mask keeps.
        self._groups = [
            (groups[f"r{i}"], groups.get(f"r{i}v", groups[f"r{i}"]), groups.get(f"r{i}k", 0))
            for i in range(len(rules))
        ]

    def candidates(self, data: bytes) -> Iterator[Candidate]:
        """Every non-overlapping candidate in `data`, leftmost first."""
        for match in self._regex.finditer(data):
            yield self._candidate(match)

    def matches(self, data: bytes) -> bool:
        """Whether any rule has a candidate in `data` (the fast path for clean text)."""
        return self._regex.search(data) is not None

    def first(self, data: bytes, start: int, end: int) -> Candidate | None:
        """The leftmost candidate within `data[start:end]`, if any."""
        match = self._regex.search(data, start, end)
        return None if match is None else self._candidate(match)

    def _candidate(self, match: Any) -> Candidate:
        # The wrapper's public accessors re-validate the group number on every call; on the hot
        # path read its span table directly when it has one.
        spans = getattr(match, "_spans", None) or [match.span(i) for i in range(self._count)]
        for index, (outer, value, keep) in enumerate(self._groups):
            if spans[outer][0] >= 0:
                start, end = spans[value]
                keep_end = spans[keep][1] if keep else start
                return Candidate(self._rules[index], start, end, keep_end)
        raise AssertionError("a match of the union matched no rule")
