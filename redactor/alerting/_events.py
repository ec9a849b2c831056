"""The Stripe error event: what the sinks and the tailer hand to the aggregator."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorEvent:
    """One failed Stripe call, classified by the client's error class name.

    `error_class` is the bare class name as stripe-python names it (CardError,
    RateLimitError, ...). `time` is the event time in seconds since the epoch (the log
    line's timestamp where there is one). `sample` is an already redacted line for context.
    `livemode` says which Stripe dashboard the request ID belongs to (None: not known).
    """

    error_class: str
    time: float
    http_status: int | None = None
    code: str | None = None
    decline_code: str | None = None
    request_id: str | None = None
    sample: str = ""
    source: str = ""
    livemode: bool | None = None


@dataclass(frozen=True)
class RequestEvent:
    """One Stripe API request seen, failed or not, so that rules can use error ratios."""

    time: float
    http_status: int | None = None
    request_id: str | None = None
