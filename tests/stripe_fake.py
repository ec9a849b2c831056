"""A Stripe-like API server on 127.0.0.1 that the real `stripe` package can be pointed at.

It answers the way api.stripe.com does (JSON error bodies, `Request-Id` headers, objects with
IDs, client secrets and customer emails), so tests see what stripe-python really raises and logs.

As pytest fixtures (conftest.py): `stripe_fake` is a started fake with the module-level stripe
API pointed at it (`patch_stripe()`), `refused_url` an address that refuses connections.
Anywhere else, e.g. in a test that starts its own processes::

    from tests.stripe_fake import StripeFake, refused_address

    with StripeFake() as fake:                      # a thread serving on a free port
        fake.url                                    # "http://127.0.0.1:PORT"
        fake.script("insufficient_funds", "ok")     # replies for the next two requests
        fake.script(Reply(503, {"error": {...}}))   # or a reply of your own
        with fake.patch_stripe():                   # stripe.api_base & co. -> fake, no retries
            stripe.PaymentIntent.create(api_key="sk_test_x", amount=100, currency="usd")
        client = stripe.StripeClient("sk_test_x", **fake.client_options())   # stripe >= 8
        fake.count()                                # requests served so far
        fake.count(scenario="rate_limit", path="/v1/charges")
        fake.requests[-1].params, .headers, .request_id, .status
        fake.issued["request"], ["charge"], ["customer"], ["client_secret"], ...

    with refused_address() as url:                  # a bound port that refuses connections
        ...                                         # -> stripe.error.APIConnectionError

Which reply a request gets: the next scripted one if any, else the scenario named by the
request's `metadata[scenario]` parameter (query or form body), else `fake.default` ("ok").
`SCENARIOS` lists the names. The subprocess app in tests/apps/stripe_app.py picks its
scenarios by `metadata[scenario]`, so one server can serve several app processes at once.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import string
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

_ALNUM = string.ascii_letters + string.digits
_EPOCH = 1_714_000_000
_DASHBOARD = "https://dashboard.stripe.com/test/logs/"


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: status, JSON body and extra headers (Request-Id is added if absent)."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recorded:
    """A request the fake served, with what it answered."""

    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    scenario: str
    status: int
    request_id: str

    def param(self, name: str) -> str | None:
        """The first value of a form or query parameter, e.g. `param("card[number]")`."""
        values = self.params.get(name)
        return values[0] if values else None


@dataclass
class Call:
    """What a scenario builder gets: the request and the fake's ID generator."""

    fake: StripeFake
    method: str
    path: str
    params: dict[str, list[str]]
    api_key: str
    request_id: str

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.params.get(name)
        return values[0] if values else default

    def new_id(self, prefix: str, kind: str, length: int = 24) -> str:
        return self.fake.new_id(prefix, kind, length)


Builder = Callable[[Call], Reply]


