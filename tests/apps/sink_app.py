"""A checkout app protected by the in-app sinks, logging into every kind of destination.

Run by tests/test_sink_app.py as `python sink_app.py PLAN.json`. The plan holds the fake
Stripe server's address, an output folder, a UDP syslog port and the secrets to plant. The
app calls the real `stripe` package, logs each failure through loguru and stdlib logging
(with the secrets in the message, in `extra`, in local variables and in chained causes) and
writes the Stripe events its recorder got to `events.jsonl`.
"""

from __future__ import annotations

import json
import logging
import logging.config
import logging.handlers
import multiprocessing
import queue
import sys
import threading
from pathlib import Path
from typing import Any

import stripe
from loguru import logger

import redactor

CLEAN_LINE = "order ord_1234 packed; courier slot 2024-05-01 (this line must survive as is)"
log = logging.getLogger("shop.checkout")


class PaymentFailed(Exception):
    """The app's own error, raised from the Stripe error it wraps."""


class FileRecorder:
    """The Stripe events the sinks report, one JSON object a line."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, event: Any) -> None:
        with self._lock:
            self._file.write(json.dumps({"kind": type(event).__name__, **vars(event)}) + "\n")
            self._file.flush()


def setup_loguru(out: Path) -> list[str]:
    """Every loguru sink kind, each behind `redactor.loguru_sink`."""
    logger.remove()
    common: dict[str, Any] = {"level": "DEBUG", "diagnose": True, "backtrace": True}
    rotating = redactor.loguru_sink(out / "loguru_rotating.log", rotation="3 KB", compression="gz")
    logger.add(rotating, **common)
    stream = (out / "loguru_stream.log").open("w", encoding="utf-8")
    logger.add(redactor.loguru_sink(stream), **common)
    calls: list[str] = []
    logger.add(redactor.loguru_sink(lambda message: calls.append(_with_record(message))), **common)
    json_stream = (out / "loguru_serialize.jsonl").open("w", encoding="utf-8")
    logger.add(redactor.loguru_sink(json_stream), serialize=True, **common)
    color_stream = (out / "loguru_colorize.log").open("w", encoding="utf-8")
    logger.add(redactor.loguru_sink(color_stream), colorize=True, **common)
    handler = logging.FileHandler(out / "loguru_to_handler.log", encoding="utf-8")
    logger.add(redactor.loguru_sink(handler), format="{message} {extra}", **common)
    queued = redactor.loguru_sink(out / "loguru_enqueue.log")
    logger.add(queued, enqueue=True, context="fork", **common)
    return calls


def _with_record(message: Any) -> str:
    """What a callable sink may look at: the text and its record's message and extra."""
    record = message.record
    seen = {"text": str(message), "message": record["message"], "extra": record["extra"]}
    return json.dumps(seen)


def setup_stdlib(out: Path, syslog_port: int) -> logging.handlers.QueueListener:
    """Every stdlib handler kind, then `install_logging()` over all of them."""
    fmt = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s %(order)s")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG)
    handlers: list[logging.Handler] = [
        logging.FileHandler(out / "std_file.log", encoding="utf-8"),
        logging.StreamHandler((out / "std_stream.log").open("w", encoding="utf-8")),
        logging.handlers.RotatingFileHandler(
            out / "std_rotating.log", maxBytes=4000, backupCount=20, encoding="utf-8"
        ),
        logging.handlers.SysLogHandler(("127.0.0.1", syslog_port)),
    ]
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(_DefaultOrder())
        root.addHandler(handler)
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    root.addHandler(logging.handlers.QueueHandler(records))
    behind_queue = logging.FileHandler(out / "std_queue.log", encoding="utf-8")
    behind_queue.setFormatter(fmt)
    behind_queue.addFilter(_DefaultOrder())
    listener = logging.handlers.QueueListener(records, behind_queue)
    listener.start()
    logging.getLogger("stripe").setLevel(logging.DEBUG)
    return listener


def setup_dictconfig(out: Path) -> logging.Logger:
    """A logger configured only through dictConfig, naming the filter by class path."""
    logging.config.dictConfig(
        {
            "version": 1,
            "incremental": False,
            "disable_existing_loggers": False,
            "filters": {"redact": {"()": "redactor.RedactingFilter"}},
            "formatters": {"plain": {"format": "%(levelname)s %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(out / "std_dictconfig.log"),
                    "formatter": "plain",
                    "filters": ["redact"],
                }
            },
            "loggers": {"shop.audit": {"handlers": ["file"], "level": "DEBUG", "propagate": False}},
        }
    )
    return logging.getLogger("shop.audit")


class _DefaultOrder(logging.Filter):
    """Gives records without `order` one, so the shared format works for stripe's records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "order"):
            record.order = "-"
        return True


def pay(card: str, email: str, api_key: str, scenario: str) -> Any:
    try:
        return stripe.PaymentIntent.create(
            api_key=api_key,
            amount=1999,
            currency="usd",
            receipt_email=email,
            payment_method_data={"type": "card", "card": {"number": card, "cvc": "314"}},
            metadata={"scenario": scenario},
        )
    except stripe.StripeError as error:
        raise PaymentFailed(f"payment for {email} with card {card} failed") from error


def checkout(plan: dict[str, Any], audit: logging.Logger, scenario: str) -> None:
    card, email = plan["pan"], plan["email"]
    customer = {"email": email, "cards": [card, int(plan["pan_digits"])], "key": plan["api_key"]}
    try:
        pay(card, email, plan["api_key"], scenario)
        logger.info(CLEAN_LINE)
        log.info(CLEAN_LINE, extra={"order": "ord_1234"})
        audit.info(CLEAN_LINE)
    except PaymentFailed:
        logger.bind(customer=customer).exception("checkout failed for {} card {}", email, card)
        log.exception("checkout failed for %s card %s", email, card, extra={"order": customer})
        audit.exception("checkout failed for %s", email, stack_info=True)
        _log_during_handling(plan)


def _log_during_handling(plan: dict[str, Any]) -> None:
    """An error raised while handling another: the "During handling..." chain."""
    try:
        try:
            raise KeyError(plan["email"])
        except KeyError:
            raise ValueError(f"retry with {plan['pan']} also failed") from None
    except ValueError:
        try:
            raise RuntimeError(f"giving up on key {plan['api_key']}")
        except RuntimeError:
            logger.opt(exception=True).error("cleanup for {} failed", plan["email"])
            log.error("cleanup failed", exc_info=True, extra={"order": plan["pan"]})


def child(plan: dict[str, Any], child_logger: Any) -> None:
    """Runs in another process: its records travel to the parent's enqueued sink."""
    child_logger.bind(email=plan["email"]).warning("child saw card {}", plan["pan"])
    child_logger.complete()


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    out = Path(plan["out"])
    stripe.api_base = plan["url"]
    stripe.max_network_retries = 0

    calls = setup_loguru(out)
    listener = setup_stdlib(out, plan["syslog_port"])
    audit = setup_dictconfig(out)
    redactor.install_logging()
    redactor.set_error_recorder(FileRecorder(out / "events.jsonl"))

    for scenario in plan["scenarios"]:
        checkout(plan, audit, scenario)
    logger.opt(colors=True).info("<red>{}</red>{}", plan["pan"][:6], plan["pan"][6:])
    logger.info("token {} and email {}", plan["api_key"], plan["email"])

    process = multiprocessing.get_context("fork").Process(target=child, args=(plan, logger))
    process.start()
    process.join(timeout=60)

    listener.stop()
    logger.complete()
    logger.remove()
    logging.shutdown()
    (out / "loguru_callable.jsonl").write_text("\n".join(calls) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
