"""The storage contract, run on SQLite and on MongoDB (mongomock, or MONGODB_URI when set)."""

from __future__ import annotations

import threading
import time

import pytest

from app.errors import StoreUnavailable
from app.services.store.sqlite import SqliteStore


def test_get_or_create_returns_one_conversation_per_wa_id(store):
    first = store.sessions.get_or_create("34600000001", "106540352242922")
    assert store.sessions.get_or_create("34600000001") == first
    assert store.sessions.get_or_create("34600000002") != first
    session = store.sessions.find_by_wa_id("34600000001")
    assert (session.conversation_id, session.phone_number_id) == (first, "106540352242922")
    assert session.created_at.tzinfo is not None
    assert store.sessions.find_by_conversation_id(first).wa_id == "34600000001"
    assert store.sessions.find_by_wa_id("34600000009") is None


def test_get_or_create_is_atomic_under_concurrency(store):
    results, barrier = [], threading.Barrier(8)

    def contend():
        barrier.wait()
        results.append(store.sessions.get_or_create("34600000001"))

    threads = [threading.Thread(target=contend) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert store.sessions.count() == 1


def test_a_later_phone_number_id_is_kept(store):
    store.sessions.get_or_create("34600000001")
    store.sessions.get_or_create("34600000001", "106540352242922")
    store.sessions.get_or_create("34600000001")
    assert store.sessions.find_by_wa_id("34600000001").phone_number_id == "106540352242922"


def test_sessions_are_listed_most_recently_active_first(store):
    for wa_id in ("1", "2", "3"):
        store.sessions.get_or_create(wa_id)
        time.sleep(0.002)
    store.sessions.touch("1")
    assert [s.wa_id for s in store.sessions.list_recent(10)] == ["1", "3", "2"]
    assert [s.wa_id for s in store.sessions.list_recent(1, offset=1)] == ["3"]
    assert store.sessions.count() == 3


def test_messages_keep_order_fields_and_history(store):
    conversation = store.sessions.get_or_create("34600000001")
    store.messages.add(conversation, "user", "hola", "whatsapp", dialect="cloud_api",
                       provider_message_id="wamid.1")
    answer = store.messages.add(conversation, "assistant", "¡hola!", "whatsapp",
                                send_state="pending")
    store.messages.record_send(answer.id, "sent", ["wamid.out1", "wamid.out2"])
    for n in range(3):
        store.messages.add(conversation, "user", f"m{n}")
    everything = store.messages.list(conversation, 10)
    assert [(m.role, m.content) for m in everything] == [
        ("user", "hola"), ("assistant", "¡hola!"), ("user", "m0"), ("user", "m1"),
        ("user", "m2")]
    assert everything[0].provider_message_id == "wamid.1"
    assert everything[0].source == "whatsapp"
    assert (everything[1].send_state, everything[1].provider_message_ids) == (
        "sent", ["wamid.out1", "wamid.out2"])
    assert [m.content for m in store.messages.history(conversation, 2)] == ["m1", "m2"]
    assert store.messages.history(conversation, 0) == []
    assert [m.content for m in store.messages.list(conversation, 2, offset=1)] == ["¡hola!", "m0"]
    assert store.messages.count(conversation) == 5
    assert store.messages.list("other", 10) == []


def test_failed_send_keeps_the_providers_error(store):
    conversation = store.sessions.get_or_create("34600000001")
    answer = store.messages.add(conversation, "assistant", "hi", send_state="pending")
    store.messages.record_send(answer.id, "failed", [], "131047", "Re-engagement message")
    [stored] = store.messages.list(conversation, 1)
    assert (stored.send_state, stored.error_code, stored.error_message) == (
        "failed", "131047", "Re-engagement message")


def test_ping_answers_when_reachable(store):
    store.ping()


def test_sqlite_file_is_durable_and_shared(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SqliteStore(path), SqliteStore(path)
    writer.ensure_schema()
    conversation = writer.sessions.get_or_create("34600000001")
    writer.close()
    assert reader.sessions.get_or_create("34600000001") == conversation


def test_unreachable_sqlite_is_store_unavailable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = SqliteStore(str(blocker / "gateway.sqlite3"))
    with pytest.raises(StoreUnavailable, match="gateway.sqlite3"):
        store.ensure_schema()
