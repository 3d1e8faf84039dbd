"""The storage contract, run on SQLite and on MongoDB (mongomock, or MONGODB_URI when set)."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from app.errors import StoreUnavailable
from app.services.store.base import (
    EVENTS_PER_MESSAGE,
    MessageFilter,
    SendError,
    SessionFilter,
    utcnow,
)
from app.services.store.sqlite import SqliteStore


def race(count: int, work) -> list:
    """Run `work()` in `count` threads released at the same instant; their results."""
    results, barrier = [], threading.Barrier(count)

    def run():
        barrier.wait()
        results.append(work())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def inbound(store, wa_id="34600000001", message_id="wamid.1", text="hola", status="queued"):
    conversation = store.sessions.get_or_create(wa_id)
    return store.messages.add_inbound(
        conversation, store.sessions.next_seq(conversation), text, kind="text", status=status,
        dialect="cloud_api", wa_id=wa_id, provider_message_id=message_id)


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
    results = race(8, lambda: store.sessions.get_or_create("34600000001"))
    assert len(results) == 8 and len(set(results)) == 1
    assert store.sessions.count() == 1


def test_arrival_numbers_are_unique_under_concurrency(store):
    conversation = store.sessions.get_or_create("34600000001")
    assert sorted(race(8, lambda: store.sessions.next_seq(conversation))) == list(range(1, 9))


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


def test_a_provider_message_is_stored_once_however_many_arrive_at_once(store):
    results = race(10, lambda: inbound(store, message_id="wamid.same"))
    assert sum(r is not None for r in results) == 1
    conversation = store.sessions.get_or_create("34600000001")
    assert store.messages.count(conversation) == 1


def test_the_same_id_from_another_dialect_is_another_message(store):
    conversation = store.sessions.get_or_create("34600000001")
    for dialect in ("cloud_api", "generic"):
        assert store.messages.add_inbound(conversation, store.sessions.next_seq(conversation),
                                          "x", kind="text", status="done", dialect=dialect,
                                          provider_message_id="id-1") is not None


def test_one_answer_per_message(store):
    question = inbound(store)
    answers = race(6, lambda: store.messages.add_answer(question, "hola!"))
    assert len({a.id for a in answers}) == 1
    assert store.messages.answer_for(question.id).id == answers[0].id
    assert store.messages.answer_for("nope") is None


def test_queue_order_and_conversation_order(store):
    first = inbound(store, message_id="w1", text="one")
    inbound(store, message_id="w2", text="two")
    other = inbound(store, wa_id="34600000002", message_id="w3", text="three")
    conversation = first.conversation_id
    assert store.messages.queued_conversations(10) == [conversation, other.conversation_id]
    # A conversation leased now is being answered: the queue leaves it to its holder.
    assert store.sessions.acquire(conversation, "w1", utcnow() + timedelta(seconds=60))
    assert store.messages.queued_conversations(10) == [other.conversation_id]
    assert store.messages.queued_conversations(1) == [other.conversation_id]
    store.sessions.release(conversation, "w1")
    assert store.messages.next_queued(conversation).content == "one"
    store.messages.add_answer(first, "answer one")
    store.messages.mark_done(first.id)
    assert store.messages.next_queued(conversation).content == "two"
    # The answer to "one" sits between "one" and "two" though it was stored after both.
    assert [m.content for m in store.messages.list(conversation, 10)] == [
        "one", "answer one", "two"]
    assert [m.content for m in store.messages.history(conversation, 4, 10)] == [
        "one", "answer one"]
    assert [m.content for m in store.messages.history(conversation, 4, 1)] == ["answer one"]
    assert store.messages.history(conversation, 4, 0) == []


def test_failed_tries_at_answering_are_counted_and_a_message_can_be_given_up(store):
    first = inbound(store, message_id="w1", text="one")
    inbound(store, message_id="w2", text="two")
    counts = race(5, lambda: store.messages.count_failure(first.id))
    assert sorted(counts) == [1, 2, 3, 4, 5]  # atomic: no two failures read the same count
    assert store.messages.next_queued(first.conversation_id).attempts == 5
    store.messages.mark_done(first.id, "failed")
    assert store.messages.next_queued(first.conversation_id).content == "two"
    assert store.messages.list(first.conversation_id, 10)[0].status == "failed"


def test_history_leaves_out_non_text_and_notices(store):
    conversation = store.sessions.get_or_create("34600000001")
    photo = store.messages.add_inbound(conversation, store.sessions.next_seq(conversation), "",
                                       kind="image", status="queued")
    store.messages.add_answer(photo, "Text only, please.", kind="notice")
    question = inbound(store, message_id="w2", text="hi")
    assert store.messages.history(conversation, question.position, 10) == []


def test_send_state_and_forward_only_delivery_status(store):
    answer = store.messages.add_answer(inbound(store), "hola!")
    store.messages.update_send(answer.id, "sent", 2, ["out.1", "out.2"])
    stored = store.messages.answer_for(answer.in_reply_to)
    assert (stored.send_state, stored.parts_sent, stored.provider_message_ids) == (
        "sent", 2, ["out.1", "out.2"])
    assert store.messages.apply_status("out.2", "read")
    assert not store.messages.apply_status("out.1", "delivered")  # older news
    assert not store.messages.apply_status("unknown", "delivered")
    assert store.messages.answer_for(answer.in_reply_to).delivery_status == "read"
    assert store.messages.apply_status(
        "out.1", "failed", SendError("window_closed", "131047", "Re-engagement message"))
    stored = store.messages.answer_for(answer.in_reply_to)
    assert (stored.delivery_status, stored.delivery_error_kind, stored.delivery_error_code,
            stored.delivery_error_title) == (
        "failed", "window_closed", "131047", "Re-engagement message")


def test_failed_send_keeps_the_providers_error(store):
    answer = store.messages.add_answer(inbound(store), "hi")
    store.messages.update_send(answer.id, "failed", 0, [],
                               SendError("window_closed", "131047", "Re-engagement message"), 3)
    stored = store.messages.answer_for(answer.in_reply_to)
    assert (stored.send_state, stored.error_kind, stored.error_code, stored.error_message,
            stored.attempts) == ("failed", "window_closed", "131047", "Re-engagement message", 3)
    store.messages.update_send(answer.id, "sent", 1, ["out.1"])  # a later success clears it
    stored = store.messages.answer_for(answer.in_reply_to)
    assert (stored.error_kind, stored.error_code, stored.attempts) == (None, None, 3)


def test_the_latest_inbound_time_is_kept(store):
    now = utcnow()
    store.sessions.arrive("34600000001", sent_at=now - timedelta(hours=2))
    store.sessions.arrive("34600000001", sent_at=now - timedelta(hours=30))  # delivered late
    assert store.sessions.find_by_wa_id("34600000001").last_inbound_at == now - timedelta(hours=2)
    store.sessions.arrive("34600000001", sent_at=now)
    assert store.sessions.find_by_wa_id("34600000001").last_inbound_at == now


def test_provider_auth_failures_are_shared(store):
    assert store.providers.auth_failures() == {}
    store.providers.record_auth_failure("cloud_api", SendError("auth", "190", "token expired"))
    store.providers.record_auth_failure("cloud_api", SendError("auth", "190", "still expired"))
    assert store.providers.auth_failures() == {
        "cloud_api": SendError("auth", "190", "still expired")}
    store.providers.clear_auth_failure("cloud_api")
    assert store.providers.auth_failures() == {}


def test_a_lease_has_one_holder_until_released_or_expired(store):
    conversation = store.sessions.get_or_create("34600000001")
    later = utcnow() + timedelta(seconds=60)
    holders = race(6, lambda: store.sessions.acquire(conversation, "worker-a", later))
    assert holders.count(True) == 1
    assert not store.sessions.acquire(conversation, "worker-b", later)
    assert not store.sessions.renew(conversation, "worker-b", later)
    assert store.sessions.renew(conversation, "worker-a", later)
    store.sessions.release(conversation, "worker-b")  # not b's to release
    assert not store.sessions.acquire(conversation, "worker-b", later)
    store.sessions.release(conversation, "worker-a")
    assert store.sessions.acquire(conversation, "worker-b", utcnow() - timedelta(seconds=1))
    # b's lease has expired: a takes over, and b can no longer renew.
    assert store.sessions.acquire(conversation, "worker-a", later)
    assert not store.sessions.renew(conversation, "worker-b", later)


def test_ping_answers_when_reachable(store):
    store.ping()


def test_sqlite_file_is_durable_and_shared(tmp_path):
    path = str(tmp_path / "shared.sqlite3")
    writer, reader = SqliteStore(path), SqliteStore(path)
    writer.ensure_schema()
    reader.ensure_schema()
    conversation = writer.sessions.get_or_create("34600000001")
    writer.close()
    assert reader.sessions.get_or_create("34600000001") == conversation


def test_unreachable_sqlite_is_store_unavailable(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    store = SqliteStore(str(blocker / "gateway.sqlite3"))
    with pytest.raises(StoreUnavailable) as refused:
        store.ensure_schema()
    assert "gateway.sqlite3" in refused.value.reason  # for the log
    assert "sqlite3" not in refused.value.to_dict()["error"]["message"]  # not for the public


def test_a_locked_sqlite_file_is_store_unavailable(tmp_path):
    path = str(tmp_path / "gateway.sqlite3")
    store, blocker = SqliteStore(path, timeout=0.1), SqliteStore(path)
    store.ensure_schema()
    with blocker.transaction():
        with pytest.raises(StoreUnavailable) as refused:
            store.sessions.get_or_create("34600000001")
        assert "locked" in refused.value.reason
    assert store.sessions.get_or_create("34600000001")


def _write_from_child(store: SqliteStore, results) -> None:
    try:
        store.sessions.get_or_create("34600000002")
        results.put("written")
    except StoreUnavailable as err:
        results.put(err.reason)


def test_a_forked_worker_takes_turns_with_its_parent(tmp_path):
    """gunicorn forks its workers: each must wait for the others' writes, not share them."""
    import multiprocessing

    path = str(tmp_path / "gateway.sqlite3")
    store = SqliteStore(path, timeout=0.3)
    store.ensure_schema()  # the parent has its own descriptor of the turn before the fork
    fork = multiprocessing.get_context("fork")
    results = fork.Queue()
    with store.transaction():
        child = fork.Process(target=_write_from_child, args=(store, results))
        child.start()
        refused = results.get(timeout=10)
        child.join(10)
    assert "locked by another writer" in refused
    child = fork.Process(target=_write_from_child, args=(store, results))
    child.start()
    assert results.get(timeout=10) == "written"
    child.join(10)


