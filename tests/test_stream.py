"""Streaming: lines in blocks, long lines in overlapping chunks, nothing split or leaked."""

from __future__ import annotations

import pytest

from redactor import Redactor, StreamRedactor, default_redactor

PAN = b"4242424242424242"
KEY = b"sk_live_" + b"4eC39HqLyjWDarjtT1zdp7dc" * 4


def stream_all(data: bytes, piece: int, **sizes: int) -> bytes:
    stream = StreamRedactor(default_redactor(), **sizes)
    out = [stream.feed(data[i : i + piece]) for i in range(0, len(data), piece)]
    return b"".join(out) + stream.flush()


@pytest.mark.parametrize("piece", [1, 7, 64, 4096])
def test_feeding_in_pieces_gives_the_same_output(piece: int) -> None:
    data = b"a card=" + PAN + b"\nkey " + KEY + b"\r\nmail jane@example.com tail"

    assert stream_all(data, piece) == default_redactor().redact_bytes(data)


def test_complete_lines_are_released_and_a_partial_line_is_held() -> None:
    stream = StreamRedactor(default_redactor())

    out = stream.feed(b"one " + PAN + b"\ntwo 4242")

    assert out == b"one <CREDIT_CARD>\n"
    assert stream.pending == len(b"two 4242")
    assert stream.feed(b"424242424242\n") == b"two <CREDIT_CARD>\n"
    assert stream.pending == 0


@pytest.mark.parametrize("offset", range(-20, 21, 3))
def test_a_secret_straddling_a_chunk_cut_is_redacted(offset: int) -> None:
    block = 4096
    filler = b"x " * ((block + offset) // 2)
    line = filler + PAN + b" " + KEY + b" " + filler * 3

    out = stream_all(line, 1000, block=block, overlap=1024)

    assert PAN not in out and KEY[8:20] not in out
    assert out.count(b"<CREDIT_CARD>") == 1 and out.count(b"<STRIPE_SECRET_KEY>") == 1
    assert out.replace(b"<CREDIT_CARD> <STRIPE_SECRET_KEY> ", b"") == filler * 4


def test_a_long_line_is_released_before_its_end_arrives() -> None:
    stream = StreamRedactor(default_redactor(), block=1 << 16, overlap=1 << 12)
    released = stream.feed(b"y" * (1 << 18))

    assert len(released) >= 1 << 17
    assert stream.pending < (1 << 16) + (1 << 12)


def test_a_line_that_fails_is_withheld_with_a_marker(monkeypatch: pytest.MonkeyPatch) -> None:
    redactor = Redactor()
    original = redactor._find

    def fail_on_boom(data: bytes, context: bytes = b"") -> list:  # type: ignore[type-arg]
        if b"BOOM" in data:
            raise RuntimeError("injected")
        return original(data, context)

    monkeypatch.setattr(redactor, "_find", fail_on_boom)

    out = redactor.redact_bytes(b"ok " + PAN + b"\nBOOM " + PAN + b"\r\nlast\n")

    assert out == b"ok <CREDIT_CARD>\n<WITHHELD 21 bytes>\r\nlast\n"
    assert redactor.stats.withheld_lines == 1 and redactor.stats.withheld_bytes == 21
