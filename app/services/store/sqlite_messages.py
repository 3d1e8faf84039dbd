"""`messages` on SQLite: unique keys make every claim atomic (no check-then-insert)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import fields
from datetime import datetime

from app.services.store.base import (
    ALL_MESSAGES,
    DELIVERY_RANK,
    EVENTS_PER_MESSAGE,
    HISTORY_KINDS,
    Message,
    MessageFilter,
    MessageRepository,
    SendError,
    utcnow,
)
from app.services.store.sqlite import Rows, SqliteStore, ts

COLUMNS = [f.name for f in fields(Message)]
SELECT = f"SELECT {', '.join(COLUMNS)} FROM messages"


def _message(row: sqlite3.Row | None) -> Message | None:
    if row is None:
        return None
    data = dict(row)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["provider_message_ids"] = json.loads(data["provider_message_ids"])
    return Message(**data)


class SqliteMessages(MessageRepository):
    """Person's messages are unique by `inbound_key`, answers by `in_reply_to`."""

    def __init__(self, store: SqliteStore):
        self.store = store

    def _run(self, sql: str, params: tuple = ()) -> Rows:
        return self.store.run(sql, params)

    def _insert(self, message: Message, **extra: object) -> bool:
        row = {**message.__dict__, "created_at": ts(message.created_at),
               "provider_message_ids": json.dumps(message.provider_message_ids), **extra}
        return self._run(f"INSERT INTO messages ({', '.join(row)}) VALUES "
                         f"({', '.join('?' * len(row))}) ON CONFLICT DO NOTHING",
                         tuple(row.values())).rowcount == 1

    def add_inbound(self, conversation_id, seq, content, *, kind, status, dialect=None,
                    wa_id=None, business_number=None, provider_message_id=None,
                    source="whatsapp") -> Message | None:
        """Insert unless the (dialect, provider id) is already stored."""
        message = Message(
            id=uuid.uuid4().hex, conversation_id=conversation_id, role="user", content=content,
            source=source, created_at=utcnow(), position=2 * seq, kind=kind, status=status,
            dialect=dialect, wa_id=wa_id, business_number=business_number,
            provider_message_id=provider_message_id)
        key = f"{dialect}:{provider_message_id}" if provider_message_id else None
        return message if self._insert(message, inbound_key=key) else None

    def add_answer(self, reply_to: Message, content: str, kind: str = "answer") -> Message:
        """Insert the one reply to `reply_to`, or return the one already stored."""
        answer = Message(
            id=uuid.uuid4().hex, conversation_id=reply_to.conversation_id, role="assistant",
            content=content, source=reply_to.source, created_at=utcnow(),
            position=reply_to.position + 1, kind=kind, dialect=reply_to.dialect,
            wa_id=reply_to.wa_id, in_reply_to=reply_to.id, send_state="pending")
        return answer if self._insert(answer) else self.answer_for(reply_to.id)

    def add_operator(self, conversation_id: str, seq: int, content: str, to: Message,
                     author: str) -> Message:
        """Insert the operator's message after everything that arrived so far."""
        message = Message(
            id=uuid.uuid4().hex, conversation_id=conversation_id, role="assistant",
            content=content, source="operator", created_at=utcnow(), position=2 * seq + 1,
            kind="operator", dialect=to.dialect, wa_id=to.wa_id, send_state="pending",
            author=author)
        self._insert(message)
        return message

    def get(self, message_id: str) -> Message | None:
        """By primary key."""
        return _message(self._run(f"{SELECT} WHERE id = ?", (message_id,)).fetchone())

    def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        """The person's message first, else ours through `sent_ids`."""
        return _message(self._run(
            f"{SELECT} WHERE provider_message_id = ? UNION ALL {SELECT} WHERE id = (SELECT "
            "message_id FROM sent_ids WHERE provider_message_id = ?) LIMIT 1",
            (provider_message_id, provider_message_id)).fetchone())

    def add_event(self, message_id: str, event: dict) -> None:
        """Append, then drop what is older than the last `EVENTS_PER_MESSAGE`."""
        with self.store.transaction() as conn:
            self._append_event(conn, message_id, event)

    @staticmethod
    def _append_event(conn: sqlite3.Connection, message_id: str, event: dict) -> None:
        event = {**event, "at": ts(event["at"]) if isinstance(event.get("at"), datetime)
                 else event.get("at") or ts(utcnow())}
        conn.execute("INSERT INTO message_events (message_id, event) VALUES (?, ?)",
                     (message_id, json.dumps(event)))
        conn.execute("DELETE FROM message_events WHERE message_id = ? AND id <= (SELECT id "
                     "FROM message_events WHERE message_id = ? ORDER BY id DESC LIMIT 1 "
                     "OFFSET ?)", (message_id, message_id, EVENTS_PER_MESSAGE))

    def events(self, message_id: str) -> list[dict]:
        """In insertion order, which is time order."""
        rows = self._run("SELECT event FROM message_events WHERE message_id = ? ORDER BY id",
                         (message_id,))
        return [json.loads(row[0]) for row in rows]

    def answer_for(self, inbound_id: str) -> Message | None:
        """The reply stored for a person's message."""
        return _message(self._run(f"{SELECT} WHERE in_reply_to = ?", (inbound_id,)).fetchone())

    def next_queued(self, conversation_id: str) -> Message | None:
        """Earliest queued message of the conversation."""
        return _message(self._run(f"{SELECT} WHERE conversation_id = ? AND status = 'queued'"
                                  " ORDER BY position LIMIT 1", (conversation_id,)).fetchone())

    def queued_conversations(self, limit: int) -> list[str]:
        """Conversations with queued messages, longest waiting first."""
        rows = self._run(
            "SELECT m.conversation_id FROM messages m LEFT JOIN whatsapp_sessions s"
            " ON s.conversation_id = m.conversation_id WHERE m.status = 'queued'"
            " AND (s.lock_until IS NULL OR s.lock_until < ?) GROUP BY m.conversation_id"
            " ORDER BY min(m.created_at), min(m.rowid) LIMIT ?", (ts(utcnow()), limit))
        return [row[0] for row in rows]

    def mark_done(self, inbound_id: str, status: str = "done") -> None:
        """Take the message off the queue."""
        self._run("UPDATE messages SET status = ? WHERE id = ?", (status, inbound_id))

    def count_failure(self, inbound_id: str) -> int:
        """`attempts + 1`, returned by the same statement."""
        row = self._run("UPDATE messages SET attempts = attempts + 1 WHERE id = ? "
                        "RETURNING attempts", (inbound_id,)).fetchone()
        if row is None:
            raise LookupError(f"no message {inbound_id}")
        return row[0]

    def claim_send(self, answer_id: str, parts_sent: int) -> bool:
        """A conditional UPDATE from `pending` to `sending`."""
        return self._run("UPDATE messages SET send_state = 'sending' WHERE id = ? AND "
                         "send_state = 'pending' AND parts_sent = ?",
                         (answer_id, parts_sent)).rowcount == 1

    def update_send(self, answer_id, state, parts_sent, provider_message_ids, error=None,
                    attempts=None, event=None) -> None:
        """Record the send state, and index every provider id for status callbacks."""
        error = error or SendError(kind=None)
        with self.store.transaction() as conn:
            if event is not None:
                self._append_event(conn, answer_id, event)
            conn.execute("UPDATE messages SET send_state = ?, parts_sent = ?, "
                         "provider_message_ids = ?, error_kind = ?, error_code = ?, "
                         "error_message = ?, attempts = coalesce(?, attempts) WHERE id = ?",
                         (state, parts_sent, json.dumps(provider_message_ids), error.kind,
                          error.code, error.message, attempts, answer_id))
            conn.executemany("INSERT INTO sent_ids VALUES (?, ?) ON CONFLICT DO NOTHING",
                             [(pid, answer_id) for pid in provider_message_ids])

    def apply_status(self, provider_message_id, status, error=None) -> bool:
        """One conditional UPDATE: only a higher-ranked status is written."""
        rank, error = DELIVERY_RANK[status], error or SendError(kind=None)
        return self._run(
            "UPDATE messages SET delivery_status = ?, delivery_rank = ?, delivery_error_kind = ?,"
            " delivery_error_code = ?, delivery_error_title = ? WHERE delivery_rank < ? AND"
            " id = (SELECT message_id FROM sent_ids WHERE provider_message_id = ?)",
            (status, rank, error.kind, error.code, error.message, rank,
             provider_message_id)).rowcount == 1

    def history(self, conversation_id: str, before: int, limit: int) -> list[Message]:
        """Texts and answers before `before`, oldest first."""
        rows = self._run(f"{SELECT} WHERE conversation_id = ? AND position < ? AND kind IN "
                         f"({', '.join('?' * len(HISTORY_KINDS))}) ORDER BY position DESC LIMIT ?",
                         (conversation_id, before, *HISTORY_KINDS, limit))
        return [_message(row) for row in rows][::-1]

    def list(self, conversation_id: str, limit: int, offset: int = 0,
             where: MessageFilter = ALL_MESSAGES) -> list[Message]:
        """A page, in conversation order or newest first."""
        clause, params = _where(conversation_id, where)
        order = "DESC" if where.newest_first else "ASC"
        rows = self._run(f"{SELECT}{clause} ORDER BY position {order} LIMIT ? OFFSET ?",
                         (*params, limit, offset))
        return [_message(row) for row in rows]

    def count(self, conversation_id: str, where: MessageFilter = ALL_MESSAGES) -> int:
        """Messages in the conversation."""
        clause, params = _where(conversation_id, where)
        return self._run(f"SELECT count(*) FROM messages{clause}", params).fetchone()[0]

    def count_queued(self) -> int:
        """Served by the partial index of queued messages."""
        return self._run("SELECT count(*) FROM messages WHERE status = 'queued'").fetchone()[0]


def _where(conversation_id: str, where: MessageFilter) -> tuple[str, tuple]:
    clause, params = " WHERE conversation_id = ?", [conversation_id]
    if where.send_state is not None:
        clause += " AND send_state = ?"
        params.append(where.send_state)
    if where.error_kind is not None:
        clause += " AND (error_kind = ? OR delivery_error_kind = ?)"
        params += [where.error_kind, where.error_kind]
    if where.role is not None:
        clause += " AND role = ?"
        params.append(where.role)
    return clause, tuple(params)
