"""One answer per message, none lost, in order: in one process, on both stores.

The multi-process versions (real gunicorn workers, SIGKILL) are in `test_e2e_guarantees.py`.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from app.errors import StoreUnavailable
from app.services.store.base import utcnow
from tests.cases import CloudApiCase, TwilioCase, post, sends
from tests.conftest import store_back
from tests.test_store import race

cloud = CloudApiCase()


class Bot:
    """Answers "re: <question>", recording what it was asked; can be held back."""

    def __init__(self):
        self.calls: list[tuple[str, list]] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def answer(self, question, history, language="es"):
        self.calls.append((question, history))
        self.entered.set()
        assert self.release.wait(10), "test bot was never released"
        return f"re: {question}"


@pytest.fixture(params=["sqlite", "mongodb"])
def app(request, make_app):
    """The gateway on each store; its bot is the test's `Bot`."""
    overrides = {}
    if request.param == "mongodb":
        overrides["MONGO_CLIENT"] = request.getfixturevalue("mongo_client")
    app = make_app(**overrides)
    app.extensions["handler"].chat.bot = Bot()
    return app


def bot(app) -> Bot:
    return app.extensions["handler"].chat.bot


def stored(app, wa_id="34600000001"):
    store = app.extensions["store"]
    session = store.sessions.find_by_wa_id(wa_id)
    return store.messages.list(session.conversation_id, 100) if session else []


def test_twenty_concurrent_deliveries_give_one_answer(app, provider):
    payload = cloud.text("hello", message_id="wamid.storm")
    statuses = race(20, lambda: post(app.test_client(), cloud, payload).status_code)
    app.extensions["dispatcher"].wait_idle()
    assert statuses == [200] * 20
    assert [q for q, _ in bot(app).calls] == ["hello"]
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: hello"]
    assert [m.role for m in stored(app)] == ["user", "assistant"]


def test_a_duplicate_inside_one_payload_is_answered_once(app, provider):
    payload = cloud.text("hello", message_id="wamid.twice")
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"].append(dict(value["messages"][0]))
    assert post(app.test_client(), cloud, payload).status_code == 200
    assert len(sends(provider)) == 1


def test_a_provider_retry_after_the_answer_does_nothing(app, provider):
    client = app.test_client()
    post(client, cloud, cloud.text("hello", message_id="wamid.retry"))
    post(client, cloud, cloud.text("hello", message_id="wamid.retry"))
    assert (len(bot(app).calls), len(sends(provider))) == (1, 1)


def test_the_webhook_answers_before_the_bot_does(app, provider):
    bot(app).release.clear()
    response = post(app.test_client(), cloud, cloud.text("slow"), wait=False)
    assert response.status_code == 200
    assert bot(app).entered.wait(5) and sends(provider) == []
    bot(app).release.set()
    app.extensions["dispatcher"].wait_idle()
    assert len(sends(provider)) == 1


def test_two_quick_messages_are_answered_in_order_with_history(app, provider):
    bot(app).release.clear()
    client = app.test_client()
    post(client, cloud, cloud.text("first", message_id="w1"), wait=False)
    assert bot(app).entered.wait(5)
    post(client, cloud, cloud.text("second", message_id="w2"), wait=False)
    bot(app).release.set()
    app.extensions["dispatcher"].wait_idle()
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: first", "re: second"]
    assert bot(app).calls[1] == ("second", [("user", "first"), ("assistant", "re: first")])


def test_a_message_left_by_a_dead_worker_is_answered_once_after_its_lease(app, provider):
    store, dispatcher = app.extensions["store"], app.extensions["dispatcher"]
    # A worker stored the message, leased the conversation, and died while the bot answered.
    conversation = store.sessions.get_or_create("34600000001")
    store.messages.add_inbound(conversation, store.sessions.next_seq(conversation), "hello",
                               kind="text", status="queued", dialect="cloud_api",
                               wa_id="34600000001", business_number="106540352242922",
                               provider_message_id="wamid.orphan")
    assert store.sessions.acquire(conversation, "dead-worker", utcnow() + timedelta(hours=1))
    dispatcher.sweep()
    dispatcher.wait_idle()
    assert sends(provider) == []  # the lease is still current: nobody else may answer
    store.sessions.release(conversation, "dead-worker")
    assert store.sessions.acquire(conversation, "dead-worker", utcnow() - timedelta(seconds=1))
    dispatcher.sweep()
    dispatcher.wait_idle()
    dispatcher.sweep()
    dispatcher.wait_idle()
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: hello"]


