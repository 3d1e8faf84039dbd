"""The dialects, in detection order. Adding one: a module in `dialects/` and a line here."""

from __future__ import annotations

from marshmallow import ValidationError

from app.errors import MalformedBody, UnknownPayload
from dialects.base import Dialect, Event, Rejected, WebhookRequest
from dialects.client import ProviderClient
from dialects.cloud_api import CloudApi, CloudApiClient
from dialects.generic import Generic, GenericClient
from dialects.twilio import Twilio, TwilioClient
from dialects.vonage import Vonage, VonageClient

# Detection order, for unsigned webhooks: Vonage's body is the generic one, so an unsigned
# Vonage post is taken for generic unless WHATSAPP_PROVIDER=vonage (its JWT says which it is).
DIALECTS: list[tuple[Dialect, type[ProviderClient]]] = [
    (CloudApi(), CloudApiClient),
    (Twilio(), TwilioClient),
    (Generic(), GenericClient),
    (Vonage(), VonageClient),
]
BY_NAME: dict[str, Dialect] = {dialect.name: dialect for dialect, _ in DIALECTS}
CLIENTS: dict[str, type[ProviderClient]] = {dialect.name: client for dialect, client in DIALECTS}


def parse_as(dialect: Dialect, request: WebhookRequest) -> list[Event | Rejected]:
    """The events of a request known to be `dialect`'s (its signature said so)."""
    try:
        return dialect.parse(request)
    except ValidationError as err:
        raise UnknownPayload(f"not a {dialect.name} payload", details=err.messages) from None


def detect(request: WebhookRequest) -> tuple[Dialect, list[Event | Rejected]]:
    """The first dialect whose schema loads the body, with its events.

    Raises `MalformedBody` when the body parses as no dialect's media type, and `UnknownPayload`
    (naming each dialect's objection) when it parses but no schema accepts it.
    """
    reasons: dict[str, object] = {}
    parsed = False
    # A dialect whose signature header the request carries is tried first: two providers may
    # post the same body (Vonage's is the generic one), but they sign it differently.
    signed = [d for d in BY_NAME.values() if request.header(d.signature_header)]
    for dialect in dict.fromkeys([*signed, *BY_NAME.values()]):
        try:
            return dialect, dialect.parse(request)
        except MalformedBody as err:
            reasons[dialect.name] = str(err)
        except ValidationError as err:
            parsed = True
            reasons[dialect.name] = err.messages
    if not parsed:
        raise MalformedBody("body is neither JSON nor form data", details=reasons)
    raise UnknownPayload("no dialect understands this body", details=reasons)