def test_a_writer_waits_for_the_turn_instead_of_failing(tmp_path):
    path = str(tmp_path / "gateway.sqlite3")
    store, holder = SqliteStore(path, timeout=5), SqliteStore(path)
    store.ensure_schema()
    holding = threading.Event()

    def hold():
        with holder.transaction():
            holding.set()
            time.sleep(0.2)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    assert store.sessions.get_or_create("34600000001")  # waited, was not refused
    thread.join()


def test_only_one_worker_may_send_a_part(store):
    answer = store.messages.add_answer(inbound(store), "hola!")
    claims = race(6, lambda: store.messages.claim_send(answer.id, 0))
    assert claims.count(True) == 1
    assert store.messages.answer_for(answer.in_reply_to).send_state == "sending"
    store.messages.update_send(answer.id, "pending", 1, ["out.1"])
    assert not store.messages.claim_send(answer.id, 0)  # part 1 went already
    assert store.messages.claim_send(answer.id, 1)


def test_arrive_creates_or_counts_in_one_step(store):
    results = race(8, lambda: store.sessions.arrive("34600000001", "106540352242922"))
    assert len({conversation for conversation, _ in results}) == 1
    assert sorted(seq for _, seq in results) == list(range(1, 9))
    conversation = results[0][0]
    assert store.sessions.next_seq(conversation) == 9
    assert store.sessions.get_or_create("34600000001") == conversation


