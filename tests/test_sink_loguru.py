"""loguru_sink and install_loguru: what each kind of loguru sink receives is redacted."""

from __future__ import annotations

import asyncio
import inspect
import io
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

import redactor
from redactor import Redactor
from tests.threads import run_at_once

PAN = "4242424242424242"
EMAIL = "jane.doe@example.com"
KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
SECRETS = (PAN, EMAIL, KEY)


@pytest.fixture(autouse=True)
def no_sinks() -> Iterator[None]:
    logger.remove()
    yield
    logger.remove()


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_stream_sink_with_diagnose_and_backtrace() -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), diagnose=True, backtrace=True)

    def charge(card: str, email: str) -> None:
        raise ValueError("declined")

    try:
        charge(PAN, EMAIL)
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert_clean(text)
    assert "'<CREDIT_CARD>'" in text and "'<EMAIL_ADDRESS>'" in text


def test_diagnose_hides_a_card_number_held_as_an_int() -> None:
    # loguru prints an int bare under the source line ("|  -> 4242424242424242", or with
    # "└" on a terminal), right after the corner the engine also scans for.
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), diagnose=True, backtrace=False)

    def charge(card_number: int, amount: int) -> None:
        raise ValueError("declined")

    card_number = int(PAN)
    try:
        charge(card_number, 10)
    except ValueError:
        logger.exception("failed")
    text = stream.getvalue()
    assert_clean(text)
    assert "-> <CREDIT_CARD>" in text


@pytest.mark.parametrize("serialize", [False, True])
def test_a_security_code_shown_under_its_name_is_hidden_everywhere_else_too(
    serialize: bool,
) -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), diagnose=True, backtrace=False, serialize=serialize)

    def pay(fields: list[str]) -> None:
        cvc = fields[1]
        raise ValueError("declined" + cvc[:0])

    code = str(730 + 7)  # not in the source line that diagnose shows
    try:
        pay([PAN, code])
    except ValueError:
        logger.exception("failed")

    text = json.loads(stream.getvalue())["text"] if serialize else stream.getvalue()
    assert "737" not in text and "<CARD_CVC>" in text
    assert_clean(text)


def test_a_bound_security_code_is_hidden_only_where_it_stands_alone() -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), format="{message}")
    clean = "charge ch_3Nq123xYz req_123abc v1.123 item-123 abc123 http://x/123/ $123.00 3.123s"

    logger.bind(cvc="123").info(clean + " code 123.")

    assert stream.getvalue() == clean + " code <CARD_CVC>.\n"


def test_callable_sink_gets_a_redacted_record() -> None:
    seen: list[Any] = []
    logger.add(redactor.loguru_sink(seen.append), format="{message}")
    try:
        raise KeyError(EMAIL)
    except KeyError:
        logger.bind(customer={"cards": [PAN]}).exception("card {}", PAN)
    record = seen[0].record
    assert record["message"] == "card <CREDIT_CARD>"
    assert record["extra"] == {"customer": {"cards": ["<CREDIT_CARD>"]}}
    assert record["exception"].type is KeyError and record["exception"].value is None
    assert_clean(str(seen[0]))


def test_file_sink_keeps_rotation_and_compression(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    logger.add(redactor.loguru_sink(path, rotation="500 B", compression="zip"))
    for index in range(20):
        logger.info("n{} card {}", index, PAN)
    logger.remove()
    assert list(tmp_path.glob("app.*.log.zip"))
    assert_clean(path.read_text(encoding="utf-8"))
    assert "card <CREDIT_CARD>" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("rotation", [None, "00:00", "1 day"])
def test_file_sink_with_or_without_a_rotation_that_reads_the_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rotation: str | None
) -> None:
    path = tmp_path / "app.log"
    logger.add(redactor.loguru_sink(path, rotation=rotation), format="{level} {message}")
    logger.info("card {} for {}", PAN, EMAIL)
    logger.remove()
    assert path.read_text(encoding="utf-8") == "INFO card <CREDIT_CARD> for <EMAIL_ADDRESS>\n"
    assert capsys.readouterr().err == ""


