"""Shared pytest fixtures: the fake Stripe API server and the logs of the real-app run."""

from __future__ import annotations

from tests.real_logs import real_logs
from tests.stripe_fake import refused_url, stripe_fake

__all__ = ["real_logs", "refused_url", "stripe_fake"]
