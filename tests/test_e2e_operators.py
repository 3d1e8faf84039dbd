"""What the team running the gateway sees and does, end to end under gunicorn (2 workers)
against the fake provider: metrics summed over workers, JSON logs, why an answer did not
arrive, handoff, and a rejected token noticed before any customer writes."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
import requests

from app.auth import issue_token
from app.services.store.base import utcnow
from tests.cases import CloudApiCase, TwilioCase
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn, provider_env
from tests.test_delivery import graph_error

pytestmark = pytest.mark.e2e
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"
HEADERS = {"Authorization": "Bearer " + issue_token(JWT_SECRET, "laura", timedelta(hours=1))}
cloud, twilio = CloudApiCase(), TwilioCase()



@pytest.fixture(scope="module")
def gateway(fake, tmp_path_factory):
    db_path = str(tmp_path_factory.mktemp("ops") / "gateway.sqlite3")
    server = Gunicorn(provider_env(
        fake.url, db_path, WEB_CONCURRENCY="2", JWT_SECRET=JWT_SECRET, LOG_FORMAT="json",
        WHATSAPP_RETRY_BASE_SECONDS="0.05", WHATSAPP_SEND_ATTEMPTS="2",
        WHATSAPP_READ_RECEIPTS="false")).start()
    yield server
    print(server.stop())


def story(gateway: Gunicorn, message_id: str, settled=lambda s: True) -> dict:
    """The message route's answer, once `settled` says it is final."""
    deadline = time.monotonic() + 15
    while True:
        response = requests.get(f"{gateway.url}/api/v1/messages/{message_id}", headers=HEADERS,
                                timeout=5)
        if response.status_code == 200 and settled(response.json()):
            return response.json()
        if time.monotonic() > deadline:
            raise AssertionError(f"{message_id}: {response.status_code} {response.text[:500]}")
        time.sleep(0.1)


def answered(found: dict) -> bool:
    reply = found.get("reply")
    return bool(reply) and reply.get("send_state") not in ("pending", "sending")


