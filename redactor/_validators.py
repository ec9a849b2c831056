"""Validators: decide which stretch of a pattern's candidate, if any, is really a secret.

Patterns are deliberately loose so that the scan stays one linear pass; validators run only on
the few candidates and return the byte spans to redact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

from ._rules import Issuer
from ._speedups import issuer_table

Span = tuple[int, int]
Validator = Callable[[bytes, int, int], list[Span]]

# Digit groups of a candidate; a %-escape (%20, %2D) or a JSON escape (\u0020) is a
# separator, not digits.
_GROUP_OR_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}|\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|[0-9]+")
_COLOUR_TAIL = re.compile(rb"[0-9;]*m")
_WORDISH = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_HEX = frozenset(b"0123456789ABCDEFabcdef")
_ESCAPE_STARTS = frozenset(b"%\\0123456789")
_DIGITS = frozenset(b"0123456789")
_ALPHANUMERIC = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_ESCAPE_STARTS_ONLY = frozenset(b"%\\")
# A dash-joined run of digits this long or shorter may be a part of an ID (a UUID's last part
# has 12 characters); a longer one is a card number all the same.
_LONGEST_ID_PART = 12
# After a "+", a run this long or shorter is taken for a phone number as logged in E.164
# form; a longer one (a form body's "+" for a space, then 16 digits) is a card number.
_LONGEST_PHONE = 13
_NO_CARD = 99
_PLAIN = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))


def luhn_ok(digits: bytes) -> bool:
    """Return True when the ASCII digits pass the Luhn checksum."""
    kept = sum(digits[-1::-2].translate(_PLAIN))
    doubled = sum(digits[-2::-2].translate(_DOUBLED))
    return (kept + doubled) % 10 == 0


class IssuerTable:
    """Issuer ranges widened to six-digit prefixes, looked up by first two digits and length."""

    def __init__(self, issuers: Sequence[Issuer]) -> None:
        self._ranges: dict[tuple[bytes, int], list[tuple[int, int, bool]]] = {}
        for issuer in issuers:
            for prefix in issuer.prefixes:
                low, _, high = prefix.partition("-")
                for length in issuer.lengths:
                    self._add(low, high or low, length, issuer.luhn)

    def _add(self, low: str, high: str, length: int, luhn: bool) -> None:
        low6, high6 = int(low.ljust(6, "0")), int(high.ljust(6, "9"))
        for lead in range(low6 // 10_000, high6 // 10_000 + 1):
            key = (str(lead).encode(), length)
            self._ranges.setdefault(key, []).append((low6, high6, luhn))

    def accepts(self, digits: bytes) -> bool:
        """Return True when some issuer uses this prefix with this many digits."""
        return self.check_digit_rule(digits) is not None

    def check_digit_rule(self, digits: bytes) -> bool | None:
        """None when no issuer uses the prefix at this length; else whether Luhn applies."""
        ranges = self._ranges.get((digits[:2], len(digits)))
        if not ranges:
            return None
        six = int(digits[:6])
        matching = [luhn for low, high, luhn in ranges if low <= six <= high]
        return all(matching) if matching else None

    def accepts_prefix(self, digits: bytes) -> bool:
        """Return True when some issuer's PANs could start with these digits."""
        lengths = range(max(len(digits) + 1, 12), 20)
        return any(self.accepts(digits + b"0" * (n - len(digits))) for n in lengths)

    def ranges(self) -> list[tuple[int, int, int, bool]]:
        """Every (lowest six digits, highest six digits, length, Luhn applies) of the table."""
        return sorted(
            {(low, high, length, luhn)
             for (_, length), ranges in self._ranges.items()
             for low, high, luhn in ranges}
        )  # fmt: skip


