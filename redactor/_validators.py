"""Validators: decide which stretch of a pattern's candidate, if any, is really a secret.

Patterns are deliberately loose so that the scan stays one linear pass; validators run only on
the few candidates and return the byte spans to redact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from ._rules import Issuer

Span = tuple[int, int]
Validator = Callable[[bytes, int, int], list[Span]]

# Digit groups of a candidate; "%20" is a separator, not the digits 2 and 0.
_GROUP_OR_SPACE = re.compile(rb"%20|[0-9]+")
_WORDISH = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_ok(digits: bytes) -> bool:
    """Return True when the ASCII digits pass the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = char - 48
        total += _DOUBLED[value] if position & 1 else value
    return total % 10 == 0


class IssuerTable:
    """Leading-digit ranges of the configured card brands, looked up by the first two digits."""

    def __init__(self, issuers: Sequence[Issuer]) -> None:
        self._by_lead: dict[bytes, list[tuple[int, int, int, frozenset[int]]]] = {}
        for issuer in issuers:
            lengths = frozenset(issuer.lengths)
            for prefix in issuer.prefixes:
                low, _, high = prefix.partition("-")
                self._add(low, high or low, lengths)

    def _add(self, low: str, high: str, lengths: frozenset[int]) -> None:
        entry = (len(low), int(low), int(high), lengths)
        if len(low) == 1:
            leads = range(int(low) * 10, int(high) * 10 + 10)
        else:
            leads = range(int(low[:2]), int(high[:2]) + 1)
        for lead in leads:
            self._by_lead.setdefault(str(lead).encode(), []).append(entry)

    def accepts_prefix(self, digits: bytes) -> bool:
        """Return True when some issuer's PANs could start with these digits."""
        for width, low, high, lengths in self._by_lead.get(digits[:2], ()):
            if max(lengths) > len(digits) >= width and low <= int(digits[:width]) <= high:
                return True
        return False

    def accepts(self, digits: bytes) -> bool:
        """Return True when some issuer uses this prefix with this many digits."""
        length = len(digits)
        for width, low, high, lengths in self._by_lead.get(digits[:2], ()):
            if length in lengths and low <= int(digits[:width]) <= high:
                return True
        return False


class PanValidator:
    """Finds card numbers in a run of digit groups: issuer range, length and Luhn must agree."""

    def __init__(self, issuers: Sequence[Issuer]) -> None:
        self._issuers = IssuerTable(issuers)

    def is_pan(self, digits: bytes) -> bool:
        """Return True for a plausible PAN given as its digits alone."""
        return 12 <= len(digits) <= 19 and self._issuers.accepts(digits) and luhn_ok(digits)

    def __call__(self, buf: bytes, start: int, end: int) -> list[Span]:
        if end - start <= 19 and buf[start:end].isdigit():
            ok = self.is_pan(buf[start:end]) and _free_standing(buf, start, end)
            return [(start, end)] if ok else []
        tokens = _GROUP_OR_SPACE.finditer(buf, start, end)
        groups = [m.span() for m in tokens if m.group() != b"%20"]
        return self._windows(buf, groups)

    def _windows(self, buf: bytes, groups: list[Span]) -> list[Span]:
        found: list[Span] = []
        index = 0
        while index < len(groups):
            last = self._longest_from(buf, groups, index)
            if last is None:
                index += 1
                continue
            found.append((groups[index][0], groups[last][1]))
            index = last + 1
        return found

    def _longest_from(self, buf: bytes, groups: list[Span], first: int) -> int | None:
        if groups[first][1] - groups[first][0] < 4:
            return None  # card numbers are written with a first group of at least 4 digits
        if first == 0 and not _left_clear(buf, groups[0][0]):
            return None
        best = None
        digits = b""
        for last in range(first, len(groups)):
            digits += buf[groups[last][0] : groups[last][1]]
            if len(digits) > 19:
                break
            # Inside the run a window is bounded by separators; only the run's edges need a look.
            edge_ok = last < len(groups) - 1 or _right_clear(buf, groups[last][1])
            if edge_ok and self.is_pan(digits):
                best = last
        return best