def test_file_options_are_refused_for_other_targets() -> None:
    with pytest.raises(TypeError, match="only apply to a path target"):
        redactor.loguru_sink(io.StringIO(), rotation="1 MB")


def test_serialize_output_parses_and_is_clean() -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), serialize=True)
    logger.bind(card=int(PAN), email=EMAIL).info("key {}", KEY)
    document = json.loads(stream.getvalue())
    assert document["record"]["extra"] == {"card": "<CREDIT_CARD>", "email": "<EMAIL_ADDRESS>"}
    assert document["record"]["message"] == "key <STRIPE_SECRET_KEY>"
    assert_clean(stream.getvalue())


@pytest.mark.parametrize("separator", ["\t", "\u00a0"])
def test_serialize_output_is_clean_when_the_message_holds_a_json_document(separator: str) -> None:
    # The card's separators are escaped twice in the line: once in the message's own JSON,
    # once by serialize=True.
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), serialize=True)
    card = separator.join(PAN[i : i + 4] for i in range(0, 16, 4))

    logger.info("payload {}", json.dumps({"number": card}))

    document = json.loads(stream.getvalue())
    assert document["record"]["message"] == 'payload {"number": "<CREDIT_CARD>"}'
    assert "4242" not in document["text"]


def test_colorize_follows_the_target_terminal_and_hides_split_numbers() -> None:
    stream = Tty()
    logger.add(redactor.loguru_sink(stream))  # colorize=None: loguru asks isatty()
    logger.opt(colors=True).info("<red>{}</red><blue>{}</blue>", PAN[:4], PAN[4:])
    logger.info("clean line")
    lines = stream.getvalue().splitlines()
    assert "<CREDIT_CARD>" in lines[0] and PAN[4:] not in lines[0]
    assert "\x1b[" in lines[1]


