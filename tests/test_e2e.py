"""End to end: production gunicorn config, a fake provider on 127.0.0.1, one post per dialect."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from app.auth import issue_token
from tests.cases import APP_SECRET, CASES, TOKEN, CloudApiCase
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn, provider_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake_provider():
    with FakeProvider() as provider:
        yield provider


VERIFY_TOKEN = "verify-token-e2e-7f3a"
JWT_SECRET = "jwt-secret-e2e-0123456789abcdef-4c1d"


@pytest.fixture(scope="module")
def server(fake_provider, tmp_path_factory):
    """gunicorn with two workers on the embedded store, sending to the fake provider."""
    folder = tmp_path_factory.mktemp("e2e")
    # A fresh index cache: the master embeds the documents before it forks the workers,
    # which then run e5 on two threads (the master stays on one, whatever E5_THREADS says).
    server = Gunicorn(provider_env(fake_provider.url, str(folder / "gateway.sqlite3"),
                                   WEB_CONCURRENCY="2", E5_THREADS="2",
                                   WHATSAPP_VERIFY_TOKEN=VERIFY_TOKEN,
                                   JWT_SECRET=JWT_SECRET,
                                   INDEX_CACHE_DIR=str(folder / "index"))).start()
    yield server
    print(server.stop())  # shown by pytest when a test failed


@pytest.fixture
def gateway(server):
    return server.url


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_post_gets_an_answer_through_the_provider(server, fake_provider, case):
    wa_id = {"cloud_api": "34611111111", "twilio": "34622222222", "generic": "34633333333",
             "vonage": "34644444444"}
    payload = case.text("What can you do?", wa_id=wa_id[case.name], message_id=f"e2e-{case.name}")
    server.deliver(case, payload)
    fake_provider.wait_for(1, to=wa_id[case.name])
    time.sleep(0.2)  # a second answer would arrive right behind the first
    sent = fake_provider.wait_for(1, to=wa_id[case.name])
    assert [s["dialect"] for s in sent] == [case.name]
    assert "virtual assistant" in sent[0]["text"]


def test_a_question_is_answered_from_the_documents_by_a_forked_worker(server, fake_provider):
    """The master loads the models and forks; each worker's retrieval then runs e5 on
    threads of its own when E5_THREADS asks for more than one (OpenMP's, started after the
    fork, which they would not survive)."""
    case = CloudApiCase()
    payload = case.text("hola, ¿hacéis envíos a Portugal?", wa_id="34655555555",
                        message_id="e2e-question")
    server.deliver(case, payload)
    [sent] = fake_provider.wait_for(1, to="34655555555")
    assert "Portugal" in sent["text"]


def test_a_person_with_only_a_username_is_answered_at_their_user_id(server, fake_provider):
    case = CloudApiCase()
    server.deliver(case, case.payload("username"))
    [sent] = fake_provider.wait_for(1, to="ES.13491208655302741918")
    assert "Canarias" in sent["text"]


def test_an_unsigned_post_is_refused_by_the_running_gateway(gateway):
    case = CloudApiCase()
    response = requests.post(f"{gateway}/api/v1/whatsapp/webhook", json=case.text(), timeout=10)
    assert response.status_code == 401


def test_secrets_never_reach_the_log_or_the_store(server, gateway):
    """The handshake's verify token rides in a query string, an operator's JWT in a header,
    the provider token and app secret in every signed post and send."""
    challenge = requests.get(f"{gateway}/api/v1/whatsapp/webhook", timeout=10, params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "4711"})
    assert challenge.text == "4711"
    token = issue_token(JWT_SECRET, "qa", timedelta(minutes=5))
    sessions = requests.get(f"{gateway}/api/v1/whatsapp/sessions", timeout=10,
                            headers={"Authorization": f"Bearer {token}"})
    assert sessions.status_code == 200
    case = CloudApiCase()
    body = case.encode(case.text("hi", wa_id="34644444444", message_id="e2e-secrets"))
    url = f"{gateway}/api/v1/whatsapp/webhook"
    assert requests.post(url, data=body, headers=case.headers(body, url, "wrong-secret"),
                         timeout=10).status_code == 403
    db = Path(server.env["GATEWAY_DB_PATH"])
    stored = b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))
    output = server.output()
    for secret in (VERIFY_TOKEN, JWT_SECRET, token, TOKEN, APP_SECRET):
        assert secret not in output and secret.encode() not in stored
