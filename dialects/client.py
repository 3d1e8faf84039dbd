"""The outbound side every dialect shares: one POST, one timeout, one way to read the answer.

Every refusal is sorted into one small set of kinds, whatever the provider:

- `throttled`: slow down; the provider did not accept it, so it is safe to retry later;
- `window_closed`: the person has not written in 24 hours (a template would be needed);
- `auth`: our credentials were rejected;
- `invalid`: the request or recipient is wrong;
- `undeliverable`: the provider cannot deliver to this person;
- `transient`: a 5xx, a timeout or a connection error; safe to retry only when the request
  cannot have reached the provider, or the provider said it did not accept it (503).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Client settings whose variable is not simply WHATSAPP_<NAME>.
SETTING_NAMES = {"private_key": "WHATSAPP_PRIVATE_KEY_PATH"}


def path_segment(name: str, value: str) -> str:
    """`value`, checked to be one harmless URL path segment (letters, digits, `_`, `-`).

    An identifier that reaches a URL may come from a webhook: "../../admin/x?x=" must never
    steer a request, carrying our token, anywhere but the provider's messages endpoint.
    """
    if not SEGMENT.fullmatch(value or ""):
        raise ValueError(f"{name} is not a valid identifier")
    return value


@dataclass(frozen=True)
class SendResult:
    """What the provider said about one outbound text."""

    accepted: bool
    message_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    http_status: int | None = None
    kind: str | None = None
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class ClientSettings:
    """The provider credentials and endpoint a client sends with."""

    base_url: str | None = None
    token: str | None = None
    phone_number_id: str | None = None
    account_id: str | None = None
    timeout: tuple[float, float] = (3.05, 10.0)
    private_key: str | None = field(default=None, repr=False)


class ProviderClient:
    """Sends text through one provider. Subclasses say what to POST and how to read the answer.

    A send is never repeated here: a POST that may have been delivered must not be re-sent, or the
    person sees the answer twice.
    """

    dialect: ClassVar[str]
    default_base_url: ClassVar[str | None] = None
    required: ClassVar[tuple[str, ...]] = ("token",)
    # The provider's own error codes, by kind; HTTP statuses decide the rest.
    error_kinds: ClassVar[dict[str, str]] = {}
    # Whether `mark_read` can mark a message read and show "typing...".
    read_receipts: ClassVar[bool] = False

    def __init__(self, settings: ClientSettings, session: requests.Session | None = None):
        self.settings = settings
        self.base_url = settings.base_url or self.default_base_url
        self.session = session or requests.Session()
        if session is None and self.base_url:
            # requests reads proxies and CA bundles from the environment on every request
            # (0.4 ms each); every request here goes to one host, so read them once.
            found = self.session.merge_environment_settings(self.base_url, {}, None, None, None)
            self.session.trust_env = False
            self.session.proxies.update(found["proxies"])
            self.session.verify, self.session.cert = found["verify"], found["cert"]

    @property
    def missing(self) -> list[str]:
        """Settings this client lacks; sending is disabled while any is missing."""
        names = [SETTING_NAMES.get(name, f"WHATSAPP_{name.upper()}") for name in self.required
                 if not getattr(self.settings, name)]
        return names if self.base_url else ["WHATSAPP_API_BASE_URL", *names]

    def send_text(self, to_wa_id: str, text: str, business_number: str | None = None) -> SendResult:
        """POST one text to `to_wa_id`; never raises for provider or network failures."""
        return self._post(lambda: self.build_request(to_wa_id, text, business_number))

    def mark_read(self, message_id: str, business_number: str | None,
                  typing: bool) -> SendResult:
        """Mark an inbound message read (and show typing), where `read_receipts` says the
        provider has them."""
        raise NotImplementedError

    def health_check(self) -> SendResult | None:
        """One cheap authenticated read that proves our credentials work; None when this
        provider has none, or sending is not configured. Never raises."""
        if self.missing:
            return None
        try:
            request = self.health_request()
        except ValueError:
            return None
        if request is None:
            return None
        return self._post(lambda: request, method="GET")

    def health_request(self) -> dict | None:
        """Keyword arguments for the health check's GET, or None (the default: no check)."""
        return None

    def _post(self, build: Callable[[], dict[str, Any]], method: str = "POST") -> SendResult:
        """Send the request `build` makes and read the provider's answer; never raises."""
        if self.missing:
            return SendResult(False, error_code="not_configured", kind="not_configured",
                              error_message=f"sending disabled: {', '.join(self.missing)} not set")
        try:
            request = build()
            if not request["url"].startswith(f"{self.base_url}/"):
                raise ValueError("the request would leave the provider's base URL")
        except ValueError as err:
            return SendResult(False, error_code="not_configured", kind="not_configured",
                              error_message=str(err))
        try:
            response = self.session.request(method, timeout=self.settings.timeout, **request)
        except requests.RequestException as err:
            return _network_failure(err)
        body = _json_or_empty(response)
        if response.ok:
            return SendResult(True, message_id=self.message_id(body),
                              http_status=response.status_code)
        code, message = self.error_details(body)
        kind = self.classify(response.status_code, code)
        return SendResult(False, error_code=code or f"http_{response.status_code}",
                          error_message=message or response.reason,
                          http_status=response.status_code, kind=kind,
                          retryable=kind == "throttled" or response.status_code == 503,
                          retry_after=_retry_after(response.headers.get("Retry-After")))

    def classify(self, http_status: int | None, code: str | None) -> str:
        """The kind of a refusal: the provider's code first, then the HTTP status."""
        if code in self.error_kinds:
            return self.error_kinds[code]
        if http_status == 429:
            return "throttled"
        if http_status in (401, 403):
            return "auth"
        if http_status is not None and 400 <= http_status < 500:
            return "invalid"
        return "transient"

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


def _network_failure(err: requests.RequestException) -> SendResult:
    """A send that got no answer: retryable only if it cannot have reached the provider."""
    reason = getattr(err.args[0], "reason", None) if err.args else None
    never_reached = isinstance(err, requests.ConnectTimeout) or isinstance(
        reason, (NewConnectionError, ConnectTimeoutError))
    code = "timeout" if isinstance(err, requests.Timeout) else "connection_error"
    # The type name only: the exception's text can carry the URL.
    return SendResult(False, error_code=code, error_message=type(err).__name__,
                      kind="transient", retryable=never_reached)


def _retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