def test_a_logging_handler_target_gets_no_raw_exception(tmp_path: Path) -> None:
    out = tmp_path / "handler.log"
    handler = logging.FileHandler(out, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s %(extra)s"))
    logger.add(redactor.loguru_sink(handler), format="{message}")
    try:
        raise ValueError(PAN)
    except ValueError:
        logger.bind(email=EMAIL).exception("failed")
    logger.remove()
    text = out.read_text(encoding="utf-8")
    assert_clean(text)
    assert text.startswith("ERROR failed") and "{'email': '<EMAIL_ADDRESS>'}" in text


def test_a_coroutine_target_is_awaited_with_redacted_text() -> None:
    seen: list[str] = []

    async def target(message: str) -> None:
        seen.append(message)

    async def main() -> None:
        logger.add(redactor.loguru_sink(target), format="{message}")
        logger.info("card {}", PAN)
        await logger.complete()

    asyncio.run(main())
    assert seen == ["card <CREDIT_CARD>\n"]


@pytest.fixture
def install() -> Iterator[Callable[..., int]]:
    """`install_loguru`, undone afterwards: the logger's core is no longer protected."""
    yield redactor.install_loguru
    logger.remove()
    from redactor.sinks._loguru_logger import _settings

    _settings.pop(logger._core, None)


def test_install_loguru_wraps_the_sinks_already_added(
    tmp_path: Path, install: Callable[..., int]
) -> None:
    stream = io.StringIO()
    path = tmp_path / "plain.log"
    logger.add(stream, format="{message} {extra}")
    logger.add(path, serialize=True)
    assert install() == 2
    assert install() == 0
    logger.bind(email=EMAIL).info("card {}", PAN)
    logger.remove()
    assert stream.getvalue() == "card <CREDIT_CARD> {'email': '<EMAIL_ADDRESS>'}\n"
    assert json.loads(path.read_text(encoding="utf-8"))["record"]["extra"]["email"] == (
        "<EMAIL_ADDRESS>"
    )


def test_install_loguru_covers_a_stream_added_later(install: Callable[..., int]) -> None:
    install()
    stream = io.StringIO()
    logger.add(stream, format="{message} {extra}")
    logger.bind(email=EMAIL).info("LATE after-late-add {}", PAN)
    assert stream.getvalue() == "LATE after-late-add <CREDIT_CARD> {'email': '<EMAIL_ADDRESS>'}\n"


@pytest.mark.usefixtures("umask_022")
def test_install_loguru_covers_a_file_added_later_with_its_options(
    tmp_path: Path, install: Callable[..., int]
) -> None:
    install()
    logger.add(tmp_path / "late.log", rotation="300 B", format="{message}", enqueue=True)
    for index in range(20):
        logger.info("n{} card {}", index, PAN)
    logger.remove()
    files = sorted(tmp_path.glob("late*.log"))
    text = "".join(path.read_text(encoding="utf-8") for path in files)
    assert len(files) > 1 and text.count("card <CREDIT_CARD>") == 20
    assert_clean(text)
    assert set(modes(tmp_path, "late*").values()) == {0o600}


def test_install_loguru_covers_configure_and_derived_loggers(install: Callable[..., int]) -> None:
    install()
    seen: list[Any] = []
    stream = io.StringIO()
    logger.configure(handlers=[{"sink": seen.append, "format": "{message}"}])
    logger.bind(job="sync").opt(lazy=True).add(stream, format="{message}")
    logger.patch(lambda record: None).info("key {}", KEY)
    assert seen == ["key <STRIPE_SECRET_KEY>\n"]
    assert seen[0].record["message"] == "key <STRIPE_SECRET_KEY>"
    assert stream.getvalue() == "key <STRIPE_SECRET_KEY>\n"


class _Counting(Redactor):
    """The real engine, counting the messages it is asked to redact."""

    calls = 0

    def redact(self, text: str) -> str:
        self.calls += 1
        return super().redact(text)


def test_a_sink_wrapped_by_hand_is_not_wrapped_again(install: Callable[..., int]) -> None:
    engine = _Counting()
    install(redactor=engine)
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream, redactor=engine), format="{message}")
    logger.info("card {}", PAN)
    assert stream.getvalue() == "card <CREDIT_CARD>\n"
    assert engine.calls == 1


class _Broken(Redactor):
    def redact(self, text: str) -> str:
        raise RuntimeError("engine broke")


def test_a_failing_redaction_writes_the_marker_and_tells_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream, redactor=_Broken()), format="{message}")
    logger.info("card {}", PAN)
    assert stream.getvalue() == "<WITHHELD 22 bytes>\n"
    err = capsys.readouterr().err
    assert "redactor: loguru message withheld: RuntimeError" in err
    assert_clean(err)


def test_a_failing_target_is_reported_not_raised(capsys: pytest.CaptureFixture[str]) -> None:
    def target(message: str) -> None:
        raise OSError("disk full")

    logger.add(redactor.loguru_sink(target), catch=False)
    logger.info("card {}", PAN)  # catch=False: loguru would re-raise anything we let out
    err = capsys.readouterr().err
    assert "could not write; message dropped: OSError" in err
    assert_clean(err)


def test_eight_threads_logging_at_once(tmp_path: Path) -> None:
    path = tmp_path / "threads.log"
    logger.add(redactor.loguru_sink(path), format="{message}")

    def work(number: int) -> None:
        for index in range(200):
            logger.info("t{} n{} card {} email {}", number, index, PAN, EMAIL)

    run_at_once(work)
    logger.remove()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1600
    assert all(line.endswith("card <CREDIT_CARD> email <EMAIL_ADDRESS>") for line in lines)


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which loguru's files come out 0644."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(folder: Path, pattern: str) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.glob(pattern)}


@pytest.mark.usefixtures("umask_022")
def test_a_file_sink_creates_its_file_for_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    logger.add(redactor.loguru_sink(path, mode="w"))
    logger.info("card {}", PAN)
    logger.remove()
    assert modes(tmp_path, "*") == {"app.log": 0o600}


