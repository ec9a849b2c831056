"""Logs written the way a real payment app writes them, with known secrets planted in them.

`produce_logs(directory, fake)` runs tests/apps/stripe_app.py (a real subprocess using the real
stripe package against a `StripeFake`) once per logging style, in parallel, and returns the log
files with the secrets planted and the strings that must survive redaction::

    from tests.real_logs import produce_logs
    with StripeFake() as fake:
        logs = produce_logs(tmp_path, fake)
    logs.paths["loguru"]        # also "loguru_json", "stdlib", "stripe_console", "traceback"
    logs.secrets                # [Secret(kind, value)], kinds: card, cvc, api_key,
                                #   webhook_secret, client_secret, email
    logs.survivors              # charge/request/customer/intent IDs, orders, amounts, times

The session fixture `real_logs` (conftest.py) does this once per test run in a temp dir.
To run the app yourself (e.g. against a fake with scripted replies, or in one style only)::

    app_plan = plan(fake.url, refused_url)       # {"api_base", "steps", "secrets"}
    path = write_plan(tmp_path / "plan.json", app_plan)
    start_app(path, "loguru", tmp_path / "app.log", tmp_path / "app.stderr").wait()

Each step names its scenario in `metadata[scenario]`; a reply scripted on the fake wins.
The modes ("loguru", "json", "stdlib", "traceback") are described in tests/apps/stripe_app.py.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.stripe_fake import StripeFake, refused_address

APP = Path(__file__).parent / "apps" / "stripe_app.py"
MODES = {"loguru": "loguru", "loguru_json": "json", "stdlib": "stdlib", "traceback": "traceback"}
_ALNUM = string.ascii_letters + string.digits
# The log timestamps of loguru ("2024-05-01 12:00:00.123"), stdlib ("…12:00:00,123") and JSON.
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}[.,]\d{3,6}(?:[+-]\d{2}:?\d{2})?")


@dataclass(frozen=True)
class Secret:
    """A planted secret: what kind it is and its value exactly as the app used it."""

    kind: str
    value: str

    def shows_in(self, text: str) -> bool:
        """Whether `text` holds the secret; a security code only as a number of its own.

        Three digits turn up by chance in our own log lines' timestamps (14:23:15.731Z).
        """
        if self.kind != "cvc":
            return self.value in text
        return re.search(rf"(?<![\d.:]){self.value}(?!\d)", text) is not None


# stripe-python's APIConnectionError message asks the reader to write to this address.
INCIDENTAL = [Secret("email", "support@stripe.com")]


@dataclass
class RealLogs:
    """Log files produced by the app, the secrets planted in them and what must survive."""

    paths: dict[str, Path]
    secrets: list[Secret]
    survivors: list[str]
    steps: list[dict[str, Any]] = field(default_factory=list)
    # Not planted, but secrets all the same where they occur: a redaction of them is right.
    incidental: list[Secret] = field(default_factory=lambda: list(INCIDENTAL))


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes `partial` (digits only) pass Luhn."""
    total = 0
    for position, char in enumerate(reversed(partial)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return partial + str(-total % 10)


def _token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(_ALNUM) for _ in range(length))


