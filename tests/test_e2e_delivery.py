"""Provider refusals end to end: the production gunicorn config against the fake provider."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests

from app.auth import issue_token
from tests.cases import CASES, CloudApiCase
from tests.server import Gunicorn, provider_env
from tests.test_delivery import REFUSALS, graph_error

pytestmark = pytest.mark.e2e
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"
HEADERS = {"Authorization": "Bearer " + issue_token(JWT_SECRET, "qa", timedelta(hours=1))}



@pytest.fixture(scope="module")
def gateway(fake, tmp_path_factory):
    db_path = str(tmp_path_factory.mktemp("e2e") / "gateway.sqlite3")
    server = Gunicorn(provider_env(
        fake.url, db_path, WEB_CONCURRENCY="2", JWT_SECRET=JWT_SECRET,
        WHATSAPP_RETRY_BASE_SECONDS="0.05", WHATSAPP_SEND_ATTEMPTS="2")).start()
    # `start` returns once one worker serves. The other's first credential check, when it
    # has booted, finds the fake accepting and clears a refusal the first recorded just
    # before (a fresh clone's run read "ok" from /readyz after a refused send): the
    # refusals are sent once both workers have checked the Cloud API.
    deadline = time.monotonic() + 30
    while sum("fields=id" in path for path in fake.health_checks) < 2:
        assert time.monotonic() < deadline, "a worker never checked its credentials"
        time.sleep(0.05)
    yield server
    print(server.stop())


def settled_answer(gateway: Gunicorn, wa_id: str) -> dict:
    """The stored answer to `wa_id`'s last message, once it is no longer pending."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sessions = requests.get(f"{gateway.url}/api/v1/whatsapp/sessions?per_page=100",
                                headers=HEADERS, timeout=5).json()["items"]
        session = next((s for s in sessions if s["wa_id"] == wa_id), None)
        if session:
            messages = requests.get(
                f"{gateway.url}/api/v1/conversations/{session['conversation_id']}/messages",
                headers=HEADERS, timeout=5).json()["items"]
            if messages[-1]["role"] == "assistant" and messages[-1]["send_state"] not in (
                    "pending", "sending"):
                return messages[-1]
        time.sleep(0.1)
    raise AssertionError(f"no settled answer for {wa_id}")


@pytest.mark.parametrize("number, refusal", list(enumerate(REFUSALS)),
                         ids=[f"{r[0].name}-{r[3]}-{r[5]}" for r in REFUSALS])
def test_each_refusal_is_stored_with_its_kind(gateway, fake, number, refusal):
    case, status, body, kind, retryable, code = refusal
    wa_id = f"3461{number:07d}"
    for _ in range(2 if retryable else 1):  # a retryable refusal is tried twice here
        fake.refuse_next(status, body)
    gateway.deliver(case, case.text("hello", wa_id=wa_id, message_id=f"refusal-{number}"))
    answer = settled_answer(gateway, wa_id)
    assert (answer["send_state"], answer["error_kind"], answer["error_code"],
            answer["attempts"]) == ("failed", kind, code, 2 if retryable else 1)
    if kind == "auth":
        ready = requests.get(f"{gateway.url}/readyz", timeout=5)
        assert (ready.status_code, ready.json()["providers"][case.name]) == (503, "auth_failed")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_throttled_answer_arrives_once_and_credentials_recover(gateway, fake, case):
    wa_id = {"cloud_api": "34620000001", "twilio": "34620000002", "generic": "34620000003",
             "vonage": "34620000004"}
    fake.refuse_next(429, graph_error(130429, "(#130429) Rate limit hit"), {"Retry-After": "1"})
    started = time.monotonic()
    gateway.deliver(case, case.text("hello", wa_id=wa_id[case.name], message_id=f"t-{case}"))
    answer = settled_answer(gateway, wa_id[case.name])
    assert (answer["send_state"], answer["attempts"]) == ("sent", 2)
    assert time.monotonic() - started >= 1  # Retry-After was honoured
    assert len([s for s in fake.sent if wa_id[case.name] in s["to"]]) == 1
    assert requests.get(f"{gateway.url}/readyz", timeout=5).json()["providers"][
        case.name] == "ok"


def test_cloud_api_marks_the_message_read_with_typing(gateway, fake):
    case = CloudApiCase()
    gateway.deliver(case, case.text("hello", wa_id="34630000001", message_id="wamid.typing"))
    settled_answer(gateway, "34630000001")
    assert {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.typing",
            "typing_indicator": {"type": "text"}} in fake.receipts
