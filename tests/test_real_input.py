"""`redactor redact` on logs that a real Stripe app wrote: no planted secret survives in any
spelling, every ID, amount and timestamp does, and the rest of each line is byte-identical.

The logs come from tests/apps/stripe_app.py driving the real stripe package against the fake
server (the session fixture `real_logs`); redaction runs the installed console script.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote_plus

import pytest

from tests.real_logs import RealLogs, Secret

LOGS = ["loguru", "loguru_json", "stdlib", "stripe_console", "traceback"]
ALL_KINDS = ["api_key", "card", "client_secret", "cvc", "email", "webhook_secret"]
# What each logging style writes: stripe's console lines carry no key (Stripe masks it) and
# plain tracebacks no card data (the app's messages name only the customer).
KINDS_BY_LOG = {
    "loguru": ALL_KINDS,
    "loguru_json": ALL_KINDS,
    "stdlib": ALL_KINDS,
    "stripe_console": ["card", "client_secret", "cvc", "email"],
    "traceback": ["api_key", "client_secret", "email"],
}
LEAK_CASES = [
    pytest.param(name, kind, id=f"{name}-{kind}") for name in LOGS for kind in KINDS_BY_LOG[name]
]
BIN = Path(sys.executable).parent
PLACEHOLDER = re.compile(r'"<[A-Z_]+>"|<[A-Z_]+>')
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{12,}")
_SEPARATORS = re.compile(r"[ +\-]|%20")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_ELLIPSES = ("...", "\u2026")
WINDOW = 12  # this many consecutive characters of a key's random part count as a leak
_CVC_KEY = r"(?i:cvc|cvv|cvc2|cvv2|cid|security_code)"


@dataclass
class Run:
    """One redaction run: the input file, what came out and how the command exited."""

    source: bytes
    output: bytes
    status: int
    stderr: str


def redact_command(path: Path, module: bool = False) -> list[str]:
    """`redactor redact FILE` through the console script, or `python -m redactor`."""
    if module:
        return [sys.executable, "-m", "redactor", "redact", str(path)]
    return [str(BIN / "redactor"), "redact", str(path)]


@pytest.fixture(scope="module")
def runs(real_logs: RealLogs) -> dict[str, Run]:
    """Every produced log redacted once by the console script (the runs go in parallel)."""
    started = {
        name: subprocess.Popen(
            redact_command(real_logs.paths[name]), stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for name in LOGS
    }
    done = {}
    for name, process in started.items():
        output, errors = process.communicate(timeout=120)
        source = real_logs.paths[name].read_bytes()
        done[name] = Run(source, output, process.returncode, errors.decode(errors="replace"))
    return done


# ---- the spellings a leak could take --------------------------------------------------------


def unescape(text: str) -> str:
    """Undo Python-repr and JSON backslash escapes (\\n, \\', \\", \\u0040, \\x40)."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "ux" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(one, text)


def views(text: str) -> list[str]:
    """The text as written, URL-decoded, unescaped, and both."""
    unescaped = unescape(unescape(text))  # JSON holding a repr is escaped twice
    return [text, unquote_plus(text), unescaped, unquote_plus(unescaped)]


def secret_body(secret: Secret) -> str:
    """The random part of a key, the part a prefix-keeping mask must not keep."""
    if secret.kind == "client_secret":
        return secret.value.split("_secret_", 1)[1]
    return secret.value.split("_", 2)[-1] if secret.kind == "api_key" else secret.value[6:]


def windows(secrets: list[Secret]) -> dict[str, Secret]:
    """Every WINDOW-long stretch of every key body, mapped to its secret."""
    found = {}
    for secret in secrets:
        if secret.kind in ("api_key", "webhook_secret", "client_secret"):
            body = secret_body(secret)
            for start in range(len(body) - WINDOW + 1):
                found[body[start : start + WINDOW]] = secret
    return found


def leaks(text: str, secrets: list[Secret]) -> list[tuple[Secret, str]]:
    """Each planted secret still present in `text` in some spelling, with what gave it away."""
    found: list[tuple[Secret, str]] = []
    all_views = views(text)
    lowered = [view.lower() for view in all_views]
    digits = [_SEPARATORS.sub("", view) for view in all_views]
    stretches = windows(secrets)
    for view in all_views:
        for run in _ALNUM_RUN.findall(view):
            for start in range(len(run) - WINDOW + 1):
                secret = stretches.get(run[start : start + WINDOW])
                if secret is not None:
                    found.append((secret, _context(view, run)))
    for secret in secrets:
        found += _leaks_of(secret, all_views, lowered, digits)
    return found


def _leaks_of(
    secret: Secret, all_views: list[str], lowered: list[str], digits: list[str]
) -> list[tuple[Secret, str]]:
    if secret.kind == "email":
        local = secret.value.lower().split("@")[0] + "@"
        spelled = re.compile(re.escape(secret.value.lower()) + "|" + re.escape(local))
        searched = lowered
    elif secret.kind == "card":
        spelled = re.compile(re.sub(r"\D", "", secret.value))
        searched = digits
    elif secret.kind == "cvc":
        value = re.escape(secret.value)
        spelled = re.compile(rf"(['\"]){value}\1|{_CVC_KEY}\W{{0,8}}{value}(?!\d)")
        searched = all_views
    else:
        spelled = re.compile(re.escape(secret.value))
        searched = all_views
    for view in searched:
        match = spelled.search(view)
        if match is not None:
            return [(secret, _context(view, match.group(0)))]
    return []


def _context(view: str, needle: str) -> str:
    at = view.find(needle)
    return view[max(0, at - 30) : at + len(needle) + 10]


# ---- what a replaced span was ---------------------------------------------------------------


def justified(removed: str, secrets: list[Secret]) -> bool:
    """True when the replaced text is a spelling (or a cut-short copy) of a planted secret."""
    for text in {removed, unquote_plus(removed), unescape(removed)}:
        for ellipsis in _ELLIPSES:
            text = text.removesuffix(ellipsis)
        if any(_spells(text, secret) for secret in secrets):
            return True
    return False


def _spells(text: str, secret: Secret) -> bool:
    if secret.kind == "card":
        return re.sub(r"\D", "", text) == re.sub(r"\D", "", secret.value)
    if secret.kind == "email":  # loguru's diagnose cuts long values short: "jane@exa..."
        return "@" in text and secret.value.lower().startswith(text.lower())
    if secret.kind == "cvc":
        return text == secret.value
    prefix = secret.value[: len(secret.value) - len(secret_body(secret))]
    echo = re.escape(prefix) + r"\*+(?:" + re.escape(secret.value[-4:]) + ")?"
    masked = re.fullmatch(echo, text)  # Stripe's own masked echo, maybe cut short
    return masked is not None or (len(text) > len(prefix) and secret.value.startswith(text))


def align(source: str, output: str) -> list[str] | None:
    """The input text each placeholder of `output` replaced, or None if the rest differs."""
    pattern = []
    position = 0
    for match in PLACEHOLDER.finditer(output):
        pattern.append(re.escape(output[position : match.start()]))
        quoted = match.group(0).startswith('"')
        pattern.append(r'(?:"(.+?)"|(.+?))' if quoted else r"(.+?)")
        position = match.end()
    pattern.append(re.escape(output[position:]))
    found = re.fullmatch("".join(pattern), source, re.DOTALL)
    if found is None:
        return None
    return [group for group in found.groups() if group is not None]


def line_pairs(run: Run) -> Iterator[tuple[int, str, str]]:
    sources = run.source.decode().splitlines(keepends=True)
    outputs = run.output.decode().splitlines(keepends=True)
    assert len(sources) == len(outputs), "redaction changed the number of lines"
    yield from (
        (n, a, b) for n, (a, b) in enumerate(zip(sources, outputs, strict=True), 1) if a != b
    )


def occurrences(text: str, survivor: str) -> int:
    """How often `survivor` occurs as itself, not as a part of a secret or a longer token."""
    guard = r"(?!_secret_)" if survivor.startswith("pi_") else ""
    edge = r"(?<![0-9A-Za-z_])" if survivor.isdigit() else ""
    after = r"(?![0-9A-Za-z])" if survivor.isdigit() else ""
    return len(re.findall(edge + re.escape(survivor) + after + guard, text))


# ---- the tests ------------------------------------------------------------------------------


def test_every_planted_secret_is_in_the_input(real_logs: RealLogs) -> None:
    """Guard against a vacuous pass: each secret the app used is somewhere before redaction."""
    text = "\n".join(path.read_text() for path in real_logs.paths.values())
    planted = [secret for secret in real_logs.secrets if secret.kind != "client_secret"]
    issued = [secret for secret in real_logs.secrets if secret.kind == "client_secret"]
    present = {secret for secret, _ in leaks(text, real_logs.secrets)}
    assert [secret for secret in planted if secret not in present] == []
    assert present & set(issued)


@pytest.mark.parametrize("name", LOGS)
def test_each_log_holds_the_secrets_its_style_writes(real_logs: RealLogs, name: str) -> None:
    found = leaks(real_logs.paths[name].read_text(), real_logs.secrets)
    assert {secret.kind for secret, _ in found} == set(KINDS_BY_LOG[name])


@pytest.mark.parametrize("name", LOGS)
def test_redact_exits_zero_without_withholding(runs: dict[str, Run], name: str) -> None:
    assert (runs[name].status, runs[name].stderr) == (0, "")


@pytest.mark.parametrize(("name", "kind"), LEAK_CASES)
def test_no_planted_secret_survives_in_any_spelling(
    runs: dict[str, Run], real_logs: RealLogs, name: str, kind: str
) -> None:
    output = runs[name].output.decode()
    secrets = [secret for secret in real_logs.secrets if secret.kind == kind]
    assert [(secret.value[:24], hit) for secret, hit in leaks(output, secrets)] == []


@pytest.mark.parametrize("name", LOGS)
def test_ids_amounts_and_timestamps_survive(
    runs: dict[str, Run], real_logs: RealLogs, name: str
) -> None:
    source, output = runs[name].source.decode(), runs[name].output.decode()
    present = [item for item in real_logs.survivors if occurrences(source, item)]
    lost = [
        (item, occurrences(source, item), occurrences(output, item))
        for item in present
        if occurrences(output, item) != occurrences(source, item)
    ]
    assert len(present) > 10
    assert lost == []


@pytest.mark.parametrize("name", LOGS)
def test_only_secrets_change_and_the_rest_is_byte_identical(
    runs: dict[str, Run], real_logs: RealLogs, name: str
) -> None:
    misaligned, unjustified = [], []
    changed = 0
    for number, source, output in line_pairs(runs[name]):
        changed += 1
        removed = align(source, output)
        if removed is None:
            misaligned.append((number, source[:200], output[:200]))
            continue
        allowed = real_logs.secrets + real_logs.incidental
        unjustified += [(number, text) for text in removed if not justified(text, allowed)]
    assert changed > 0
    assert misaligned == []
    assert unjustified == []


def test_loguru_json_lines_still_parse_with_the_same_fields(runs: dict[str, Run]) -> None:
    run = runs["loguru_json"]
    before = [json.loads(line) for line in run.source.splitlines()]
    after = [json.loads(line) for line in run.output.splitlines()]
    assert len(after) == len(before) > 20
    assert [_shape(record) for record in after] == [_shape(record) for record in before]
    assert [r["record"]["time"] for r in after] == [r["record"]["time"] for r in before]


def _shape(value: object) -> object:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    return type(value).__name__


@pytest.mark.parametrize("name", ["stdlib", "traceback"])
def test_python_dash_m_gives_the_same_output(
    runs: dict[str, Run], real_logs: RealLogs, name: str
) -> None:
    command = redact_command(real_logs.paths[name], module=True)
    result = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert (result.returncode, result.stdout) == (0, runs[name].output)


CARD = Secret("card", "4242 4242 4242 4242")
EMAIL = Secret("email", "jane.doe+vip@example.com")
KEY = Secret("api_key", "sk_live_51" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 3)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("number=4242424242424242", CARD),
        ("number=4242-4242 4242+4242", CARD),
        ("number=4242%204242%204242%204242", CARD),
        ('"email": "jane.doe+vip\\u0040example.com"', EMAIL),
        ("receipt_email=jane.doe%2Bvip%40example.com", EMAIL),
        ("'email': 'JANE.DOE+VIP@exa...", EMAIL),
        (f"key={KEY.value[:40]}...", KEY),
        (f"<STRIPE_SECRET_KEY>{KEY.value[30:50]}", KEY),
        ("payment_method_data[card][cvc]=731", Secret("cvc", "731")),
        ("\\'cvc\\': \\'731\\'", Secret("cvc", "731")),
    ],
)
def test_the_leak_check_sees_every_spelling(text: str, secret: Secret) -> None:
    assert {found for found, _ in leaks(text, [secret])} == {secret}


@pytest.mark.parametrize(
    ("source", "output", "ok"),
    [
        ("card=4242 4242 4242 4242 ok\n", "card=<CREDIT_CARD> ok\n", True),
        ('{"n": 4242424242424242}\n', '{"n": "<CREDIT_CARD>"}\n', True),
        (f"key {KEY.value[:30]}...\n", "key <STRIPE_SECRET_KEY>\n", True),
        ("Invalid key sk_live_******Xy4z\n", "Invalid key <STRIPE_SECRET_KEY>\n", True),
        ("request req_Ab12Cd34Ef56Gh\n", "request <STRIPE_SECRET_KEY>\n", False),
        ("card=4242 4242 4242 4242 ok\n", "card=<CREDIT_CARD>  ok\n", None),
    ],
)
def test_the_line_check_tells_secrets_from_everything_else(
    source: str, output: str, ok: bool | None
) -> None:
    removed = align(source, output)
    verdict = None if removed is None else all(justified(t, [CARD, KEY]) for t in removed)
    assert verdict is ok
