"""The gateway's one exception tree. Library errors are translated into these at the edge."""

from __future__ import annotations


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""

    status = 500
    code = "internal_error"

    def __init__(self, message: str, details: object = None):
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict:
        """The uniform JSON error body: `{"error": {"code", "message", "details"?}}`, its
        details bounded: a reply to a public request never grows with the request."""
        error = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = bounded(self.details)
        return {"error": error}


MAX_ITEMS = 5
MAX_TEXT = 120
MAX_DEPTH = 4


def bounded(value: object, depth: int = 0) -> object:
    """`value` with at most 5 entries per list or mapping (and how many were left out), text
    cut at 120 characters, and nesting at 4 levels."""
    if isinstance(value, str):
        return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        return "…"
    if isinstance(value, dict):
        items = list(value.items())
        out = {bounded(str(k)): bounded(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…"] = f"{len(items) - MAX_ITEMS} more"
        return out
    if isinstance(value, list | tuple):
        out = [bounded(v, depth + 1) for v in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            out.append(f"… {len(value) - MAX_ITEMS} more")
        return out
    return value


class ConfigError(GatewayError):
    """A setting is missing or malformed; raised at startup."""

    code = "config_error"


class KnowledgeError(ConfigError):
    """The knowledge folder is missing, empty, or holds a file that cannot be read."""

    code = "knowledge_error"


class BadRequest(GatewayError):
    """The request is wrong in a way the caller can fix."""

    status = 400
    code = "bad_request"


class WebhookError(BadRequest):
    """A webhook request we refuse; `status` is the HTTP answer."""


class MalformedBody(WebhookError):
    """The body is not parseable JSON or form data."""

    code = "malformed_body"


class UnknownPayload(WebhookError):
    """No dialect understood the body."""

    code = "unknown_payload"


class NoValidItem(WebhookError):
    """The payload is a dialect's, but every message or status in it was refused."""

    code = "no_valid_item"


class ProviderMismatch(WebhookError):
    """The body belongs to a dialect other than WHATSAPP_PROVIDER."""

    code = "provider_mismatch"


class ServerBusy(GatewayError):
    """Every thread that may read a body is reading one: retry shortly."""

    status = 503
    code = "busy"


class RequestTimeout(WebhookError):
    """The body did not arrive in time: a slow sender must not hold a thread."""

    status = 408
    code = "request_timeout"


class PayloadTooLarge(WebhookError):
    """The body is larger than this endpoint (or this provider) ever receives."""

    status = 413
    code = "payload_too_large"


class SignatureMissing(WebhookError):
    """The request carries no signature header."""

    status = 401
    code = "signature_missing"


class SignatureInvalid(WebhookError):
    """The signature does not match the body under any configured secret."""

    status = 403
    code = "signature_invalid"


class Unauthorized(GatewayError):
    """An operator route was called without a valid bearer token."""

    status = 401
    code = "unauthorized"


class NotFound(GatewayError):
    """An operator asked for something that does not exist."""

    status = 404
    code = "not_found"


class Conflict(GatewayError):
    """What an operator asked cannot be done in the conversation's state; `code` says why."""

    status = 409
    code = "conflict"

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class StoreUnavailable(GatewayError):
    """The store (MongoDB or SQLite) cannot be reached; the provider should retry.

    The public answer says only that; `reason` (which may name a file or a host) is for the
    log."""

    status = 503
    code = "store_unavailable"

    def __init__(self, reason: str):
        super().__init__("the message store is unavailable; retry later")
        self.reason = reason
