"""Properties: a planted secret is always removed and its surroundings kept byte for byte;
hostile lines finish in linear time."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redactor import _scanner, default_redactor
from redactor._scanner import Scanner
from tests.spellings import leaks

SECRETS = [
    ("4242424242424242", "<CREDIT_CARD>"),
    ("2223003122003222", "<CREDIT_CARD>"),
    ("378282246310005", "<CREDIT_CARD>"),
    ("6205500000000000004", "<CREDIT_CARD>"),
    (
        "sk_live_51Nq8ZrT3vKp0LmWx7YbC2dE4fG6hJ9kQ1sU5wA8zR3tV7yB0nM2cX4pL6oI9uY1tR5eW3qA7sD2fG8h",
        "<STRIPE_SECRET_KEY>",
    ),
    ("rk_test_4eC39HqLyjWDarjtT1zdp7dc", "<STRIPE_SECRET_KEY>"),
    ("whsec_8rZ2kLq9VbN3xT5mP7cW1dF4gH6jK0sA", "<STRIPE_WEBHOOK_SECRET>"),
    ("pi_3Nq8ZrT3vKp0LmWx_secret_9f8e7d6c5b4a", "<STRIPE_CLIENT_SECRET>"),
    ("jane.doe+vip@mail.example.com", "<EMAIL_ADDRESS>"),
    ("li.wei%40example.org", "<EMAIL_ADDRESS>"),
]

# Surroundings that cannot merge with a secret: the secret is bounded by a separator.
SURROUNDING = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="@%"),
    max_size=60,
)
SEPARATORS = st.sampled_from([" ", "\t", "=", ": ", '"', " '", "(", "\n", "\r\n", "\x00", ",", "<"])


Planted = tuple[str, str, tuple[str, str], str, str]
SPELLED = [secret for secret, _ in SECRETS]
PIECES = [secret.encode() for secret in SPELLED] + [b" ", b"\n", b"=", b"@", b"_", b"'", b"..."]


def bounded(
    text: st.SearchStrategy[str], separator: st.SearchStrategy[str]
) -> st.SearchStrategy[Planted]:
    return st.tuples(text, separator, st.sampled_from(SECRETS), separator, text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bounded(SURROUNDING, SEPARATORS))
def test_a_planted_secret_is_removed_and_the_rest_kept(parts: Planted) -> None:
    before, left, (secret, placeholder), right, after = parts
    text = before + left + secret + right + after

    out = default_redactor().redact(text)

    assert not leaks(out, secret)
    assert out.startswith(before + left)
    assert out.endswith(right + after)
    assert placeholder in out


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(SECRETS), st.binary(max_size=200))
def test_bytes_around_a_secret_survive_exactly(
    head: bytes, planted: tuple[str, str], tail: bytes
) -> None:
    secret = planted[0].encode()
    data = head + b"\n" + secret + b"\n" + tail

    redactor = default_redactor()

    out = redactor.redact_bytes(data)

    # No rule reaches across a newline, so each side is redacted as if it stood alone; a
    # placeholder standing where a bare JSON number could be is quoted to keep JSON valid.
    placeholder = planted[1].encode()
    sides = redactor.redact_bytes(head), redactor.redact_bytes(tail)
    assert out in {
        sides[0] + b"\n" + middle + b"\n" + sides[1]
        for middle in (placeholder, b'"' + placeholder + b'"')
    }


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_redaction_never_fails_and_is_idempotent_on_arbitrary_bytes(data: bytes) -> None:
    redactor = default_redactor()

    once = redactor.redact_bytes(data)

    assert redactor.redact_bytes(once) == once
    assert redactor.stats.withheld_lines == 0


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(["\ud800", "\udcff", "é", "€", " ", "x", "%d", *SPELLED]), max_size=8)
)
def test_a_text_with_lone_surrogates_is_redacted_not_withheld(pieces: list[str]) -> None:
    # A str may hold lone surrogates (os.fsdecode of a bad file name, say); their bytes are
    # not UTF-8, and a match starting inside one must not break decoding the result.
    redactor = default_redactor()
    before = redactor.stats.withheld_lines
    text = "".join(pieces)

    out = redactor.redact(text)

    assert redactor.stats.withheld_lines == before
    assert "<WITHHELD" not in out
    assert all(found.end <= len(text) for found in redactor.find(text))


def test_an_address_right_after_a_lone_surrogate_is_redacted() -> None:
    text = "[\n\ud800é%d\ud800jane%40example.com"

    assert default_redactor().redact(text) == "[\n\ud800é%d<EMAIL_ADDRESS>"


def seconds_for(data: bytes) -> float:
    started = time.perf_counter()
    default_redactor().redact_bytes(data)
    return time.perf_counter() - started


def test_200000_digits_on_one_line_finish_in_linear_time() -> None:
    small = seconds_for(b"1" * 20_000 + b"\n")
    large = seconds_for(b"1" * 200_000 + b"\n")

    assert large < 1.0
    assert large < 30 * max(small, 1e-4)


def test_spaced_digit_groups_finish_in_linear_time() -> None:
    assert seconds_for(b"4242 " * 40_000 + b"\n") < 2.0


def test_email_backtracking_bait_finishes_in_linear_time() -> None:
    small = seconds_for(b"a." * 800 + b"@\n")
    large = seconds_for(b"a." * 8_000 + b"@\n")

    assert large < 1.0
    assert large < 30 * max(small, 1e-4)


def test_many_at_signs_finish_quickly() -> None:
    assert seconds_for(b"a@" * 50_000 + b"\n") < 2.0


@pytest.mark.parametrize("unit", [b"sk_live_", b"whsec_", b"cuss_secret_", b"'4242424242..."])
def test_back_to_back_secret_prefixes_finish_in_linear_time(unit: bytes) -> None:
    # A header an attacker controls, logged by the app: each prefix is a match, and an
    # address's local part could run on over all of them.
    small = min(seconds_for(unit * (20_000 // len(unit)) + b"\n") for _ in range(3))
    large = min(seconds_for(unit * (200_000 // len(unit)) + b"\n") for _ in range(3))

    # Ten times the input in at most thirty times the time (quadratic was a hundred times:
    # 2 s for this one); the floor keeps a loaded machine's jitter out of the ratio.
    assert large < 2.0
    assert large < 30 * max(small, 0.01)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([*PIECES, b"x" * 200 + b" ", b"a." * 90 + b"\n", b" " * 900]), max_size=40
    )
)
def test_the_windowed_search_finds_what_an_unbounded_one_does(pieces: list[bytes]) -> None:
    # Lines of any length, with gaps of any size between the secrets. (Where they differ is a
    # run of more than _LOOK_MARGIN address characters before an "@": the window then reads
    # the secrets in it as such, where an unbounded search took the whole run for an address.)
    data = b"".join(pieces)
    scanner = Scanner(default_redactor()._compiled)  # the Python loop, the C++ one's reference

    windowed = scanner._spans(data)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_scanner, "_LOOK_WINDOW", 1 << 40)
        unbounded = scanner._spans(data)

    assert windowed == unbounded