def test_a_schema_2_file_is_migrated_in_place(tmp_path):
    import sqlite3

    from app.services.store.sqlite_schema import MIGRATIONS, SCHEMA

    path = str(tmp_path / "old.sqlite3")
    old = SCHEMA
    added = (MIGRATIONS[2] + MIGRATIONS[3]).split(";")
    for statement in [s for s in added if "ADD COLUMN" in s]:
        column = statement.split(" ADD COLUMN ")[1].strip()
        old = old.replace(f"    {column},\n", "").replace(f",\n    {column}\n", "\n")
    old = old.split("CREATE TABLE IF NOT EXISTS provider_status")[0]
    conn = sqlite3.connect(path)
    conn.executescript(old + "PRAGMA user_version = 2;")
    conn.execute("INSERT INTO whatsapp_sessions (wa_id, conversation_id, created_at, updated_at)"
                 " VALUES ('34600000001', 'c-1', '2026-01-01', '2026-01-01')")
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    store.ensure_schema()
    assert store.sessions.get_or_create("34600000001") == "c-1"
    assert store.sessions.arrive("34600000001")[1] == 1
    assert store.providers.auth_failures() == {}
    assert store.connection().execute("PRAGMA user_version").fetchone()[0] == 4
    assert store.sessions.find_by_wa_id("34600000001").profile_name is None