def test_a_message_that_always_fails_is_set_aside_and_its_conversation_goes_on(app, provider,
                                                                               caplog):
    outbox, dispatcher = app.extensions["handler"].outbox, app.extensions["dispatcher"]
    deliver = outbox.deliver

    def fragile(inbound, answer):  # a bug only this message hits
        if inbound.content == "poison":
            raise RuntimeError("cannot deliver this one")
        deliver(inbound, answer)

    outbox.deliver = fragile
    client = app.test_client()
    post(client, cloud, cloud.text("poison", message_id="w1"))
    post(client, cloud, cloud.text("hello", message_id="w2"))
    assert sends(provider) == []  # held behind the failing message, in order
    for _ in range(5):
        dispatcher.sweep()
        dispatcher.wait_idle()
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: hello"]
    poison = stored(app)[0]
    assert (poison.content, poison.status, poison.attempts) == ("poison", "failed", 5)
    assert bot(app).calls[0][0] == "poison" and len(bot(app).calls) == 2  # asked once each
    assert "gave up dialect=cloud_api message_id=w1" in caplog.text


def test_a_store_outage_while_answering_never_counts_against_the_message(app, provider):
    outbox, dispatcher = app.extensions["handler"].outbox, app.extensions["dispatcher"]
    deliver, outages = outbox.deliver, iter(range(7))

    def flapping(inbound, answer):  # the store fails mid-answer, seven times over
        if next(outages, None) is not None:
            raise StoreUnavailable("SQLite store: database is locked")
        deliver(inbound, answer)

    outbox.deliver = flapping
    post(app.test_client(), cloud, cloud.text("hello", message_id="w1"))
    for _ in range(8):
        store_back(app)
        dispatcher.sweep()
        dispatcher.wait_idle()
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: hello"]
    assert (stored(app)[0].status, stored(app)[0].attempts) == ("done", 0)


def crashed_after(app, state: str, parts_sent: int = 0, content: str = "re: hello"):
    """A message whose worker died after storing the answer in `state`."""
    store = app.extensions["store"]
    conversation = store.sessions.get_or_create("34600000001")
    question = store.messages.add_inbound(
        conversation, store.sessions.next_seq(conversation), "hello", kind="text",
        status="queued", dialect="cloud_api", wa_id="34600000001",
        business_number="106540352242922", provider_message_id="wamid.crash")
    answer = store.messages.add_answer(question, content)
    ids = [f"wamid.before{n}" for n in range(parts_sent)]
    store.messages.update_send(answer.id, state, parts_sent, ids)
    app.extensions["dispatcher"].sweep()
    app.extensions["dispatcher"].wait_idle()
    return store.messages.answer_for(question.id)


def test_a_stored_answer_is_sent_without_asking_the_bot_again(app, provider):
    answer = crashed_after(app, "pending")
    assert bot(app).calls == []
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: hello"]
    assert answer.send_state == "sent"


def test_a_send_that_may_have_reached_the_provider_is_not_repeated(app, provider, caplog):
    answer = crashed_after(app, "sending")
    assert sends(provider) == []
    assert (answer.send_state, answer.error_code) == ("failed", "send_interrupted")
    assert "send interrupted" in caplog.text


def test_parts_the_provider_accepted_are_not_sent_again(app, provider):
    long = "\n\n".join(f"Paragraph {n}. " + "word " * 700 for n in range(3))
    answer = crashed_after(app, "pending", parts_sent=1, content=long)
    sent = [cloud.sent_text(r)[1] for r in sends(provider)]
    assert [part.split(".")[0] for part in sent] == ["Paragraph 1", "Paragraph 2"]
    assert (answer.send_state, answer.parts_sent, len(answer.provider_message_ids)) == (
        "sent", 3, 3)


