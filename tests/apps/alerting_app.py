"""An app that alerts from inside: loguru sink, stripe calls failing, `start_alerts`.

Usage: alerting_app.py STRIPE_URL CONFIG LOG_PATH FAILURES
It logs FAILURES card declines, prints "logged", then keeps running until stdin closes, so
the test can see the notification arrive while the app is still up.
"""

from __future__ import annotations

import sys

import stripe
from loguru import logger

import redactor


def main() -> None:
    url, config, log_path, failures = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    stripe.api_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc"
    stripe.api_base = url
    stripe.max_network_retries = 0
    redactor.start_alerts(config)
    logger.remove()
    logger.add(redactor.loguru_sink(log_path), diagnose=True, backtrace=True)

    for attempt in range(failures):
        try:
            stripe.PaymentIntent.create(
                amount=2000,
                currency="usd",
                payment_method="pm_card_visa",
                receipt_email="jane.doe@example.com",
                metadata={"scenario": "insufficient_funds"},
            )
        except stripe.error.CardError:
            logger.exception("payment {} failed for card 4242424242424242", attempt)

    print("logged", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
