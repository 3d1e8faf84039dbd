"""What every dialect shares: the request and event value objects, the base schema, `Dialect`."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, ClassVar
from urllib.parse import parse_qs

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from app.errors import MalformedBody, PayloadTooLarge, SignatureInvalid, SignatureMissing

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

MAX_FORM_FIELDS = 1000
# A lone surrogate ("\ud83d" in JSON) is valid JSON but no character: no store can keep it.
SURROGATE = re.compile("[\ud800-\udfff]")
# UTF-8 cannot carry one, so only a JSON escape can: a body without any needs no cleaning.
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")

# A business-scoped user id: a person with a WhatsApp username may come with no phone number,
# only this (`US.13491208655302741918`; a parent one, shared by a business's portfolios,
# `US.ENT.11815799212886844830`). It is their `wa_id` then, and what answers are sent to.
BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")

# Kinds that are acknowledged and logged but get no "text only" notice.
SILENT_KINDS = frozenset({"reaction", "edit", "revoke", "system", "request_welcome"})


def clean(value: Any) -> Any:
    """`value` with every lone surrogate in its strings (keys included) replaced by U+FFFD."""
    if isinstance(value, str):
        return SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


@dataclass(frozen=True)
class WebhookRequest:
    """A webhook POST as received, independent of the web framework."""

    body: bytes | memoryview  # a view while its signature is checked, then bytes
    content_type: str = JSON
    headers: Mapping[str, str] = field(default_factory=dict)
    url: str = ""

    def header(self, name: str) -> str | None:
        """Look up a header by case-insensitive name (the first, if repeated)."""
        return self._by_lower_name.get(name.lower())

    @cached_property
    def _by_lower_name(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for key, value in self.headers.items():
            found.setdefault(key.lower(), value)
        return found

    def json(self) -> object:
        """The body parsed as JSON, or `MalformedBody` (naming where, never quoting it)."""
        try:
            data = json.loads(self.body)
            return clean(data) if SURROGATE_ESCAPE.search(self.body) else data
        except json.JSONDecodeError as err:
            raise MalformedBody(f"body is not valid JSON: {err.msg} at character {err.pos}"
                                ) from None
        except (UnicodeDecodeError, ValueError) as err:
            raise MalformedBody(f"body is not valid JSON: {type(err).__name__}") from None
        except RecursionError:
            raise MalformedBody("body is not valid JSON: nested too deeply") from None

    def form(self) -> dict[str, list[str]]:
        """The body parsed as form data (every value of every name), or `MalformedBody`."""
        try:
            return clean(parse_qs(str(self.body, "utf-8"), keep_blank_values=True,
                                  strict_parsing=True, max_num_fields=MAX_FORM_FIELDS))
        except (UnicodeDecodeError, ValueError):
            # parse_qs's message quotes the offending field: a reply must not echo the body.
            raise MalformedBody("body is not valid form data") from None


@dataclass(frozen=True)
class InboundMessage:
    """One message a person sent, normalized. `kind` is `text` or what else it was."""

    dialect: str
    message_id: str
    wa_id: str
    kind: str
    text: str = ""
    business_number: str | None = None
    profile_name: str | None = None
    sent_at: datetime | None = None

    @property
    def is_text(self) -> bool:
        """Whether the bot should answer it."""
        return self.kind == "text"

    @property
    def wants_notice(self) -> bool:
        """Whether a non-text message deserves the "text only, please" notice."""
        return not self.is_text and self.kind not in SILENT_KINDS


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status for a message we sent (sent, delivered, read, failed...)."""

    dialect: str
    message_id: str
    status: str
    recipient: str | None = None
    error_code: str | None = None
    error_title: str | None = None


@dataclass(frozen=True)
class Rejected:
    """An item that its schema refused, inside a payload whose dialect is known: the rest of
    the payload is still accepted. `at` is the item's path in the body."""

    at: str
    errors: object

    def under(self, path: str) -> Rejected:
        """The same item, its path prefixed with its parent's."""
        return replace(self, at=f"{path}.{self.at}")

    def to_dict(self) -> dict[str, object]:
        """As named in our answers: `{"at", "errors"}`."""
        return {"at": self.at, "errors": self.errors}


Event = InboundMessage | StatusUpdate


class Items(fields.List):
    """A list loaded item by item: an item the inner field refuses becomes a `Rejected` in its
    place, so one malformed message never costs the valid ones beside it."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list:
        if not isinstance(value, list):
            raise self.make_error("invalid")
        items = []
        for index, item in enumerate(value):
            try:
                items.append(self.inner.deserialize(item, **kwargs))
            except ValidationError as err:
                items.append(Rejected(f"{self.data_key or attr or ''}[{index}]", err.messages))
        return items


class BaseSchema(Schema):
    """Every schema inherits this: `unknown` does not propagate to nested schemas."""

    class Meta:
        unknown = EXCLUDE


def text_kind(text: str | None) -> tuple[str, str]:
    """(kind, text) for a text message: whitespace-only text is the non-text kind `blank`."""
    text = (text or "").strip()
    return ("text", text) if text else ("blank", "")


def unix_time(value: str | None) -> datetime | None:
    """Parse a provider's seconds-since-epoch string."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


class Dialect:
    """A provider's inbound side: detection, normalization, authenticity, acknowledgement."""

    name: ClassVar[str]
    media_type: ClassVar[str]
    max_text_length: ClassVar[int]
    signature_header: ClassVar[str]
    schema: ClassVar[type[Schema]]
    # A signature is checked on bodies up to this size (one whose check parses the body, as
    # Twilio's does, says less).
    max_signed_body: ClassVar[int] = 4 * 1024 * 1024

    def __init__(self):
        # One instance, reused: building a schema (and its nested ones) costs more than loading.
        self._loader = self.schema()

    def parse(self, request: WebhookRequest) -> list[Event | Rejected]:
        """Load the body with this dialect's schema; `ValidationError` means "not mine".
        The events come in payload order, a refused item as a `Rejected` in its place."""
        data = request.form() if self.media_type == FORM else request.json()
        return self._loader.load(data)

    def signing_secrets(self, app_secrets: tuple[str, ...], token: str | None) -> tuple[str, ...]:
        """The secrets this provider signs with (the app secrets, unless overridden)."""
        return app_secrets

    def expected_signatures(self, request: WebhookRequest, secret: str) -> Iterable[str]:
        """The header values a genuine request could carry: `sha256=` + hex HMAC of the body."""
        digest = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        return (f"sha256={digest}",)

    def verify(self, request: WebhookRequest, secrets: tuple[str, ...]) -> None:
        """Raise `SignatureMissing` or `SignatureInvalid` unless one secret signed the request."""
        if len(request.body) > self.max_signed_body:
            raise PayloadTooLarge(f"{self.name} posts are never over {self.max_signed_body} "
                                  "bytes")
        provided = request.header(self.signature_header)
        if not provided:
            raise SignatureMissing(f"{self.signature_header} header is missing")
        for secret in secrets:
            for expected in self.expected_signatures(request, secret):
                if hmac.compare_digest(expected.encode(), provided.strip().encode()):
                    return
        raise SignatureInvalid(f"{self.signature_header} does not match the body")

    def acknowledgement(self, accepted: int, rejected: Iterable[Rejected] = ()) -> tuple[str, str]:
        """The body and content type of the 200 answer, naming any item left out."""
        body: dict[str, object] = {"status": "accepted", "events": accepted}
        if refused := [item.to_dict() for item in rejected]:
            body["rejected"] = refused
        return json.dumps(body), JSON
