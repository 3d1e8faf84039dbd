"""What each provider does differently: exact outbound requests and payload quirks."""

from __future__ import annotations

import json
from urllib.parse import parse_qs

import pytest
import requests_mock as requests_mock_lib
from marshmallow import ValidationError

from app.errors import SignatureInvalid
from dialects.base import WebhookRequest
from dialects.client import ClientSettings
from dialects.cloud_api import CloudApiClient
from dialects.registry import BY_NAME, detect
from tests.cases import (
    ACCOUNT_ID,
    BASE_URL,
    PHONE_NUMBER_ID,
    TOKEN,
    CloudApiCase,
    GenericCase,
    TwilioCase,
)
from tests.test_dialects import as_request, client_for

cloud, twilio, generic = CloudApiCase(), TwilioCase(), GenericCase()


def test_cloud_api_exact_outbound_request(provider):
    client_for(cloud).send_text("34600000001", "Hola", "106540352242922")
    [sent] = provider.request_history
    assert sent.url == "https://provider.test/106540352242922/messages"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.json() == {"messaging_product": "whatsapp", "recipient_type": "individual",
                           "to": "34600000001", "type": "text",
                           "text": {"body": "Hola", "preview_url": False}}


def test_cloud_api_replies_from_the_configured_number_when_the_webhook_has_none(provider):
    provider.post("https://provider.test/15550001111/messages", json={"messages": [{"id": "w"}]})
    assert client_for(cloud).send_text("34600000001", "Hola", None).accepted
    assert provider.last_request.url == "https://provider.test/15550001111/messages"


def test_twilio_exact_outbound_request(provider):
    client_for(twilio, phone_number_id="14155238886").send_text("34600000001", "Hola", None)
    [sent] = provider.request_history
    assert sent.url == f"https://provider.test/2010-04-01/Accounts/{ACCOUNT_ID}/Messages.json"
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.headers["Authorization"].startswith("Basic ")
    assert parse_qs(sent.text) == {"From": ["whatsapp:+14155238886"],
                                   "To": ["whatsapp:+34600000001"], "Body": ["Hola"]}


def test_generic_exact_outbound_request(provider):
    client_for(generic).send_text("34600000001", "Hola", None)
    [sent] = provider.request_history
    assert sent.url == "https://provider.test/messages"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.json() == {"channel": "whatsapp", "message_type": "text", "to": "34600000001",
                           "from": "15550001111", "text": "Hola"}


def test_cloud_api_several_messages_across_entries_in_order():
    _, events = detect(as_request(cloud, cloud.payload("several")))
    assert [(e.message_id, e.wa_id, e.text) for e in events] == [
        ("wamid.multi1", "34600000001", "first"),
        ("wamid.multi2", "34600000002", "second"),
        # The sole contact names the sender's WhatsApp id, which differs from `from`.
        ("wamid.multi3", "551187654321", "third"),
    ]
    assert {e.business_number for e in events} == {"106540352242922"}


@pytest.mark.parametrize("name, text", [
    ("interactive_button", "Talk to a person"),
    ("interactive_list", "Opening hours"),
    ("template_button", "Delete my data"),
])
def test_cloud_api_taps_are_text(name, text):
    _, [event] = detect(as_request(cloud, cloud.payload(name)))
    assert (event.kind, event.text) == ("text", text)


def test_cloud_api_value_errors_are_status_events():
    _, [event] = detect(as_request(cloud, cloud.payload("value_errors")))
    assert (event.status, event.error_code) == ("error", "131000")


def test_cloud_api_a_malformed_status_stays_in_place_as_rejected():
    payload = cloud.payload("several")
    value = payload["entry"][1]["changes"][0]["value"]
    value["statuses"] = [{"id": "wamid.ours9"}, {"id": "wamid.ours1", "status": "read"}]
    _, events = detect(as_request(cloud, payload))
    assert [getattr(e, "message_id", None) or e.at for e in events] == [
        "wamid.multi1", "wamid.multi2", "wamid.multi3",
        "entry[1].changes[0].value.statuses[0]", "wamid.ours1"]
    assert events[3].errors == {"status": ["Missing data for required field."]}


