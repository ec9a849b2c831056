"""`redactor redact` on UTF-16 and UTF-32 input (known by its byte-order mark), real engine."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

import redactor
from redactor._stream import BLOCK, TranscodingRedactor

BOMS = {
    "utf-16-le": b"\xff\xfe",
    "utf-16-be": b"\xfe\xff",
    "utf-32-le": b"\xff\xfe\x00\x00",
    "utf-32-be": b"\x00\x00\xfe\xff",
}
TEXT = (
    "2026-12-04 10:00:00 card 4242 4242 4242 4242 key sk_live_abc123 jane@example.com\r\n"
    "jürgen paid 12.00 EUR \U0001f600 with card=4242424242424242\n"
    "no newline at the end, to jürgen@example.de"
)
REDACTED = (
    "2026-12-04 10:00:00 card <CREDIT_CARD> key <STRIPE_SECRET_KEY> <EMAIL_ADDRESS>\r\n"
    "jürgen paid 12.00 EUR \U0001f600 with card=<CREDIT_CARD>\n"
    "no newline at the end, to <EMAIL_ADDRESS>"
)
# Clean text with what must come back unchanged: astral characters (surrogate pairs in
# UTF-16), a lone surrogate, a BOM character inside, NUL, tabs, CRLF.
CLEAN_LINE = "line {i:06d} \U0001f600\U0001f4b3 ü\t\x00 \ufeff {pad}\r\n"


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "redactor", *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60)


def encoded(text: str, codec: str) -> bytes:
    return BOMS[codec] + text.encode(codec, "surrogatepass")


@pytest.mark.parametrize("codec", BOMS)
def test_a_file_with_a_byte_order_mark_is_redacted_in_its_own_encoding(
    tmp_path: Path, codec: str
) -> None:
    source = tmp_path / "service.log"
    source.write_bytes(encoded(TEXT, codec))

    result = run("redact", str(source))

    assert result.returncode == 0, result.stderr
    assert result.stdout == encoded(REDACTED, codec)


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-16-be"])
def test_stdin_with_a_byte_order_mark_is_redacted_in_its_own_encoding(codec: str) -> None:
    result = run("redact", stdin=encoded(TEXT, codec))

    assert result.returncode == 0, result.stderr
    assert result.stdout == encoded(REDACTED, codec)


def test_gzip_of_utf16_is_redacted_and_written_as_utf16(tmp_path: Path) -> None:
    source = tmp_path / "service.log.gz"
    source.write_bytes(gzip.compress(encoded(TEXT, "utf-16-le")))
    target = tmp_path / "out.log"

    result = run("redact", str(source), "-o", str(target))

    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == encoded(REDACTED, "utf-16-le")


@pytest.mark.parametrize("codec", BOMS)
def test_clean_text_of_several_blocks_comes_back_byte_for_byte(tmp_path: Path, codec: str) -> None:
    # Lines of varying length, so that block boundaries fall inside surrogate pairs too.
    lines = [CLEAN_LINE.format(i=i, pad="x" * (i % 7)) for i in range(30_000)]
    text = "".join(lines) + "a lone surrogate \ud83d here, and the end"
    data = encoded(text, codec)
    assert len(data) > 4 * BLOCK
    source = tmp_path / "clean.log"
    source.write_bytes(data)

    result = run("redact", str(source))

    assert result.returncode == 0, result.stderr
    assert result.stdout == data


@pytest.mark.parametrize("codec", BOMS)
def test_fed_one_byte_at_a_time_the_text_is_redacted_the_same(codec: str) -> None:
    stream = TranscodingRedactor(redactor.Redactor(), codec)
    data = TEXT.encode(codec)

    out = b"".join(stream.feed(data[i : i + 1]) for i in range(len(data))) + stream.flush()

    assert out == REDACTED.encode(codec)


@pytest.mark.parametrize(
    ("codec", "cut_off"),
    [("utf-16-le", b"A"), ("utf-32-be", b"\x00\x00A"), ("utf-32-le", b"\x00\x00\x11\x00")],
)
def test_bytes_that_are_no_character_are_withheld_and_the_run_fails(
    tmp_path: Path, codec: str, cut_off: bytes
) -> None:
    source = tmp_path / "broken.log"
    source.write_bytes(encoded(TEXT + "\n", codec) + cut_off)

    result = run("redact", str(source))

    assert result.returncode == 1
    assert b"1 line(s) withheld" in result.stderr
    marker = f"<WITHHELD {len(cut_off)} bytes>"
    assert result.stdout == encoded(REDACTED + "\n" + marker, codec)


def test_a_utf8_byte_order_mark_is_kept_and_the_text_redacted_as_bytes(tmp_path: Path) -> None:
    source = tmp_path / "utf8.log"
    source.write_bytes(b"\xef\xbb\xbf" + TEXT.encode())

    result = run("redact", str(source))

    assert result.returncode == 0, result.stderr
    assert result.stdout == b"\xef\xbb\xbf" + REDACTED.encode()


@pytest.mark.parametrize("codec", BOMS)
def test_a_card_across_a_block_boundary_is_found(tmp_path: Path, codec: str) -> None:
    unit = len(BOMS[codec]) if codec.startswith("utf-32") else 2
    before = "x" * ((BLOCK - len(BOMS[codec])) // unit - 8)  # the boundary is in the card
    source = tmp_path / "long.log"
    source.write_bytes(encoded(f"{before} card=4242424242424242 end\n", codec))

    result = run("redact", str(source))

    assert result.returncode == 0, result.stderr
    assert result.stdout == encoded(f"{before} card=<CREDIT_CARD> end\n", codec)
