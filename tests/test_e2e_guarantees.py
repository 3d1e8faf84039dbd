"""Exactly one answer per message across real gunicorn workers sharing the SQLite store.

The bot is the gateway's real OpenAI-compatible client talking to the fake provider's LLM
endpoint, whose delay each test sets.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import jwt
import pytest
import requests

from app.services.store.sqlite import SqliteStore
from tests.cases import CloudApiCase
from tests.fake_provider import FakeProvider
from tests.server import Gunicorn, provider_env

pytestmark = pytest.mark.e2e
cloud = CloudApiCase()
JWT_SECRET = "jwt-secret-for-tests-0123456789abcdef"


@pytest.fixture
def fake():
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def start(fake, tmp_path):
    """Start gunicorn (3 workers, 2 s leases, 0.3 s sweeps) with extra settings; stop it after."""
    servers = []

    def start(**env) -> Gunicorn:
        server = Gunicorn(provider_env(fake.url, str(tmp_path / "gateway.sqlite3"), **{
            "WEB_CONCURRENCY": "3", "LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": f"{fake.url}/v1", "WHATSAPP_LEASE_SECONDS": "2",
            "WHATSAPP_SWEEP_SECONDS": "0.3", "JWT_SECRET": JWT_SECRET, **env})).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        print(server.stop())  # shown by pytest when a test failed


def deliver(server: Gunicorn, payload: dict) -> int:
    url = f"{server.url}/api/v1/whatsapp/webhook"
    body = cloud.encode(payload)
    return requests.post(url, data=body, headers=cloud.headers(body, url), timeout=15).status_code


def asked(fake: FakeProvider, timeout: float = 10) -> bool:
    """Whether the bot's LLM was called within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not fake.llm_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(fake.llm_requests)


def settle(fake: FakeProvider, count: int, wait: float = 1.5) -> list[dict]:
    """The sends once `count` arrived, after `wait` more seconds for any unwanted extra."""
    fake.wait_for(count, timeout=20)
    time.sleep(wait)
    return list(fake.sent)


def test_a_storm_of_20_deliveries_gives_one_answer(start, fake):
    server = start()
    fake.llm_delay = 0.5
    payload = cloud.text("cuanto cuesta el envio a portugal", message_id="wamid.storm")
    codes, barrier = [], threading.Barrier(20)

    def one():
        barrier.wait()
        codes.append(deliver(server, payload))

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 20
    assert [s["text"] for s in settle(fake, 1)] == ["re: cuanto cuesta el envio a portugal"]
    assert len(fake.llm_requests) == 1


def test_a_worker_killed_while_the_bot_answers_still_answers_once(start, fake):
    server = start()
    fake.llm_delay = 2.0
    assert deliver(server, cloud.text("como hago una devolucion", message_id="wamid.kill")) == 200
    assert asked(fake), "the bot was never asked"
    for pid in server.worker_pids():  # whichever worker holds it dies mid-answer
        os.kill(pid, signal.SIGKILL)
    assert [s["text"] for s in settle(fake, 1, wait=3)] == ["re: como hago una devolucion"]
    assert len(fake.llm_requests) == 2  # asked again: the first answer was never stored


def test_store_unreachable_gives_503_and_the_retry_is_answered_once(start, fake, tmp_path):
    server = start(GATEWAY_DB_TIMEOUT="0.3")
    payload = cloud.text("aceptais bizum o paypal", message_id="wamid.outage")
    blocker = SqliteStore(str(tmp_path / "gateway.sqlite3"))
    with blocker.transaction():
        assert deliver(server, payload) == 503
    time.sleep(1)
    assert fake.sent == []
    # The provider retries while the answer is 503: the store is known down until the
    # background probe (every second) finds it back, later on a busy machine.
    deadline = time.monotonic() + 10
    while (code := deliver(server, payload)) == 503 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [code, deliver(server, payload)] == [200, 200]
    assert [s["text"] for s in settle(fake, 1)] == ["re: aceptais bizum o paypal"]


def test_two_quick_messages_are_answered_in_order(start, fake):
    first, second = "a que hora abre la tienda el sabado", "cuanto cuesta el envio a canarias"
    server = start()
    fake.llm_delay = 0.4
    assert deliver(server, cloud.text(first, message_id="wamid.q1")) == 200
    assert deliver(server, cloud.text(second, message_id="wamid.q2")) == 200
    assert [s["text"] for s in settle(fake, 2, wait=0.5)] == [f"re: {first}", f"re: {second}"]
    second_prompt = [m["content"] for m in fake.llm_requests[1][1:]]
    assert second_prompt == [first, f"re: {first}", second]