def test_cloud_api_without_contacts_uses_from():
    payload = cloud.text(wa_id="34600000009")
    del payload["entry"][0]["changes"][0]["value"]["contacts"]
    _, [event] = detect(as_request(cloud, payload))
    assert event.wa_id == "34600000009"


def test_cloud_api_a_person_with_a_username_is_known_by_their_business_scoped_id():
    _, [event] = detect(as_request(cloud, cloud.payload("username")))
    assert (event.wa_id, event.profile_name, event.text) == (
        "ES.13491208655302741918", "Lucía", "hola, ¿hacéis envíos a Canarias?")


def test_cloud_api_a_shared_phone_number_keeps_the_conversation_it_had():
    payload = cloud.text(wa_id="34600000009")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = "ES.8812"
    value["messages"][0]["from_user_id"] = "ES.8812"
    _, [event] = detect(as_request(cloud, payload))
    assert event.wa_id == "34600000009"


def test_cloud_api_a_status_of_an_answer_sent_to_a_user_id_is_read():
    """Sent to a business-scoped user id, a status names the person by `recipient_user_id`
    (and `contacts[].user_id`), with no `recipient_id` when Meta withholds the number."""
    payload = cloud.payload("status_delivered")
    value = payload["entry"][0]["changes"][0]["value"]
    status = value["statuses"][0]
    del status["recipient_id"]
    status["recipient_user_id"] = "ES.13491208655302741918"
    value["contacts"] = [{"user_id": "ES.13491208655302741918", "profile": {"name": "Lucía"}}]
    _, [event] = detect(as_request(cloud, payload))
    assert (event.message_id, event.status) == ("wamid.ours1", "delivered")


def test_cloud_api_a_message_from_nobody_is_rejected():
    payload = cloud.payload("username")
    del payload["entry"][0]["changes"][0]["value"]["messages"][0]["from_user_id"]
    [rejected] = BY_NAME["cloud_api"].parse(as_request(cloud, payload))
    assert rejected.errors == {"from": ["Missing data for required field."]}


@pytest.mark.parametrize("bsuid", ["US.13491208655302741918", "US.ENT.11815799212886844830"])
def test_cloud_api_sends_to_a_business_scoped_id_as_recipient(provider, bsuid):
    client_for(cloud).send_text(bsuid, "Hola", "106540352242922")
    assert provider.last_request.json() == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "recipient": bsuid,
        "type": "text", "text": {"body": "Hola", "preview_url": False}}


def test_cloud_api_other_webhook_fields_carry_no_events():
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "message_template_status_update",
         "value": {"event": "APPROVED", "message_template_id": 1, "reason": "NONE"}}]}]}
    assert detect(as_request(cloud, payload))[1] == []


def test_twilio_quick_reply_button_is_text():
    _, [event] = detect(as_request(twilio, twilio.payload("button")))
    assert (event.kind, event.text) == ("text", "Delete my data")


def test_twilio_wa_id_falls_back_to_from():
    payload = twilio.text()
    del payload["WaId"]
    _, [event] = detect(as_request(twilio, payload))
    assert event.wa_id == "34600000001"


def test_twilio_a_person_with_a_username_is_addressed_by_their_user_id(provider):
    payload = twilio.text()
    del payload["WaId"]
    payload["From"] = "whatsapp:ES.13491208655302741918"
    _, [event] = detect(as_request(twilio, payload))
    assert event.wa_id == "ES.13491208655302741918"
    client_for(twilio, phone_number_id="14155238886").send_text(event.wa_id, "Hola", None)
    assert parse_qs(provider.last_request.text)["To"] == ["whatsapp:ES.13491208655302741918"]