def plan(api_base: str, refused_base: str, seed: int = 7) -> dict[str, Any]:
    """The app's plan: the secrets it uses and its steps, each naming the fake's scenario."""
    rng = random.Random(seed)
    nineteen = luhn_complete("424242424242424242")
    keys = {
        "live": "sk_live_51" + _token(rng, 97),
        "live_long": "sk_live_51" + _token(rng, 238),
        "test": "sk_test_" + _token(rng, 20) + "Aso0",
        "restricted": "rk_live_51" + _token(rng, 97),
    }
    webhook = "whsec_" + _token(rng, 32)
    emails = [
        "jane.doe+vip@example.com",
        "BILLING.TEAM@PAY.EU.EXAMPLE.CO.UK",
        "o.brien-test+receipts@mail.shop-example.io",
        "Chris_88@Sub.Domain.Example.org",
        "9orders@example.net",
    ]
    checkouts = [
        ("4242 4242 4242 4242", "731", emails[0], "insufficient_funds", 4200),
        ("2223-0031-2200-3222", "582", emails[1], "lost_card", 12550),
        ("378282246310005", "8265", emails[2], "incorrect_cvc", 31337),
        (
            " ".join([nineteen[:4], nineteen[4:8], nineteen[8:12], nineteen[12:16], nineteen[16:]]),
            "639",
            emails[3],
            "expired_card",
            7500,
        ),
        ("4242424242424242", "417", emails[0], "ok", 1999),
        ("6011 1111 1111 1117", "904", emails[4], "fraudulent", 86420),
        ("3782 822463 10005", "5173", emails[1], "do_not_honor", 2718),
        ("2223003122003222", "368", emails[3], "ok", 5150),
        (nineteen, "246", emails[2], "card_declined", 9999),
    ]
    steps: list[dict[str, Any]] = [{"kind": "key_check", "key": keys["live_long"]}]
    for index, (number, cvc, email, scenario, amount) in enumerate(checkouts):
        steps.append(
            {
                "kind": "checkout",
                "order": f"ord_{1001 + index}",
                "number": number,
                "cvc": cvc,
                "email": email,
                "scenario": scenario,
                "amount": amount,
                "key": keys["live"],
            }
        )
    steps += [
        {
            "kind": "customer",
            "key": keys["live_long"],
            "email": emails[1],
            "scenario": "authentication",
            "signup": "web",
        },
        {
            "kind": "customer",
            "key": keys["restricted"],
            "email": emails[2],
            "scenario": "permission",
            "signup": "api",
        },
        {
            "kind": "customer",
            "key": keys["test"],
            "email": emails[3],
            "scenario": "ok",
            "signup": "mobile",
            "client": True,
            "base": api_base,
        },
        {
            "kind": "customer",
            "key": keys["test"],
            "email": emails[4],
            "scenario": "rate_limit",
            "signup": "web",
            "client": True,
            "base": api_base,
        },
    ]
    for index, scenario in enumerate(
        ["resource_missing", "invalid_request", "idempotency", "rate_limit", "api_error"]
    ):
        steps.append(
            {
                "kind": "charge",
                "key": keys["test"],
                "customer": "cus_Qm4TnR2mXk9aZp",
                "amount": 6400 + index,
                "scenario": scenario,
                "invoice": f"in_1PqR{index}xYz",
            }
        )
    steps += [
        {
            "kind": "webhook",
            "secret": webhook,
            "signature": f"t={1714000000},v1={'0' * 64}",
            "payload": json.dumps({"id": "evt_1PqRsTuVwXyZ", "type": "charge.failed"}),
        },
        {
            "kind": "refused",
            "key": keys["test"],
            "email": emails[0],
            "scenario": "ok",
            "signup": "web",
            "base": refused_base,
        },
    ]
    secrets = [Secret("api_key", key) for key in keys.values()]
    secrets.append(Secret("webhook_secret", webhook))
    secrets += [Secret("email", email) for email in emails]
    secrets += [Secret("card", number) for number, *_ in checkouts]
    secrets += [Secret("cvc", cvc) for _, cvc, *_ in checkouts]
    return {"api_base": api_base, "steps": steps, "secrets": secrets}


def produce_logs(directory: Path, fake: StripeFake) -> RealLogs:
    """Run the app in every logging style against `fake`; fail loudly if the app fails."""
    directory.mkdir(parents=True, exist_ok=True)
    with refused_address() as refused:
        app_plan = plan(fake.url, refused)
        plan_path = write_plan(directory / "plan.json", app_plan)
        paths = _run_all(directory, plan_path)
    secrets = app_plan["secrets"] + [
        Secret("client_secret", value) for value in fake.issued.get("client_secret", [])
    ]
    return RealLogs(paths, secrets, _survivors(app_plan, fake, paths), app_plan["steps"])


def write_plan(path: Path, app_plan: dict[str, Any]) -> Path:
    """Write the part of a plan the app reads (its steps and the fake's address)."""
    path.write_text(json.dumps({"api_base": app_plan["api_base"], "steps": app_plan["steps"]}))
    return path


def start_app(
    plan_path: Path, mode: str, log_path: Path, stderr_path: Path
) -> subprocess.Popen[bytes]:
    """Start tests/apps/stripe_app.py in one logging style; its stderr goes to `stderr_path`."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    env.pop("STRIPE_LOG", None)
    command = [sys.executable, str(APP), str(plan_path), mode, str(log_path)]
    with stderr_path.open("wb") as stderr:
        return subprocess.Popen(command, stderr=stderr, stdout=subprocess.DEVNULL, env=env)


def _run_all(directory: Path, plan_path: Path) -> dict[str, Path]:
    running = []
    paths: dict[str, Path] = {}
    for name, mode in MODES.items():
        log_path = directory / f"{name}.log"
        err_path = directory / ("stripe_console.log" if mode == "stdlib" else f"{name}.stderr")
        running.append((name, start_app(plan_path, mode, log_path, err_path), err_path))
        paths[name] = log_path
    for name, process, err_path in running:
        code = process.wait(timeout=120)
        if code != 0:
            raise RuntimeError(f"app ({name}) exited {code}:\n{err_path.read_text()}")
    paths["stripe_console"] = directory / "stripe_console.log"
    paths["traceback"] = directory / "traceback.stderr"
    return paths


def _survivors(app_plan: dict[str, Any], fake: StripeFake, paths: dict[str, Path]) -> list[str]:
    kept = ["request", "charge", "customer", "payment_intent", "account"]
    found = [value for kind in kept for value in fake.issued.get(kind, [])]
    for step in app_plan["steps"]:
        found += [str(step[name]) for name in ("order", "amount", "invoice") if name in step]
    for path in paths.values():
        found += TIMESTAMP.findall(path.read_text(encoding="utf-8", errors="replace"))
    return sorted(set(found))


@pytest.fixture(scope="session")
def real_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealLogs]:
    """The app's logs in every style, produced once per session against a fresh fake."""
    with StripeFake(seed=11) as fake:
        yield produce_logs(tmp_path_factory.mktemp("real_logs"), fake)