class PanValidator:
    """Finds card numbers in a run of digit groups: issuer range, length and Luhn must agree."""

    def __init__(self, issuers: Sequence[Issuer]) -> None:
        self._issuers = IssuerTable(issuers)
        self.native_table = issuer_table(self._issuers.ranges())
        # The same check in C++ where it was built: a third of a card candidate's cost.
        native = self.native_table
        self._is_pan: Callable[[bytes], bool] = native.is_pan if native else self.is_pan

    def is_pan(self, digits: bytes) -> bool:
        """Return True for a plausible PAN given as its digits alone."""
        if not 12 <= len(digits) <= 19:
            return False
        needs_luhn = self._issuers.check_digit_rule(digits)
        return needs_luhn is not None and (not needs_luhn or luhn_ok(digits))

    def __call__(self, buf: bytes, start: int, end: int) -> list[Span]:
        if buf[start] not in _ESCAPE_STARTS and buf[start + 1] in _DIGITS:
            return self._spans(buf, start + 1, end)  # the usual one-byte boundary
        for value_start in _value_starts(buf, start):
            found = self._spans(buf, value_start, end)
            if found:
                return found
        return []

    def _spans(self, buf: bytes, start: int, end: int) -> list[Span]:
        if end - start <= 19 and buf[start:end].isdigit():
            ok = self._is_pan(buf[start:end]) and _free_standing(buf, start, end)
            return [(start, end)] if ok else []
        tokens = _GROUP_OR_ESCAPE.finditer(buf, start, end)
        groups = [m.span() for m in tokens if buf[m.start()] not in _ESCAPE_STARTS_ONLY]
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
        fewest = _fewest_digits_after(buf, groups[0][0]) if first == 0 else 0
        if fewest > 19:
            return None
        start = groups[0][0]
        best = None
        digits = buf[groups[first][0] : groups[first][1]]
        separator = None
        for last in range(first, len(groups)):
            if last > first:
                # One card is grouped one way; a change of separator starts something else.
                between = buf[groups[last - 1][1] : groups[last][0]]
                if separator is not None and between != separator:
                    break
                separator = between
                digits += buf[groups[last][0] : groups[last][1]]
            if len(digits) > 19:
                break
            # Inside the run a window is bounded by separators; only the run's edges need a look.
            inside = last < len(groups) - 1
            needed = max(fewest, 0 if inside else _fewest_digits_before(buf, groups[last][1]))
            joined = _joined_before(buf, start) or (
                not inside and _joined_after(buf, groups[last][1])
            )
            if separator == b"-" and (joined or _dashed_id(buf, groups)):
                needed = _NO_CARD  # dash-grouped digits inside a dashed ID: 5f0c-8123-4567...
            if len(digits) >= needed and self._is_pan(digits):
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


def _value_starts(buf: bytes, start: int) -> tuple[int, ...]:
    """Where the digits may begin after the boundary the card pattern matched first.

    The boundary is a backslash or JSON escape, a %-escape, one other non-digit, a key's
    last one to three characters and its "=", or the start of the text. "%42" may also be a
    literal '%' before the digits 42...
    """
    first = buf[start]
    if 0x30 <= first <= 0x39:
        return (start,)
    if first == 0x25 and buf[start + 1 : start + 3].isalnum():
        return (start + 3, start + 1) if buf[start + 1 : start + 2].isdigit() else (start + 3,)
    if first == 0x5C and buf[start + 1 : start + 2] == b"u" and _hex4(buf, start + 2):
        return (start + 6,)  # after a JSON \u0026-style escape
    if first == 0x5C and buf[start + 1 : start + 2] == b"x" and _hex2(buf, start + 2):
        return (start + 4,)  # after a bytes repr's \xb7-style escape
    if first == 0x5C and buf[start + 1 : start + 2].isalpha():
        return (start + 2,)
    equals = buf.find(b"=", start, start + 4)
    return (equals + 1,) if equals >= 0 else (start + 1,)


def _free_standing(buf: bytes, start: int, end: int) -> bool:
    """Reject digits that continue a number, a decimal, a hyphenated ID or a phone number.

    Letters around the digits do not clear them: a PAN glued to a word (order_4242...) is
    still a PAN, and a random ID that holds a valid one by chance is as good as one.
    """
    return end - start >= max(_fewest_digits_after(buf, start), _fewest_digits_before(buf, end))


def _left_clear(buf: bytes, start: int) -> bool:
    return _fewest_digits_after(buf, start) == 0


