"""Stripe error classification, aggregation, alert rules and notification delivery."""
