"""The outbound side every dialect shares: one POST, one timeout, one way to read the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import requests


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one outbound text."""

    accepted: bool
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    http_status: int | None = None


@dataclass(frozen=True)
class ClientSettings:
    """The provider credentials and endpoint a client sends with."""

    base_url: str | None = None
    token: str | None = None
    phone_number_id: str | None = None
    account_id: str | None = None
    timeout: tuple[float, float] = (3.05, 10.0)


class ProviderClient:
    """Sends text through one provider. Subclasses say what to POST and how to read the answer.

    A send is never repeated here: a POST that may have been delivered must not be re-sent, or the
    person sees the answer twice.
    """

    dialect: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    required: ClassVar[tuple[str, ...]] = ("token",)

    def __init__(self, settings: ClientSettings, session: requests.Session | None = None):
        self.settings = settings
        self.base_url = settings.base_url or self.default_base_url
        self.session = session or requests.Session()

    @property
    def missing(self) -> list[str]:
        """Settings this client lacks; sending is disabled while any is missing."""
        names = [f"WHATSAPP_{name.upper()}" for name in self.required
                 if not getattr(self.settings, name)]
        return names if self.base_url else ["WHATSAPP_API_BASE_URL", *names]

    def send_text(self, to_wa_id: str, text: str, business_number: str | None = None) -> SendResult:
        """POST one text to `to_wa_id`; never raises for provider or network failures."""
        if self.missing:
            return SendResult(False, error_code="not_configured",
                              error_message=f"sending disabled: {', '.join(self.missing)} not set")
        try:
            request = self.build_request(to_wa_id, text, business_number)
        except ValueError as err:
            return SendResult(False, error_code="not_configured", error_message=str(err))
        try:
            response = self.session.post(timeout=self.settings.timeout, **request)
        except requests.Timeout as err:
            return SendResult(False, error_code="timeout", error_message=_describe(err))
        except requests.RequestException as err:
            return SendResult(False, error_code="connection_error", error_message=_describe(err))
        body = _json_or_empty(response)
        if response.ok:
            return SendResult(True, message_id=self.message_id(body),
                              http_status=response.status_code)
        code, message = self.error_details(body)
        return SendResult(False, error_code=code or f"http_{response.status_code}",
                          error_message=message or response.reason,
                          http_status=response.status_code)

    def build_request(self, to_wa_id: str, text: str, business_number: str | None) -> dict:
        """Keyword arguments for `requests.Session.post` (url, json/data, headers, auth)."""
        raise NotImplementedError

    def message_id(self, body: dict[str, Any]) -> str | None:
        """The provider's id for the accepted message."""
        raise NotImplementedError

    def error_details(self, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """The provider's own error code and message from an error answer."""
        raise NotImplementedError


def _json_or_empty(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _describe(err: Exception) -> str:
    """A short error text without URLs' query strings or credentials."""
    return type(err).__name__
