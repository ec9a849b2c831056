"""The redaction engine: one linear-time RE2 scan over a buffer, validation on candidates only.

All rules are joined into a single RE2 alternation, so a block of log lines costs one pass
whatever the number of rules. Work happens on bytes: invalid UTF-8, NUL bytes, tabs and CRLF
outside a redacted span come out exactly as they went in.
"""

from __future__ import annotations

import re
import sys
import threading
import traceback
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ._colours import PlainText, has_colour_codes
from ._config import Config, RuleSettings, load_config
from ._replace import Replacer
from ._rules import Rule, RuleSet, load_rules, pack_paths
from ._scanner import Candidate, CompiledRule, Scanner
from ._schema import ConfigError
from ._speedups import issuer_table, record_redactor
from ._validators import (
    FILE_EXTENSIONS,
    PanValidator,
    continues_word,
    email_spans,
    make_validator,
)
from ._variables import VariableValues

if TYPE_CHECKING:
    from ._native import RecordRedactor
    from ._presidio import ExtraAnalyzer

# A candidate of another rule that starts inside a rejected one is looked for this far past it.
_FALLBACK_REACH = 4096
# No secret is shorter ("a@b.io", "cvc=314"): text a validator trimmed off that is shorter
# holds none, and is not scanned again.
_SHORTEST_SECRET = 6
_JSON_BEFORE = frozenset(b":[,")
# How far back a comma's array or object is looked for.
_JSON_REACH = 256
# How far back the quotes of a line are counted, to tell whether a number is in a string.
_QUOTE_REACH = 4096
# A quote that a backslash does not escape: after an even run of backslashes, or none.
_UNESCAPED_QUOTE = re.compile(rb'(?<!\\)(?:\\\\)*"')
_JSON_AFTER = frozenset(b",}]")
_BLANKS = b" \t\r\n"
_BLANK_BYTES = frozenset((b" ", b"\t", b"\r", b"\n"))
_NUMBER_CHARS = frozenset(b"0123456789 +-%")
_NUMBER_TAIL = re.compile(rb"(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


class Finding(NamedTuple):
    """A secret found in a buffer: its span, the rule that found it and its entity."""

    start: int
    end: int
    rule: str
    entity: str
    keep: int = 0


class RedactionStats:
    """Counts of what was redacted and withheld; safe to update from many threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counted: Counter[str] = Counter()
        self._native: RecordRedactor | None = None
        self.withheld_lines = 0
        self.withheld_bytes = 0

    @property
    def by_entity(self) -> Counter[str]:
        """Findings so far by entity, counted here and by the C++ path."""
        with self._lock:
            total = Counter(self._counted)
        if self._native is not None:
            total.update(self._native.counts())
        return total

    def count_natively(self, native: RecordRedactor) -> None:
        """Include what `native` counts itself, as it redacts."""
        self._native = native

    def count(self, findings: list[Finding]) -> None:
        """Add the findings of one redaction."""
        counts = self._counted
        with self._lock:  # item by item, as a dict: Counter's own ways cost more for one or two
            for finding in findings:
                counts[finding.entity] = counts.get(finding.entity, 0) + 1

    def withhold(self, size: int) -> None:
        """Record one line (or chunk) that could not be redacted and was withheld."""
        with self._lock:
            self.withheld_lines += 1
            self.withheld_bytes += size


class Redactor:
    """Redacts card numbers, Stripe secrets and email addresses from text or bytes.

    `Redactor()` uses the bundled configuration; `Redactor.from_config(path)` reads a file.
    A Redactor does not change after construction and may be shared between threads.
    """

    def __init__(self, config: Config | None = None) -> None:
        self.config = config if config is not None else load_config()
        settings = self.config.redact
        source = str(self.config.source or "<defaults>")
        paths = pack_paths(settings.packs, self.config.base_dir, source, settings.bundled_packs)
        rule_set = load_rules(paths)
        self.rules = _enabled(rule_set, settings.rules, source)
        self._compiled = [self._compile(rule, rule_set) for rule in self.rules]
        self._replacers = {c.rule.id: c.replacer for c in self._compiled}
        # Placeholders do not depend on the secret: looked up, not computed, per finding.
        self._fixed_replacements = {
            c.rule.id: c.replacer.replace(b"", 0)
            for c in self._compiled
            if c.replacer.mode == "placeholder"
        }
        self._variables = VariableValues(rule_set.variables)
        self._scanner = Scanner(self._compiled, self._variables.marker_pattern)
        self._fallbacks: dict[str, Scanner | None] = {}  # built when first needed
        self._digits_only = _digit_rules_alone(self._compiled)
        self.stats = RedactionStats()
        self._extra = _extra_analyzer(self.config)
        self._native = self._native_engine()
        if self._native is not None:
            self.stats.count_natively(self._native)
        # The C++ redaction of short texts, for callers that would call `redact`: not with
        # extra recognisers, which only Python runs, nor in a subclass that redacts its own way.
        own_way = type(self).redact is not Redactor.redact
        self.native = None if self._extra is not None or own_way else self._native

    @classmethod
    def from_config(cls, path: str | Path | None = None) -> Redactor:
        """Build a Redactor from a config file (the bundled default when `path` is None)."""
        return cls(load_config(path))

    def _compile(self, rule: Rule, rule_set: RuleSet) -> CompiledRule:
        overrides = self.config.redact.rules.get(rule.id, RuleSettings())
        validator = make_validator(rule.validator, rule_set.issuers)
        return CompiledRule(rule, validator, Replacer(rule, self.config.redact, overrides))

    def _fallback_scanner(self, compiled: CompiledRule) -> Scanner | None:
        rule_id = compiled.rule.id
        if rule_id not in self._fallbacks:  # a race builds it twice, which is harmless
            others = [c for c in self._compiled if c is not compiled]
            self._fallbacks[rule_id] = Scanner(others) if others else None
        return self._fallbacks[rule_id]

    def _native_engine(self) -> RecordRedactor | None:
        """The C++ redaction of the common cases (redactor/_native.cpp); None without it."""
        loop = self._scanner.native_loop
        tables = [
            c.validator.native_table
            for c in self._compiled
            if isinstance(c.validator, PanValidator)
        ]
        issuers = tables[0] if tables else issuer_table([])
        if loop is None or issuers is None:
            return None
        rules = [_fast_rule(c, c.rule.id in self._digits_only) for c in self._compiled]
        entities = [c.entity for c in self._compiled]
        extensions = sorted(name.encode() for name in FILE_EXTENSIONS)
        return record_redactor(loop, issuers, rules, entities, extensions)

    def redact(self, text: str) -> str:
        """Return `text` with every secret replaced."""
        data = text.encode("utf-8", "surrogatepass")
        if self._native is not None and self._extra is None:
            try:
                done = self._native.redact(data)
            except Exception:  # out of memory, say: the Python engine tries, and fails closed
                done = None
            if done is data:  # nothing to redact
                return text
            if done is not None:  # redacted and counted; None: the Python engine's to do
                return done.decode("utf-8", "surrogatepass")
        if self._extra is None and not self._scanner.matches(data) and not has_colour_codes(data):
            return text  # the common case for an app's records: one RE2 call, no copies
        try:
            findings = self._find(data)
        except Exception as error:  # fail closed, as redact_bytes does
            report_failure("redaction failed; withholding the lines that fail", error)
            return self._redact_by_line(data).decode("utf-8", "surrogatepass")
        if not findings:
            return text
        self.stats.count(findings)
        return self._apply(data, _whole_characters(data, findings)).decode("utf-8", "surrogatepass")

    def redact_bytes(self, data: bytes, context: bytes = b"") -> bytes:
        """Return `data` with every secret replaced; a line that fails is withheld, not passed.

        `context` is the text that came just before `data` (already redacted and written by
        the caller): it is read, not returned, so that a traceback cut between two calls is
        still understood.
        """
        try:
            return self._redact(data, context)
        except Exception as error:  # fail closed: never hand back what could not be checked
            report_failure("redaction failed; withholding the lines that fail", error)
            return self._redact_by_line(data)

    def redact_continuation(self, written: bytes, data: bytes) -> bytes:
        """Redact `data`, the rest of a line whose start `written` is already out (raw).

        The start is read again, so that a secret cut between the two, or a value whose key
        is in the start (`"cvc": ` then `"314"`), is still seen; what of a secret lies in
        `written` cannot be taken back, the part in `data` becomes its placeholder.
        """
        try:
            cut = len(written)
            findings = [f for f in self._find(written + data) if f.end > cut]
            shifted = [f._replace(start=max(f.start, cut) - cut, end=f.end - cut) for f in findings]
            self.stats.count(shifted)
            return self._apply(data, shifted)
        except Exception as error:  # fail closed, as redact_bytes does
            report_failure("redaction failed; withholding the lines that fail", error)
            return self._redact_by_line(data)

    def find(self, data: bytes | str) -> list[Finding]:
        """Return the secrets in `data`: byte offsets for bytes, character offsets for str."""
        if isinstance(data, bytes):
            return self._find(data)
        raw = data.encode("utf-8", "surrogatepass")
        return [_to_characters(raw, finding) for finding in _whole_characters(raw, self._find(raw))]

    @property
    def scan_loop(self) -> str:
        """Where the scan loop runs: "C++" (redactor/_native.cpp) or "Python"."""
        return "C++" if self._scanner.native else "Python"

    def entity_for_name(self, name: str) -> str | None:
        """The entity whose values a field or variable of this name holds (cvc, securityCode)."""
        return self._variables.entity_for_name(name)

    def placeholder(self, entity: str) -> str:
        """The typed placeholder of `entity`, as configured."""
        return self.config.redact.placeholder.format(entity=entity)

    def withheld(self, size: int) -> bytes:
        """The marker written instead of `size` bytes that could not be redacted."""
        return self.config.redact.withheld_marker.format(bytes=size).encode()

    def _redact(self, data: bytes, context: bytes = b"") -> bytes:
        findings = self._find(data, context)
        if not findings:
            return data
        self.stats.count(findings)
        return self._apply(data, findings)

    def _redact_by_line(self, data: bytes) -> bytes:
        out = []
        for line in data.splitlines(keepends=True):
            body = line.rstrip(b"\r\n")
            try:
                out.append(self._redact(body) + line[len(body) :])
            except Exception as error:
                report_failure("line withheld", error)
                self.stats.withhold(len(body))
                out.append(self.withheld(len(body)) + line[len(body) :])
        return b"".join(out)

    def _find(self, data: bytes, context: bytes = b"", colours: bool = True) -> list[Finding]:
        findings: list[Finding] = []
        ordered = True  # the scan yields findings left to right; additions may not be
        scanner = self._scanner
        rules = scanner.rules
        matches, corners = self._judged_matches(data)
        for index, begin, end, settled in matches:
            compiled = rules[index]
            if settled:  # a finding as it stands: a key, a client secret, a plain card number
                findings.append(Finding(begin, end, compiled.rule_id, compiled.entity))
            else:
                candidate = scanner.candidate_of(index, data, begin, end)
                confirmed = _confirm(candidate, data)
                if confirmed and confirmed[0].start - candidate.start >= _SHORTEST_SECRET:
                    # A validator that trimmed the match (an address after "card%3D4242...%26")
                    # leaves text the scan has passed: it may hold other secrets.
                    findings += self._find_between(data, candidate.start, confirmed[0].start)
                if confirmed and confirmed[-1].end < candidate.end:
                    # So does one that cut it short (an address before a full-width comma and
                    # a card), and a secret starting there may run on past the match.
                    tail = confirmed[-1].end
                    findings += self._find_between(data, tail, _reach(data, candidate.end))
                    ordered = False
                findings += confirmed or self._fallback(candidate, data)
        if corners:
            for start, end, entity in self._variables.find(data, context, corners):
                findings.append(Finding(start, end, f"variable:{entity}", entity))
                ordered = False
        if colours and has_colour_codes(data):
            findings += self._find_through_colour_codes(data, context)
            ordered = False
        if self._extra is not None:
            findings += self._extra.find(data)
            ordered = False
        if not findings or (ordered and _disjoint(findings)):
            return findings
        return _merge(findings)

    def _judged_matches(self, data: bytes) -> tuple[list[tuple[int, int, int, bool]], list[int]]:
        """The scan's matches, each settled (a finding as it stands) or to be validated."""
        if self._native is not None:  # also settles plain card numbers and emails
            return self._native.judge(data)
        spans, corners = self._scanner.spans(data)
        rules = self._scanner.rules
        return [(index, b, e, _settled(rules[index], data, b)) for index, b, e in spans], corners

    def _find_through_colour_codes(self, data: bytes, context: bytes) -> list[Finding]:
        """Secrets that only show once colour codes are taken out, as spans of `data`."""
        plain = PlainText(data)
        found = []
        plain_context = PlainText(context).text if context else b""
        for finding in self._find(plain.text, plain_context, colours=False):
            start, end = plain.original(finding.start, finding.end)
            found.append(finding._replace(start=start, end=end))
        return found

    def _find_between(self, data: bytes, start: int, end: int) -> list[Finding]:
        """The findings in data[start:end], as spans of `data`."""
        return [
            finding._replace(start=finding.start + start, end=finding.end + start)
            for finding in self._find(data[start:end])
        ]

    def _fallback(self, rejected: Candidate, data: bytes) -> list[Finding]:
        """Other rules' candidates may start inside one that its own rule rejected."""
        # A match that starts inside and runs past the rejected span has to run through the
        # byte after it; secrets hold no whitespace, so before a blank the span itself will do.
        reach = rejected.end
        if data[rejected.end : rejected.end + 1] not in _BLANK_BYTES:
            reach = min(len(data), rejected.end + _FALLBACK_REACH)
        elif rejected.compiled.rule.id in self._digits_only:
            return []  # no other rule can match inside a run of digits and separators
        scanner = self._fallback_scanner(rejected.compiled)
        if scanner is None:
            return []
        found: list[Finding] = []
        start = rejected.start
        while True:
            candidate = scanner.first(data, start, reach)
            if candidate is None or candidate.start >= rejected.end:
                return found
            found += _confirm(candidate, data)
            start = max(candidate.end, candidate.start + 1)

    def _apply(self, data: bytes, findings: list[Finding]) -> bytes:
        parts: list[bytes] = []
        position = 0
        fixed = self._fixed_replacements
        for finding in findings:
            start, end, rule = finding[:3]
            replacement = fixed.get(rule) or self._replacement(data[start:end], finding)
            number_end = _bare_json_number_end(data, start, end)
            if number_end:
                quote = _json_quote(data, start)
                replacement = quote + replacement + quote
            parts.append(data[position:start])
            parts.append(replacement)
            position = number_end or end
        parts.append(data[position:])
        return b"".join(parts)

    def _replacement(self, secret: bytes, finding: Finding) -> bytes:
        replacer = self._replacers.get(finding.rule)
        if replacer is None:  # found by name, or by an added presidio recognizer
            return self.placeholder(finding.entity).encode()
        return replacer.replace(secret, finding.keep)


def _confirm(candidate: Candidate, data: bytes) -> list[Finding]:
    compiled, start, end, keep_end = candidate
    spans = compiled.validator(data, start, end)
    if not spans:
        return spans  # type: ignore[return-value]
    if compiled.ignore_keys:  # a trace ID is one plain run of digits, never grouped
        keys = compiled.ignore_keys
        spans = [
            (begin, finish)
            for begin, finish in spans
            if not (data[begin:finish].isdigit() and _after_key(data, begin, keys))
        ]
    rule_id, entity = compiled.rule_id, compiled.entity
    if len(spans) == 1:  # the usual case, without a comprehension
        begin, finish = spans[0]
        return [
            Finding(begin, finish, rule_id, entity, keep_end - begin if keep_end > begin else 0)
        ]
    return [
        Finding(begin, finish, rule_id, entity, max(0, keep_end - begin)) for begin, finish in spans
    ]


# What the C++ redaction of short texts (RecordRedactor) may do with a rule's matches.
_DEFER, _WHOLE, _PAN, _EMAIL = 0, 1, 2, 3


def _settled(compiled: CompiledRule, data: bytes, begin: int) -> bool:
    """Whether a match at `begin` is a finding as it stands (the C++ judge says the same)."""
    return compiled.whole and not (compiled.word_start and continues_word(data, begin))


def _fast_rule(
    compiled: CompiledRule, digits_only: bool
) -> tuple[int, bytes, list[bytes], bool, bool]:
    """A rule as RecordRedactor takes it: what it may do, the placeholder, the ID keys."""
    kind = _DEFER
    if compiled.replacer.mode == "placeholder" and not compiled.needs_groups:
        if compiled.whole:
            kind = _WHOLE
        elif isinstance(compiled.validator, PanValidator):
            kind = _PAN
        elif compiled.validator is email_spans and not compiled.ignore_keys:
            kind = _EMAIL
    placeholder = compiled.replacer.replace(b"", 0)
    return kind, placeholder, list(compiled.ignore_keys), digits_only, compiled.word_start


def _after_key(data: bytes, start: int, keys: tuple[bytes, ...]) -> bool:
    """Whether the value at `start` is the value of one of `keys` (key=, "key": ...)."""
    before = data[max(0, start - 48) : start].rstrip(b"\"' \t=:").lower()
    return before.endswith(keys)


_DIGIT_PROBES = (b"4242424242424242", b"4242 4242-4242+4242", b"123-45-6789", b"12 34", b"123")


def _digit_rules_alone(compiled: list[CompiledRule]) -> frozenset[str]:
    """The card rules whose rejected candidates need no second look inside.

    That holds while no other rule matches a run of digits and separators; a custom
    digits-only rule would, and then every rejected card candidate is searched again.
    """
    card_rules = {c.rule.id for c in compiled if c.rule.validator == "pan"}
    others = [c for c in compiled if c.rule.id not in card_rules]
    if any(c.regex.search(probe) for c in others for probe in _DIGIT_PROBES):
        return frozenset()
    return frozenset(card_rules)


def _disjoint(findings: list[Finding]) -> bool:
    return all(a.end <= b.start for a, b in pairwise(findings))


def _merge(findings: list[Finding]) -> list[Finding]:
    """Sort and join overlapping findings, so that no byte of either survives."""
    if len(findings) < 2:
        return findings
    findings.sort(key=lambda finding: (finding.start, -finding.end))
    merged = [findings[0]]
    for finding in findings[1:]:
        last = merged[-1]
        if finding.start < last.end:
            if finding.end > last.end:
                merged[-1] = Finding(last.start, finding.end, last.rule, last.entity, 0)
        else:
            merged.append(finding)
    return merged


def _bare_json_number_end(data: bytes, start: int, end: int) -> int:
    """Where a number ends when it stands unquoted as a JSON value; 0 when it does not.

    A text replacement there needs quotes, and takes the fraction or exponent with it. After
    a colon, only a JSON key's closing quote before it makes the number a JSON value; after a
    comma, only an array or object that the comma is in (not a list in a sentence or a CSV
    row).
    """
    if not 0x30 <= data[start] <= 0x39:
        return 0  # a JSON number starts with a digit (cards only, in practice)
    before = data[max(0, start - 64) : start].rstrip(_BLANKS)
    if not before or before[-1] not in _JSON_BEFORE:
        return 0
    if before[-1] == 0x3A and not _after_json_key(before[:-1]):
        return 0  # key: value in logfmt or a Python repr, not JSON
    if before[-1] == 0x2C and not _in_json_container(data, start):
        return 0
    if not all(char in _NUMBER_CHARS for char in data[start:end]):
        return 0
    tail = _NUMBER_TAIL.match(data, end)
    end = tail.end() if tail else end
    after = data[end : end + 64].lstrip(_BLANKS)[:1]
    return end if not after or after[0] in _JSON_AFTER else 0


def _json_quote(data: bytes, start: int) -> bytes:
    """The quote a JSON string placed at `start` needs: escaped inside another string.

    A JSON document logged as a string value (the "log" of Docker's json-file lines) holds
    its quotes escaped; inside it, a plain quote would end the outer string.
    """
    line = data[max(0, start - _QUOTE_REACH) : start].rsplit(b"\n", 1)[-1]
    quotes = len(_UNESCAPED_QUOTE.findall(line))
    return b'\\"' if quotes % 2 else b'"'


def _after_json_key(before: bytes) -> bool:
    return before.rstrip(_BLANKS).endswith(b'"')


def _in_json_container(data: bytes, start: int) -> bool:
    """Whether the line holds an opening bracket or a JSON key's colon before `start`."""
    line = data[max(0, start - _JSON_REACH) : start].rsplit(b"\n", 1)[-1]
    opener = max(line.rfind(b"["), line.rfind(b"{"), line.rfind(b":"))
    return opener >= 0 and (line[opener] != 0x3A or _after_json_key(line[:opener]))


def _enabled(rule_set: RuleSet, overrides: dict[str, RuleSettings], source: str) -> list[Rule]:
    for rule_id in overrides:
        if rule_set.get(rule_id) is None:
            known = ", ".join(rule.id for rule in rule_set.rules)
            raise ConfigError(source, f"redact.rules.{rule_id}", f"no such rule ({known})")
    chosen = []
    for rule in rule_set.rules:
        enabled = overrides.get(rule.id, RuleSettings()).enabled
        if rule.enabled if enabled is None else enabled:
            chosen.append(rule)
    # Card candidates go last: at one position RE2 prefers the earlier alternative, and an
    # email address whose local part starts with digits must win over the digits inside it.
    return sorted(chosen, key=lambda rule: rule.validator == "pan")


def _reach(data: bytes, end: int) -> int:
    """How far a secret that starts before `end` may run: to the next blank, or 4 KiB on."""
    limit = min(len(data), end + _FALLBACK_REACH)
    found = [data.find(blank, end, limit) for blank in _BLANK_BYTES]
    return min([at for at in found if at >= 0], default=limit)


def _whole_characters(data: bytes, findings: list[Finding]) -> list[Finding]:
    """`findings` widened to whole characters, for a text that is decoded again.

    A lone surrogate in a str, encoded with surrogatepass, is three bytes that are not
    UTF-8: RE2 reads them one by one, and a match may start on the second.
    """
    if data.isascii():
        return findings
    widened = []
    for finding in findings:
        start, end = finding.start, finding.end
        while start > 0 and 0x80 <= data[start] < 0xC0:  # a continuation byte
            start -= 1
        while end < len(data) and 0x80 <= data[end] < 0xC0:
            end += 1
        widened.append(finding._replace(start=start, end=end))
    return widened


def _to_characters(raw: bytes, finding: Finding) -> Finding:
    start = len(raw[: finding.start].decode("utf-8", "surrogatepass"))
    end = start + len(raw[finding.start : finding.end].decode("utf-8", "surrogatepass"))
    return Finding(start, end, finding.rule, finding.entity, finding.keep)


def _extra_analyzer(config: Config) -> ExtraAnalyzer | None:
    if not (config.presidio.recognizers or config.presidio.nlp_model):
        return None
    from ._presidio import ExtraAnalyzer  # imported only when configured: it loads spaCy

    return ExtraAnalyzer(config.presidio, str(config.source or "<defaults>"))


def report_failure(what: str, error: BaseException) -> None:
    """Tell the operator on stderr; never through logging, which may be what we protect."""
    kind = type(error).__name__
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    place = f" at {where[0].filename}:{where[0].lineno}" if where else ""
    sys.stderr.write(f"redactor: {what}: {kind}{place}\n")