@pytest.mark.usefixtures("umask_022")
def test_files_and_archives_made_by_rotation_are_for_the_owner_only(tmp_path: Path) -> None:
    logger.add(redactor.loguru_sink(tmp_path / "app.log", rotation="300 B"), format="{message}")
    logger.add(
        redactor.loguru_sink(tmp_path / "zipped.log", rotation="300 B", compression="gz"),
        enqueue=True,
    )
    for index in range(40):
        logger.info("n{} card {}", index, PAN)
    logger.remove()
    plain, zipped = modes(tmp_path, "app*"), modes(tmp_path, "zipped*")
    assert len(plain) > 3 and set(plain.values()) == {0o600}
    assert len([name for name in zipped if name.endswith(".gz")]) > 3
    assert set(zipped.values()) == {0o600}


@pytest.mark.usefixtures("umask_022")
def test_an_opener_of_the_users_own_decides_the_mode(tmp_path: Path) -> None:
    def shared(path: str, flags: int) -> int:
        return os.open(path, flags, 0o640)

    logger.add(redactor.loguru_sink(tmp_path / "app.log", opener=shared, rotation="300 B"))
    for index in range(20):
        logger.info("n{} card {}", index, PAN)
    logger.remove()
    found = modes(tmp_path, "app*")
    assert len(found) > 1 and set(found.values()) == {0o640}


class _Unusable(_Broken):
    """An engine that cannot even give its marker, as when its rules fail to load."""

    def withheld(self, size: int) -> bytes:
        raise RuntimeError("engine broke")


def test_an_unusable_engine_still_withholds(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Any] = []
    logger.add(redactor.loguru_sink(seen.append, redactor=_Unusable()), format="{message}")
    logger.bind(email=EMAIL).info("card {}", PAN)
    assert seen == ["<WITHHELD 22 bytes>\n"]
    assert seen[0].record["message"] == "<WITHHELD 21 bytes>"
    assert seen[0].record["extra"] == {}
    err = capsys.readouterr().err
    assert "redactor: loguru message withheld: RuntimeError" in err
    assert "redactor: loguru record withheld: RuntimeError" in err
    assert_clean(err)


def test_colorize_with_diagnose_hides_a_security_code_variable() -> None:
    class Terminal(io.StringIO):
        encoding = "utf-8"

        def isatty(self) -> bool:
            return True

    def charge(cvc: str, amount: int) -> None:
        raise ValueError("declined")

    def pay() -> None:
        cvc = "271"
        charge(cvc, 2000)

    out = Terminal()
    handler = logger.add(redactor.loguru_sink(out), colorize=True, diagnose=True, backtrace=False)
    try:
        pay()
    except ValueError:
        logger.exception("payment failed")
    finally:
        logger.remove(handler)

    text = out.getvalue()
    assert "'271'" not in text and "<CARD_CVC>" in text
    assert "ValueError: declined" in text


# A format that fails for every record that has no `order_id` bound: loguru then prints its
# own error report on stderr, with the record and the traceback of the failure.
FAILING_FORMAT = "{time} {message} order={extra[order_id]}"
APP_ERROR = f"declined card={PAN} cvc=314 for {EMAIL}"


def log_through_a_failing_format() -> None:
    logger.bind(cvc="469", customer=EMAIL).info("card {} for {}", PAN, EMAIL)
    try:
        raise ValueError(APP_ERROR)
    except ValueError:
        logger.exception("charge failed for {}", PAN)


def assert_redacted_loguru_report(err: str) -> None:
    reports = err.split("--- Logging error in Loguru Handler #")[1:]
    assert len(reports) == 2
    assert all(report.rstrip().endswith("--- End of logging error ---") for report in reports)
    first, second = reports
    assert "'message': 'card <CREDIT_CARD> for <EMAIL_ADDRESS>'" in first
    assert "'cvc': '<CARD_CVC>'" in first and "KeyError: 'order_id'" in first
    assert "ValueError: declined card=<CREDIT_CARD> cvc=<CARD_CVC> for <EMAIL_ADDRESS>" in second
    assert "During handling of the above exception" in second
    assert_clean(err)
    # The code as a value of its own: the record's timestamp may hold the digits (…846988…).
    assert re.search(r"(?<!\d)469(?!\d)", err) is None and "cvc=314" not in err