def test_the_profile_name_is_kept_and_a_later_one_replaces_it(store):
    store.sessions.arrive("34600000001", profile_name="Ana")
    store.sessions.arrive("34600000001")  # a status-less payload without a name keeps it
    assert store.sessions.find_by_wa_id("34600000001").profile_name == "Ana"
    store.sessions.arrive("34600000001", profile_name="Ana G.")
    assert store.sessions.find_by_wa_id("34600000001").profile_name == "Ana G."


def test_sessions_filtered_by_person_and_by_attention(store):
    for wa_id in ("34600000001", "34600000002", "34600000003"):
        store.sessions.arrive(wa_id)
    second = store.sessions.find_by_wa_id("34600000002").conversation_id
    store.sessions.flag(second, "wants_person")
    by_person = SessionFilter(wa_id="34600000003")
    assert [s.wa_id for s in store.sessions.list_recent(10, where=by_person)] == ["34600000003"]
    assert store.sessions.count(SessionFilter(wa_id="34600000009")) == 0
    flagged = store.sessions.list_recent(10, where=SessionFilter(needs_attention=True))
    assert [(s.wa_id, s.attention) for s in flagged] == [("34600000002", "wants_person")]
    store.sessions.operator_wrote(second)
    assert store.sessions.count(SessionFilter(needs_attention=True)) == 0


def test_a_handoff_pauses_until_handed_back_or_the_operator_is_idle(store):
    conversation = store.sessions.arrive("34600000001")[0]
    store.sessions.flag(conversation, "failed_answer")
    session = store.sessions.hand_off(conversation, "laura")
    idle = timedelta(minutes=60)
    assert (session.handoff_by, session.paused(idle)) == ("laura", True)
    assert not session.paused(idle, now=session.handoff_at + idle)
    store.sessions.operator_wrote(conversation)  # an operator's message restarts the clock
    session = store.sessions.find_by_conversation_id(conversation)
    assert session.operator_at >= session.handoff_at
    later = replace(session, operator_at=session.handoff_at + idle / 2)
    assert later.paused(idle, now=session.handoff_at + idle)
    back = store.sessions.hand_off(conversation, None)
    assert (back.handoff_by, back.attention, back.paused(idle)) == (None, None, False)
    assert store.sessions.hand_off("no-such-conversation", "laura") is None