def test_a_full_pool_leaves_the_message_stored_for_the_next_free_thread(make_app, provider):
    app = make_app(BACKGROUND_THREADS="1", BACKGROUND_BACKLOG="0")
    app.extensions["handler"].chat.bot = slow = Bot()
    slow.release.clear()
    client = app.test_client()
    post(client, cloud, cloud.text("one", wa_id="34600000001", message_id="a"), wait=False)
    assert slow.entered.wait(5)
    response = post(client, cloud, cloud.text("two", wa_id="34600000002", message_id="b"),
                    wait=False)
    assert response.status_code == 200
    assert [m.status for m in stored(app, "34600000002")] == ["queued"]
    slow.release.set()
    app.extensions["dispatcher"].wait_idle()  # no sweep runs (WHATSAPP_SWEEP_SECONDS=0)
    assert sorted(cloud.sent_text(r)[1] for r in sends(provider)) == ["re: one", "re: two"]
    assert app.extensions["dispatcher"].sweep() == 0


def test_idle_threads_of_another_worker_take_a_left_message_within_seconds(make_app, provider,
                                                                           caplog):
    """A burst that reaches one worker (a provider's kept-alive connections) left the other
    worker's threads idle until its sweep, 10 s later: half the pool for the burst's start."""
    caplog.set_level("INFO", logger="app.services.dispatcher")
    busy = make_app(BACKGROUND_THREADS="1", BACKGROUND_BACKLOG="0")
    busy.extensions["handler"].chat.bot = slow = Bot()
    slow.release.clear()
    idle = make_app(WHATSAPP_SWEEP_SECONDS="60")  # the same store, as workers share it
    idle.extensions["handler"].chat.bot = Bot()
    post(busy.test_client(), cloud, cloud.text("one", wa_id="34600000001", message_id="a"),
         wait=False)
    assert slow.entered.wait(5)
    # The idle worker starts with a sweep, which finds "one" held; its next is 60 s away.
    # (Started before "one" was posted, that sweep could take it first.)
    dispatcher, swept = idle.extensions["dispatcher"], threading.Event()
    original = dispatcher.sweep

    def sweep_and_tell() -> int:
        found = original()
        swept.set()
        return found

    dispatcher.sweep = sweep_and_tell
    dispatcher.start()
    assert swept.wait(5)
    post(busy.test_client(), cloud, cloud.text("two", wa_id="34600000002", message_id="b"),
         wait=False)
    deadline = time.monotonic() + 5  # the sweep would take 60 s
    while not sends(provider) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: two"]
    assert "idle threads picked up conversations=1" in caplog.text
    slow.release.set()
    busy.extensions["dispatcher"].wait_idle()
    assert sorted(cloud.sent_text(r)[1] for r in sends(provider)) == ["re: one", "re: two"]


def test_sqlite_unreachable_answers_503_and_the_retry_is_answered_once(make_app, provider):
    app = make_app(GATEWAY_DB_TIMEOUT="0.1")
    from app.services.store.sqlite import SqliteStore

    blocker = SqliteStore(app.extensions["store"].path)
    payload = cloud.text("hello", message_id="wamid.outage")
    with blocker.transaction():
        response = post(app.test_client(), cloud, payload)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "store_unavailable"
    assert sends(provider) == []
    store_back(app)
    for _ in range(2):  # the provider retries, maybe more than once
        assert post(app.test_client(), cloud, payload).status_code == 200
    assert len(sends(provider)) == 1


def test_mongodb_unreachable_answers_503_and_the_retry_is_answered_once(make_app, provider,
                                                                       mongo_client, monkeypatch):
    app = make_app(MONGO_CLIENT=mongo_client)
    sessions = app.extensions["store"].sessions.collection
    payload = cloud.text("hello", message_id="wamid.outage")

    def down(*args, **kwargs):
        raise ServerSelectionTimeoutError("no servers")

    with monkeypatch.context() as patch:
        patch.setattr(sessions, "find_one_and_update", down)
        assert post(app.test_client(), cloud, payload).status_code == 503
    store_back(app)
    assert post(app.test_client(), cloud, payload).status_code == 200
    assert post(app.test_client(), cloud, payload).status_code == 200
    assert len(sends(provider)) == 1