def _fewest_digits_after(buf: bytes, start: int) -> int:
    """How many digits a card number starting at `start` needs, given what stands before it.

    0 when nothing speaks against a card; more than 19 when nothing can be one (the digits
    continue a number or are a decimal's fraction).
    """
    if start == 0:
        return 0
    before = buf[start - 1]
    if 0x30 <= before <= 0x39:
        return 0 if _after_escape(buf, start) else _NO_CARD
    prior = buf[start - 2] if start >= 2 else 0x20
    if _joined_before(buf, start):  # maybe the tail of a hyphenated identifier (a UUID)
        return _LONGEST_ID_PART + 1
    if before == 0x2E:  # '.': the fraction of a decimal
        return _NO_CARD if 0x30 <= prior <= 0x39 else 0
    if before == 0x2B:  # '+': a phone number in E.164 form (+4915736625851), or a form's space
        return _LONGEST_PHONE + 1
    return 0


def _fewest_digits_before(buf: bytes, end: int) -> int:
    """How many digits a card number ending at `end` needs, given what follows it."""
    # A dash and a word may continue a hyphenated identifier; a dot and digits do not make
    # the number less of a card (a PAN serialised as a float, 4242424242424242.0, is one).
    return _LONGEST_ID_PART + 1 if _joined_after(buf, end) else 0


def _dashed_id(buf: bytes, groups: list[Span]) -> bool:
    """Whether dash-grouped digits are part of an identifier: a UUID, all digits or not.

    A UUID's groups run 8-4-4-4-12 (no card is grouped so), and one whose digits run into a
    hex letter (55090837-3449-4884-824b-...) has a group glued to a word.
    """
    start, end = groups[0][0], groups[-1][1]
    if [finish - begin for begin, finish in groups] == [8, 4, 4, 4, 12]:
        return True
    glued = (start > 0 and buf[start - 1] in _WORDISH) or (end < len(buf) and buf[end] in _WORDISH)
    return glued or _joined_before(buf, start) or _joined_after(buf, end)


def _joined_before(buf: bytes, start: int) -> bool:
    """Whether a dash joins the digits at `start` to a word before them (id-4242...)."""
    return start >= 2 and buf[start - 1] == 0x2D and buf[start - 2] in _WORDISH


def _joined_after(buf: bytes, end: int) -> bool:
    """Whether a dash joins the digits ending at `end` to a word after them (4242...-id)."""
    following = buf[end + 1] if end + 1 < len(buf) else 0x20
    return end < len(buf) and buf[end] == 0x2D and following in _WORDISH


def _after_escape(buf: bytes, start: int) -> bool:
    """True right after a %XX, a JSON "u" escape or a bytes repr's "x" escape.

    The JSON one is a backslash, u and four hex digits; the bytes repr's a backslash, x and
    two hex digits.
    """
    if start >= 3 and buf[start - 3] == 0x25 and buf[start - 2] in _HEX and buf[start - 1] in _HEX:
        return True
    if start >= 4 and buf[start - 4 : start - 2] == b"\\x" and _hex2(buf, start - 2):
        return True
    return start >= 6 and buf[start - 6 : start - 4] == b"\\u" and _hex4(buf, start - 4)


def _hex2(buf: bytes, start: int) -> bool:
    return len(buf) >= start + 2 and all(char in _HEX for char in buf[start : start + 2])


def _hex4(buf: bytes, start: int) -> bool:
    return len(buf) >= start + 4 and all(char in _HEX for char in buf[start : start + 4])


_LOCAL_EDGE = frozenset(b"'.")
_ELLIPSES = (b"...", "\u2026".encode())
_STRING_PREFIXES = frozenset((b"b", b"u", b"r", b"f", b"br", b"rb"))
# The letters of JSON's one-letter escapes (a newline written as backslash-n).
_JSON_LETTER_ESCAPES = frozenset((b"b", b"f", b"n", b"r", b"t"))
# A character beyond ASCII in an address, raw or as a JSON or bytes-repr escape: the rule takes
# any of them, the validator keeps only letters, marks and digits (not the quotes of
# "„anna@firma.de“", a no-break space, an emoji).
_ESCAPED_CHARACTER = re.compile(rb"\\\\?u([0-9A-Fa-f]{4})|((?:\\\\?x[0-9A-Fa-f]{2})+)")
# Top-level domains that are really file extensions: asset@2x.png, report@2026-12-04.csv.
FILE_EXTENSIONS = frozenset(
    (
        "png",
        "jpg",
        "jpeg",
        "gif",
        "svg",
        "webp",
        "ico",
        "bmp",
        "css",
        "js",
        "mjs",
        "map",
        "csv",
        "json",
        "txt",
        "pdf",
        "html",
        "htm",
        "xml",
        "yaml",
        "yml",
        "toml",
        "log",
        "gz",
        "tgz",
        "tar",
        "woff",
        "woff2",
        "ttf",
        "otf",
    )
)


