"""One small class per dialect: how its provider posts, signs, and expects our sends.

The contract tests run over `CASES`, so a new dialect gets the whole suite by adding a case here
(and its payload files under `tests/payloads/<name>/`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
import warnings
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import jwt
import jwt.warnings

PAYLOADS = Path(__file__).parent / "payloads"
BASE_URL = "https://provider.test"
WEBHOOK_URL = "http://localhost/api/v1/whatsapp/webhook"
APP_SECRET = "app-secret-1"
TOKEN = "provider-token"
PHONE_NUMBER_ID = "15550001111"
ACCOUNT_ID = "AC0123456789abcdef0123456789abcdef"


class Case:
    """What every dialect's provider does; subclasses fill in the differences."""

    name: str
    content_type = "application/json"
    signature_header: str
    send_url: str
    # payload name -> (kind, gets the "text only" notice)
    non_text: dict[str, tuple[str, bool]]
    statuses: dict[str, tuple[str, str, str | None]]  # payload -> (message id, status, code)
    error_status: int
    error_body: dict
    error_code: str
    max_len: int
    # The client setting that is its credential, and the variable that sets it.
    credential = ("token", "WHATSAPP_TOKEN")
    # Dialects that post the very same body (told apart by their signatures).
    same_body: tuple[str, ...] = ()

    def payload(self, name: str) -> dict:
        """A stored payload, delivered now (its provider timestamps set to the present)."""
        payload = json.loads((PAYLOADS / self.name / f"{name}.json").read_text(encoding="utf-8"))
        return self.sent_at(payload, datetime.now(UTC))

    def sent_at(self, payload: dict, moment: datetime) -> dict:
        """`payload` as if the person had sent it at `moment`."""
        return payload

    def text(self, body: str = "hello", wa_id: str = "34600000001",
             message_id: str = "m-1") -> dict:
        """A text message payload with the given fields."""
        raise NotImplementedError

    def renamed(self, payload: dict, suffix: str) -> dict:
        """`payload` with `suffix` added to the id of every message in it (not of statuses,
        which name messages we sent)."""
        raise NotImplementedError

    def with_text(self, payload: dict, body: str) -> dict:
        """`payload` with its (first) text message saying `body`."""
        raise NotImplementedError

    def encode(self, payload: dict) -> bytes:
        """The raw body the provider posts."""
        return json.dumps(payload, ensure_ascii=False).encode()

    def signature(self, body: bytes, secret: str, url: str) -> str:
        """The signature header value, computed the provider's way."""
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    def secret(self) -> str:
        """The secret the provider signs with."""
        return APP_SECRET

    def headers(self, body: bytes, url: str = WEBHOOK_URL, secret: str | None = None) -> dict:
        """Content type and a valid signature."""
        return {"Content-Type": self.content_type,
                self.signature_header: self.signature(body, secret or self.secret(), url)}

    def sent_text(self, request) -> tuple[str, str]:
        """(to, text) of an outbound request we made."""
        body = request.json()
        return body["to"], body["text"]


class CloudApiCase(Case):
    name = "cloud_api"
    signature_header = "X-Hub-Signature-256"
    send_url = f"{BASE_URL}/106540352242922/messages"
    max_len = 4096
    non_text = {
        "image": ("image", True), "audio": ("audio", True), "video": ("video", True),
        "document": ("document", True), "sticker": ("sticker", True),
        "location": ("location", True), "contacts": ("contacts", True),
        "order": ("order", True), "unsupported": ("unsupported", True),
        "whitespace": ("blank", True), "reaction": ("reaction", False),
        "edit": ("edit", False), "revoke": ("revoke", False), "system": ("system", False),
    }
    statuses = {"status_delivered": ("wamid.ours1", "delivered", None),
                "status_failed": ("wamid.ours2", "failed", "131047")}
    error_status = 400
    error_body = {"error": {
        "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
        "error_data": {"messaging_product": "whatsapp", "details": "Message failed to send "
                       "because more than 24 hours have passed since the customer last replied"},
        "fbtrace_id": "AbCdEf123"}}
    error_code = "131047"

    def sent_at(self, payload, moment):
        for entry in payload["entry"]:
            for change in entry["changes"]:
                for message in change["value"].get("messages", []):
                    message["timestamp"] = str(int(moment.timestamp()))
        return payload

    def _messages(self, payload):
        return [message for entry in payload["entry"] for change in entry["changes"]
                for message in change["value"].get("messages", [])]

    def renamed(self, payload, suffix):
        for message in self._messages(payload):
            message["id"] += suffix
        return payload

    def with_text(self, payload, body):
        self._messages(payload)[0]["text"] = {"body": body}
        return payload

    def text(self, body="hello", wa_id="34600000001", message_id="m-1"):
        payload = self.payload("text")
        value = payload["entry"][0]["changes"][0]["value"]
        value["contacts"][0]["wa_id"] = wa_id
        value["messages"][0].update({"from": wa_id, "id": message_id, "text": {"body": body}})
        return payload

    def sent_text(self, request):
        body = request.json()
        return body["to"], body["text"]["body"]