def test_statuses_move_the_stored_answer_forward_only(app, provider):
    client = app.test_client()
    post(client, cloud, cloud.text("hello"))
    [answer] = [m for m in stored(app) if m.role == "assistant"]
    [sent_id] = answer.provider_message_ids

    def status(name, **extra):
        payload = cloud.payload("status_delivered")
        item = payload["entry"][0]["changes"][0]["value"]["statuses"][0]
        item.update(id=sent_id, status=name, **extra)
        assert post(client, cloud, payload).status_code == 200
        return [m for m in stored(app) if m.role == "assistant"][0]

    assert status("delivered").delivery_status == "delivered"
    assert status("read").delivery_status == "read"
    assert status("delivered").delivery_status == "read"
    failed = status("failed", errors=[{"code": 131026, "title": "Message undeliverable"}])
    assert (failed.delivery_status, failed.delivery_error_code, failed.delivery_error_title) == (
        "failed", "131026", "Message undeliverable")
    assert post(client, cloud, cloud.payload("status_delivered")).status_code == 200  # unknown


def test_twilio_status_callbacks_update_the_answer(app, provider):
    twilio = TwilioCase()
    client = app.test_client()
    post(client, twilio, twilio.text("hello"))
    [answer] = [m for m in stored(app) if m.role == "assistant"]
    callback = {**twilio.payload("status_failed"), "MessageSid": answer.provider_message_ids[0]}
    assert post(client, twilio, callback).status_code == 200
    [answer] = [m for m in stored(app) if m.role == "assistant"]
    assert (answer.delivery_status, answer.delivery_error_code) == ("failed", "63016")


def test_a_stopping_worker_finishes_what_it_started_and_takes_nothing_new(app, provider):
    bot(app).release.clear()
    client = app.test_client()
    post(client, cloud, cloud.text("started", message_id="w1"), wait=False)
    assert bot(app).entered.wait(5)
    dispatcher = app.extensions["dispatcher"]
    stopper = threading.Thread(target=dispatcher.stop, kwargs={"timeout": 10})
    stopper.start()
    post(client, cloud, cloud.text("later", wa_id="34600000002", message_id="w2"), wait=False)
    bot(app).release.set()
    stopper.join(10)
    assert [cloud.sent_text(r)[1] for r in sends(provider)] == ["re: started"]
    assert [m.status for m in stored(app, "34600000002")] == ["queued"]  # for another worker


def test_a_worker_that_lost_its_lease_does_not_send_a_second_time(app, provider):
    store, handler = app.extensions["store"], app.extensions["handler"]
    conversation = store.sessions.get_or_create("34600000001")
    question = store.messages.add_inbound(
        conversation, store.sessions.next_seq(conversation), "hello", kind="text",
        status="queued", dialect="cloud_api", wa_id="34600000001",
        business_number="106540352242922", provider_message_id="wamid.slow")
    # Two workers both believe they answer it (one's lease expired during a slow bot call).
    race(2, lambda: handler.process(question))
    assert len(sends(provider)) == 1


def test_the_heartbeat_keeps_a_slow_answer_leased(app):
    store, dispatcher = app.extensions["store"], app.extensions["dispatcher"]
    conversation = store.sessions.get_or_create("34600000001")
    assert store.sessions.acquire(conversation, dispatcher.owner, utcnow())  # about to expire
    dispatcher._active.add(conversation)
    dispatcher.heartbeat()
    dispatcher._active.discard(conversation)
    assert not store.sessions.acquire(conversation, "other-worker", utcnow())


def test_a_worker_booting_while_the_store_is_down_answers_503_until_it_is_back(
        make_app, provider, tmp_path, caplog):
    from app.services.store.sqlite import SqliteStore

    path = str(tmp_path / "fresh.sqlite3")
    blocker = SqliteStore(path)
    with blocker.transaction():
        app = make_app(GATEWAY_DB_PATH=path, GATEWAY_DB_TIMEOUT="0.1")
        assert "store unreachable at startup" in caplog.text
        assert post(app.test_client(), cloud, cloud.text("hello")).status_code == 503
    store_back(app)
    assert post(app.test_client(), cloud, cloud.text("hello")).status_code == 200
    assert len(sends(provider)) == 1