def email_spans(buf: bytes, start: int, end: int) -> list[Span]:
    """Trim quotes and non-address %-escapes off the local part; check the domain.

    A top-level domain must be alphabetic, unless a repr limit cut the address short.
    """
    at, separator = _separator(buf, start, end)
    end = _domain_end(buf, at + separator, end)
    domain = buf[at + separator : end]
    cut_short = domain.endswith(_ELLIPSES) or buf.startswith(_ELLIPSES, end)
    if not cut_short and not _top_level_ok(domain.rsplit(b".", 1)[-1]):
        return []
    local_start = _trim_local(buf, start, at)
    return [(local_start, end)] if local_start < at else []


def _domain_end(buf: bytes, start: int, end: int) -> int:
    """Where the domain after `start` ends: at the first character that is no letter or digit."""
    if _plain_ascii(buf[start:end]):
        return end
    for begin, _, char in _characters(buf, start, end):
        if not _address_character(char):
            return begin
    return end


def _local_start(buf: bytes, start: int, at: int) -> int:
    """Where the local part before `at` starts: after the last character that is no letter."""
    if _plain_ascii(buf[start:at]):
        return start
    for _, finish, char in reversed(_characters(buf, start, at)):
        if not _address_character(char):
            return finish
    return start


def _address_character(char: str) -> bool:
    if char.isascii() or 0xDC80 <= ord(char) <= 0xDCFF:  # a byte that is no UTF-8 (Latin-1)
        return True
    return unicodedata.category(char)[0] in "LMN"


def _characters(buf: bytes, start: int, end: int) -> list[tuple[int, int, str]]:
    """The characters of buf[start:end] with their byte spans, escapes read as what they are."""
    found: list[tuple[int, int, str]] = []
    position = start
    for escape in _ESCAPED_CHARACTER.finditer(buf, start, end):
        found += _decoded(buf[position : escape.start()], position, 1)
        if escape[1] is not None:
            found.append((escape.start(), escape.end(), chr(int(escape[1], 16))))
        else:  # \xe2\x80\x9e: the UTF-8 bytes of one or more characters
            raw = bytes.fromhex(escape[2].replace(b"\\", b"").replace(b"x", b"").decode())
            found += _decoded(raw, escape.start(), 4)
        position = escape.end()
    found += _decoded(buf[position:end], position, 1)
    return _paired(found)


def _decoded(raw: bytes, position: int, width: int) -> list[tuple[int, int, str]]:
    """Each character of UTF-8 `raw`, its bytes `width` wide each in the text at `position`."""
    found = []
    for char in raw.decode("utf-8", "surrogateescape"):
        size = width * len(char.encode("utf-8", "surrogateescape"))
        found.append((position, position + size, char))
        position += size
    return found


