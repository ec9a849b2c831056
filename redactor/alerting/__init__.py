"""Stripe error classification, aggregation, alert rules and notification delivery.

Lines or events go in (`TextEventExtractor`, `AlertPipeline.error`); per-class windows feed
the rules of alerts/*.toml, and what fires goes out through apprise from a background worker.
Names load on first use, so an app whose sink only needs the event types pays for no more.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._aggregator import Aggregator
    from ._classes import STRIPE_ERROR_CLASSES, class_for_response
    from ._evaluator import Alert, Evaluator, Message
    from ._events import ErrorEvent, RequestEvent
    from ._extractor import TextEventExtractor
    from ._notifier import Delivery, Notifier, apprise_send, masked
    from ._pipeline import AlertPipeline, build_alert_pipeline, resolve_channels, start_alerts
    from ._rules import Rule, load_rule_file, load_rules
    from ._settings import AlertSettings, check_alerts

_HOMES = {
    "Aggregator": "_aggregator",
    "STRIPE_ERROR_CLASSES": "_classes",
    "class_for_response": "_classes",
    "Alert": "_evaluator",
    "Evaluator": "_evaluator",
    "Message": "_evaluator",
    "ErrorEvent": "_events",
    "RequestEvent": "_events",
    "TextEventExtractor": "_extractor",
    "Delivery": "_notifier",
    "Notifier": "_notifier",
    "apprise_send": "_notifier",
    "masked": "_notifier",
    "AlertPipeline": "_pipeline",
    "build_alert_pipeline": "_pipeline",
    "resolve_channels": "_pipeline",
    "start_alerts": "_pipeline",
    "Rule": "_rules",
    "load_rule_file": "_rules",
    "load_rules": "_rules",
    "AlertSettings": "_settings",
    "check_alerts": "_settings",
}

__all__ = [
    "STRIPE_ERROR_CLASSES",
    "Aggregator",
    "Alert",
    "AlertPipeline",
    "AlertSettings",
    "Delivery",
    "ErrorEvent",
    "Evaluator",
    "Message",
    "Notifier",
    "RequestEvent",
    "Rule",
    "TextEventExtractor",
    "apprise_send",
    "build_alert_pipeline",
    "check_alerts",
    "class_for_response",
    "load_rule_file",
    "load_rules",
    "masked",
    "resolve_channels",
    "start_alerts",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
