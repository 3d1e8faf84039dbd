"""A flat JSON dialect: Vonage's Messages API inbound shape, or any proxy's `{id, from, text}`."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC
from typing import Any

from marshmallow import ValidationError, fields, post_load, validates_schema

from dialects.base import (
    BaseSchema,
    Dialect,
    Event,
    InboundMessage,
    Items,
    Rejected,
    StatusUpdate,
    WebhookRequest,
    text_kind,
)
from dialects.client import ProviderClient

NAME = "generic"
# Vonage's delivery statuses in our words.
STATUSES = {"submitted": "sent", "sent": "sent", "delivered": "delivered", "read": "read",
            "rejected": "failed", "undeliverable": "failed", "failed": "failed"}


class Message(BaseSchema):
    """`{"from", "text", "message_uuid"|"id", "to"?, "message_type"?}`, or a delivery status."""

    message_uuid = fields.String()
    id = fields.String()
    sender = fields.String(data_key="from", required=True)
    to = fields.String()
    text = fields.String()
    message_type = fields.String(load_default="text")
    timestamp = fields.AwareDateTime(default_timezone=UTC)
    status = fields.String()
    profile = fields.Nested(BaseSchema.from_dict({"name": fields.String()}))
    error = fields.Dict(keys=fields.String())

    @validates_schema
    def message_or_status(self, data: dict, **_: Any) -> None:
        """A text message needs its text; a status needs the id it is about."""
        if "status" in data and not (data.get("message_uuid") or data.get("id")):
            raise ValidationError("a status needs message_uuid or id", "status")
        if "status" not in data and data["message_type"] == "text" and "text" not in data:
            raise ValidationError("missing for a text message", "text")

    @post_load
    def event(self, data: dict, **_: Any) -> list:
        """The one event this post carries."""
        message_id = data.get("message_uuid") or data.get("id") or ""
        if "status" in data:
            status = STATUSES.get(data["status"], data["status"])
            error = data.get("error") or {}
            # Vonage's status errors put the code in `title` and the words in `detail`.
            title = error.get("detail") or error.get("title")
            return [StatusUpdate(NAME, message_id, status, recipient=data.get("to"),
                                 error_code=_code(error.get("type")),
                                 error_title=None if title is None else str(title))]
        kind, text = (text_kind(data.get("text")) if data["message_type"] == "text"
                      else (data["message_type"], ""))
        return [InboundMessage(
            dialect=NAME, message_id=message_id, wa_id=data["sender"].lstrip("+"),
            kind=kind, text=text, business_number=data.get("to"),
            profile_name=data.get("profile", {}).get("name"), sent_at=data.get("timestamp"),
        )]


def _code(problem_type: object) -> str | None:
    """Vonage names an error by a URL ending in `#<code>` (anything else names none)."""
    if not isinstance(problem_type, str):
        return None
    return problem_type.rpartition("#")[2] or None


def _named(event: Event, digest: str, dialect: str) -> Event:
    """The event, named by `digest` when its provider gave it no id, from `dialect` (the
    schema is shared by every dialect that posts this body)."""
    return replace(event, dialect=dialect, message_id=event.message_id or digest)


class Generic(Dialect):
    """Vonage, or any provider that posts flat JSON."""

    name = NAME
    media_type = "application/json"
    max_text_length = 4096
    signature_header = "X-Signature-256"
    schema = Message

    def __init__(self):
        super().__init__()
        self._items = Items(fields.Nested(Message))

    def parse(self, request: WebhookRequest) -> list:
        """One message or status per object. A JSON array carries several, each loaded on its
        own; an array with no valid item is not ours. A message without an id is named by a
        hash of the raw body (plus its place in an array)."""
        data = request.json()
        digest = "sha256:" + hashlib.sha256(request.body).hexdigest()
        if not isinstance(data, list):
            return [_named(event, digest, self.name) for event in self._loader.load(data)]
        items = self._items.deserialize(data)  # each loads as [event], or is `Rejected`
        if all(isinstance(item, Rejected) for item in items):
            raise ValidationError({r.at: r.errors for r in items} if items else "empty array")
        return [item if isinstance(item, Rejected)
                else _named(item[0], f"{digest}:{index}", self.name)
                for index, item in enumerate(items)]


class GenericClient(ProviderClient):
    """`POST {base}/messages` with a bearer token and a flat JSON body."""

    dialect = NAME
    required = ("token", "phone_number_id")
    # Vonage Messages API codes (developer.vonage.com/api-errors/messages-olympus); any other
    # provider's refusals, and codes not listed, are sorted by their HTTP status.
    error_kinds = {"1000": "throttled", "1010": "invalid", "1020": "invalid", "1021": "invalid",
                   "1022": "invalid", "1040": "invalid", "1050": "undeliverable",
                   "1060": "auth"}

    def build_request(self, to_wa_id: str, text: str, business_number: str | None) -> dict:
        """A Vonage-style text message."""
        return {
            "url": f"{self.base_url}/messages",
            "headers": {"Authorization": f"Bearer {self.settings.token}"},
            "json": {"channel": "whatsapp", "message_type": "text", "to": to_wa_id,
                     "from": self.settings.phone_number_id, "text": text},
        }

    def message_id(self, body: dict[str, Any]) -> str | None:
        """`message_uuid` (Vonage) or `id`."""
        return body.get("message_uuid") or body.get("id")

    def error_details(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """Vonage's problem details (`type` ends in `#code`), or `{code, message}`."""
        code = body.get("code") or _code(body.get("type"))
        message = body.get("detail") or body.get("title") or body.get("message")
        return (str(code) if code is not None else None), message
