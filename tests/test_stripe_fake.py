"""The fake Stripe server, seen through the real stripe package: each scenario raises the error
class Stripe's own answer would, with its code, decline code and request ID."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import stripe

from tests.stripe_fake import SCENARIOS, Reply, StripeFake

KEY = "sk_test_51Fake0000000000000000000000Aso0"
CARD_SCENARIOS = {
    "card_declined": ("card_declined", "generic_decline"),
    "insufficient_funds": ("card_declined", "insufficient_funds"),
    "lost_card": ("card_declined", "lost_card"),
    "stolen_card": ("card_declined", "stolen_card"),
    "fraudulent": ("card_declined", "fraudulent"),
    "do_not_honor": ("card_declined", "do_not_honor"),
    "expired_card": ("expired_card", None),
    "incorrect_cvc": ("incorrect_cvc", None),
    "incorrect_number": ("incorrect_number", None),
    "processing_error": ("processing_error", None),
}


def create_intent(scenario: str, key: str = KEY) -> stripe.PaymentIntent:
    return stripe.PaymentIntent.create(
        api_key=key, amount=4200, currency="usd", metadata={"scenario": scenario}
    )


@pytest.mark.parametrize("scenario", sorted(CARD_SCENARIOS))
def test_card_scenarios_raise_card_errors_with_their_codes(
    stripe_fake: StripeFake, scenario: str
) -> None:
    with pytest.raises(stripe.error.CardError) as caught:
        create_intent(scenario)
    error = caught.value
    body = error.json_body["error"]
    served = stripe_fake.requests[-1]
    assert (error.http_status, error.code, body.get("decline_code")) == (
        402,
        *CARD_SCENARIOS[scenario],
    )
    assert error.request_id == served.request_id and error.request_id.startswith("req_")
    assert body["charge"] in stripe_fake.issued["charge"]
    assert body["request_log_url"].endswith(f"/logs/{served.request_id}?t=1714000000")


@pytest.mark.parametrize(
    ("scenario", "error_class", "status", "code"),
    [
        ("rate_limit", stripe.error.RateLimitError, 429, "rate_limit"),
        ("authentication", stripe.error.AuthenticationError, 401, None),
        ("permission", stripe.error.PermissionError, 403, "secret_key_required"),
        ("invalid_request", stripe.error.InvalidRequestError, 400, "parameter_missing"),
        ("resource_missing", stripe.error.InvalidRequestError, 404, "resource_missing"),
        ("idempotency", stripe.error.StripeError, 409, "idempotency_key_in_use"),
        ("api_error", stripe.error.APIError, 500, None),
    ],
)
def test_error_scenarios_raise_what_stripe_would(
    stripe_fake: StripeFake, scenario: str, error_class: type[Exception], status: int, code: str
) -> None:
    with pytest.raises(error_class) as caught:
        create_intent(scenario)
    error = caught.value
    assert isinstance(error, stripe.error.StripeError)
    assert (error.http_status, error.json_body["error"].get("code")) == (status, code)
    assert stripe_fake.count() == 1  # max_network_retries = 0: no retry even of 409/429/500


def test_authentication_error_echoes_the_key_masked_as_stripe_does(stripe_fake: StripeFake) -> None:
    with pytest.raises(stripe.error.AuthenticationError) as caught:
        create_intent("authentication")
    message = caught.value.user_message
    assert message == f"Invalid API Key provided: sk_test_{'*' * (len(KEY) - 12)}Aso0"


def test_success_returns_an_intent_with_client_secret_and_email(stripe_fake: StripeFake) -> None:
    intent = stripe.PaymentIntent.create(
        api_key=KEY, amount=1999, currency="eur", receipt_email="Jane+x@Example.com"
    )
    assert intent.id in stripe_fake.issued["payment_intent"]
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert (intent.amount, intent.currency, intent.receipt_email) == (
        1999,
        "eur",
        "Jane+x@Example.com",
    )
    assert stripe_fake.requests[-1].param("receipt_email") == "Jane+x@Example.com"


def test_customers_and_charges_get_their_own_objects(stripe_fake: StripeFake) -> None:
    customer = stripe.Customer.create(api_key=KEY, email="a@example.org")
    charge = stripe.Charge.create(api_key=KEY, amount=500, currency="usd", customer=customer.id)
    assert (customer.object, customer.email) == ("customer", "a@example.org")
    assert (charge.object, charge.amount, charge.id in stripe_fake.issued["charge"]) == (
        "charge",
        500,
        True,
    )


def test_scripted_replies_come_first_and_in_order(stripe_fake: StripeFake) -> None:
    stripe_fake.script("rate_limit", Reply(503, {"error": {"type": "api_error", "message": "x"}}))
    with pytest.raises(stripe.error.RateLimitError):
        create_intent("ok")
    with pytest.raises(stripe.error.APIError) as caught:
        create_intent("ok")
    intent = create_intent("ok")
    assert caught.value.http_status == 503
    assert intent.status == "succeeded"
    assert [request.scenario for request in stripe_fake.requests] == [
        "rate_limit",
        "scripted",
        "ok",
    ]
    assert stripe_fake.count(scenario="ok", path="/v1/payment_intents") == 1


def test_unknown_scripted_scenario_is_refused_at_once() -> None:
    with StripeFake() as fake, pytest.raises(KeyError):
        fake.script("no_such_scenario")


def test_every_scenario_answers_without_crashing(stripe_fake: StripeFake) -> None:
    for scenario in SCENARIOS:
        try:
            create_intent(scenario)
        except stripe.error.StripeError as error:
            assert error.http_status is not None
    assert stripe_fake.errors == []
    assert stripe_fake.count() == len(SCENARIOS)


def test_refused_address_raises_api_connection_error(refused_url: str) -> None:
    with StripeFake() as fake, fake.patch_stripe():
        stripe.api_base = refused_url
        with pytest.raises(stripe.error.APIConnectionError):
            create_intent("ok")
    assert fake.count() == 0


def test_stripe_client_reaches_the_fake_through_base_addresses() -> None:
    if not hasattr(stripe, "StripeClient"):
        pytest.skip("StripeClient arrived in stripe 8")
    with StripeFake() as fake:
        client = stripe.StripeClient(KEY, **fake.client_options())
        service = client.v1.customers if hasattr(client, "v1") else client.customers
        customer = service.create(params={"email": "b@example.org", "metadata": {"scenario": "ok"}})
    assert customer.id in fake.issued["customer"]
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_patch_stripe_restores_the_module_settings() -> None:
    before = (stripe.api_base, stripe.max_network_retries)
    with StripeFake() as fake:
        with fake.patch_stripe():
            assert stripe.api_base == fake.url
        assert (stripe.api_base, stripe.max_network_retries) == before


def test_stopping_closes_the_port() -> None:
    with StripeFake() as fake:
        address = urlsplit(fake.url)
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect((address.hostname, address.port))
