"""Vonage's Messages API: the generic flat JSON, signed with a JWT, sent with a fresh JWT.

Inbound, Vonage signs each webhook with `Authorization: Bearer <JWT>`: HS256 under the
account's signature secret (`WHATSAPP_APP_SECRET`), with a `payload_hash` claim holding the
SHA-256 of the body. Outbound, each request carries a JWT of our own, RS256 under the
application's private key (`WHATSAPP_PRIVATE_KEY_PATH`) for its id (`WHATSAPP_ACCOUNT_ID`),
minted for that request: Vonage's tokens expire (15 minutes by default), so a fixed one would
stop every send.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
import warnings
from typing import Any

import jwt
import jwt.warnings

from app.errors import SignatureInvalid, SignatureMissing
from dialects.base import WebhookRequest
from dialects.generic import Generic, GenericClient

NAME = "vonage"
# A webhook signed longer ago than this is a replay, not a delivery.
MAX_TOKEN_AGE = 5 * 60
TOKEN_LIFETIME = 15 * 60


class Vonage(Generic):
    """Vonage's Messages API webhooks (the same body as `generic`, a different signature)."""

    name = NAME
    signature_header = "Authorization"

    def verify(self, request: WebhookRequest, secrets: tuple[str, ...]) -> None:
        """A bearer JWT that one secret signed, issued lately, for exactly this body."""
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SignatureMissing("Authorization: Bearer <JWT> is missing")
        for secret in secrets:
            try:
                with warnings.catch_warnings():  # the secret's length is Vonage's choice
                    warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
                    claims = jwt.decode(token.strip(), secret, algorithms=["HS256"],
                                        options={"require": ["iat", "payload_hash"]})
            except (jwt.InvalidTokenError, OverflowError, ValueError):
                continue
            digest = hashlib.sha256(request.body).hexdigest()
            if not hmac.compare_digest(str(claims["payload_hash"]).encode(), digest.encode()):
                raise SignatureInvalid("the JWT's payload_hash does not match the body")
            if not isinstance(claims["iat"], int | float) or abs(
                    time.time() - claims["iat"]) > MAX_TOKEN_AGE:
                raise SignatureInvalid("the JWT was not issued in the last 5 minutes")
            return
        raise SignatureInvalid("the JWT is not signed with the signature secret")


class VonageClient(GenericClient):
    """`POST {base}/messages` (base `https://api.nexmo.com/v1`) with a JWT minted per send."""

    dialect = NAME
    default_base_url = "https://api.nexmo.com/v1"
    required = ("account_id", "private_key", "phone_number_id")

    def build_request(self, to_wa_id: str, text: str, business_number: str | None) -> dict:
        """Vonage's WhatsApp text message, authorized by a token minted now."""
        request = super().build_request(to_wa_id, text, business_number)
        request["headers"] = {"Authorization": f"Bearer {self.application_token()}"}
        return request

    def application_token(self) -> str:
        """A fresh RS256 application JWT (`application_id`, `iat`, `exp`, `jti`)."""
        now = int(time.time())
        claims: dict[str, Any] = {"application_id": self.settings.account_id, "iat": now,
                                  "exp": now + TOKEN_LIFETIME, "jti": uuid.uuid4().hex}
        try:
            return jwt.encode(claims, self.settings.private_key, algorithm="RS256")
        except (ValueError, TypeError, jwt.exceptions.PyJWTError) as err:  # not an RSA key
            raise ValueError(f"WHATSAPP_PRIVATE_KEY_PATH holds no usable key: "
                             f"{type(err).__name__}") from None
