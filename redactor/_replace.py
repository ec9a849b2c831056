"""What a detected secret becomes: a typed placeholder, a PCI-safe partial mask or an HMAC token.

Every replacement is stable under a second redaction: none of them matches a rule again.
"""

from __future__ import annotations

import os

from ._config import RedactSettings, RuleSettings
from ._rules import Rule
from ._schema import ConfigError
from ._validators import email_domain_offset

_DIGITS = frozenset(b"0123456789")
_MASK = b"***"
_MIN_HIDDEN = 6
_ELLIPSES = (b"...", "\u2026".encode())


class Replacer:
    """Turns the matched bytes of one rule into their replacement."""

    def __init__(self, rule: Rule, settings: RedactSettings, overrides: RuleSettings) -> None:
        self.rule = rule
        mode = overrides.mode or settings.mode
        # A rule may forbid tokens: a keyed hash of a three-digit code protects nothing.
        self.mode = "placeholder" if mode == "hmac" and not rule.allow_hmac else mode
        template = overrides.placeholder or settings.placeholder
        self._placeholder = template.format(entity=rule.entity).encode()
        self._keep_first = overrides.keep_first
        self._keep_last = overrides.keep_last
        self._key = _hmac_key(settings) if self.mode == "hmac" else b""
        self._token_length = settings.hmac.length

    def replace(self, secret: bytes, keep: int) -> bytes:
        """Return the replacement for `secret`; `keep` is how many leading bytes a mask may keep."""
        if self.mode == "mask":
            return self._mask(secret, keep)
        if self.mode == "hmac":
            return self._token(secret)
        return self._placeholder

    def _mask(self, secret: bytes, keep: int) -> bytes:
        style = self.rule.mask
        if style == "pan":
            return mask_pan(secret, self._keep_first, self._keep_last)
        if style == "email":
            return _MASK + secret[email_domain_offset(secret) :]
        if style == "keep" and keep:
            return secret[:keep] + _MASK
        return _MASK

    def _token(self, secret: bytes) -> bytes:
        import base64  # only the hmac mode needs these: the command line starts faster
        import hashlib
        import hmac

        digest = hmac.new(self._key, canonical(self.rule.mask, secret), hashlib.sha256).digest()
        token = base64.b32encode(digest).decode().rstrip("=").lower()[: self._token_length]
        return f"<{self.rule.entity}:{token}>".encode()


def mask_pan(secret: bytes, keep_first: int, keep_last: int) -> bytes:
    """Star every digit but the first `keep_first` and last `keep_last`; keep the grouping.

    At least six digits stay hidden, so a short PAN (12 to 15 digits) shows fewer leading
    digits: with fewer hidden, Luhn and the issuer ranges would narrow it to a handful.
    """
    total = sum(1 for char in secret if char in _DIGITS)
    keep_last = min(keep_last, max(0, total - _MIN_HIDDEN))
    keep_first = min(keep_first, max(0, total - keep_last - _MIN_HIDDEN))
    out = bytearray()
    seen = 0
    for char in secret:
        if char in _DIGITS:
            visible = seen < keep_first or seen >= total - keep_last
            out.append(char if visible else 0x2A)
            seen += 1
        else:
            out.append(char)
    return bytes(out)


def canonical(style: str, secret: bytes) -> bytes:
    """The form that is hashed, so that one card or address gives one token in any spelling."""
    if style == "pan":
        return bytes(char for char in secret if char in _DIGITS)
    if style == "email":
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(secret).lower()
    for ellipsis in _ELLIPSES:
        if secret.endswith(ellipsis):
            return secret[: -len(ellipsis)]
    return secret


def _hmac_key(settings: RedactSettings) -> bytes:
    name = settings.hmac.key_env
    key = os.environ.get(name, "")
    if len(key) < 16:
        raise ConfigError(
            "environment",
            name,
            'mode "hmac" needs a key of at least 16 characters in this variable',
        )
    return key.encode()
