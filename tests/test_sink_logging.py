"""RedactingFilter and install_logging: records are redacted in place before any handler."""

from __future__ import annotations

import io
import json
import logging
import logging.config
import logging.handlers
import pickle
import queue
import socket
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import redactor
from redactor import RedactingFilter, Redactor
from tests.threads import run_at_once

PAN = "4242424242424242"
EMAIL = "jane.doe@example.com"
KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
SECRETS = (PAN, EMAIL, KEY)


@pytest.fixture
def log() -> Iterator[logging.Logger]:
    """A logger of its own, outside logging's tree, so that pytest's capture stays out."""
    logger = logging.Logger("test.sink", logging.DEBUG)
    yield logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def stream_handler(fmt: str = "%(levelname)s %(message)s") -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    return handler, stream


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


def test_message_arguments_are_redacted_and_clean_text_is_kept(log: logging.Logger) -> None:
    handler, stream = stream_handler()
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.warning("charge for %s with %s failed (order %d)", EMAIL, PAN, 1234)
    assert (
        stream.getvalue()
        == "WARNING charge for <EMAIL_ADDRESS> with <CREDIT_CARD> failed (order 1234)\n"
    )


def test_traceback_is_redacted_and_not_renderable_again(log: logging.Logger) -> None:
    class Rerendering(logging.Formatter):
        """A formatter that ignores the cached exc_text, as some third-party ones do."""

        def format(self, record: logging.LogRecord) -> str:
            raw = self.formatException(record.exc_info) if record.exc_info else ""
            return f"{record.getMessage()} | {raw} | {record.exc_text}"

    first, first_stream = stream_handler()
    first.addFilter(RedactingFilter())
    second, second_stream = stream_handler()
    second.setFormatter(Rerendering())
    log.addHandler(first)
    log.addHandler(second)
    try:
        try:
            raise LookupError(f"no customer {EMAIL}")
        except LookupError as cause:
            raise ValueError(f"card {PAN} declined") from cause
    except ValueError:
        log.exception("payment failed")
    for text in (first_stream.getvalue(), second_stream.getvalue()):
        assert_clean(text)
        assert "ValueError: card <CREDIT_CARD> declined" in text
        assert "LookupError: 'no customer <EMAIL_ADDRESS>'" in text or "no customer <EMAIL" in text
    assert "direct cause" in first_stream.getvalue()


def test_extra_fields_and_stack_info_are_redacted(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s %(customer)s %(card)s %(note)s\n%(stack_info)s")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    customer = {"email": EMAIL, "cards": [PAN, int(PAN)], "key": KEY}
    log.info("x", extra={"customer": customer, "card": int(PAN), "note": "clean"}, stack_info=True)
    text = stream.getvalue()
    assert_clean(text)
    assert "'email': '<EMAIL_ADDRESS>'" in text and "clean" in text
    assert customer["email"] == EMAIL  # the caller's own object is not changed


def test_stack_info_with_a_secret_in_a_local_frame_line(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.info("k", stack_info=True)  # our own source line holds no secret: nothing to cut
    assert "Stack (most recent call last)" in stream.getvalue()


def test_arguments_that_do_not_fit_are_kept_redacted(log: logging.Logger) -> None:
    handler, stream = stream_handler()
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.error("card %s and %s", PAN)
    assert_clean(stream.getvalue())
    assert "<CREDIT_CARD>" in stream.getvalue()


def test_a_logger_filter_protects_handlers_added_later(log: logging.Logger) -> None:
    log.addFilter(RedactingFilter())
    handler, stream = stream_handler()
    log.addHandler(handler)
    log.info("email %s", EMAIL)
    assert stream.getvalue() == "INFO email <EMAIL_ADDRESS>\n"


def test_dictconfig_builds_the_filter_by_class_path(tmp_path: Path) -> None:
    config = tmp_path / "redactor.toml"
    config.write_text('[redact]\nmode = "mask"\n', encoding="utf-8")
    out = tmp_path / "out.log"
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "filters": {"redact": {"()": "redactor.RedactingFilter", "config": str(config)}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "filename": str(out),
                    "filters": ["redact"],
                }
            },
            "loggers": {
                "test.dictconfig": {"handlers": ["file"], "level": "INFO", "propagate": False}
            },
        }
    )
    logger = logging.getLogger("test.dictconfig")
    logger.info("card %s", PAN)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    text = out.read_text(encoding="utf-8")
    assert PAN not in text and text.rstrip().endswith("4242")


