"""Operators find conversations, read a message's story, take over from the bot and give it
back; the API describes itself; the metrics count what happened."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.auth import issue_token
from app.services.store.base import utcnow
from tests.cases import CloudApiCase, post

SECRET = "jwt-secret-for-tests-0123456789abcdef"
cloud = CloudApiCase()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {issue_token(SECRET, 'laura', timedelta(minutes=5))}"}


def status(message_id: str, state: str, code: int | None = None) -> dict:
    payload = cloud.payload("status_failed")
    item = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update({"id": message_id, "status": state})
    if code is None:
        item.pop("errors")
    else:
        item["errors"][0]["code"] = code
    return payload


def conversation_of(client, auth, wa_id="34600000001") -> dict:
    sessions = client.get(f"/api/v1/whatsapp/sessions?wa_id={wa_id}", headers=auth).json
    assert sessions["total"] == 1
    return sessions["items"][0]


def test_sessions_by_person_with_the_profile_name(client, provider, auth):
    post(client, cloud, cloud.payload("text"))
    post(client, cloud, cloud.text("hola", wa_id="34600000002", message_id="b"))
    session = conversation_of(client, auth)
    assert (session["wa_id"], session["profile_name"], session["paused"]) == (
        "34600000001", "Zoë Martínez", False)
    nobody = client.get("/api/v1/whatsapp/sessions?wa_id=34999", headers=auth).json
    assert (nobody["items"], nobody["total"]) == ([], 0)


def test_an_unknown_filter_is_a_clear_400(client, auth):
    response = client.get("/api/v1/whatsapp/sessions?waid=34600000001", headers=auth)
    assert response.status_code == 400
    assert "waid" in response.json["error"]["message"]
    response = client.get("/api/v1/whatsapp/sessions?needs_attention=maybe", headers=auth)
    assert response.status_code == 400


def texts_sent(mock) -> list[str]:
    """The texts among the requests (read receipts go to the same URL)."""
    return [r.json()["text"]["body"] for r in mock.request_history
            if r.method == "POST" and r.json().get("type") == "text"]


def test_failed_answers_are_found_newest_first_with_their_story(make_app, requests_mock, auth):
    client = make_app(WHATSAPP_READ_RECEIPTS="false", WHATSAPP_TYPING_INDICATOR="false"
                      ).test_client()
    requests_mock.post(cloud.send_url, [
        {"json": {"messages": [{"id": "wamid.ok1"}]}},
        {"status_code": 400, "json": {"error": {"code": 131047, "message": "Re-engagement"}}},
    ])
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    post(client, cloud, cloud.text("¿horario?", message_id="in-2"))
    session = conversation_of(client, auth)
    assert session["attention"] == "failed_answer"
    flagged = client.get("/api/v1/whatsapp/sessions?needs_attention=true", headers=auth).json
    assert [s["wa_id"] for s in flagged["items"]] == ["34600000001"]

    base = f"/api/v1/conversations/{session['conversation_id']}/messages"
    newest = client.get(f"{base}?order=desc", headers=auth).json["items"]
    assert [m["role"] for m in newest] == ["assistant", "user", "assistant", "user"]
    failed = client.get(f"{base}?send_state=failed", headers=auth).json
    assert failed["total"] == 1 and failed["items"][0]["error_kind"] == "window_closed"
    full = client.get(f"{base}?error_kind=window_closed&full=true", headers=auth).json
    assert full["items"][0]["delivery_status"] is None  # every field, empty ones too

    story = client.get("/api/v1/messages/in-2", headers=auth).json
    assert story["inbound"]["content"] == "¿horario?"
    attempts = [e for e in story["timeline"] if e["type"] == "attempt"]
    assert [(a["http_status"], a["error_code"], a["retry"]) for a in attempts] == [
        (400, "131047", False)]
    assert [e["type"] for e in story["timeline"]] == ["received", "stored_reply", "attempt"]


def test_a_failed_delivery_is_in_the_story_of_either_id(client, provider, auth):
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    reply_id = client.get("/api/v1/messages/in-1", headers=auth).json["reply"][
        "provider_message_ids"][0]
    post(client, cloud, status(reply_id, "delivered"))
    post(client, cloud, status(reply_id, "failed", 131026))
    post(client, cloud, status(reply_id, "sent"))  # late, out of order: kept, not applied
    story = client.get(f"/api/v1/messages/{reply_id}", headers=auth).json
    assert story["inbound"]["provider_message_id"] == "in-1"
    statuses = [(e["status"], e["applied"]) for e in story["timeline"] if e["type"] == "status"]
    assert statuses == [("delivered", True), ("failed", True), ("sent", False)]
    assert story["reply"]["delivery_error_kind"] == "undeliverable"
    assert conversation_of(client, auth)["attention"] == "failed_answer"
    times = [e["at"] for e in story["timeline"]]
    assert times == sorted(times)


def test_an_unknown_message_id_is_404(client, auth):
    response = client.get("/api/v1/messages/wamid.nothing", headers=auth)
    assert response.status_code == 404


def test_handoff_holds_the_bot_and_the_operator_answers(client, requests_mock, auth):
    sent = requests_mock.post(cloud.send_url, json={"messages": [{"id": "wamid.x"}]})
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    conversation = conversation_of(client, auth)["conversation_id"]
    paused = client.post(f"/api/v1/conversations/{conversation}/handoff", headers=auth).json
    assert (paused["paused"], paused["handoff_by"]) == (True, "laura")

    post(client, cloud, cloud.text("¿me atiende alguien?", message_id="in-2"))
    assert len(texts_sent(sent)) == 1  # the bot kept quiet
    story = client.get("/api/v1/messages/in-2", headers=auth).json
    assert (story["inbound"]["status"], story["reply"]) == ("held", None)

    reply = client.post(f"/api/v1/conversations/{conversation}/messages", headers=auth,
                        json={"text": "Hola, soy **Laura**. ¿En qué te ayudo?"})
    assert reply.status_code == 201
    assert (reply.json["source"], reply.json["author"], reply.json["send_state"]) == (
        "operator", "laura", "sent")
    assert texts_sent(sent)[1:] == ["Hola, soy *Laura*. ¿En qué te ayudo?"]

    back = client.delete(f"/api/v1/conversations/{conversation}/handoff", headers=auth).json
    assert back["paused"] is False
    post(client, cloud, cloud.text("gracias", message_id="in-3"))
    assert len(texts_sent(sent)) == 3
    assert client.get("/api/v1/messages/in-3", headers=auth).json["reply"]["source"] == (
        "whatsapp")


def test_the_bot_takes_back_a_conversation_its_operator_left(make_app, provider, auth):
    client = make_app(HANDOFF_IDLE_MINUTES="0.001").test_client()  # 60 ms
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    conversation = conversation_of(client, auth)["conversation_id"]
    client.post(f"/api/v1/conversations/{conversation}/handoff", headers=auth)
    import time

    time.sleep(0.1)
    post(client, cloud, cloud.text("¿hola?", message_id="in-2"))
    assert client.get("/api/v1/messages/in-2", headers=auth).json["reply"] is not None
    assert conversation_of(client, auth)["handoff_by"] is None


def test_an_operator_cannot_write_after_the_24_hour_window(client, provider, auth):
    old = cloud.sent_at(cloud.text("hola", message_id="in-1"), utcnow() - timedelta(hours=25))
    post(client, cloud, old)
    conversation = conversation_of(client, auth)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=auth,
                           json={"text": "¿Sigues ahí?"})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "window_closed"


@pytest.mark.parametrize("body", [{}, {"text": ""}, {"text": " \n "}, {"text": 3},
                                  {"text": "x" * 5000}])
def test_an_operator_message_needs_a_text(client, provider, auth, body):
    post(client, cloud, cloud.text("hola", message_id="in-1"))
    conversation = conversation_of(client, auth)["conversation_id"]
    response = client.post(f"/api/v1/conversations/{conversation}/messages", headers=auth,
                           json=body)
    assert response.status_code == 400 and "text" in response.json["error"]["message"]


def test_asking_for_a_person_flags_the_conversation(client, provider, auth):
    post(client, cloud, cloud.text("quiero hablar con una persona", message_id="in-1"))
    story = client.get("/api/v1/messages/in-1", headers=auth).json
    assert "una persona" in story["reply"]["content"]
    assert conversation_of(client, auth)["attention"] == "wants_person"


def test_the_api_description_covers_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    documented = {(path, method.upper()) for path, item in spec["paths"].items()
                  for method in item}
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              and not rule.rule.startswith("/console")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes
    messages = spec["paths"]["/api/v1/conversations/{conversation_id}/messages"]
    names = {p["name"] for p in messages["get"]["parameters"]}
    assert {"conversation_id", "order", "send_state", "error_kind", "full"} <= names
    assert "text" in spec["components"]["schemas"]["OperatorMessageIn"]["properties"]
    assert spec["paths"]["/api/v1/whatsapp/webhook"]["post"]["security"] == []


def test_metrics_count_an_answered_message(client, provider, auth):
    def value(text: str, name: str) -> float:
        found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    inbound = 'whatsapp_inbound_messages_total{dialect="cloud_api",kind="text"}'
    sent = 'whatsapp_answers_total{dialect="cloud_api",error_kind="",kind="answer",outcome="sent"}'
    latency = 'whatsapp_answer_latency_seconds_count{dialect="cloud_api"}'
    before = client.get("/metrics", headers=auth).text
    post(client, cloud, cloud.text("¿horario?", message_id="in-1"))
    after = client.get("/metrics", headers=auth)
    assert after.status_code == 200
    for name in (inbound, sent, latency):
        assert value(after.text, name) == value(before, name) + 1, name
    assert value(after.text, "whatsapp_queued_messages") == 0
    assert 'whatsapp_provider_ready{provider="cloud_api",state="ok"} 1.0' in after.text


def test_metrics_need_a_token_or_the_scrapers_own(make_app):
    client = make_app(METRICS_TOKEN="scrape-me-0123456789").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"})
    assert ok.status_code == 200
    # The scraper's token opens nothing else.
    assert client.get("/api/v1/whatsapp/sessions", headers={
        "Authorization": "Bearer scrape-me-0123456789"}).status_code == 401
