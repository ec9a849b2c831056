"""Replacement modes: typed placeholders, PCI-safe partial masks and keyed HMAC tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from redactor import ConfigError
from tests.engine_config import redactor_with

MASK_ALL = '[redact]\nmode = "mask"\n'
LINE = (
    "card=4242 4242 4242 4242 key=sk_live_4eC39HqLyjWDarjtT1zdp7dc "
    "to jane+vip@example.com cs=pi_3Nq8ZrT3vKp0LmWx_secret_9f8e7d6c cvc=314"
)


def test_mask_keeps_only_what_pci_and_the_type_allow(tmp_path: Path) -> None:
    masked = redactor_with(tmp_path, MASK_ALL).redact(LINE)

    assert masked == (
        "card=**** **** **** 4242 key=sk_live_*** to ***@example.com "
        "cs=pi_3Nq8ZrT3vKp0LmWx_secret_*** cvc=***"
    )


def test_mask_can_keep_the_first_six_digits(tmp_path: Path) -> None:
    toml = MASK_ALL + "[redact.rules.card-number]\nkeep_first = 6\nkeep_last = 4\n"

    assert redactor_with(tmp_path, toml).redact("pan 4242424242424242") == "pan 424242******4242"


def test_mask_hides_at_least_six_digits_of_a_short_pan(tmp_path: Path) -> None:
    toml = MASK_ALL + "[redact.rules.card-number]\nkeep_first = 6\nkeep_last = 4\n"
    redactor = redactor_with(tmp_path, toml)

    assert redactor.redact("maestro 501800000009") == "maestro 50******0009"
    assert redactor.redact("amex 378282246310005") == "amex 37828******0005"


@pytest.mark.parametrize(("key", "value"), [("keep_first", 7), ("keep_last", 5)])
def test_mask_refuses_more_digits_than_pci_allows(tmp_path: Path, key: str, value: int) -> None:
    toml = MASK_ALL + f"[redact.rules.card-number]\n{key} = {value}\n"

    with pytest.raises(ConfigError, match=f"redact.rules.card-number.{key}"):
        redactor_with(tmp_path, toml)


def test_url_encoded_email_mask_keeps_the_encoded_domain(tmp_path: Path) -> None:
    masked = redactor_with(tmp_path, MASK_ALL).redact("email=li.wei%40example.org&x")

    assert masked == "email=***%40example.org&x"


def test_masked_output_is_stable_under_redaction(tmp_path: Path) -> None:
    redactor = redactor_with(tmp_path, MASK_ALL)
    once = redactor.redact(LINE)

    assert redactor.redact(once) == once


HMAC = '[redact]\nmode = "hmac"\n[redact.hmac]\nkey_env = "TEST_REDACTOR_KEY"\n'


def test_hmac_tokens_follow_one_value_across_spellings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REDACTOR_KEY", "k" * 32)
    redactor = redactor_with(tmp_path, HMAC)

    spaced = redactor.redact("4242 4242 4242 4242")
    plain = redactor.redact("4242424242424242")
    other = redactor.redact("5555555555554444")
    email = redactor.redact("Jane@Example.com")
    encoded = redactor.redact("jane%40example.com")

    assert spaced == plain != other
    assert spaced.startswith("<CREDIT_CARD:") and "4242" not in spaced
    assert email == encoded
    assert redactor.redact(plain) == plain


def test_card_security_codes_are_never_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_REDACTOR_KEY", "k" * 32)

    out = redactor_with(tmp_path, HMAC).redact("card[cvc]=314 card=4242424242424242")

    assert out.startswith("card[cvc]=<CARD_CVC> card=<CREDIT_CARD:")


def test_hmac_tokens_depend_on_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_REDACTOR_KEY", "a" * 32)
    first = redactor_with(tmp_path, HMAC).redact("4242424242424242")
    monkeypatch.setenv("TEST_REDACTOR_KEY", "b" * 32)
    second = redactor_with(tmp_path, HMAC).redact("4242424242424242")

    assert first != second


def test_hmac_without_a_key_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_REDACTOR_KEY", raising=False)

    with pytest.raises(ConfigError, match="TEST_REDACTOR_KEY"):
        redactor_with(tmp_path, HMAC)


def test_mode_can_differ_per_rule(tmp_path: Path) -> None:
    toml = '[redact.rules.email-address]\nmode = "mask"\n'

    out = redactor_with(tmp_path, toml).redact("4242424242424242 jane@example.com")

    assert out == "<CREDIT_CARD> ***@example.com"


def test_publishable_keys_are_redacted_only_when_enabled(tmp_path: Path) -> None:
    text = "pk_live_51Nq8ZrT3vKp0LmWx"
    toml = "[redact.rules.stripe-publishable-key]\nenabled = true\n"

    assert redactor_with(tmp_path, "").redact(text) == text
    assert redactor_with(tmp_path, toml).redact(text) == "<STRIPE_PUBLISHABLE_KEY>"


def test_custom_placeholder_template(tmp_path: Path) -> None:
    toml = '[redact]\nplaceholder = "[{entity} removed]"\n'

    assert redactor_with(tmp_path, toml).redact("jane@example.com") == "[EMAIL_ADDRESS removed]"
