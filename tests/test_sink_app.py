"""A real app, the real stripe package and a Stripe-like server: every destination is clean.

tests/apps/sink_app.py logs Stripe failures (secrets in messages, `extra`, local variables
seen by `diagnose`, chained causes) through loguru and stdlib logging into every sink kind.
"""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.stripe_fake import StripeFake

APP = Path(__file__).parent / "apps" / "sink_app.py"
PAN = "4242424242424242"
PAN_DIGITS = "5555555555554444"
EMAIL = "jane.doe@example.com"
API_KEY = "sk_test_" + "51Hx9Q2eZvKYlo2C0aB1cD2eF3gH4iJ5"
SECRETS = [PAN, PAN_DIGITS, EMAIL, API_KEY, API_KEY[8:], "jane.doe%40example.com"]
SCENARIOS = ["card_declined", "rate_limit", "authentication", "ok"]
CLEAN_LINE = "order ord_1234 packed; courier slot 2024-05-01 (this line must survive as is)"

OUTPUTS = [
    "loguru_rotating.log",
    "loguru_stream.log",
    "loguru_callable.jsonl",
    "loguru_serialize.jsonl",
    "loguru_colorize.log",
    "loguru_to_handler.log",
    "loguru_enqueue.log",
    "std_file.log",
    "std_stream.log",
    "std_rotating.log",
    "std_queue.log",
    "std_dictconfig.log",
]


class Run:
    def __init__(self, out: Path, syslog: list[str], stderr: str) -> None:
        self.out = out
        self.syslog = syslog
        self.stderr = stderr

    def text(self, name: str) -> str:
        """All text a sink wrote, rotated and compressed files included."""
        parts = []
        for path in sorted(self.out.glob(name.split(".")[0] + "*")):
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            parts.append(data.decode("utf-8"))
        return "".join(parts)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    out = tmp_path_factory.mktemp("sink_app")
    with StripeFake() as fake, _udp() as syslog:
        plan = {
            "url": fake.url,
            "out": str(out),
            "syslog_port": syslog.getsockname()[1],
            "pan": PAN,
            "pan_digits": PAN_DIGITS,
            "email": EMAIL,
            "api_key": API_KEY,
            "scenarios": SCENARIOS,
        }
        (out / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(APP), str(out / "plan.json")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        yield Run(out, _drain(syslog), done.stderr)


def _udp() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def _drain(sock: socket.socket) -> list[str]:
    sock.settimeout(0.2)
    datagrams = []
    try:
        while True:
            datagrams.append(sock.recv(65536).decode("utf-8"))
    except TimeoutError:
        return datagrams


@pytest.mark.parametrize("name", OUTPUTS)
def test_no_planted_secret_reaches_the_sink(run: Run, name: str) -> None:
    text = run.text(name)
    assert "<CREDIT_CARD>" in text or "<EMAIL_ADDRESS>" in text
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked into {name}"


@pytest.mark.parametrize("name", [n for n in OUTPUTS if n not in {"loguru_enqueue.log"}])
def test_clean_text_is_unchanged(run: Run, name: str) -> None:
    assert CLEAN_LINE in run.text(name)


def test_syslog_datagrams_are_redacted(run: Run) -> None:
    joined = "\n".join(run.syslog)
    assert CLEAN_LINE in joined
    assert "<CREDIT_CARD>" in joined
    for secret in SECRETS:
        assert secret not in joined


def test_stderr_of_the_app_is_clean(run: Run) -> None:
    for secret in SECRETS:
        assert secret not in run.stderr


def test_rotation_and_compression_are_kept(run: Run) -> None:
    assert list(run.out.glob("loguru_rotating*.gz"))
    assert len(list(run.out.glob("std_rotating.log*"))) > 1


def test_serialized_lines_stay_json(run: Run) -> None:
    lines = run.text("loguru_serialize.jsonl").splitlines()
    documents = [json.loads(line) for line in lines]
    failed = [d for d in documents if d["record"]["message"].startswith("checkout failed")]
    assert failed and failed[0]["record"]["extra"]["customer"]["email"] == "<EMAIL_ADDRESS>"
    assert failed[0]["record"]["extra"]["customer"]["cards"] == ["<CREDIT_CARD>"] * 2


def test_callable_sees_a_redacted_record(run: Run) -> None:
    lines = run.text("loguru_callable.jsonl").splitlines()
    calls = [json.loads(line) for line in lines if line]
    failed = [c for c in calls if c["message"].startswith("checkout failed")]
    assert failed[0]["message"] == "checkout failed for <EMAIL_ADDRESS> card <CREDIT_CARD>"
    assert failed[0]["extra"]["customer"]["key"] == "<STRIPE_SECRET_KEY>"


def test_diagnose_and_chained_causes_are_written_redacted(run: Run) -> None:
    text = run.text("loguru_stream.log")
    assert "The above exception was the direct cause of the following exception" in text
    assert "During handling of the above exception, another exception occurred" in text
    # the values diagnose shows under `pay(card, email, ...)`
    assert "'<CREDIT_CARD>'" in text and "'<EMAIL_ADDRESS>'" in text
    assert "CardError" in text and "PaymentFailed" in text


def test_colours_are_kept_on_clean_lines(run: Run) -> None:
    text = run.text("loguru_colorize.log")
    clean = next(line for line in text.splitlines() if CLEAN_LINE in line)
    assert "\x1b[" in clean
    assert "<CREDIT_CARD>" in text


def test_enqueued_records_from_another_process_are_redacted(run: Run) -> None:
    text = run.text("loguru_enqueue.log")
    assert "child saw card <CREDIT_CARD>" in text


def test_stripe_debug_bodies_are_logged_redacted(run: Run) -> None:
    text = run.text("std_file.log")
    assert "message='Post details' post_data=" in text
    assert "message='API response body'" in text


def test_stripe_errors_reach_the_recorder_once_each(run: Run) -> None:
    lines = run.text("events.jsonl").splitlines()
    events = [json.loads(line) for line in lines]
    errors = [e for e in events if e["kind"] == "ErrorEvent"]
    assert sorted(e["error_class"] for e in errors) == [
        "AuthenticationError",
        "CardError",
        "RateLimitError",
    ]
    card = next(e for e in errors if e["error_class"] == "CardError")
    assert (card["http_status"], card["code"], card["decline_code"]) == (
        402,
        "card_declined",
        "generic_decline",
    )
    assert card["request_id"].startswith("req_")
    responses = [e["http_status"] for e in events if e["kind"] == "RequestEvent"]
    assert sorted(responses) == [200, 401, 402, 429]
