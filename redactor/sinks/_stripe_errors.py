"""Stripe errors seen by the in-app sinks, handed to a pluggable recorder as events.

The fields come from the exception object, never from its text. `stripe` is never imported:
an exception is a Stripe error when a class in its MRO is `StripeError` from a `stripe` module,
which holds for `stripe.error.X` (before v8) and `stripe._error.X` (v8 on) alike.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any, Protocol, runtime_checkable

from .._engine import report_failure
from ..alerting._events import ErrorEvent, RequestEvent

_SAMPLE_CHARS = 300
_REMEMBERED = 4096


@runtime_checkable
class ErrorRecorder(Protocol):
    """Where the sinks send Stripe events; the alerting aggregator is one."""

    def record(self, event: ErrorEvent | RequestEvent) -> None:
        """Take one event; must be quick and thread-safe, and should not raise."""


class _Adder:
    """Lets an object with `add(event)` serve as a recorder."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def record(self, event: ErrorEvent | RequestEvent) -> None:
        self.target.add(event)


class _SplitAdder:
    """Lets the alerting aggregator (`add_error`, `add_request`) serve as a recorder."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def record(self, event: ErrorEvent | RequestEvent) -> None:
        if isinstance(event, ErrorEvent):
            self.target.add_error(event)
        elif callable(getattr(self.target, "add_request", None)):
            self.target.add_request(event)


_default: ErrorRecorder | None = None


def set_error_recorder(recorder: object | None) -> None:
    """Set the recorder that sinks and filters without their own `recorder=` report to.

    Args:
        recorder: an object with `record(event)`, `add(event)`, or `add_error(event)` and
            `add_request(event)` (the alerting `Aggregator`); None stops recording.
    """
    global _default
    _default = as_recorder(recorder)


def get_error_recorder() -> ErrorRecorder | None:
    """The recorder set by `set_error_recorder`, or None."""
    return _default


def as_recorder(recorder: object | None) -> ErrorRecorder | None:
    """Accept an `ErrorRecorder`, an object with `add(event)` or `add_error(event)`, or None."""
    if recorder is None or isinstance(recorder, ErrorRecorder):
        return recorder
    if callable(getattr(recorder, "add_error", None)):
        return _SplitAdder(recorder)
    if callable(getattr(recorder, "add", None)):
        return _Adder(recorder)
    raise TypeError(f"a recorder needs record(event) or add(event), not {type(recorder)!r}")


def find_stripe_error(error: BaseException | None) -> BaseException | None:
    """The Stripe error in the chain of `error`: the one raised last if there are several.

    The walk goes from the logged exception through `__cause__` and `__context__`, so an app
    error raised `from` a CardError, or while handling one, still counts as that CardError.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if is_stripe_error(error):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def is_stripe_error(error: BaseException) -> bool:
    """True for any subclass of stripe-python's base error class, whatever its version."""
    return any(
        cls.__name__ == "StripeError" and cls.__module__.split(".")[0] == "stripe"
        for cls in type(error).__mro__
    )


def error_event(error: BaseException, time: float, sample: str, source: str) -> ErrorEvent:
    """Build the event for one Stripe error from the attributes stripe-python sets."""
    return ErrorEvent(
        error_class=type(error).__name__,
        time=time,
        http_status=_int_or_none(getattr(error, "http_status", None)),
        code=_str_or_none(getattr(error, "code", None)),
        decline_code=_decline_code(error),
        request_id=_str_or_none(getattr(error, "request_id", None)),
        sample=sample.split("\n", 1)[0][:_SAMPLE_CHARS],
        source=source,
    )


def _decline_code(error: BaseException) -> str | None:
    body = getattr(error, "json_body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return _str_or_none(body["error"].get("decline_code"))
    try:  # stripe-python's error object; its attribute access raises for a missing field
        return _str_or_none(error.error.decline_code)  # type: ignore[attr-defined]
    except Exception:
        return None


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


class StripeErrorReporter:
    """Sends each logged Stripe error once, even when several sinks see the same record."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: OrderedDict[Hashable, None] = OrderedDict()

    def report(
        self,
        recorder: ErrorRecorder | None,
        error: BaseException | None,
        time: float,
        sample: str,
        source: str,
        record_key: Hashable,
    ) -> None:
        """Record the Stripe error in the chain of `error`, if any, unless already recorded.

        `record_key` names the log record (a copy made for another process compares equal);
        a request ID, where the error has one, also joins the same error logged twice.
        """
        recorder = recorder if recorder is not None else _default
        stripe_error = find_stripe_error(error) if recorder is not None else None
        if recorder is None or stripe_error is None:
            return
        key = getattr(stripe_error, "request_id", None) or record_key
        if not self._first_time(key):
            return
        deliver(recorder, error_event(stripe_error, time, sample, source))

    def _first_time(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen[key] = None
            if len(self._seen) > _REMEMBERED:
                self._seen.popitem(last=False)
            return True


def deliver(recorder: ErrorRecorder, event: ErrorEvent | RequestEvent) -> None:
    """Hand over one event; a failing recorder is reported on stderr and never raises."""
    try:
        recorder.record(event)
    except Exception as error:
        report_failure("error recorder failed; event dropped", error)


reporter = StripeErrorReporter()