@pytest.fixture
def install() -> Iterator[Callable[..., RedactingFilter]]:
    """`install_logging`, undone afterwards: the methods it wraps and every filter it added."""
    handle_error = logging.Handler.__dict__["handleError"]
    stock_format = logging.Handler.__dict__["format"]
    stock_handle = logging.Logger.__dict__["handle"]
    make_log_record = logging.makeLogRecord
    yield redactor.install_logging
    logging.makeLogRecord = make_log_record
    logging.Handler.handleError = handle_error  # type: ignore[method-assign]
    logging.Handler.format = stock_format  # type: ignore[method-assign]
    logging.Logger.handle = stock_handle  # type: ignore[method-assign]
    targets: list[logging.Filterer] = [logging.getLogger()]
    for item in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(item, logging.Logger):
            targets += [item, *item.handlers]
    targets += logging.getLogger().handlers
    if logging.lastResort is not None:
        targets.append(logging.lastResort)
    for target in targets:
        for item in [f for f in target.filters if isinstance(f, RedactingFilter)]:
            target.removeFilter(item)


def test_install_logging_covers_every_handler_and_the_stripe_logger(
    install: Callable[..., RedactingFilter],
) -> None:
    root_handler, root_stream = stream_handler("%(name)s %(message)s")
    other = logging.getLogger("test.install.other")
    other_handler, other_stream = stream_handler()
    other.addHandler(other_handler)
    other.propagate = False
    root = logging.getLogger()
    root.addHandler(root_handler)
    stripe_logger = logging.getLogger("stripe")
    old_level = stripe_logger.level
    stripe_logger.setLevel(logging.DEBUG)
    try:
        chosen = install()
        assert install() is not chosen  # a second call adds nothing new
        assert sum(isinstance(f, RedactingFilter) for f in root_handler.filters) == 1
        stripe_logger.debug(
            "message='Post details' post_data=card[number]=%s&receipt_email=%s", PAN, "jane%40x.io"
        )
        other.error("key %s", KEY)
    finally:
        root.removeHandler(root_handler)
        other.removeHandler(other_handler)
        stripe_logger.setLevel(old_level)
    assert "card[number]=<CREDIT_CARD>&receipt_email=<EMAIL_ADDRESS>" in root_stream.getvalue()
    assert other_stream.getvalue() == "ERROR key <STRIPE_SECRET_KEY>\n"


