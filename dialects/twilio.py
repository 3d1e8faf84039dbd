"""Twilio's WhatsApp: form-encoded webhooks signed over the URL, REST `Messages.json` sends."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from marshmallow import fields, post_load, pre_load

from dialects.base import (
    BSUID,
    FORM,
    BaseSchema,
    Dialect,
    InboundMessage,
    Rejected,
    StatusUpdate,
    WebhookRequest,
    text_kind,
)
from dialects.client import ProviderClient, path_segment

NAME = "twilio"
DEFAULT_PORTS = {"https": 443, "http": 80}
# Twilio's delivery statuses in our words (others, like `queued`, are noted but not stored).
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed",
            "undelivered": "failed"}
# Twilio's MessageType values whose Body is what the person typed or tapped.
TEXT_TYPES = ("text", "interactive", "button")


def strip_address(value: str | None) -> str | None:
    """`whatsapp:+34600000000` -> `34600000000`; `whatsapp:US.1349...` (a person with a
    username) -> `US.1349...`."""
    return value.removeprefix("whatsapp:").lstrip("+") if value else value


def address(wa_id: str) -> str:
    """Twilio's WhatsApp address of a person: `whatsapp:+<number>`, or `whatsapp:<user id>`."""
    return f"whatsapp:{wa_id}" if BSUID.fullmatch(wa_id) else f"whatsapp:+{wa_id}"


class Form(BaseSchema):
    """One Twilio webhook post: an inbound message or a status callback."""

    account_sid = fields.String(data_key="AccountSid", required=True)
    message_sid = fields.String(data_key="MessageSid", required=True)
    sender = fields.String(data_key="From", required=True)
    to = fields.String(data_key="To")
    body = fields.String(data_key="Body")
    wa_id = fields.String(data_key="WaId")
    profile_name = fields.String(data_key="ProfileName")
    num_media = fields.Integer(data_key="NumMedia", strict=False)
    media_type = fields.String(data_key="MediaContentType0")
    message_type = fields.String(data_key="MessageType")
    button_text = fields.String(data_key="ButtonText")
    latitude = fields.String(data_key="Latitude")
    message_status = fields.String(data_key="MessageStatus")
    sms_status = fields.String(data_key="SmsStatus")
    error_code = fields.String(data_key="ErrorCode")
    error_message = fields.String(data_key="ErrorMessage")

    @pre_load
    def single_values(self, data: dict, **_: Any) -> dict:
        """Form data arrives as lists of values; Twilio sends one value per name."""
        return {name: values[0] for name, values in data.items() if values}

    @post_load
    def event(self, data: dict, **_: Any) -> list:
        """A status callback, or the one message this post carries."""
        status = data.get("message_status") or data.get("sms_status")
        if status and status != "received" and "body" not in data:
            return [StatusUpdate(NAME, data["message_sid"], STATUSES.get(status, status),
                                 recipient=strip_address(data.get("to")),
                                 error_code=data.get("error_code"),
                                 error_title=data.get("error_message"))]
        kind, text = _kind_and_text(data)
        return [InboundMessage(
            dialect=NAME, message_id=data["message_sid"], kind=kind, text=text,
            wa_id=data.get("wa_id") or strip_address(data["sender"]),
            business_number=strip_address(data.get("to")),
            profile_name=data.get("profile_name"),
        )]


def _kind_and_text(data: dict) -> tuple[str, str]:
    message_type = data.get("message_type") or "text"
    if data.get("num_media"):
        mime_major = (data.get("media_type") or "media").split("/")[0]
        return (mime_major if message_type in TEXT_TYPES else message_type), ""
    if data.get("latitude"):
        return "location", ""
    if message_type == "button" and data.get("button_text"):
        return text_kind(data["button_text"])
    if message_type not in TEXT_TYPES:
        return message_type, ""
    return text_kind(data.get("body"))


class Twilio(Dialect):
    """Twilio's WhatsApp sender."""

    name = NAME
    media_type = FORM
    max_text_length = 1600
    signature_header = "X-Twilio-Signature"
    # Twilio signs its form fields, so checking means parsing: keep that cheap.
    max_signed_body = 64 * 1024
    schema = Form

    def signing_secrets(self, app_secrets: tuple[str, ...], token: str | None) -> tuple[str, ...]:
        """Twilio signs with the account's auth token."""
        return (token,) if token else ()

    def expected_signatures(self, request: WebhookRequest, secret: str) -> Iterable[str]:
        """Base64 HMAC-SHA1 of URL + sorted params, for the URL with and without its port."""
        params = request.form()
        payload = "".join(name + value for name in sorted(params)
                          for value in sorted(params[name]))
        for url in _url_variants(request.url):
            digest = hmac.new(secret.encode(), (url + payload).encode(), hashlib.sha1).digest()
            yield base64.b64encode(digest).decode()

    def acknowledgement(self, accepted: int, rejected: Iterable[Rejected] = ()) -> tuple[str, str]:
        """An empty TwiML response: the answer goes out through the REST API."""
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>', "text/xml"


def _url_variants(url: str) -> list[str]:
    """The URL as given, and with its default port added or removed (Twilio signs either)."""
    parts = urlsplit(url)
    default = DEFAULT_PORTS.get(parts.scheme)
    if parts.port is None and default:
        return [url, urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))]
    if parts.port is not None and parts.port == default:
        return [url, urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))]
    return [url]


class TwilioClient(ProviderClient):
    """`POST {base}/2010-04-01/Accounts/{sid}/Messages.json`, basic auth, form body."""

    dialect = NAME
    default_base_url = "https://api.twilio.com"
    required = ("token", "account_id")
    error_kinds = {"20429": "throttled", "63018": "throttled", "63016": "window_closed",
                   "20003": "auth", "21211": "invalid", "21617": "invalid",
                   "63003": "undeliverable", "63024": "undeliverable"}

    def build_request(self, to_wa_id: str, text: str, business_number: str | None) -> dict:
        """A REST message from our WhatsApp sender to the person."""
        sender = self.settings.phone_number_id or business_number
        if not sender:
            raise ValueError("no sender: WHATSAPP_PHONE_NUMBER_ID is not set")
        account = path_segment("WHATSAPP_ACCOUNT_ID", self.settings.account_id or "")
        return {
            "url": f"{self.base_url}/2010-04-01/Accounts/{account}/Messages.json",
            "auth": (account, self.settings.token),
            "data": {"From": f"whatsapp:+{sender}", "To": address(to_wa_id), "Body": text},
        }

    def health_request(self) -> dict | None:
        """`GET /2010-04-01/Accounts/{sid}.json`: the account, readable with its auth token."""
        account = path_segment("WHATSAPP_ACCOUNT_ID", self.settings.account_id or "")
        return {"url": f"{self.base_url}/2010-04-01/Accounts/{account}.json",
                "auth": (account, self.settings.token)}

    def message_id(self, body: dict[str, Any]) -> str | None:
        """The message's `sid` (`SM...`)."""
        return body.get("sid")

    def error_details(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """Twilio's numeric `code` and its `message`."""
        code = body.get("code")
        return (str(code) if code is not None else None), body.get("message")
