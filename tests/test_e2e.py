"""End to end: production gunicorn config, a fake provider on 127.0.0.1, one post per dialect."""

from __future__ import annotations

import time

import pytest
import requests

from tests.cases import CASES, CloudApiCase
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn, provider_env

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def fake_provider():
    with FakeProvider() as provider:
        yield provider


@pytest.fixture(scope="module")
def gateway(fake_provider, tmp_path_factory):
    """gunicorn with two workers on the embedded store, sending to the fake provider."""
    db_path = str(tmp_path_factory.mktemp("e2e") / "gateway.sqlite3")
    server = Gunicorn(provider_env(fake_provider.url, db_path, WEB_CONCURRENCY="2")).start()
    yield server.url
    print(server.stop())  # shown by pytest when a test failed


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_post_gets_an_answer_through_the_provider(gateway, fake_provider, case):
    wa_id = {"cloud_api": "34611111111", "twilio": "34622222222", "generic": "34633333333"}
    payload = case.text("What can you do?", wa_id=wa_id[case.name], message_id=f"e2e-{case.name}")
    body = case.encode(payload)
    url = f"{gateway}/api/v1/whatsapp/webhook"
    response = requests.post(url, data=body, headers=case.headers(body, url), timeout=10)
    assert response.status_code == 200
    fake_provider.wait_for(1, to=wa_id[case.name])
    time.sleep(0.2)  # a second answer would arrive right behind the first
    sent = fake_provider.wait_for(1, to=wa_id[case.name])
    assert [s["dialect"] for s in sent] == [case.name]
    assert "virtual assistant" in sent[0]["text"]


def test_an_unsigned_post_is_refused_by_the_running_gateway(gateway):
    case = CloudApiCase()
    response = requests.post(f"{gateway}/api/v1/whatsapp/webhook", json=case.text(), timeout=10)
    assert response.status_code == 401