class TwilioCase(Case):
    name = "twilio"
    content_type = "application/x-www-form-urlencoded"
    signature_header = "X-Twilio-Signature"
    send_url = f"{BASE_URL}/2010-04-01/Accounts/{ACCOUNT_ID}/Messages.json"
    max_len = 1600
    non_text = {
        "image": ("image", True), "audio": ("audio", True), "document": ("document", True),
        "location": ("location", True), "whitespace": ("blank", True),
    }
    statuses = {"status_delivered": ("SMours1", "delivered", None),
                "status_failed": ("SMours2", "failed", "63016")}
    error_status = 400
    error_body = {"code": 21211, "message": "The 'To' number whatsapp:+34600000001 is not a "
                  "valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211",
                  "status": 400}
    error_code = "21211"

    def text(self, body="hello", wa_id="34600000001", message_id="m-1"):
        payload = self.payload("text")
        payload.update({"Body": body, "WaId": wa_id, "From": f"whatsapp:+{wa_id}",
                        "MessageSid": message_id, "SmsSid": message_id,
                        "SmsMessageSid": message_id})
        return payload

    def renamed(self, payload, suffix):
        if "Body" in payload or "NumMedia" in payload:  # a message, not a status callback
            for key in ("MessageSid", "SmsSid", "SmsMessageSid"):
                if key in payload:
                    payload[key] += suffix
        return payload

    def with_text(self, payload, body):
        return {**payload, "Body": body}

    def encode(self, payload):
        return urlencode(payload).encode()

    def secret(self):
        return TOKEN

    def signature(self, body, secret, url):
        params = parse_qs(body.decode(), keep_blank_values=True)
        data = url + "".join(k + v for k in sorted(params) for v in sorted(params[k]))
        return base64.b64encode(hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
                                ).decode()

    def sent_text(self, request):
        form = parse_qs(request.text)
        return form["To"][0], form["Body"][0]


class GenericCase(Case):
    name = "generic"
    same_body = ("vonage",)
    signature_header = "X-Signature-256"
    send_url = f"{BASE_URL}/messages"
    max_len = 4096
    non_text = {
        "image": ("image", True), "audio": ("audio", True), "video": ("video", True),
        "file": ("file", True), "sticker": ("sticker", True), "location": ("location", True),
        "vcard": ("vcard", True), "order": ("order", True), "unsupported": ("unsupported", True),
        "whitespace": ("blank", True), "reaction": ("reaction", False),
    }
    statuses = {"status_delivered": ("bbbbbbbb-0000-4000-8000-000000000001", "delivered", None),
                "status_failed": ("bbbbbbbb-0000-4000-8000-000000000002", "failed", "1050")}
    error_status = 422
    error_body = {"type": "https://developer.vonage.com/api-errors/messages#1150",
                  "title": "Invalid params",
                  "detail": "The value of one or more parameters is invalid.",
                  "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf"}
    error_code = "1150"

    def sent_at(self, payload, moment):
        if "timestamp" in payload:
            payload["timestamp"] = moment.isoformat().replace("+00:00", "Z")
        return payload

    def text(self, body="hello", wa_id="34600000001", message_id="m-1"):
        return {**self.payload("text"), "text": body, "from": wa_id, "message_uuid": message_id}

    def renamed(self, payload, suffix):
        for key in ("message_uuid", "id"):
            if key in payload and "status" not in payload:
                payload[key] += suffix
        return payload

    def with_text(self, payload, body):
        return {**payload, "text": body}


class VonageCase(GenericCase):
    """Vonage's Messages API: the generic body, signed with a bearer JWT (HS256 under the
    signature secret, `payload_hash` the SHA-256 of the body), as Vonage documents it."""

    name = "vonage"
    signature_header = "Authorization"
    credential = ("private_key", "WHATSAPP_PRIVATE_KEY_PATH")
    same_body = ("generic",)

    def signature(self, body, secret, url):
        now = int(time.time())
        claims = {"iat": now, "jti": uuid.uuid4().hex, "iss": "Vonage", "api_key": "abcd1234",
                  "application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                  "payload_hash": hashlib.sha256(body).hexdigest()}
        with warnings.catch_warnings():  # our test secret is short; Vonage's are not
            warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
            return "Bearer " + jwt.encode(claims, secret, "HS256")


CASES = [CloudApiCase(), TwilioCase(), GenericCase(), VonageCase()]
BY_NAME = {case.name: case for case in CASES}


def post(client, case, payload: dict, *, url: str = WEBHOOK_URL, secret: str | None = None,
         signed: bool = True, headers: dict | None = None, wait: bool = True, **kwargs):
    """POST `payload` to the webhook the way `case`'s provider does; by default, wait until
    the answers, which run in the background, are done."""
    body = case.encode(payload)
    all_headers = case.headers(body, url, secret)
    if not signed:
        del all_headers[case.signature_header]
    all_headers.update(headers or {})
    response = client.post(url, data=body, headers=all_headers, **kwargs)
    if wait:
        client.application.extensions["dispatcher"].wait_idle()
    return response


def is_receipt(request) -> bool:
    """A Cloud API read receipt / typing indicator, rather than an answer."""
    return "status=read" in (request.text or "").replace('"', "").replace(": ", "=")


def sends(requests_mock) -> list:
    """The answers sent to the mocked providers (read receipts left out)."""
    return [r for r in requests_mock.request_history
            if r.method == "POST" and not is_receipt(r)]


def receipts(requests_mock) -> list:
    """The read receipts (with typing indicators) sent to the mocked Cloud API."""
    return [r for r in requests_mock.request_history if r.method == "POST" and is_receipt(r)]


@lru_cache(maxsize=1)
def private_key_pem() -> str:
    """An RSA private key, as a Vonage application has (made once per run)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()