def test_statuses_move_forward_only(start, fake):
    server = start()
    assert deliver(server, cloud.text("hi", message_id="wamid.s1")) == 200
    [sent] = settle(fake, 1, wait=0.3)
    sent_id = sent["id"]
    for status in ("read", "delivered", "sent"):
        payload = cloud.payload("status_delivered")
        payload["entry"][0]["changes"][0]["value"]["statuses"][0].update(id=sent_id,
                                                                        status=status)
        assert deliver(server, payload) == 200
    answer = _answer(server)
    assert (answer["delivery_status"], answer["provider_message_ids"]) == ("read", [sent_id])


def test_sigterm_lets_the_answer_in_progress_finish(start, fake):
    server = start(WEB_CONCURRENCY="1")
    fake.llm_delay = 1.5
    question = "hay aparcamiento cerca de la tienda"
    assert deliver(server, cloud.text(question, message_id="wamid.term")) == 200
    assert asked(fake), "the bot was never asked"
    output = server.stop(signal.SIGTERM)
    assert [s["text"] for s in fake.sent] == ["re: hay aparcamiento cerca de la tienda"]
    assert "dispatcher stopped" in output and "finished=True" in output


def _answer(server: Gunicorn) -> dict:
    token = jwt.encode({"sub": "qa", "iat": time.time(), "exp": time.time() + 60}, JWT_SECRET,
                       "HS256")
    headers = {"Authorization": f"Bearer {token}"}
    [session] = requests.get(f"{server.url}/api/v1/whatsapp/sessions", headers=headers,
                             timeout=5).json()["items"]
    messages = requests.get(f"{server.url}/api/v1/conversations/{session['conversation_id']}"
                            "/messages", headers=headers, timeout=5).json()["items"]
    return messages[-1]


def test_a_stalled_body_frees_its_thread(start, fake):
    """A client that stops sending its body gets 408 after 5 s, and meanwhile the others are
    served: it does not hold a thread until gunicorn restarts the worker."""
    server = start(WEB_CONCURRENCY="1", GUNICORN_THREADS="3")
    stalled = []
    for _ in range(2):  # as many as the worker lets read bodies at once
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        sock.sendall(b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
                     b"X-Hub-Signature-256: sha256=00\r\n\r\n{\"object\":")
        stalled.append(sock)
    started = time.monotonic()
    answers = [sock.recv(200) for sock in stalled]
    waited = time.monotonic() - started
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers
    assert 3 < waited < 15
    assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
    for sock in stalled:
        sock.close()


def test_a_dripping_body_is_cut_off_and_never_takes_the_last_thread(start, fake):
    """A client that sends its body a byte at a time holds one reading slot until the
    deadline, then gets 408; meanwhile the worker's other thread still answers /healthz, and a
    second body that finds no slot is refused at once with 503 (the provider retries)."""
    server = start(WEB_CONCURRENCY="1", GUNICORN_THREADS="2", WEBHOOK_BODY_SECONDS="2")
    drip = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    drip.sendall(b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n"
                 b"X-Hub-Signature-256: sha256=00\r\n\r\n{")
    stop = threading.Event()

    def keep_dripping():
        while not stop.wait(0.3):
            try:
                drip.sendall(b" ")
            except OSError:
                return

    dripper = threading.Thread(target=keep_dripping, daemon=True)
    dripper.start()
    started = time.monotonic()
    time.sleep(0.5)
    assert requests.get(f"{server.url}/healthz", timeout=3).status_code == 200
    other = requests.post(f"{server.url}/api/v1/whatsapp/webhook", data=b"{}", timeout=3,
                          headers={"X-Hub-Signature-256": "sha256=00",
                                   "Content-Type": "application/json"})
    assert (other.status_code, other.json()["error"]["code"]) == (503, "busy")
    answer = drip.recv(200)
    stop.set()
    assert answer.startswith(b"HTTP/1.1 408"), answer
    assert time.monotonic() - started < 6
    drip.close()


def test_forged_4_mib_bodies_leave_a_workers_memory_as_it_was(start, fake):
    """A forged body is checked in a reused buffer whose pages go back after it: a hundred of
    4 MiB, three at a time, cost a worker no more memory than small forged posts do (read
    whole into fresh bytes, they left 30 to 110 MB in its malloc arenas)."""
    server = start(WEB_CONCURRENCY="1")
    url = f"{server.url}/api/v1/whatsapp/webhook"
    forged = {"Content-Type": "application/json", "X-Hub-Signature-256": "sha256=" + "0" * 64}

    def post(body: bytes, count: int) -> None:
        with requests.Session() as session:
            for _ in range(count):
                response = session.post(url, data=body, headers=forged, timeout=10)
                assert response.status_code == 403 and len(response.content) < 1024

    def hammer(body: bytes) -> float:
        clients = [threading.Thread(target=post, args=(body, 34)) for _ in range(3)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        return server.worker_memory()[0]["uss"]

    small = hammer(b'{"entry": [1]}')  # every code path of a refusal has run once
    large = hammer(b'{"entry": [' + b"1," * (2 * 1024 * 1024 - 8) + b"1]}")
    assert large - small < 12, f"USS {small:.0f} MB after small bodies, {large:.0f} after large"
