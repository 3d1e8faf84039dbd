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
        """The uniform JSON error body: `{"error": {"code", "message", "details"?}}`."""
        error = {"code": self.code, "message": self.message}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


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


class StoreUnavailable(GatewayError):
    """The store (MongoDB or SQLite) cannot be reached; the provider should retry."""

    status = 503
    code = "store_unavailable"
