"""Stripe error classification, aggregation, alert rules and notification delivery.

Lines or events go in (`TextEventExtractor`, `AlertPipeline.error`); per-class windows feed
the rules of alerts/*.toml, and what fires goes out through apprise from a background worker.
"""

from __future__ import annotations

from ._aggregator import Aggregator
from ._classes import STRIPE_ERROR_CLASSES, class_for_response
from ._evaluator import Alert, Evaluator, Message
from ._events import ErrorEvent, RequestEvent
from ._extractor import TextEventExtractor
from ._notifier import Delivery, Notifier, apprise_send, masked
from ._pipeline import AlertPipeline, build_alert_pipeline, resolve_channels
from ._rules import Rule, load_rule_file, load_rules
from ._settings import AlertSettings

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
    "class_for_response",
    "load_rule_file",
    "load_rules",
    "masked",
    "resolve_channels",
]