def test_generic_a_person_with_a_username_is_addressed_by_their_user_id(provider):
    payload = generic.text()
    payload["from"] = "ES.13491208655302741918"
    _, [event] = detect(as_request(generic, payload))
    client_for(generic).send_text(event.wa_id, "Hola", None)
    assert provider.last_request.json()["to"] == "ES.13491208655302741918"


@pytest.mark.parametrize("signed_url, called_url", [
    ("https://gw.example.com/api/v1/whatsapp/webhook",
     "https://gw.example.com:443/api/v1/whatsapp/webhook"),
    ("https://gw.example.com:443/api/v1/whatsapp/webhook",
     "https://gw.example.com/api/v1/whatsapp/webhook"),
    ("https://gw.example.com/api/v1/whatsapp/webhook?tenant=a",
     "https://gw.example.com/api/v1/whatsapp/webhook?tenant=a"),
])
def test_twilio_signature_accepts_the_url_with_or_without_default_port(signed_url, called_url):
    body = twilio.encode(twilio.payload("text"))
    request = WebhookRequest(body, twilio.content_type,
                             twilio.headers(body, signed_url), called_url)
    BY_NAME["twilio"].verify(request, (TOKEN,))


def test_twilio_signature_covers_the_url():
    body = twilio.encode(twilio.payload("text"))
    request = WebhookRequest(body, twilio.content_type,
                             twilio.headers(body, "https://gw.example.com/other"),
                             "https://gw.example.com/api/v1/whatsapp/webhook")
    with pytest.raises(SignatureInvalid):
        BY_NAME["twilio"].verify(request, (TOKEN,))


def test_generic_minimal_post():
    _, [event] = detect(as_request(generic, generic.payload("minimal")))
    assert (event.message_id, event.wa_id, event.text) == ("msg-1", "34600000001", "hola")


def test_generic_without_id_is_named_by_its_body():
    first = detect(as_request(generic, generic.payload("no_id")))[1][0]
    again = detect(as_request(generic, generic.payload("no_id")))[1][0]
    other = detect(as_request(generic, {**generic.payload("no_id"), "text": "otro"}))[1][0]
    assert first.message_id == again.message_id != other.message_id
    assert first.message_id.startswith("sha256:")


def test_generic_text_message_needs_text():
    with pytest.raises(ValidationError, match="text"):
        BY_NAME["generic"].parse(WebhookRequest(json.dumps({"from": "1", "id": "x"}).encode()))


@pytest.mark.parametrize("phone_number_id", ["../../admin/x?x=", "1/../2", "%2e%2e", "", "١٢٣"])
def test_a_payload_never_steers_the_send_url(requests_mock, phone_number_id):
    client = CloudApiClient(ClientSettings(base_url=BASE_URL, token=TOKEN,
                                           phone_number_id=PHONE_NUMBER_ID))
    requests_mock.post(requests_mock_lib.ANY, json={"messages": [{"id": "wamid.x"}]})
    client.send_text("34600000001", "hola", business_number=phone_number_id)
    [request] = requests_mock.request_history
    assert request.url == f"{BASE_URL}/{PHONE_NUMBER_ID}/messages"


def test_an_identifier_that_is_no_path_segment_is_never_sent(requests_mock):
    client = CloudApiClient(ClientSettings(base_url=BASE_URL, token=TOKEN,
                                           phone_number_id="../x"))
    result = client.send_text("34600000001", "hola", business_number=None)
    assert (result.accepted, result.kind, requests_mock.request_history) == (
        False, "not_configured", [])


def test_a_proxy_from_the_environment_is_still_used(monkeypatch):
    """Clients read the proxy settings once, not on every send; they still honour them."""
    from dialects.client import ClientSettings
    from dialects.cloud_api import CloudApiClient

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost")
    client = CloudApiClient(ClientSettings(base_url="https://graph.example", token="t"))
    assert client.session.proxies.get("https") == "http://proxy.internal:3128"
    monkeypatch.setenv("NO_PROXY", "graph.example")
    client = CloudApiClient(ClientSettings(base_url="https://graph.example", token="t"))
    assert "https" not in client.session.proxies
