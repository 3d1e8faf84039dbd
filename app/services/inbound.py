"""Accepting a webhook: which dialect, is it the configured provider, is it authentic."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from app.config import Settings
from app.errors import (
    NoValidItem,
    ProviderMismatch,
    SignatureInvalid,
    SignatureMissing,
    WebhookError,
)
from dialects.base import Dialect, Event, Rejected, WebhookRequest
from dialects.registry import BY_NAME, detect, parse_as

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """A webhook we accept: its dialect, the events it carries, and the items left out."""

    dialect: Dialect
    events: list[Event]
    rejected: list[Rejected]


class Receiver:
    """Detects the dialect, checks it against WHATSAPP_PROVIDER and verifies its signature."""

    def __init__(self, settings: Settings):
        self.provider = settings.whatsapp_provider
        self.mode = settings.whatsapp_signature_mode
        self.app_secrets = settings.whatsapp_app_secrets
        self.token = settings.whatsapp_token

    def accept(self, request: WebhookRequest, signer: Dialect | None = None) -> Accepted:
        """The dialect and events of `request`, or a `WebhookError` saying why not.

        The signature is checked on the raw body before anything parses it: an unsigned or
        forged request costs one HMAC, whatever it holds. `signer`: the dialect that
        `authenticate` already found, for a request checked before its body was copied.
        """
        dialect = (signer or self.authenticate(request)
                   or (BY_NAME[self.provider] if self.provider else None))
        if dialect is not None:
            events = parse_as(dialect, request)
        else:
            dialect, events = detect(request)
        if self.provider and dialect.name != self.provider:
            raise ProviderMismatch(
                f"payload is {dialect.name} but WHATSAPP_PROVIDER is {self.provider}")
        rejected = [event for event in events if isinstance(event, Rejected)]
        if not rejected:
            return Accepted(dialect, events, [])
        details = [item.to_dict() for item in rejected]
        if len(rejected) == len(events):
            raise NoValidItem(f"no valid message or status in this {dialect.name} payload",
                              details=details)
        for item in details:
            log.warning("item rejected, the rest accepted dialect=%s at=%s errors=%s",
                        dialect.name, item["at"], item["errors"])
        return Accepted(dialect, [e for e in events if not isinstance(e, Rejected)], rejected)

    def authenticate(self, request: WebhookRequest) -> Dialect | None:
        """The dialect whose signature the request carries and passes; `None` when
        signatures are off, or failed in report mode (the body then says its dialect)."""
        if self.mode == "off":
            return None
        try:
            return self._signed_by(request)
        except WebhookError as err:
            if self.mode == "enforce":
                raise
            log.warning("signature check failed, accepted in report mode reason=%s", err.code)
            return None

    def precheck(self, headers: Mapping[str, str]) -> None:
        """Refuse, from its headers alone, a request that carries no signature we could check
        (before its body is even read); in report mode, let it through."""
        if self.mode != "enforce":
            return
        self._signers(WebhookRequest(b"", headers=headers))

    def _signers(self, request: WebhookRequest) -> list[Dialect]:
        ours = [BY_NAME[self.provider]] if self.provider else list(BY_NAME.values())
        signed = [d for d in ours if request.header(d.signature_header)]
        if not signed:
            others = [d.name for d in BY_NAME.values() if request.header(d.signature_header)]
            if others:
                raise ProviderMismatch(f"request is signed as {others[0]} but "
                                       f"WHATSAPP_PROVIDER is {self.provider}")
            raise SignatureMissing("no provider signature header (" + ", ".join(
                d.signature_header for d in ours) + ")")
        return signed

    def _signed_by(self, request: WebhookRequest) -> Dialect:
        failure: WebhookError | None = None
        for dialect in self._signers(request):
            secrets = dialect.signing_secrets(self.app_secrets, self.token)
            try:
                if not secrets:
                    raise SignatureInvalid(
                        f"no secret is configured to verify {dialect.name} webhooks")
                dialect.verify(request, secrets)
                return dialect
            except WebhookError as err:
                failure = failure or err
        raise failure