def metric(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def test_metrics_add_up_every_worker(gateway, fake):
    inbound = 'whatsapp_inbound_messages_total{dialect="cloud_api",kind="text"}'
    sent = 'whatsapp_answers_total{dialect="cloud_api",error_kind="",kind="answer",outcome="sent"}'
    latency = 'whatsapp_answer_latency_seconds_count{dialect="cloud_api"}'
    before = requests.get(f"{gateway.url}/metrics", headers=HEADERS, timeout=5).text
    count = 0
    while count < 4 or len(posted_by(gateway)) < 2:  # until both workers took some
        assert count < 60, "the posts all went to one worker"
        gateway.deliver(cloud, cloud.text("¿a qué hora abrís?", wa_id=f"346200{count:05d}",
                                          message_id=f"metrics-{count}"), new_connection=True)
        count += 1
    for n in range(count):
        story(gateway, f"metrics-{n}", answered)
    after = requests.get(f"{gateway.url}/metrics", headers=HEADERS, timeout=5).text
    for name in (inbound, sent, latency):
        assert metric(after, name) - metric(before, name) == count, name
    assert metric(after, "whatsapp_bot_latency_seconds_count") >= count


def posted_by(gateway: Gunicorn) -> set[int]:
    """The workers that took a webhook post: the JSON access lines name their process."""
    return {line["pid"] for line in map(json.loads, gateway.output().splitlines())
            if line.get("event") == "access" and line.get("method") == "POST"
            and line.get("path") == "/api/v1/whatsapp/webhook"}


def test_every_line_is_json_with_the_messages_ids(gateway, fake):
    gateway.deliver(cloud, cloud.text("hola", wa_id="34620000099", message_id="json-1"))
    story(gateway, "json-1", answered)
    lines = [json.loads(line) for line in gateway.output().splitlines()]  # each one parses
    assert all({"ts", "level", "event"} <= line.keys() for line in lines)
    inbound = [line for line in lines if line["event"] == "inbound"
               and line.get("message_id") == "json-1"]
    assert inbound and inbound[0]["wa_id"] == "34620000099"
    assert any(line["event"] == "reply" and line.get("in_reply_to") == "json-1"
               for line in lines)
    assert any(line["event"] == "access" and line["status"] == 200 for line in lines)
    assert sum(line["event"] == "gateway ready" for line in lines) == 1  # not once per worker


FAILURES = [
    # (name, how the provider behaves, error kind the story shows)
    ("window", None, "window_closed"),
    ("throttled", lambda fake: [fake.refuse_next(429, graph_error(130429, "Rate limit hit"))
                                for _ in range(2)], "throttled"),
    ("auth", lambda fake: fake.refuse_next(401, graph_error(190, "Invalid OAuth token")),
     "auth"),
    ("invalid_number", lambda fake: fake.refuse_next(
        400, graph_error(100, "Invalid parameter: to")), "invalid"),
    ("connection", lambda fake: fake.drop_next(), "transient"),
]


@pytest.mark.parametrize("name, behave, kind", FAILURES, ids=[f[0] for f in FAILURES])
def test_one_call_says_why_an_answer_did_not_arrive(gateway, fake, name, behave, kind):
    # A conversation of its own: the 24-hour window runs from the customer's last message,
    # and another case's message in the same conversation, seconds before, keeps it open.
    wa_id = f"3462000{1000 + [case[0] for case in FAILURES].index(name)}"
    payload = cloud.text("¿hacéis envíos?", wa_id=wa_id, message_id=f"why-{name}")
    if behave is None:
        payload = cloud.sent_at(payload, utcnow() - timedelta(hours=25))
    else:
        behave(fake)
    gateway.deliver(cloud, payload)
    found = story(gateway, f"why-{name}", answered)
    assert found["reply"]["send_state"] == "failed"
    assert found["reply"]["error_kind"] == kind
    attempts = [e for e in found["timeline"] if e["type"] == "attempt"]
    if behave is not None:
        assert attempts and attempts[-1]["error_kind"] == kind
        assert attempts[-1]["retry"] is False
    if name == "throttled":
        assert [a["http_status"] for a in attempts] == [429, 429]
        assert [a["retry"] for a in attempts] == [True, False]


def test_a_failed_delivery_callback_is_in_the_story(gateway, fake):
    gateway.deliver(twilio, twilio.text("hola", wa_id="34620002000", message_id="SMwhy1"))
    found = story(gateway, "SMwhy1", answered)
    reply_id = found["reply"]["provider_message_ids"][0]
    callback = {**twilio.payload("status_failed"), "MessageSid": reply_id, "SmsSid": reply_id,
                "ErrorCode": "63024", "ErrorMessage": "Invalid destination",
                "To": "whatsapp:+34620002000"}
    gateway.deliver(twilio, callback)
    found = story(gateway, reply_id, lambda s: any(e["type"] == "status"
                                                   for e in s["timeline"]))
    status = [e for e in found["timeline"] if e["type"] == "status"][-1]
    assert (status["status"], status["error_code"], status["error_kind"]) == (
        "failed", "63024", "undeliverable")
    assert found["reply"]["delivery_error_kind"] == "undeliverable"


def test_handoff_end_to_end(gateway, fake):
    wa_id = "34620003000"
    gateway.deliver(cloud, cloud.text("hola", wa_id=wa_id, message_id="hand-1"))
    story(gateway, "hand-1", answered)
    conversation = requests.get(f"{gateway.url}/api/v1/whatsapp/sessions?wa_id={wa_id}",
                                headers=HEADERS, timeout=5).json()["items"][0]
    base = f"{gateway.url}/api/v1/conversations/{conversation['conversation_id']}"
    assert requests.post(f"{base}/handoff", headers=HEADERS, timeout=5).json()["paused"]

    gateway.deliver(cloud, cloud.text("¿hay alguien?", wa_id=wa_id, message_id="hand-2"))
    held = story(gateway, "hand-2", lambda s: s["inbound"]["status"] != "queued")
    assert (held["inbound"]["status"], held["reply"]) == ("held", None)

    before = len(fake.wait_for(0, to=wa_id, timeout=0))
    reply = requests.post(f"{base}/messages", headers=HEADERS, timeout=15,
                          json={"text": "Hola, soy Laura, del equipo. Te ayudo yo."})
    assert (reply.status_code, reply.json()["send_state"]) == (201, "sent")
    arrived = fake.wait_for(before + 1, to=wa_id)
    assert [s["text"] for s in arrived[before:]] == ["Hola, soy Laura, del equipo. Te ayudo yo."]

    assert requests.delete(f"{base}/handoff", headers=HEADERS, timeout=5).json()[
        "paused"] is False
    gateway.deliver(cloud, cloud.text("¿horario del sábado?", wa_id=wa_id,
                                      message_id="hand-3"))
    assert story(gateway, "hand-3", answered)["reply"]["source"] == "whatsapp"
    assert len(fake.wait_for(before + 2, to=wa_id)) == before + 2


def test_a_rejected_token_shows_in_readyz_before_any_message(tmp_path):
    with FakeProvider(reject_credentials=True) as fake:
        server = Gunicorn(provider_env(fake.url, str(tmp_path / "gateway.sqlite3"),
                                       WHATSAPP_PROVIDER="cloud_api")).start()
        try:
            deadline = time.monotonic() + 60
            while True:
                ready = requests.get(f"{server.url}/readyz", timeout=5)
                if ready.json()["providers"]["cloud_api"] != "ok" or (
                        time.monotonic() > deadline):
                    break
                time.sleep(0.2)
            assert (ready.status_code, ready.json()["providers"]) == (
                503, {"cloud_api": "auth_failed"})
            assert ready.json()["errors"] == {"cloud_api": {"code": "190"}}
            assert fake.health_checks and not fake.sent
        finally:
            print(server.stop())
