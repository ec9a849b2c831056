"""The error classes of stripe-python and how it maps an error response to one of them.

Mirrors `stripe._error` and `_APIRequestor.specific_v1_api_error` / `specific_v2_api_error`
of the installed stripe 16, so that text-side events carry the class the client would raise.
"""

from __future__ import annotations

V1_CLASSES = (
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "CardError",
    "IdempotencyError",
    "InvalidRequestError",
    "PermissionError",
    "RateLimitError",
    "SignatureVerificationError",
)

# Error `type` values of the v2 API and the class stripe-python raises for each.
V2_TYPES = {
    "already_canceled": "AlreadyCanceledError",
    "blocked_by_stripe": "BlockedByStripeError",
    "cannot_proceed": "CannotProceedError",
    "capability_not_enabled": "CapabilityNotEnabledError",
    "controlled_by_alternate_resource": "ControlledByAlternateResourceError",
    "feature_not_enabled": "FeatureNotEnabledError",
    "financial_account_not_open": "FinancialAccountNotOpenError",
    "fx_quote_needs_refresh": "FxQuoteNeedsRefreshError",
    "insufficient_funds": "InsufficientFundsError",
    "invalid_payment_method": "InvalidPaymentMethodError",
    "invalid_payout_method": "InvalidPayoutMethodError",
    "invalid_vaulted_credential": "InvalidVaultedCredentialError",
    "not_cancelable": "NotCancelableError",
    "quota_exceeded": "QuotaExceededError",
    "rate_limit": "RateLimitError",
    "recipient_not_notifiable": "RecipientNotNotifiableError",
    "temporary_session_expired": "TemporarySessionExpiredError",
    "verification_attempt_failed": "VerificationAttemptFailedError",
    "verification_expired": "VerificationExpiredError",
    "verification_not_initiated": "VerificationNotInitiatedError",
}

STRIPE_ERROR_CLASSES = frozenset(V1_CLASSES) | frozenset(V2_TYPES.values())

# Class names that other libraries (or Python itself) use too: a bare one counts only with
# Stripe context, such as a `stripe.` module prefix or a request ID in the message.
AMBIGUOUS = frozenset({"PermissionError", "APIError", "InvalidRequestError"})

# Without an HTTP status, the class a v1 error `type` most likely came with.
_TYPE_ONLY = {
    "card_error": "CardError",
    "idempotency_error": "IdempotencyError",
    "invalid_request_error": "InvalidRequestError",
    "api_error": "APIError",
    "authentication_error": "AuthenticationError",
    "rate_limit_error": "RateLimitError",
}


def class_for_response(status: int | None, error_type: str | None, code: str | None) -> str:
    """The class stripe-python raises for an error response (None status: no response)."""
    if error_type in V2_TYPES and error_type != "rate_limit":
        return V2_TYPES[error_type]
    if status is None:
        return _class_for_type(error_type, code)
    if status == 429 or (status == 400 and code == "rate_limit") or error_type == "rate_limit":
        return "RateLimitError"
    if status in (400, 404):
        return "IdempotencyError" if error_type == "idempotency_error" else "InvalidRequestError"
    return _BY_STATUS.get(status, "APIError")


_BY_STATUS = {401: "AuthenticationError", 402: "CardError", 403: "PermissionError"}


def _class_for_type(error_type: str | None, code: str | None) -> str:
    if error_type is None:
        return "APIConnectionError"
    if code == "rate_limit":
        return "RateLimitError"
    return _TYPE_ONLY.get(error_type, "APIError")