class PanPrefixValidator:
    """Accepts the leading digits of a PAN cut short and followed by an ellipsis."""

    def __init__(self, issuers: Sequence[Issuer]) -> None:
        self._issuers = IssuerTable(issuers)

    def __call__(self, buf: bytes, start: int, end: int) -> list[Span]:
        digits = bytes(char for char in buf[start:end] if 0x30 <= char <= 0x39)
        if _left_clear(buf, start) and self._issuers.accepts_prefix(digits):
            return [(start, end)]
        return []


def _free_standing(buf: bytes, start: int, end: int) -> bool:
    """Reject digits that continue a word, an identifier, a decimal or a hyphenated ID."""
    return _left_clear(buf, start) and _right_clear(buf, end)


def _left_clear(buf: bytes, start: int) -> bool:
    if start == 0:
        return True
    before = buf[start - 1]
    if before in _WORDISH:
        return _after_escape(buf, start)
    prior = buf[start - 2] if start >= 2 else 0x20
    if before == 0x2D:  # '-': the tail of a hyphenated identifier such as a UUID
        return prior not in _WORDISH
    if before == 0x2E:  # '.': the fraction of a decimal
        return not 0x30 <= prior <= 0x39
    return True


def _after_escape(buf: bytes, start: int) -> bool:
    """True after %XX (URL encoding) or a backslash escape (a newline written as two chars)."""
    if start >= 3 and buf[start - 3] == 0x25 and buf[start - 2] in _HEX and buf[start - 1] in _HEX:
        return True
    return start >= 2 and buf[start - 2] == 0x5C


def _right_clear(buf: bytes, end: int) -> bool:
    if end >= len(buf):
        return True
    after = buf[end]
    if after in _WORDISH:
        return False
    following = buf[end + 1] if end + 1 < len(buf) else 0x20
    if after == 0x2D:
        return following not in _WORDISH
    if after == 0x2E:
        return not 0x30 <= following <= 0x39
    return True


_LOCAL_EDGE = frozenset(b"'.")
_ELLIPSES = (b"...", "\u2026".encode())
_STRING_PREFIXES = frozenset((b"b", b"u", b"r", b"f", b"br", b"rb"))


def email_spans(buf: bytes, start: int, end: int) -> list[Span]:
    """Trim quotes and non-address %-escapes off the local part; check the domain.

    A top-level domain must be alphabetic, unless a repr limit cut the address short.
    """
    at, separator = _separator(buf, start, end)
    domain = buf[at + separator : end]
    top_level = domain.rsplit(b".", 1)[-1]
    cut_short = domain.endswith(_ELLIPSES)
    if not cut_short and (len(top_level) < 2 or not top_level.isalpha()):
        return []
    local_start = _trim_local(buf, start, at)
    return [(local_start, end)] if local_start < at else []


def email_domain_offset(text: bytes) -> int:
    """Return where the domain part (with its @ or %40) starts in an email address."""
    at, _ = _separator(text, 0, len(text))
    return at


def _separator(buf: bytes, start: int, end: int) -> tuple[int, int]:
    plain = buf.rfind(b"@", start, end)
    encoded = buf.rfind(b"%40", start, end)
    return (plain, 1) if plain > encoded else (encoded, 3)


def _trim_local(buf: bytes, start: int, at: int) -> int:
    """Skip to after the last %-escape that cannot be part of an address (%3D, %22, %26...)."""
    escape = buf.rfind(b"%", start, at)
    while escape >= 0:
        if not _escaped_local_char(buf[escape : escape + 3]):
            start = escape + 3
            break
        escape = buf.rfind(b"%", start, escape)
    quote = buf.find(b"'", start, at)
    if 0 < quote - start <= 2 and buf[start:quote].lower() in _STRING_PREFIXES:
        start = quote  # b'jane@example.com' is a bytes repr, not an address starting "b'"
    while start < at and buf[start] in _LOCAL_EDGE:
        start += 1
    return start


def _escaped_local_char(escape: bytes) -> bool:
    try:
        char = chr(int(escape[1:], 16))
    except ValueError:
        return False
    return char.isalnum() or char in "+._-'"


def whole_candidate(buf: bytes, start: int, end: int) -> list[Span]:
    """The candidate as matched is the secret."""
    return [(start, end)]


def make_validator(name: str, issuers: Sequence[Issuer]) -> Validator:
    """Return the validator a rule names (rule packs are checked against this list)."""
    if name == "pan":
        return PanValidator(issuers)
    if name == "pan_prefix":
        return PanPrefixValidator(issuers)
    if name == "email":
        return email_spans
    return whole_candidate
