"""One RE2 alternation over a set of rules, and the mapping of a match back to its rule."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from ._replace import Replacer
from ._rules import Rule, latin1_options
from ._validators import Span, Validator


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its validator and replacer, ready to scan with."""

    rule: Rule
    validator: Validator
    replacer: Replacer


@dataclass(frozen=True)
class Candidate:
    """A pattern match: the rule, the span to validate and where a mask's kept prefix ends."""

    compiled: CompiledRule
    start: int
    end: int
    keep_end: int

    def validated(self, data: bytes) -> list[Span]:
        """The spans the rule's validator confirms as secrets."""
        return self.compiled.validator(data, self.start, self.end)


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
        groups = {name.decode(): number for name, number in self._regex.groupindex.items()}
        self._rules = list(rules)
        self._groups = [
            (groups.get(f"r{i}v", groups[f"r{i}"]), groups.get(f"r{i}k", 0))
            for i in range(len(rules))
        ]

    def candidates(self, data: bytes) -> Iterator[Candidate]:
        """Every non-overlapping candidate in `data`, leftmost first."""
        for match in self._regex.finditer(data):
            yield self._candidate(match)

    def first(self, data: bytes, start: int, end: int) -> Candidate | None:
        """The leftmost candidate within `data[start:end]`, if any."""
        match = self._regex.search(data, start, end)
        return None if match is None else self._candidate(match)

    def _candidate(self, match: Any) -> Candidate:
        index = int(match.lastgroup[1:])
        value_group, keep_group = self._groups[index]
        start, end = match.span(value_group)
        keep_end = match.end(keep_group) if keep_group else start
        return Candidate(self._rules[index], start, end, keep_end)
