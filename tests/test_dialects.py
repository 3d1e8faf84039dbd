"""The contract every dialect meets, run over the registry: a new dialect joins this suite."""

from __future__ import annotations

import pytest
import requests
from marshmallow import ValidationError

from app.errors import MalformedBody, SignatureInvalid, SignatureMissing
from dialects.base import InboundMessage, StatusUpdate, WebhookRequest
from dialects.client import ClientSettings
from dialects.registry import BY_NAME, CLIENTS, detect
from tests.cases import (
    ACCOUNT_ID,
    APP_SECRET,
    BASE_URL,
    CASES,
    PHONE_NUMBER_ID,
    TOKEN,
    WEBHOOK_URL,
    private_key_pem,
)

NON_TEXT = [(case, name, kind, notice) for case in CASES
            for name, (kind, notice) in case.non_text.items()]
STATUSES = [(case, name, *expected) for case in CASES
            for name, expected in case.statuses.items()]


def as_request(case, payload: dict, secret: str | None = None, signed: bool = True,
               url: str = WEBHOOK_URL) -> WebhookRequest:
    body = case.encode(payload)
    headers = case.headers(body, url, secret)
    if not signed:
        del headers[case.signature_header]
    return WebhookRequest(body, case.content_type, headers, url)


def client_for(case, session=None, **overrides):
    settings = ClientSettings(**{"base_url": BASE_URL, "token": TOKEN,
                                 "phone_number_id": PHONE_NUMBER_ID,
                                 "account_id": ACCOUNT_ID, "private_key": private_key_pem(),
                                 **overrides})
    return CLIENTS[case.name](settings, session)


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def case(request):
    return request.param


def test_every_dialect_has_a_case():
    assert sorted(BY_NAME) == sorted(case.name for case in CASES)


def test_text_is_detected_and_normalized(case):
    dialect, events = detect(as_request(case, case.payload("text")))
    assert dialect.name == case.name
    [event] = events
    assert isinstance(event, InboundMessage)
    assert (event.wa_id, event.kind, event.text) == ("34600000001", "text", "¿Qué puedes hacer? 🤖")
    assert event.is_text and event.message_id


@pytest.mark.parametrize("case, name, kind, notice", NON_TEXT,
                         ids=[f"{c.name}-{n}" for c, n, *_ in NON_TEXT])
def test_non_text_is_understood_not_answered(case, name, kind, notice):
    _, [event] = detect(as_request(case, case.payload(name)))
    assert (event.kind, event.is_text, event.wants_notice) == (kind, False, notice)
    assert event.wa_id == "34600000001"


@pytest.mark.parametrize("case, name, message_id, status, code", STATUSES,
                         ids=[f"{c.name}-{n}" for c, n, *_ in STATUSES])
def test_statuses_are_status_events(case, name, message_id, status, code):
    _, [event] = detect(as_request(case, case.payload(name)))
    assert isinstance(event, StatusUpdate)
    assert (event.message_id, event.status, event.error_code) == (message_id, status, code)


def test_no_other_dialect_claims_the_payload(case):
    request = as_request(case, case.payload("text"))
    for name, dialect in BY_NAME.items():
        if name != case.name and name not in case.same_body:
            with pytest.raises((ValidationError, MalformedBody)):
                dialect.parse(request)


def test_good_signature_passes_with_any_configured_secret(case):
    request = as_request(case, case.payload("text"))
    secrets = BY_NAME[case.name].signing_secrets(("old-secret", APP_SECRET), TOKEN)
    BY_NAME[case.name].verify(request, secrets)


def test_missing_signature_is_refused(case):
    request = as_request(case, case.payload("text"), signed=False)
    with pytest.raises(SignatureMissing):
        BY_NAME[case.name].verify(request, (case.secret(),))


def test_wrong_signature_is_refused(case):
    request = as_request(case, case.payload("text"), secret="not-the-secret")
    with pytest.raises(SignatureInvalid):
        BY_NAME[case.name].verify(request, (case.secret(),))


def test_tampered_body_is_refused(case):
    good = as_request(case, case.payload("text"))
    tampered = WebhookRequest(good.body.replace(b"34600000001", b"34600000666"),
                              good.content_type, good.headers, good.url)
    with pytest.raises(SignatureInvalid):
        BY_NAME[case.name].verify(tampered, (case.secret(),))


def test_client_sends_the_text(case, provider):
    result = client_for(case).send_text("34600000001", "¡Hola! 👋", "106540352242922")
    [sent] = provider.request_history
    assert sent.url == case.send_url
    assert case.sent_text(sent)[1] == "¡Hola! 👋"
    assert "34600000001" in case.sent_text(sent)[0]
    assert result.accepted and result.message_id
    assert sent.timeout == (3.05, 10.0)


def test_client_reports_the_providers_error(case, requests_mock):
    requests_mock.post(case.send_url, status_code=case.error_status, json=case.error_body)
    result = client_for(case).send_text("34600000001", "hi", "106540352242922")
    assert not result.accepted
    assert (result.error_code, result.http_status) == (case.error_code, case.error_status)
    assert result.error_message


def test_client_timeout_is_reported_and_not_retried(case, requests_mock):
    requests_mock.post(case.send_url, exc=requests.ReadTimeout)
    result = client_for(case).send_text("34600000001", "hi", "106540352242922")
    assert (result.accepted, result.error_code) == (False, "timeout")
    assert requests_mock.call_count == 1


def test_client_connection_error_is_reported(case, requests_mock):
    requests_mock.post(case.send_url, exc=requests.ConnectionError("refused"))
    result = client_for(case).send_text("34600000001", "hi", "106540352242922")
    assert (result.accepted, result.error_code) == (False, "connection_error")


def test_client_without_credentials_sends_nothing(case, requests_mock):
    setting, variable = case.credential
    result = client_for(case, **{setting: None}).send_text("34600000001", "hi",
                                                          "106540352242922")
    assert (result.accepted, result.error_code) == (False, "not_configured")
    assert variable in result.error_message
    assert requests_mock.call_count == 0
