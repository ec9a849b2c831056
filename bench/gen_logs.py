"""Deterministic, realistic logs of a Stripe-integrated app, for benchmarks.

A seeded mix of loguru and stdlib lines, stripe-python debug lines with form bodies, JSON
response bodies, loguru tracebacks with diagnose blocks and JSON lines: mostly IDs,
timestamps and amounts, with a low density of secrets. Usage:
    python bench/gen_logs.py --size-mb 128 --seed 7 -o /tmp/stripe.log
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TEST_CARDS = [
    "4242424242424242", "4000056655665556", "5555555555554444", "2223003122003222",
    "5200828282828210", "378282246310005", "6011111111111117", "3056930009020004",
    "36227206271667", "3566002020360505", "6200000000000005", "4000002500003155",
]  # fmt: skip
# Issuer prefixes with the PAN lengths they issue (Mastercard only 16, Amex only 15).
_ISSUERS = [
    ("4", (16, 16, 19)), ("51", (16,)), ("55", (16,)), ("2221", (16,)), ("2720", (16,)),
    ("34", (15,)), ("37", (15,)), ("6011", (16, 19)), ("65", (16,)), ("3528", (16, 19)),
    ("62", (16, 19)),
]  # fmt: skip
_NAMES = ["jane", "john.doe", "a.smith", "li.wei", "maria+shop", "ops", "k.tanaka", "noreply"]
_DOMAINS = ["example.com", "example.org", "mail.example.net", "shop.example.co.uk"]
_PATHS = ["payment_intents", "customers", "charges", "refunds", "setup_intents", "invoices"]
_MODULES = ["app.payments", "app.checkout", "app.webhooks", "app.billing", "app.api.orders"]
_LEVELS = ["INFO    ", "INFO    ", "INFO    ", "DEBUG   ", "WARNING ", "ERROR   "]
_WORDS = [
    "order",
    "shipped",
    "cart",
    "updated",
    "session",
    "renewed",
    "cache",
    "miss",
    "retry",
    "queued",
    "sync",
    "done",
]


class Generator:
    """Produces log records one event at a time and counts the secrets it planted."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.planted: Counter[str] = Counter()
        self.clock = 1_714_564_800.0
        self._events: list[tuple[Callable[[], str], int]] = [
            (self.loguru_line, 40),
            (self.stdlib_line, 18),
            (self.stripe_request, 12),
            (self.json_line, 14),
            (self.response_body, 6),
            (self.webhook_line, 6),
            (self.traceback, 1),
        ]

    def chunk(self, count: int) -> str:
        """`count` events, joined as log text."""
        makers, weights = zip(*self._events, strict=True)
        chosen = self.rng.choices(makers, weights, k=count)
        return "".join(make() for make in chosen)

    # Building blocks -------------------------------------------------------------------------

    def token(self, length: int) -> str:
        return "".join(self.rng.choices(_ALNUM, k=length))

    def stripe_id(self, prefix: str) -> str:
        return f"{prefix}_{self.token(self.rng.choice((14, 24)))}"

    def stamp(self, sep: str = ".") -> str:
        self.clock += self.rng.random() * 0.02
        seconds = int(self.clock)
        millis = int((self.clock - seconds) * 1000)
        hours, rest = divmod(seconds % 86400, 3600)
        return f"2024-05-01 {hours:02d}:{rest // 60:02d}:{rest % 60:02d}{sep}{millis:03d}"

    def amount(self) -> int:
        return self.rng.choice((500, 1299, 2000, 4999, 10000, 25000)) + self.rng.randrange(100)

    def email(self, encoded: bool = False) -> str:
        self.planted["EMAIL_ADDRESS"] += 1
        at = "%40" if encoded else "@"
        return f"{self.rng.choice(_NAMES)}{self.rng.randrange(100)}{at}{self.rng.choice(_DOMAINS)}"

    def card(self) -> str:
        self.planted["CREDIT_CARD"] += 1
        if self.rng.random() < 0.6:
            return self.rng.choice(_TEST_CARDS)
        prefix, lengths = self.rng.choice(_ISSUERS)
        length = self.rng.choice(lengths)
        return luhn_complete(
            prefix + "".join(self.rng.choices("0123456789", k=length - 1 - len(prefix)))
        )

    def secret_key(self) -> str:
        self.planted["STRIPE_SECRET_KEY"] += 1
        kind = self.rng.choice(("sk_live", "sk_test", "rk_live"))
        return f"{kind}_51{self.token(self.rng.choice((24, 99)))}"

    def client_secret(self, intent: str) -> str:
        self.planted["STRIPE_CLIENT_SECRET"] += 1
        return f"{intent}_secret_{self.token(25)}"

    def trace_ids(self) -> str:
        # Datadog-style decimal IDs: long digit runs that are not card numbers (most fail Luhn).
        return f"dd.trace_id={self.rng.getrandbits(63)} dd.span_id={self.rng.getrandbits(63)}"

    # Events ----------------------------------------------------------------------------------

    def loguru_line(self) -> str:
        level = self.rng.choice(_LEVELS)
        where = f"{self.rng.choice(_MODULES)}:{self.rng.choice(('charge', 'handle', 'run'))}"
        message = self.message()
        return f"{self.stamp()} | {level} | {where}:{self.rng.randrange(20, 400)} - {message}\n"

    def message(self) -> str:
        roll = self.rng.random()
        if roll < 0.02:
            return f"receipt sent to {self.email()} for {self.stripe_id('ch')}"
        if roll < 0.35:
            return (
                f"charge {self.stripe_id('ch')} amount={self.amount()} currency=usd "
                f"customer={self.stripe_id('cus')} status=succeeded {self.trace_ids()}"
            )
        if roll < 0.6:
            return (
                f"order #{self.rng.randrange(10**11, 10**12)} {self.rng.choice(_WORDS)} "
                f"in {self.rng.randrange(1, 900)} ms"
            )
        return (
            f"GET /api/orders/{self.rng.randrange(10**6)} 200 {self.rng.random():.4f}s "
            f"request_id=req_{self.token(14)} user_agent=Mozilla/5.0"
        )

    def stdlib_line(self) -> str:
        level = self.rng.choice(("INFO", "INFO", "WARNING", "DEBUG"))
        logger = self.rng.choice(("stripe", "urllib3.connectionpool", "app.tasks", "gunicorn"))
        if logger == "urllib3.connectionpool":
            body = 'https://api.stripe.com:443 "POST /v1/payment_intents HTTP/1.1" 200 4823'
        else:
            body = (
                f"task {self.token(8)} finished in {self.rng.random() * 3:.3f}s "
                f"(amount={self.amount()}, ts={int(self.clock * 1000)})"
            )
        return f"{self.stamp(',')} {level} [{logger}] {body}\n"

    def stripe_request(self) -> str:
        path = self.rng.choice(_PATHS)
        api = f"https://api.stripe.com/v1/{path}"
        lines = [f"message='Request to Stripe api' method=post url={api}"]
        form = [f"amount={self.amount()}", "currency=usd", f"customer={self.stripe_id('cus')}"]
        if self.rng.random() < 0.05:
            form.append(f"payment_method_data[card][number]={self.card()}")
            form.append("payment_method_data[card][exp_month]=12")
            form.append(f"payment_method_data[card][cvc]={self.rng.randrange(100, 1000)}")
            self.planted["CARD_CVC"] += 1
        if self.rng.random() < 0.1:
            form.append(f"receipt_email={self.email(encoded=True)}")
        form.append(f"metadata[order_id]={self.rng.randrange(10**7)}")
        lines.append(f"message='Post details' post_data={'&'.join(form)}")
        lines.append(f"message='Stripe API response' path={api} response_code=200")
        lines.append(f"message='Stripe request ID' request_id=req_{self.token(14)}")
        stamp = self.stamp(",")
        return "".join(f"{stamp} DEBUG [stripe] {line}\n" for line in lines)

    def json_line(self) -> str:
        record = {
            "ts": self.stamp(),
            "level": self.rng.choice(("info", "info", "warning")),
            "event": self.rng.choice(("payment.captured", "checkout.completed", "refund.created")),
            "payment_intent": self.stripe_id("pi"),
            "amount": self.amount(),
            "currency": "eur",
            "latency_ms": round(self.rng.random() * 800, 2),
            "created": int(self.clock),
        }
        if self.rng.random() < 0.03:
            record["customer_email"] = self.email()
        return json.dumps(record) + "\n"

    def response_body(self) -> str:
        intent = self.stripe_id("pi")
        body = {
            "id": intent,
            "object": "payment_intent",
            "amount": self.amount(),
            "amount_received": 0,
            "capture_method": "automatic",
            "client_secret": self.client_secret(intent),
            "created": int(self.clock),
            "currency": "usd",
            "customer": self.stripe_id("cus"),
            "latest_charge": self.stripe_id("ch"),
            "livemode": False,
            "metadata": {"order_id": str(self.rng.randrange(10**7))},
            "payment_method": self.stripe_id("pm"),
            "payment_method_types": ["card"],
            "status": self.rng.choice(("requires_confirmation", "succeeded", "processing")),
        }
        text = json.dumps(body, indent=2)
        return f"{self.stamp(',')} DEBUG [stripe] message='API response body' body={text}\n"

    def webhook_line(self) -> str:
        event = self.stripe_id("evt")
        return (
            f"{self.stamp()} | INFO     | app.webhooks:receive:41 - webhook {event} "
            f"type=charge.succeeded livemode=false signature=t={int(self.clock)},"
            f"v1={self.token(64).lower()}\n"
        )

    def traceback(self) -> str:
        key = self.secret_key()
        card = self.card()
        code = self.rng.choice(("card_declined", "expired_card", "incorrect_cvc"))
        return (
            f"{self.stamp()} | ERROR    | app.payments:charge:88 - payment failed\n"
            "Traceback (most recent call last):\n\n"
            '  File "/srv/app/payments.py", line 88, in charge\n'
            "    intent = stripe.PaymentIntent.create(amount=amount, api_key=api_key,\n"
            "             │                              │              └ "
            f"'{key}'\n"
            f"             │                              └ {self.amount()}\n"
            "             └ <module 'stripe' from '/srv/venv/lib/python3.11/site-packages/"
            "stripe/__init__.py'>\n"
            "    card_number = form.card_number\n"
            f"                  └ <Form card_number='{card}' email='{self.email()}'>\n\n"
            f"stripe._error.CardError: Request req_{self.token(14)}: Your card was declined.\n"
            f"  code={code} http_status=402\n"
        )


def luhn_complete(partial: str) -> str:
    """Append the check digit that makes `partial` pass the Luhn test."""
    total = 0
    for index, char in enumerate(reversed(partial)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return partial + str((10 - total % 10) % 10)


def generate(path: Path, size: int, seed: int = 7) -> Counter[str]:
    """Write at least `size` bytes of logs to `path`; return the secrets planted, by entity."""
    generator = Generator(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        while written < size:
            text = generator.chunk(2000)
            out.write(text)
            written += len(text.encode())
    return generator.planted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=float, default=128.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    planted = generate(args.output, int(args.size_mb * 1e6), args.seed)
    summary = ", ".join(f"{entity} {count}" for entity, count in sorted(planted.items()))
    sys.stdout.write(f"wrote {args.output.stat().st_size} bytes; planted: {summary}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
