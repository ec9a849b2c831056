"""Every spelling of a secret that must not survive redaction: as written, URL-encoded,
JSON-escaped, and for card numbers the digits regrouped with any separator or none."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus


def spellings(secret: str) -> set[str]:
    """Forms of `secret` whose presence in output means a leak."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    digits = re.sub(r"[^0-9]", "", secret)
    if len(digits) >= 12 and len(digits) >= len(secret) - 6:
        forms.add(digits)
    return forms


def leaks(output: str, secret: str) -> list[str]:
    """The spellings of `secret` found in `output`, digits compared with separators removed."""
    found = [form for form in spellings(secret) if form in output]
    digits = re.sub(r"[^0-9]", "", secret)
    if len(digits) >= 12 and digits in re.sub(r"[ +\-]|%20", "", output):
        found.append(f"{digits} (regrouped)")
    return found
