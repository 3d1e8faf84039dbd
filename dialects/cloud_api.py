"""Meta's WhatsApp Cloud API: nested `entry[].changes[].value` webhooks, Graph API sends."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError, fields, post_load, validate, validates_schema

from dialects.base import (
    BSUID,
    BaseSchema,
    Dialect,
    InboundMessage,
    Items,
    Rejected,
    StatusUpdate,
    text_kind,
    unix_time,
)
from dialects.client import ProviderClient, SendResult, path_segment

NAME = "cloud_api"
PHONE_NUMBER_ID = re.compile(r"[0-9]{1,32}")


class _Title(BaseSchema):
    title = fields.String()


class _Interactive(BaseSchema):
    type = fields.String()
    button_reply = fields.Nested(_Title)
    list_reply = fields.Nested(_Title)


class _Message(BaseSchema):
    id = fields.String(required=True)
    sender = fields.String(data_key="from")  # absent for a person with a username
    sender_user_id = fields.String(data_key="from_user_id")
    timestamp = fields.String()
    type = fields.String(required=True)
    text = fields.Nested(BaseSchema.from_dict({"body": fields.String()}))
    interactive = fields.Nested(_Interactive)
    button = fields.Nested(BaseSchema.from_dict({"text": fields.String()}))

    @post_load
    def kind_and_text(self, data: dict, **_: Any) -> dict:
        """Reduce the message to (kind, text): replies and quick-replies count as text."""
        kind, text = data["type"], None
        if kind == "text":
            text = data.get("text", {}).get("body")
        elif kind == "interactive":
            reply = data.get("interactive", {})
            chosen = reply.get("button_reply") or reply.get("list_reply")
            kind, text = ("text", chosen.get("title")) if chosen else ("interactive", None)
        elif kind == "button":
            kind, text = "text", data.get("button", {}).get("text")
        if kind == "text":
            kind, text = text_kind(text)
        return {**data, "kind": kind, "text": text or ""}

    @validates_schema
    def has_a_sender(self, data: dict, **_: Any) -> None:
        """A phone number (`from`) or a business-scoped user id (`from_user_id`)."""
        if not data.get("sender") and not data.get("sender_user_id"):
            raise ValidationError("Missing data for required field.", "from")


class _Contact(BaseSchema):
    wa_id = fields.String()
    user_id = fields.String()
    profile = fields.Nested(BaseSchema.from_dict({"name": fields.String()}))


class _Error(BaseSchema):
    code = fields.Integer(strict=False)
    title = fields.String()
    message = fields.String()


class _Status(BaseSchema):
    id = fields.String(required=True)
    status = fields.String(required=True)
    recipient_id = fields.String()
    errors = fields.List(fields.Nested(_Error))


class _Value(BaseSchema):
    metadata = fields.Nested(BaseSchema.from_dict({"phone_number_id": fields.String()}))
    contacts = fields.List(fields.Nested(_Contact))
    messages = Items(fields.Nested(_Message))
    statuses = Items(fields.Nested(_Status))
    errors = fields.List(fields.Nested(_Error))

    @post_load
    def events(self, data: dict, **_: Any) -> list:
        """Turn one `value` into its messages and statuses (a refused one stays `Rejected`)."""
        ours = data.get("metadata", {}).get("phone_number_id")
        contacts = [c for c in data.get("contacts", []) if c.get("wa_id") or c.get("user_id")]
        events: list = [m if isinstance(m, Rejected) else self._message(m, contacts, ours)
                        for m in data.get("messages", [])]
        events += [s if isinstance(s, Rejected) else _status(s)
                   for s in data.get("statuses", [])]
        events += [StatusUpdate(NAME, "", "error", error_code=str(e.get("code")),
                                error_title=e.get("title")) for e in data.get("errors", [])]
        return events

    @staticmethod
    def _message(message: dict, contacts: list[dict], ours: str | None) -> InboundMessage:
        """The person is known by their phone number while Meta shares it (so conversations
        that began before usernames stay theirs), else by their business-scoped user id.
        Their contact names either id; else it is the value's sole contact, whose `wa_id` may
        differ from `from` (Brazil's ninth digit)."""
        ids = {i for i in (message.get("sender"), message.get("sender_user_id")) if i}
        contact = next((c for c in contacts if ids & {c.get("wa_id"), c.get("user_id")}),
                       contacts[0] if len(contacts) == 1 else {})
        return InboundMessage(
            dialect=NAME, message_id=message["id"],
            wa_id=contact.get("wa_id") or message.get("sender") or contact.get("user_id")
            or message["sender_user_id"],
            kind=message["kind"], text=message["text"], business_number=ours,
            profile_name=contact.get("profile", {}).get("name"),
            sent_at=unix_time(message.get("timestamp")),
        )


def _status(status: dict) -> StatusUpdate:
    error = (status.get("errors") or [{}])[0]
    return StatusUpdate(
        NAME, status["id"], status["status"], recipient=status.get("recipient_id"),
        error_code=str(error["code"]) if "code" in error else None,
        error_title=error.get("title") or error.get("message"),
    )


class _Change(BaseSchema):
    field = fields.String()
    value = fields.Nested(_Value, required=True)


class _Entry(BaseSchema):
    changes = fields.List(fields.Nested(_Change), required=True)


class Envelope(BaseSchema):
    """`{"object": "whatsapp_business_account", "entry": [...]}` -> the events, in order."""

    object = fields.String(required=True, validate=validate.Equal("whatsapp_business_account"))
    entry = fields.List(fields.Nested(_Entry), required=True)

    @post_load
    def flatten(self, data: dict, **_: Any) -> list:
        """Every entry's every change's events, in payload order."""
        return [event.under(f"entry[{i}].changes[{j}].value") if isinstance(event, Rejected)
                else event
                for i, entry in enumerate(data["entry"])
                for j, change in enumerate(entry["changes"]) for event in change["value"]]


class CloudApi(Dialect):
    """Meta's WhatsApp Cloud API."""

    name = NAME
    media_type = "application/json"
    max_text_length = 4096
    signature_header = "X-Hub-Signature-256"
    schema = Envelope


class CloudApiClient(ProviderClient):
    """`POST {base}/{phone_number_id}/messages` with a bearer token."""

    dialect = NAME
    default_base_url = "https://graph.facebook.com/v21.0"
    read_receipts = True
    error_kinds = {
        "130429": "throttled", "131056": "throttled", "80007": "throttled", "4": "throttled",
        "131047": "window_closed", "190": "auth", "100": "invalid",
        "131026": "undeliverable",
    }

    def build_request(self, to_wa_id: str, text: str, business_number: str | None) -> dict:
        """A Graph API text message, sent from the number that received the inbound message,
        to a phone number (`to`) or a business-scoped user id (`recipient`)."""
        to = "recipient" if BSUID.fullmatch(to_wa_id) else "to"
        return self._messages_request(business_number, {
            "messaging_product": "whatsapp", "recipient_type": "individual", to: to_wa_id,
            "type": "text", "text": {"body": text, "preview_url": False}})

    def _messages_request(self, business_number: str | None, payload: dict) -> dict:
        # Meta's phone number ids are digits: anything else in a webhook is not one of ours.
        received = business_number if PHONE_NUMBER_ID.fullmatch(business_number or "") else None
        sender = received or self.settings.phone_number_id
        if not sender:
            raise ValueError("no phone_number_id: the webhook carried none and "
                             "WHATSAPP_PHONE_NUMBER_ID is not set")
        sender = path_segment("phone_number_id", sender)
        return {"url": f"{self.base_url}/{sender}/messages", "json": payload,
                "headers": {"Authorization": f"Bearer {self.settings.token}"}}

    def health_request(self) -> dict | None:
        """`GET /{phone number id}`: the number's own record, readable with a working token."""
        if not self.settings.phone_number_id:
            return None
        sender = path_segment("phone_number_id", self.settings.phone_number_id)
        return {"url": f"{self.base_url}/{sender}", "params": {"fields": "id"},
                "headers": {"Authorization": f"Bearer {self.settings.token}"}}

    def mark_read(self, message_id: str, business_number: str | None,
                  typing: bool) -> SendResult:
        """One call marks the message read and (optionally) shows "typing..." for ~25 s."""
        payload: dict[str, Any] = {"messaging_product": "whatsapp", "status": "read",
                                   "message_id": message_id}
        if typing:
            payload["typing_indicator"] = {"type": "text"}
        return self._post(lambda: self._messages_request(business_number, payload))

    def message_id(self, body: dict[str, Any]) -> str | None:
        """`messages[0].id` (a `wamid.`)."""
        messages = body.get("messages") or [{}]
        return messages[0].get("id")

    def error_details(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """`error.code` and `error.message` of a Graph API error."""
        error = body.get("error") or {}
        code = error.get("code")
        return (str(code) if code is not None else None), error.get("message")