def test_a_handler_added_after_install_on_a_logger_that_does_not_propagate(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    late = logging.getLogger("test.install.late")
    late.propagate = False
    handler, stream = stream_handler()
    late.addHandler(handler)
    try:
        late.warning("after-install handler %s", PAN)
    finally:
        late.removeHandler(handler)
    assert stream.getvalue() == "WARNING after-install handler <CREDIT_CARD>\n"


def test_a_queue_handler_added_after_install(install: Callable[..., RedactingFilter]) -> None:
    install()
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    behind, stream = stream_handler("%(levelname)s %(message)s %(card)s")
    listener = logging.handlers.QueueListener(records, behind)
    late = logging.getLogger("test.install.queued")
    late.propagate = False
    late.addHandler(logging.handlers.QueueHandler(records))
    listener.start()
    try:
        late.warning("queued %s", "5555555555554444", extra={"card": int(PAN)})
    finally:
        late.removeHandler(late.handlers[0])
        listener.stop()
    assert stream.getvalue() == "WARNING queued <CREDIT_CARD> <CREDIT_CARD>\n"


def test_records_are_redacted_whole_before_any_handler(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    late = logging.getLogger("test.install.whole")
    late.propagate = False
    handler, stream = stream_handler("%(message)s %(customer)s\n%(stack_info)s")
    late.addHandler(handler)
    customer = {"email": EMAIL, "cards": [PAN]}
    try:
        try:
            raise ValueError(f"card {PAN} declined")
        except ValueError:
            late.exception("failed for %s", EMAIL, extra={"customer": customer}, stack_info=True)
    finally:
        late.removeHandler(handler)
    text = stream.getvalue()
    assert_clean(text)
    assert text.startswith("failed for <EMAIL_ADDRESS> {'email': '<EMAIL_ADDRESS>', 'cards'")
    assert "ValueError: card <CREDIT_CARD> declined" in text
    assert "Stack (most recent call last)" in text
    assert customer["email"] == EMAIL  # the caller's own object is not changed


def test_a_socket_handler_added_after_install_sends_clean_records(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    with socket.create_server(("127.0.0.1", 0)) as server:
        sender = logging.handlers.SocketHandler("127.0.0.1", server.getsockname()[1])
        late = logging.getLogger("test.install.socket")
        late.propagate = False
        late.addHandler(sender)
        try:
            late.error("card %s", PAN, extra={"email": EMAIL})
        finally:
            late.removeHandler(sender)
            sender.close()
        connection, _ = server.accept()
        with connection, connection.makefile("rb") as stream:
            size = struct.unpack(">L", stream.read(4))[0]
            sent = pickle.loads(stream.read(size))
    assert sent["msg"] == "card <CREDIT_CARD>" and sent["args"] is None
    assert sent["email"] == "<EMAIL_ADDRESS>"


def test_records_a_receiver_hands_to_a_logger_are_redacted(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    remote = logging.getLogger("test.install.remote")
    remote.propagate = False
    handler, stream = stream_handler("%(name)s %(message)s %(email)s")
    remote.addHandler(handler)  # added after the call: no filter of ours on it
    try:
        # What a SocketHandler receiver does with a record sent by an unprotected process.
        received = logging.makeLogRecord(
            {"name": "remote.app", "levelno": 30, "msg": "card %s", "args": (PAN,), "email": EMAIL}
        )
        remote.handle(received)
    finally:
        remote.removeHandler(handler)
    assert stream.getvalue() == "remote.app card <CREDIT_CARD> <EMAIL_ADDRESS>\n"


def test_an_app_record_factory_works_with_install_and_is_redacted_too(
    install: Callable[..., RedactingFilter],
) -> None:
    previous = logging.getLogRecordFactory()

    def tagging(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.tag = f"app-factory {EMAIL}"
        return record

    install()
    wrapped = logging.Logger.handle
    install()
    assert logging.Logger.handle is wrapped  # a second call wraps nothing twice
    late = logging.getLogger("test.install.chain")
    late.propagate = False
    handler, stream = stream_handler("%(tag)s %(message)s")
    late.addHandler(handler)
    logging.setLogRecordFactory(tagging)  # set after the call, and not chained to ours
    try:
        late.warning("email %s", EMAIL)
    finally:
        late.removeHandler(handler)
        logging.setLogRecordFactory(previous)
    assert stream.getvalue() == "app-factory <EMAIL_ADDRESS> email <EMAIL_ADDRESS>\n"


class _Broken(Redactor):
    """An engine that fails, to check that the filter fails closed."""

    def redact(self, text: str) -> str:
        raise RuntimeError("engine broke")


def test_a_failing_redaction_withholds_the_record(
    log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    handler, stream = stream_handler()
    handler.addFilter(RedactingFilter(redactor=_Broken()))
    log.addHandler(handler)
    try:
        raise ValueError(PAN)
    except ValueError:
        log.exception("card %s", PAN, extra={"email": EMAIL})
    assert stream.getvalue().startswith("ERROR <WITHHELD ")
    assert_clean(stream.getvalue())
    err = capsys.readouterr().err
    assert "redactor: log record withheld: RuntimeError" in err
    assert_clean(err)


def test_eight_threads_logging_at_once(tmp_path: Path, log: logging.Logger) -> None:
    out = tmp_path / "threads.log"
    handler = logging.FileHandler(out, encoding="utf-8")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)

    def work(number: int) -> None:
        for index in range(200):
            log.info("t%d n%d card %s email %s", number, index, PAN, EMAIL)

    run_at_once(work)
    handler.close()
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1600
    assert all(line.endswith("card <CREDIT_CARD> email <EMAIL_ADDRESS>") for line in lines)


class _Unusable(_Broken):
    """An engine that cannot even give its marker, as when its rules fail to load."""

    def withheld(self, size: int) -> bytes:
        raise RuntimeError("engine broke")


def test_install_fails_closed_for_handlers_added_later(
    install: Callable[..., RedactingFilter], capsys: pytest.CaptureFixture[str]
) -> None:
    install(redactor=_Unusable())
    late = logging.getLogger("test.install.broken")
    late.propagate = False
    handler, stream = stream_handler("%(levelname)s %(message)s %(email)s")
    late.addHandler(handler)
    try:
        late.error("card %s", PAN, extra={"email": EMAIL})
    finally:
        late.removeHandler(handler)
    # The record's parts are withheld before any handler, and the formatted line, which the
    # broken engine cannot check either, is withheld whole on its way out.
    line = "ERROR <WITHHELD 7 bytes> <WITHHELD 7 bytes>"
    assert stream.getvalue() == f"<WITHHELD {len(line)} bytes>\n"
    err = capsys.readouterr().err
    assert "redactor: log record withheld: RuntimeError" in err
    assert "redactor: formatted log record withheld: RuntimeError" in err
    assert_clean(err)


APP_ERROR = f"declined card={PAN} cvc=314 for {EMAIL}"


def closed_stream_handler() -> logging.Handler:
    """A handler whose every emit fails, so that logging prints its error report."""
    stream = io.StringIO()
    stream.close()
    return logging.StreamHandler(stream)


def log_while_handling_an_app_error(log: logging.Logger) -> None:
    try:
        raise ValueError(APP_ERROR)
    except ValueError:
        log.error("charge for %s with %s failed", EMAIL, PAN)


def assert_redacted_logging_report(err: str) -> None:
    assert err.startswith("--- Logging error ---\n")
    assert "ValueError: I/O operation on closed file" in err
    assert "ValueError: declined card=<CREDIT_CARD> cvc=<CARD_CVC> for <EMAIL_ADDRESS>" in err
    assert "During handling of the above exception" in err and "Call stack:\n" in err
    assert "in log_while_handling_an_app_error" in err
    assert "Message: 'charge for <EMAIL_ADDRESS> with <CREDIT_CARD> failed'\n" in err
    assert "Arguments: ()\n" in err
    assert_clean(err)
    assert "cvc=314" not in err


def test_a_failing_handler_report_is_redacted_after_install(
    install: Callable[..., RedactingFilter], capsys: pytest.CaptureFixture[str]
) -> None:
    install()
    late = logging.getLogger("test.install.closed")
    late.propagate = False
    handler = closed_stream_handler()
    late.addHandler(handler)
    try:
        log_while_handling_an_app_error(late)
    finally:
        late.removeHandler(handler)
    assert_redacted_logging_report(capsys.readouterr().err)


def test_a_failing_handler_report_is_redacted_by_its_filter(
    log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = closed_stream_handler()
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log_while_handling_an_app_error(log)
    assert_redacted_logging_report(capsys.readouterr().err)


def test_a_filter_leaves_other_handlers_reports_as_they_are(
    log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    protected = closed_stream_handler()
    protected.addFilter(RedactingFilter())
    log.addHandler(protected)
    log.info("first")
    capsys.readouterr()
    other = logging.Logger("test.sink.other")
    other.addHandler(closed_stream_handler())
    other.info("plain %s", "words")
    err = capsys.readouterr().err
    assert "Message: 'plain %s'\nArguments: ('words',)\n" in err  # logging's own report


def test_a_report_that_cannot_be_redacted_is_withheld(
    log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = closed_stream_handler()
    handler.addFilter(RedactingFilter(redactor=_Broken()))
    log.addHandler(handler)
    log_while_handling_an_app_error(log)
    err = capsys.readouterr().err
    assert "--- Logging error ---\n<WITHHELD " in err
    assert "redactor: logging error report withheld: RuntimeError" in err
    assert_clean(err)


def test_reports_from_eight_threads_come_out_whole(
    log: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = closed_stream_handler()
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)

    def work(_: int) -> None:
        for _ in range(20):
            log_while_handling_an_app_error(log)

    run_at_once(work)
    reports = capsys.readouterr().err.split("--- Logging error ---\n")[1:]
    assert len(reports) == 160
    for report in reports:
        assert_redacted_logging_report("--- Logging error ---\n" + report)
        assert report.endswith("Arguments: ()\n")


@pytest.mark.parametrize(
    ("message", "arguments", "expected"),
    [
        ("%(cvc)s and %(num)s", {"cvc": "458", "num": PAN}, "<CARD_CVC> and <CREDIT_CARD>"),
        ("%(securityCode)s", {"securityCode": "468"}, "<CARD_CVC>"),
        ("code %(card_cvc)s", {"card_cvc": 469}, "code <CARD_CVC>"),
        ("order %(order)s of 458", {"order": "458"}, "order 458 of 458"),
    ],
)
def test_security_codes_given_by_name_are_hidden_in_the_message(
    log: logging.Logger, message: str, arguments: dict[str, object], expected: str
) -> None:
    handler, stream = stream_handler("%(message)s")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    log.info(message, arguments)
    assert stream.getvalue() == expected + "\n"


def test_security_codes_given_by_name_are_hidden_after_install(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    late = logging.getLogger("test.install.named")
    late.propagate = False
    late.setLevel(logging.INFO)
    handler, stream = stream_handler("%(message)s")
    late.addHandler(handler)
    try:
        late.info("%(cvc)s and %(num)s", {"cvc": "458", "num": PAN})
    finally:
        late.removeHandler(handler)
    assert stream.getvalue() == "<CARD_CVC> and <CREDIT_CARD>\n"


class _AllAttributes(logging.Formatter):
    """A JSON formatter of the common kind: every attribute of the record."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        return json.dumps(record.__dict__, default=str)


def test_a_formatter_dumping_the_record_sees_no_mark_of_ours(
    install: Callable[..., RedactingFilter], log: logging.Logger
) -> None:
    filtered, filtered_stream = stream_handler()
    filtered.setFormatter(_AllAttributes())
    filtered.addFilter(RedactingFilter())
    log.addHandler(filtered)
    log.info("card %s", PAN, extra={"email": EMAIL})
    install()
    late = logging.getLogger("test.install.dump")
    late.propagate = False
    late.setLevel(logging.INFO)
    handler, stream = stream_handler()
    handler.setFormatter(_AllAttributes())
    late.addHandler(handler)
    try:
        late.info("card %s", PAN, extra={"email": EMAIL})
    finally:
        late.removeHandler(handler)
    for text in (filtered_stream.getvalue(), stream.getvalue()):
        attributes = json.loads(text)
        assert attributes["msg"] == "card <CREDIT_CARD>"
        assert attributes["email"] == "<EMAIL_ADDRESS>"
        assert not [name for name in attributes if "redactor" in name]


class _Counting(Redactor):
    """The real engine, counting the texts it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def redact(self, text: str) -> str:
        self.calls += 1
        return super().redact(text)


def test_a_record_is_rendered_once_and_checked_again_by_every_filter_it_meets(
    log: logging.Logger,
) -> None:
    engine = _Counting()
    log.addFilter(RedactingFilter(redactor=engine))
    handlers = [stream_handler() for _ in range(2)]
    for handler, _ in handlers:
        handler.addFilter(RedactingFilter(redactor=engine))
        log.addHandler(handler)

    log.info("card %s at 100%%", PAN)

    # Rendered once (a second rendering would fail on the lone "%"), looked at by each.
    assert engine.calls == 3
    assert [s.getvalue() for _, s in handlers] == ["INFO card <CREDIT_CARD> at 100%\n"] * 2


class _AddsRequestBody(logging.Filter):
    """An app's filter that puts the request on the record, after our first filter ran."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.body = f"card[number]={PAN}&email={EMAIL}"
        record.msg = f"{record.msg} for {EMAIL}"
        return True


def test_a_later_handlers_filter_sees_what_was_added_after_the_first_handler(
    log: logging.Logger,
) -> None:
    first, first_stream = stream_handler()
    first.addFilter(RedactingFilter())
    second, second_stream = stream_handler("%(message)s body=%(body)s")
    second.addFilter(_AddsRequestBody())
    second.addFilter(RedactingFilter())  # last, as docs/sinks.md says
    log.addHandler(first)
    log.addHandler(second)

    log.warning("payment failed: card %s", PAN)

    assert first_stream.getvalue() == "WARNING payment failed: card <CREDIT_CARD>\n"
    assert second_stream.getvalue() == (
        "payment failed: card <CREDIT_CARD> for <EMAIL_ADDRESS> "
        "body=card[number]=<CREDIT_CARD>&email=<EMAIL_ADDRESS>\n"
    )


def test_a_field_the_app_fills_in_after_logging_reaches_a_queued_handler_redacted(
    log: logging.Logger,
) -> None:
    records: queue.Queue[logging.LogRecord] = queue.Queue()
    queued = logging.handlers.QueueHandler(records)
    queued.addFilter(RedactingFilter())
    log.addHandler(queued)
    behind, stream = stream_handler("%(message)s ctx=%(ctx)s")
    context = {"step": "start"}

    log.info("checkout started", extra={"ctx": context})
    context["email"] = EMAIL  # before the listener thread formats the record
    listener = logging.handlers.QueueListener(records, behind)
    listener.start()
    listener.stop()

    assert stream.getvalue() == "checkout started ctx={'step': 'start'}\n"


class _TaggedRecord(logging.LogRecord):
    """An app's record class that puts the request tag before each message it renders."""

    def getMessage(self) -> str:
        return "[req-7] " + super().getMessage()


def test_a_record_class_that_adds_a_tag_shows_it_once(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s")
    handler.addFilter(RedactingFilter())
    record = _TaggedRecord(log.name, logging.INFO, __file__, 1, "card %s shipped", (PAN,), None)

    handler.handle(record)

    assert stream.getvalue() == "[req-7] card <CREDIT_CARD> shipped\n"


class _BraceRecord(logging.LogRecord):
    """An app's record class that renders str.format-style messages."""

    def getMessage(self) -> str:
        return str(self.msg).format(*self.args)


def test_a_record_class_that_renders_its_own_style_keeps_it(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s")
    handler.addFilter(RedactingFilter())
    record = _BraceRecord(log.name, logging.INFO, __file__, 1, "card {} for {}", (PAN, 7), None)

    handler.handle(record)

    assert stream.getvalue() == "card <CREDIT_CARD> for 7\n"


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")


def test_a_field_that_cannot_be_redacted_is_withheld_alone(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s tags=%(tags)s odd=%(odd)s")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)

    log.info("card %s", PAN, extra={"tags": {EMAIL, "vip"}, "odd": _Unprintable()})

    text = stream.getvalue()
    assert text.startswith("card <CREDIT_CARD> tags={") and text.endswith(
        " odd=<WITHHELD 0 bytes>\n"
    )
    assert sorted(text.split("{")[1].split("}")[0].split(", ")) == ["'<EMAIL_ADDRESS>'", "'vip'"]


def test_a_pickled_record_carries_plain_values_and_is_redacted_again(
    log: logging.Logger,
) -> None:
    engine = _Counting()
    chosen = RedactingFilter(redactor=engine)
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "card %s", (PAN,), None)
    chosen.filter(record)
    copy = pickle.loads(pickle.dumps(record))
    assert type(copy.args) is tuple and copy.args == ()
    chosen.filter(copy)
    assert engine.calls == 2 and copy.msg == "card <CREDIT_CARD>"


def test_a_record_given_new_arguments_is_redacted_again(log: logging.Logger) -> None:
    chosen = RedactingFilter()
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "card %s", (PAN,), None)
    chosen.filter(record)
    record.msg, record.args = "email %s", (EMAIL,)
    chosen.filter(record)
    assert record.getMessage() == "email <EMAIL_ADDRESS>"


def test_a_record_rebuilt_from_a_redacted_ones_attributes_is_redacted_again(
    install: Callable[..., RedactingFilter], log: logging.Logger
) -> None:
    chosen = install()
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "card %s", (PAN,), None)
    chosen.filter(record)
    attributes = dict(record.__dict__, msg=f"raw {EMAIL}")
    rebuilt = logging.makeLogRecord(attributes)
    chosen.filter(rebuilt)
    assert rebuilt.getMessage() == "raw <EMAIL_ADDRESS>"


class _Hidden:
    """An app object whose str() is harmless and whose repr() holds a key and an address."""

    def __str__(self) -> str:
        return "<customer>"

    def __repr__(self) -> str:
        return f"Hidden(key={KEY!r}, email={EMAIL!r})"


def _handler_to(stream: io.StringIO, fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(fmt))
    return handler


def test_a_field_added_by_a_later_filter_is_redacted_in_the_formatted_text(
    install: Callable[..., RedactingFilter],
) -> None:
    install()
    stream = io.StringIO()
    handler = _handler_to(stream, "%(message)s %(body)s")

    def add_request_body(record: logging.LogRecord) -> bool:
        record.body = f"card[number]={PAN}&email={EMAIL}"
        return True

    handler.addFilter(add_request_body)
    log = logging.Logger("tests.later-filter", logging.INFO)
    log.addHandler(handler)

    log.info("charge")

    assert_clean(stream.getvalue())
    assert "card[number]=<CREDIT_CARD>&email=<EMAIL_ADDRESS>" in stream.getvalue()


@pytest.mark.parametrize("value", [["731"], ("731",), b"731", {"value": "731"}])
def test_an_extra_field_named_like_a_security_code_goes_whole_whatever_it_holds(
    value: object,
) -> None:
    stream = io.StringIO()
    handler = _handler_to(stream, "%(message)s cvc=%(cvc)s")
    handler.addFilter(RedactingFilter())
    log = logging.Logger("tests.cvc-kinds", logging.INFO)
    log.addHandler(handler)

    log.info("pay", extra={"cvc": value})

    assert stream.getvalue() == "pay cvc=<CARD_CVC>\n"


def test_an_extra_object_whose_repr_holds_secrets_is_redacted_for_repr_formats() -> None:
    stream = io.StringIO()
    handler = _handler_to(stream, "%(message)s %(customer)r")
    handler.addFilter(RedactingFilter())
    log = logging.Logger("tests.repr", logging.INFO)
    log.addHandler(handler)

    log.info("pay", extra={"customer": _Hidden()})

    assert_clean(stream.getvalue())
    assert "<STRIPE_SECRET_KEY>" in stream.getvalue()


_FIRST_RECORDS_FROM_THREADS = """
import logging, sys, threading
import redactor

chosen = redactor.RedactingFilter()
handler = logging.StreamHandler(open("/dev/null", "w"))
handler.addFilter(chosen)
log = logging.Logger("race", logging.INFO)
log.addHandler(handler)
start = threading.Barrier(8)

def work():
    start.wait()
    for number in range(100):
        log.info("order %d card %s", number, "4242424242424242")

threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
engine = chosen.redactor
print(engine is redactor.default_redactor(), engine.stats.by_entity["CREDIT_CARD"])
"""


def test_threads_logging_their_first_records_at_once_share_one_engine() -> None:
    # In a fresh interpreter: the shared engine is built by whichever thread logs first.
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_RECORDS_FROM_THREADS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert done.stdout.split() == ["True", "800"]


class _Charge:
    def __repr__(self) -> str:
        return f"Charge(key={KEY})"


def test_an_object_that_shows_a_secret_prints_as_its_redacted_self(log: logging.Logger) -> None:
    handler, stream = stream_handler("%(message)s %(charge)r")
    handler.addFilter(RedactingFilter())
    log.addHandler(handler)
    records: list[logging.LogRecord] = []
    log.addHandler(_Keep(records))

    log.warning("charge failed", extra={"charge": _Charge()})

    assert stream.getvalue() == "charge failed Charge(key=<STRIPE_SECRET_KEY>)\n"
    shipped = pickle.loads(pickle.dumps(records[0].charge))
    assert type(shipped) is str and KEY not in shipped


class _Keep(logging.Handler):
    """Keeps the records it gets, as they are after the filters before it."""

    def __init__(self, kept: list[logging.LogRecord]) -> None:
        super().__init__()
        self.kept = kept

    def emit(self, record: logging.LogRecord) -> None:
        self.kept.append(record)