def test_the_report_of_a_failing_format_is_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), format=FAILING_FORMAT)
    log_through_a_failing_format()
    assert stream.getvalue() == ""
    assert_redacted_loguru_report(capsys.readouterr().err)


def test_the_report_of_a_failing_format_is_redacted_after_install(
    install: Callable[..., int], capsys: pytest.CaptureFixture[str]
) -> None:
    logger.add(io.StringIO(), format=FAILING_FORMAT)
    install()
    log_through_a_failing_format()
    assert_redacted_loguru_report(capsys.readouterr().err)


def test_the_report_uses_the_engine_of_the_failing_sink(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger.add(redactor.loguru_sink(io.StringIO(), redactor=_Broken()), format=FAILING_FORMAT)
    logger.info("card {}", PAN)
    err = capsys.readouterr().err
    assert "--- Logging error in Loguru Handler #" in err and "<WITHHELD " in err
    assert "redactor: logging error report withheld: RuntimeError" in err
    assert_clean(err)


def test_a_security_code_given_by_name_is_hidden_in_the_message() -> None:
    seen: list[Any] = []
    logger.add(redactor.loguru_sink(seen.append), format="{message}")
    logger.info("{cvc}", cvc="469")
    logger.info("code {securityCode} for order 14690", securityCode=469)
    logger.info("order 469 shipped")  # no sensitive key: the number is the app's own
    logger.info("order {order}", order="469")
    assert seen == [
        "<CARD_CVC>\n",
        "code <CARD_CVC> for order 14690\n",
        "order 469 shipped\n",
        "order 469\n",
    ]
    assert seen[0].record["message"] == "<CARD_CVC>"
    assert seen[0].record["extra"] == {"cvc": "<CARD_CVC>"}


def test_a_security_code_given_by_name_leaves_serialized_numbers_alone() -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), format="{message}", serialize=True)
    frame = inspect.currentframe()
    line = frame.f_lineno + 1 if frame is not None else 0
    logger.info("code {cvc}", cvc=str(line))
    document = json.loads(stream.getvalue())
    assert document["record"]["line"] == line
    assert document["record"]["message"] == "code <CARD_CVC>"
    assert document["text"] == "code <CARD_CVC>\n"
    assert document["record"]["extra"] == {"cvc": "<CARD_CVC>"}


def test_a_format_printing_a_security_code_field_alone_shows_its_placeholder() -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), format="{message} | {extra[cvc]}")

    logger.bind(cvc="731").info("pay")
    logger.patch(lambda record: record["extra"].update(cvc="842")).info("pay")

    assert stream.getvalue() == "pay | <CARD_CVC>\npay | <CARD_CVC>\n"


def test_install_loguru_covers_sinks_added_through_a_logger_bound_before_it(
    install: Callable[..., int],
) -> None:
    early = logger.bind(service="payments")
    install()
    stream = io.StringIO()

    early.add(stream, format="{message}")
    logger.info("card {} key {}", PAN, KEY)

    assert stream.getvalue() == "card <CREDIT_CARD> key <STRIPE_SECRET_KEY>\n"


def test_a_grouped_card_cut_at_a_separator_by_the_repr_limit_goes(tmp_path: Path) -> None:
    stream = io.StringIO()
    logger.add(redactor.loguru_sink(stream), diagnose=True, backtrace=False)

    def charge(note: str) -> None:
        raise ValueError("declined")

    note = "A" * 90 + "4242 4242 4242 4242"
    try:
        charge(note)
    except ValueError:
        logger.exception("failed")

    assert "4242 4242" not in stream.getvalue()
