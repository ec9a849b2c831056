"""Shared pytest fixtures: the fake Stripe API server, the logs of the real-app run, and the
engine with and without its C++ parts."""

from __future__ import annotations

from tests.engines import engine, python_engine
from tests.real_logs import real_logs
from tests.stripe_fake import refused_url, stripe_fake

__all__ = ["engine", "python_engine", "real_logs", "refused_url", "stripe_fake"]
