"""Vonage for real: its inbound JWT checked against the body, outbound JWTs minted per send."""

from __future__ import annotations

import hashlib
import time
import warnings

import jwt
import pytest
import requests_mock as requests_mock_lib
from cryptography.hazmat.primitives import serialization

import dialects.vonage
from app.errors import SignatureInvalid
from dialects.base import WebhookRequest
from dialects.registry import BY_NAME
from tests.cases import APP_SECRET, BASE_URL, PHONE_NUMBER_ID, VonageCase, private_key_pem
from tests.test_dialects import as_request, client_for

case = VonageCase()
vonage = BY_NAME["vonage"]


def signed(claims: dict, secret: str = APP_SECRET) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)
        return "Bearer " + jwt.encode(claims, secret, "HS256")


@pytest.mark.parametrize("claims", [
    {"iat": "now", "payload_hash": "0" * 64},  # another body
    {"iat": "old", "payload_hash": "body"},  # a replay
    {"payload_hash": "body"},  # no iat
    {"iat": "now"},  # no payload hash
])
def test_a_forged_or_replayed_vonage_post_is_refused(claims):
    request = as_request(case, case.payload("text"))
    body_hash = hashlib.sha256(request.body).hexdigest()
    values = {"now": int(time.time()), "old": int(time.time()) - 3600, "body": body_hash}
    forged = {k: values.get(v, v) for k, v in claims.items()}
    headers = {**request.headers, "Authorization": signed(forged)}
    with pytest.raises(SignatureInvalid):
        vonage.verify(WebhookRequest(request.body, request.content_type, headers, request.url),
                      (APP_SECRET,))


def test_sends_keep_working_past_the_tokens_lifetime(requests_mock, monkeypatch):
    requests_mock.post(requests_mock_lib.ANY, status_code=202, json={"message_uuid": "u1"})
    client = client_for(case)
    public = serialization.load_pem_private_key(private_key_pem().encode(), None).public_key()
    start = time.time()
    for minutes in (0, 16, 60 * 24):
        now = start + minutes * 60
        monkeypatch.setattr(dialects.vonage.time, "time", lambda now=now: now)
        assert client.send_text("34600000001", "hola", None).accepted
        token = requests_mock.request_history[-1].headers["Authorization"].split(" ")[1]
        claims = jwt.decode(token, public, algorithms=["RS256"],
                            options={"verify_exp": False, "verify_iat": False})
        assert claims["iat"] <= now < claims["exp"]
        assert claims["application_id"] and claims["jti"]
    assert requests_mock.request_history[-1].url == f"{BASE_URL}/messages"
    assert requests_mock.request_history[-1].json()["from"] == PHONE_NUMBER_ID


def test_a_key_that_is_no_rsa_key_sends_nothing(requests_mock):
    result = client_for(case, private_key="not a key").send_text("34600000001", "hola", None)
    assert (result.accepted, result.kind, requests_mock.call_count) == (
        False, "not_configured", 0)
