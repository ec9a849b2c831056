"""A small checkout app that uses the real stripe package and logs its failures as apps do.

Run by tests/real_logs.py as `python stripe_app.py PLAN.json MODE LOGFILE`, with stderr sent
to a file by the caller. MODE is one of:
  loguru     loguru sink with diagnose=True, backtrace=True (values of locals in tracebacks);
             stdlib `stripe` INFO records routed into loguru as an app's InterceptHandler does
  json       the same through a loguru sink with serialize=True
  stdlib     stdlib logging at DEBUG (stripe's own `post_data=` and response-body records) and
             `stripe.log = "debug"`, which also prints those records to stderr
  traceback  no logging at all: failures are re-raised with `raise ... from` and printed with
             traceback.print_exc() to stderr
The plan (written by tests/real_logs.py) holds the fake server's address, the secrets to use and
the scenario of each call; the app asks the fake for a scenario through `metadata[scenario]`.
"""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

import stripe

log = logging.getLogger("shop.checkout")


class CheckoutFailed(Exception):
    """What the app raises to its caller when a payment does not go through."""


class Reporter:
    """How one logging style records a success, a failure and a caught exception."""

    def __init__(self, mode: str, path: str) -> None:
        self.mode = mode
        self.loguru: Any = None
        if mode in ("loguru", "json"):
            self._setup_loguru(path, serialize=mode == "json")
        elif mode == "stdlib":
            self._setup_stdlib(path)

    def _setup_loguru(self, path: str, serialize: bool) -> None:
        from loguru import logger

        logger.remove()
        logger.add(path, level="DEBUG", diagnose=True, backtrace=True, serialize=serialize)
        logging.basicConfig(handlers=[_InterceptHandler(logger)], level=logging.INFO, force=True)
        self.loguru = logger

    def _setup_stdlib(self, path: str) -> None:
        logging.basicConfig(
            filename=path,
            level=logging.DEBUG,
            format="%(asctime)s %(levelname)s [%(name)s] %(message)s",
        )
        logging.getLogger("stripe").setLevel(logging.DEBUG)
        stripe.log = "debug"

    def info(self, message: str, *args: Any, **extra: Any) -> None:
        if self.loguru is not None:
            self.loguru.bind(**extra).info(message.replace("%s", "{}"), *args)
        elif self.mode == "stdlib":
            log.info(message, *args)
        else:
            print(message % args, file=sys.stderr)

    def failure(self, message: str, *args: Any, **extra: Any) -> None:
        """Called inside an `except` block: logs the message with the traceback."""
        if self.loguru is not None:
            self.loguru.bind(**extra).exception(message.replace("%s", "{}"), *args)
        elif self.mode == "stdlib":
            log.exception(message, *args)
            error = sys.exc_info()[1]
            if isinstance(error, stripe.error.StripeError):
                log.warning(
                    "stripe error %s status=%s code=%s request_id=%s body=%s",
                    type(error).__name__,
                    error.http_status,
                    error.code,
                    error.request_id,
                    error.http_body,
                )
        else:
            traceback.print_exc()


class _InterceptHandler(logging.Handler):
    """loguru's documented recipe: hand stdlib records to loguru."""

    def __init__(self, logger: Any) -> None:
        super().__init__()
        self._logger = logger

    def emit(self, record: logging.LogRecord) -> None:
        self._logger.opt(depth=6, exception=record.exc_info).log(
            record.levelname, record.getMessage()
        )


def create_intent(
    api_key: str, number: str, cvc: str, email: str, amount: int, order: str, scenario: str
) -> Any:
    card = {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc}
    return stripe.PaymentIntent.create(
        api_key=api_key,
        amount=amount,
        currency="usd",
        receipt_email=email,
        payment_method_data={"type": "card", "card": card},
        confirm=True,
        idempotency_key=f"{order}-attempt-1",
        metadata={"order_id": order, "scenario": scenario},
    )


def checkout(step: dict[str, Any]) -> Any:
    api_key, number, cvc, email = step["key"], step["number"], step["cvc"], step["email"]
    amount, order, scenario = step["amount"], step["order"], step["scenario"]
    return create_intent(api_key, number, cvc, email, amount, order, scenario)


def pay(step: dict[str, Any]) -> Any:
    """The app's service layer: turns a Stripe error into its own, keeping the cause."""
    try:
        return checkout(step)
    except stripe.error.CardError as error:
        raise CheckoutFailed(
            f"order {step['order']}: card declined for {step['email']} "
            f"(decline_code={error.error.decline_code if error.error else None})"
        ) from error