def test_an_operator_message_is_stored_after_what_arrived(store):
    question = inbound(store)
    seq = store.sessions.next_seq(question.conversation_id)
    reply = store.messages.add_operator(question.conversation_id, seq, "Te llamo ahora",
                                        to=question, author="laura")
    assert (reply.source, reply.kind, reply.send_state, reply.author) == (
        "operator", "operator", "pending", "laura")
    listed = store.messages.list(question.conversation_id, 10)
    assert [m.id for m in listed] == [question.id, reply.id]
    history = store.messages.history(question.conversation_id, reply.position + 1, 10)
    assert [m.content for m in history] == ["hola", "Te llamo ahora"]


def test_a_message_is_found_by_any_provider_id_it_has(store):
    question = inbound(store, message_id="wamid.IN")
    answer = store.messages.add_answer(question, "a long answer")
    store.messages.update_send(answer.id, "sent", 2, ["wamid.P1", "wamid.P2"])
    assert store.messages.find_by_provider_id("wamid.IN").id == question.id
    assert store.messages.find_by_provider_id("wamid.P2").id == answer.id
    assert store.messages.find_by_provider_id("wamid.NONE") is None
    assert store.messages.get(answer.id).content == "a long answer"


def test_only_the_latest_events_of_a_message_are_kept(store):
    answer = store.messages.add_answer(inbound(store), "hi")
    for n in range(EVENTS_PER_MESSAGE + 5):
        store.messages.add_event(answer.id, {"type": "attempt", "n": n, "at": utcnow()})
    events = store.messages.events(answer.id)
    assert [e["n"] for e in events] == list(range(5, EVENTS_PER_MESSAGE + 5))
    assert datetime.fromisoformat(events[0]["at"]).tzinfo is not None
    assert store.messages.events(store.messages.add_answer(
        inbound(store, message_id="wamid.2"), "x").id) == []


def test_messages_newest_first_and_filtered_by_failure(store):
    first, second = inbound(store, message_id="wamid.1"), inbound(store, message_id="wamid.2")
    ok, bad = store.messages.add_answer(first, "a"), store.messages.add_answer(second, "b")
    store.messages.update_send(ok.id, "sent", 1, ["wamid.OK"])
    store.messages.update_send(bad.id, "failed", 0, [], SendError("window_closed"))
    conversation = first.conversation_id
    newest = store.messages.list(conversation, 10, where=MessageFilter(newest_first=True))
    assert [m.id for m in newest] == [bad.id, second.id, ok.id, first.id]
    failed = MessageFilter(send_state="failed")
    assert [m.id for m in store.messages.list(conversation, 10, where=failed)] == [bad.id]
    assert store.messages.count(conversation, MessageFilter(error_kind="window_closed")) == 1
    store.messages.apply_status("wamid.OK", "failed", SendError("undeliverable", "131026"))
    by_kind = MessageFilter(error_kind="undeliverable")
    assert [m.id for m in store.messages.list(conversation, 10, where=by_kind)] == [ok.id]
    assert store.messages.count_queued() == 2


def test_a_send_and_its_attempt_are_kept_together(store):
    answer = store.messages.add_answer(inbound(store), "hi")
    attempt = {"type": "attempt", "at": utcnow(), "part": 1, "accepted": True}
    store.messages.update_send(answer.id, "sent", 1, ["wamid.P1"], event=attempt)
    assert store.messages.get(answer.id).send_state == "sent"
    assert [e["part"] for e in store.messages.events(answer.id)] == [1]