class StripeFake:
    """A threaded HTTP server on 127.0.0.1 that speaks enough of the Stripe API for tests."""

    def __init__(self, default: str = "ok", seed: int | None = 0) -> None:
        self.default = default
        self.issued: dict[str, list[str]] = {}
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.errors: list[BaseException] = []
        self._queue: list[str | Reply] = []
        self._requests: list[Recorded] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base address to give stripe: `http://127.0.0.1:PORT`."""
        if self._server is None:
            raise RuntimeError("StripeFake is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> StripeFake:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> StripeFake:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def script(self, *replies: str | Reply) -> None:
        """Queue replies (scenario names or `Reply`s) for the next requests, in order."""
        for reply in replies:
            if isinstance(reply, str) and reply not in SCENARIOS:
                raise KeyError(f"unknown scenario {reply!r}; known: {sorted(SCENARIOS)}")
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[Recorded]:
        """The requests served so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self, *, path: str | None = None, scenario: str | None = None) -> int:
        """How many requests were served, optionally only those to `path` or of `scenario`."""
        return sum(
            1
            for request in self.requests
            if (path is None or request.path == path)
            and (scenario is None or request.scenario == scenario)
        )

    def new_id(self, prefix: str, kind: str, length: int = 24) -> str:
        """A fresh Stripe-style ID (`ch_3Ab…`), remembered under `issued[kind]`."""
        with self._lock:
            value = prefix + "".join(self._random.choice(_ALNUM) for _ in range(length))
            self.issued.setdefault(kind, []).append(value)
            return value

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for `stripe.StripeClient` (v8+): every base address, no retries."""
        bases = {name: self.url for name in ("api", "connect", "files", "meter_events")}
        return {"base_addresses": bases, "max_network_retries": 0}

    @contextlib.contextmanager
    def patch_stripe(self) -> Iterator[None]:
        """Point the module-level stripe API (any major version) at the fake; restore after."""
        import stripe

        names = ["api_base", "upload_api_base", "connect_api_base", "meter_events_api_base"]
        saved = {name: getattr(stripe, name) for name in names if hasattr(stripe, name)}
        retries = getattr(stripe, "max_network_retries", None)
        try:
            for name in saved:
                setattr(stripe, name, self.url)
            stripe.max_network_retries = 0
            yield
        finally:
            for name, value in saved.items():
                setattr(stripe, name, value)
            stripe.max_network_retries = retries

    def _answer(self, method: str, raw_path: str, body: bytes, headers: dict[str, str]) -> Reply:
        split = urlsplit(raw_path)
        params = parse_qs(split.query, keep_blank_values=True)
        for name, values in parse_qs(body.decode("utf-8", "replace")).items():
            params.setdefault(name, []).extend(values)
        request_id = self.new_id("req_", "request", 14)
        key = headers.get("authorization", "").removeprefix("Bearer ").strip()
        call = Call(self, method, split.path, params, key, request_id)
        scenario, reply = self._reply_for(call)
        reply = _with_request_id(reply, request_id)
        recorded = Recorded(method, split.path, params, headers, scenario, reply.status, request_id)
        with self._lock:
            self._requests.append(recorded)
        return reply

    def _reply_for(self, call: Call) -> tuple[str, Reply]:
        with self._lock:
            scripted = self._queue.pop(0) if self._queue else None
        if isinstance(scripted, Reply):
            return "scripted", scripted
        name = scripted or call.param("metadata[scenario]") or self.default
        builder = SCENARIOS.get(name)
        if builder is None:
            return name, _invalid(call, f"Unknown fake scenario: {name}", "metadata", 400)
        try:
            return name, builder(call)
        except Exception as error:  # a broken scenario must fail the test, not hang stripe
            self.errors.append(error)
            return name, _api_error(call)


class _Handler(BaseHTTPRequestHandler):
    fake: StripeFake
    server_version = "nginx"
    sys_version = ""

    def do_GET(self) -> None:
        self._serve("get")

    def do_POST(self) -> None:
        self._serve("post")

    def do_DELETE(self) -> None:
        self._serve("delete")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.fake._answer(method, self.path, body, headers)
        payload = json.dumps(reply.body, indent=2).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; requests are recorded on the fake instead


def _with_request_id(reply: Reply, request_id: str) -> Reply:
    if any(name.lower() == "request-id" for name in reply.headers):
        return reply
    headers = {"Request-Id": request_id, "Stripe-Version": "2024-06-20", **reply.headers}
    return Reply(reply.status, reply.body, headers)


@contextlib.contextmanager
def refused_address() -> Iterator[str]:
    """A `http://127.0.0.1:PORT` where a bound but not listening socket refuses connections.

    Holding the socket keeps the port from being reused by anything else while in use.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


# ---- scenarios --------------------------------------------------------------------------------


def _error(call: Call, status: int, **fields: Any) -> Reply:
    error = {key: value for key, value in fields.items() if value is not None}
    error["request_log_url"] = f"{_DASHBOARD}{call.request_id}?t={_EPOCH}"
    return Reply(status, {"error": error})


def _invalid(call: Call, message: str, param: str | None, status: int, **extra: Any) -> Reply:
    return _error(call, status, type="invalid_request_error", message=message, param=param, **extra)


def _card_error(
    code: str, message: str, decline_code: str | None = None, param: str | None = None
) -> Builder:
    def build(call: Call) -> Reply:
        charge = call.new_id("ch_3", "charge")
        intent = _payment_intent(call, status="requires_payment_method", charge=charge)
        doc = f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        return _error(
            call,
            402,
            type="card_error",
            code=code,
            decline_code=decline_code,
            message=message,
            param=param,
            charge=charge,
            doc_url=doc,
            payment_intent=intent,
        )

    return build


def _masked(key: str) -> str:
    """Stripe's own echo of a key: type prefix, stars, last four characters."""
    prefix, _, _ = key.rpartition("_")
    body = key[len(prefix) + 1 :]
    return f"{prefix}_{'*' * max(len(body) - 4, 4)}{body[-4:]}"


def _authentication(call: Call) -> Reply:
    if not call.api_key:
        return _error(
            call, 401, type="invalid_request_error", message="You did not provide an API key."
        )
    message = f"Invalid API Key provided: {_masked(call.api_key)}"
    return _error(call, 401, type="invalid_request_error", message=message)


def _permission(call: Call) -> Reply:
    account = call.new_id("acct_1", "account", 15)
    message = (
        f"The provided key '{_masked(call.api_key)}' does not have the required "
        f"permissions for this endpoint on account '{account}'."
    )
    return _error(
        call, 403, type="invalid_request_error", code="secret_key_required", message=message
    )


def _resource_missing(call: Call) -> Reply:
    last = call.path.rstrip("/").rsplit("/", 1)[-1]
    missing = call.param("customer") or (last if last.startswith("cus_") else "cus_unknown")
    return _invalid(call, f"No such customer: '{missing}'", "id", 404, code="resource_missing")