def _paired(found: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """JSON writes a character beyond U+FFFF as two escapes, a surrogate pair: joined up."""
    paired: list[tuple[int, int, str]] = []
    for begin, finish, char in found:
        high = paired[-1][2] if paired else ""
        if 0xDC00 <= ord(char) <= 0xDFFF and len(high) == 1 and 0xD800 <= ord(high) <= 0xDBFF:
            joined = chr(0x10000 + ((ord(high) - 0xD800) << 10) + ord(char) - 0xDC00)
            paired[-1] = (paired[-1][0], finish, joined)
        else:
            paired.append((begin, finish, char))
    return paired


def _plain_ascii(span: bytes) -> bool:
    """ASCII without escapes: no character beyond ASCII can be in it, raw or escaped."""
    return span.isascii() and b"\\" not in span


def _top_level_ok(label: bytes) -> bool:
    """Letters only (any script), two or more, and not a file extension such as png."""
    if label.isalpha():  # ASCII letters: the usual case, without decoding
        return len(label) >= 2 and label.lower().decode() not in FILE_EXTENSIONS
    text = "".join(char for _, _, char in _characters(label, 0, len(label)))
    return len(text) >= 2 and text.isalpha() and text.lower() not in FILE_EXTENSIONS


def email_domain_offset(text: bytes) -> int:
    """Return where the domain part (with its @, %40 or its JSON escape) starts."""
    at, _ = _separator(text, 0, len(text))
    return at


def _separator(buf: bytes, start: int, end: int) -> tuple[int, int]:
    """Where the last @ is, and how many bytes it takes: @, %40 or the JSON escape."""
    last, size = buf.rfind(b"@", start, end), 1
    for escaped in (b"%40", b"\\u0040"):
        found = buf.rfind(escaped, max(start, last), end)  # only a later one can be the last
        if found > last:
            last, size = found, len(escaped)
    return last, size


def _trim_local(buf: bytes, start: int, at: int) -> int:
    """Skip to after the last %-escape that cannot be part of an address (%3D, %22, %26...)."""
    escape = buf.rfind(b"%", start, at)
    while escape >= 0:
        if not _escaped_local_char(buf[escape : escape + 3]):
            start = escape + 3
            break
        escape = buf.rfind(b"%", start, escape)
    start = _after_text_escape(buf, start, at)
    start = _local_start(buf, start, at)
    quote = buf.find(b"'", start, at)
    if 0 < quote - start <= 2 and buf[start:quote].lower() in _STRING_PREFIXES:
        start = quote  # b'jane@example.com' is a bytes repr, not an address starting "b'"
    while start < at and buf[start] in _LOCAL_EDGE:
        start += 1
    return start


def _after_text_escape(buf: bytes, start: int, at: int) -> int:
    """Skip what a JSON escape (backslash-u003c, backslash-n) or a colour code left.

    Only a backslash that is not itself escaped starts one, and only before u or a letter
    JSON escapes: the j after the backslash of a Windows path or of DOMAIN-backslash-user (or
    after an escaped backslash in JSON) is the address's.
    """
    if start and buf[start - 1] == 0x5C and _escaping(buf, start - 1):
        if buf[start : start + 1] == b"u" and _hex4(buf, start + 1):
            return min(start + 5, at)
        if buf[start : start + 1] in _JSON_LETTER_ESCAPES:
            return min(start + 1, at)
    if start >= 2 and buf[start - 2 : start] == b"\x1b[":
        colour = _COLOUR_TAIL.match(buf, start, at)
        return colour.end() if colour else start
    return start


def _escaping(buf: bytes, backslash: int) -> bool:
    """Whether the backslash at `backslash` escapes what follows: an odd run of them ends there."""
    first = backslash
    while first > 0 and buf[first - 1] == 0x5C:
        first -= 1
    return (backslash - first) % 2 == 0


def _escaped_local_char(escape: bytes) -> bool:
    try:
        char = chr(int(escape[1:], 16))
    except ValueError:
        return False
    return char.isalnum() or char in "+._-'"


def whole_candidate(buf: bytes, start: int, end: int) -> list[Span]:
    """The candidate as matched is the secret."""
    return [(start, end)]


def word_start_candidate(buf: bytes, start: int, end: int) -> list[Span]:
    """The candidate as matched, unless it starts inside a word (alert_test_sent: rt_test_).

    The C++ engine checks the same (a FastRule's word_start).
    """
    return [] if continues_word(buf, start) else [(start, end)]


def continues_word(buf: bytes, start: int) -> bool:
    """Whether a letter or digit stands right before `start`."""
    return start > 0 and buf[start - 1] in _ALPHANUMERIC


def make_validator(name: str, issuers: Sequence[Issuer]) -> Validator:
    """Return the validator a rule names (rule packs are checked against this list)."""
    if name == "pan":
        return PanValidator(issuers)
    if name == "pan_prefix":
        return PanPrefixValidator(issuers)
    if name == "email":
        return email_spans
    if name == "word":
        return word_start_candidate
    return whole_candidate