def run_checkout(reporter: Reporter, step: dict[str, Any]) -> None:
    try:
        intent = pay(step)
    except (CheckoutFailed, stripe.error.StripeError):
        reporter.failure(
            "Checkout failed for order %s",
            step["order"],
            order=step["order"],
            customer_email=step["email"],
            amount=step["amount"],
        )
        return
    reporter.info(
        "PaymentIntent %s created for %s amount=%s; returning client_secret=%s",
        intent.id,
        intent.receipt_email,
        intent.amount,
        intent.client_secret,
        order=step["order"],
    )


def create_customer(step: dict[str, Any]) -> Any:
    api_key = step["key"]
    email = step["email"]
    metadata = {"scenario": step["scenario"], "signup": step["signup"]}
    if hasattr(stripe, "StripeClient") and step.get("client"):
        client = stripe.StripeClient(api_key, **_client_options(step["base"]))
        service = client.v1.customers if hasattr(client, "v1") else client.customers
        return service.create(params={"email": email, "metadata": metadata})
    return stripe.Customer.create(api_key=api_key, email=email, metadata=metadata)


def _client_options(base: str) -> dict[str, Any]:
    bases = {"api": base, "connect": base, "files": base, "meter_events": base}
    return {"base_addresses": bases, "max_network_retries": 0}


def run_customer(reporter: Reporter, step: dict[str, Any]) -> None:
    try:
        customer = create_customer(step)
    except stripe.error.StripeError:
        reporter.failure("Could not create customer %s", step["email"], signup=step["signup"])
        return
    reporter.info("Customer %s created with email %s", customer.id, customer.email)


def run_charge(reporter: Reporter, step: dict[str, Any]) -> None:
    api_key = step["key"]
    try:
        stripe.Charge.create(
            api_key=api_key,
            amount=step["amount"],
            currency="usd",
            customer=step["customer"],
            metadata={"scenario": step["scenario"], "invoice": step["invoice"]},
        )
    except stripe.error.StripeError:
        reporter.failure("Charge for invoice %s failed", step["invoice"], invoice=step["invoice"])


def handle_webhook(payload: str, signature: str, secret: str) -> Any:
    return stripe.Webhook.construct_event(payload, signature, secret)


def run_webhook(reporter: Reporter, step: dict[str, Any]) -> None:
    endpoint_secret = step["secret"]
    try:
        handle_webhook(step["payload"], step["signature"], endpoint_secret)
    except stripe.error.SignatureVerificationError:
        reporter.failure("Webhook rejected; endpoint secret is %s", endpoint_secret)


def run_refused(reporter: Reporter, step: dict[str, Any]) -> None:
    saved = stripe.api_base
    stripe.api_base = step["base"]
    try:
        create_customer(step)
    except stripe.error.APIConnectionError:
        reporter.failure("Stripe unreachable while creating customer %s", step["email"])
    finally:
        stripe.api_base = saved


def check_key(key: str) -> None:
    if not key.startswith("sk_test_"):
        raise ValueError(f"refusing to run the staging shop with a live key: {key}")


def run_key_check(reporter: Reporter, step: dict[str, Any]) -> None:
    try:
        try:
            check_key(step["key"])
        except ValueError:
            raise CheckoutFailed("configuration check failed") from None
    except CheckoutFailed:
        try:
            raise RuntimeError(f"startup aborted; STRIPE_API_KEY={step['key']}")
        except RuntimeError:
            reporter.failure("Startup check failed")


RUNNERS = {
    "checkout": run_checkout,
    "customer": run_customer,
    "charge": run_charge,
    "webhook": run_webhook,
    "refused": run_refused,
    "key_check": run_key_check,
}


def main(plan_path: str, mode: str, log_path: str) -> int:
    with open(plan_path, encoding="utf-8") as handle:
        plan = json.load(handle)
    stripe.api_base = plan["api_base"]
    stripe.max_network_retries = 0
    reporter = Reporter(mode, log_path)
    started = time.monotonic()
    for step in plan["steps"]:
        RUNNERS[step["kind"]](reporter, step)
    reporter.info(
        "run finished: %s steps in %s s", len(plan["steps"]), round(time.monotonic() - started, 3)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:4]))