def _parameter_missing(call: Call) -> Reply:
    return _invalid(
        call, "Missing required param: currency.", "currency", 400, code="parameter_missing"
    )


def _idempotency(call: Call) -> Reply:
    message = (
        "There is currently another in-progress request using this Stripe token "
        "(probably means you are making concurrent requests with the same idempotency "
        "key); that token is locked. Please try again."
    )
    return _error(
        call, 409, type="idempotency_error", code="idempotency_key_in_use", message=message
    )


def _rate_limit(call: Call) -> Reply:
    message = (
        "Request rate limit exceeded. You can learn more about rate limits here "
        "https://stripe.com/docs/rate-limits."
    )
    return _error(call, 429, type="invalid_request_error", code="rate_limit", message=message)


def _api_error(call: Call) -> Reply:
    message = "An unknown error occurred. Please try again or contact Stripe support."
    return _error(call, 500, type="api_error", message=message)


def _payment_intent(call: Call, status: str, charge: str | None = None) -> dict[str, Any]:
    intent = call.new_id("pi_3", "payment_intent")
    secret = f"{intent}_secret_{call.new_id('', 'client_secret_tail', 25)}"
    call.fake.issued.setdefault("client_secret", []).append(secret)
    return {
        "id": intent,
        "object": "payment_intent",
        "amount": int(call.param("amount", "2000") or 2000),
        "currency": call.param("currency", "usd"),
        "client_secret": secret,
        "created": _EPOCH + len(call.fake.issued["payment_intent"]),
        "customer": call.param("customer"),
        "latest_charge": charge,
        "livemode": call.api_key.startswith(("sk_live_", "rk_live_")),
        "metadata": _metadata(call),
        "receipt_email": call.param("receipt_email"),
        "status": status,
    }


def _metadata(call: Call) -> dict[str, str]:
    return {
        name[9:-1]: values[0]
        for name, values in call.params.items()
        if name.startswith("metadata[") and name.endswith("]")
    }


def _ok(call: Call) -> Reply:
    resource = call.path.split("/")[2] if call.path.count("/") >= 2 else ""
    if resource == "customers":
        return Reply(200, _customer(call))
    if resource == "charges":
        return Reply(200, _charge(call))
    charge = call.new_id("ch_3", "charge")
    return Reply(200, _payment_intent(call, status="succeeded", charge=charge))


def _customer(call: Call) -> dict[str, Any]:
    customer = call.new_id("cus_", "customer", 14)
    return {
        "id": customer,
        "object": "customer",
        "created": _EPOCH,
        "email": call.param("email"),
        "name": call.param("name"),
        "livemode": False,
        "metadata": _metadata(call),
    }


def _charge(call: Call) -> dict[str, Any]:
    charge = call.new_id("ch_3", "charge")
    return {
        "id": charge,
        "object": "charge",
        "amount": int(call.param("amount", "2000") or 0),
        "currency": call.param("currency", "usd"),
        "created": _EPOCH,
        "paid": True,
        "receipt_email": call.param("receipt_email"),
        "billing_details": {"email": call.param("receipt_email"), "name": None},
        "status": "succeeded",
        "metadata": _metadata(call),
    }


SCENARIOS: dict[str, Builder] = {
    "ok": _ok,
    "card_declined": _card_error("card_declined", "Your card was declined.", "generic_decline"),
    "insufficient_funds": _card_error(
        "card_declined", "Your card has insufficient funds.", "insufficient_funds"
    ),
    "lost_card": _card_error("card_declined", "Your card was declined.", "lost_card"),
    "stolen_card": _card_error("card_declined", "Your card was declined.", "stolen_card"),
    "fraudulent": _card_error("card_declined", "Your card was declined.", "fraudulent"),
    "do_not_honor": _card_error("card_declined", "Your card was declined.", "do_not_honor"),
    "expired_card": _card_error("expired_card", "Your card has expired.", None, "exp_month"),
    "incorrect_cvc": _card_error(
        "incorrect_cvc", "Your card's security code is incorrect.", None, "cvc"
    ),
    "incorrect_number": _card_error(
        "incorrect_number", "Your card number is incorrect.", None, "number"
    ),
    "processing_error": _card_error(
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "rate_limit": _rate_limit,
    "authentication": _authentication,
    "permission": _permission,
    "invalid_request": _parameter_missing,
    "resource_missing": _resource_missing,
    "idempotency": _idempotency,
    "api_error": _api_error,
}


@pytest.fixture
def stripe_fake() -> Iterator[StripeFake]:
    """A started StripeFake; the module-level stripe API points at it during the test."""
    with StripeFake() as fake, fake.patch_stripe():
        yield fake


@pytest.fixture
def refused_url() -> Iterator[str]:
    """An address on 127.0.0.1 that refuses connections (stripe raises APIConnectionError)."""
    with refused_address() as url:
        yield url
