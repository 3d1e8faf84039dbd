"""The embedded store: one SQLite file that every worker on the machine shares (WAL mode)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from app.errors import StoreUnavailable
from app.services.store.base import (
    Message,
    MessageRepository,
    Session,
    Store,
    WhatsappSessionRepository,
    new_conversation_id,
    utcnow,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS whatsapp_sessions (
    wa_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE,
    phone_number_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS whatsapp_sessions_updated_at ON whatsapp_sessions (updated_at DESC);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    dialect TEXT,
    provider_message_id TEXT,
    send_state TEXT,
    provider_message_ids TEXT NOT NULL DEFAULT '[]',
    error_code TEXT,
    error_message TEXT
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id);
"""
SESSION_COLUMNS = "wa_id, conversation_id, phone_number_id, created_at, updated_at"


def _ts(moment: datetime) -> str:
    # A fixed-width form, so that text order is time order.
    return moment.isoformat(timespec="microseconds")


class SqliteStore(Store):
    """Connections are opened lazily, one per thread and process, after gunicorn forks."""

    def __init__(self, path: str, timeout: float = 5.0):
        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self.sessions = SqliteSessions(self)
        self.messages = SqliteMessages(self)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, in autocommit mode: each statement is its own transaction."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            if os.path.dirname(self.path):
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def cursor(self) -> Iterator[sqlite3.Connection]:
        """The connection, with SQLite's failures translated to `StoreUnavailable`."""
        try:
            yield self.connection()
        except (sqlite3.OperationalError, OSError) as err:
            raise StoreUnavailable(f"SQLite store {self.path}: {err}") from err

    def ensure_schema(self) -> None:
        """Create the tables and indexes if they are missing."""
        with self.cursor() as conn:
            conn.executescript(SCHEMA)

    def ping(self) -> None:
        """Run a trivial query."""
        with self.cursor() as conn:
            conn.execute("SELECT 1 FROM whatsapp_sessions LIMIT 1")

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _session(row: sqlite3.Row | None) -> Session | None:
    if row is None:
        return None
    return Session(row["wa_id"], row["conversation_id"], row["phone_number_id"],
                   datetime.fromisoformat(row["created_at"]),
                   datetime.fromisoformat(row["updated_at"]))


class SqliteSessions(WhatsappSessionRepository):
    """`whatsapp_sessions`, keyed by `wa_id`."""

    def __init__(self, store: SqliteStore):
        self.store = store

    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """One upsert: the primary key decides the race, RETURNING gives the winner's id."""
        now = _ts(utcnow())
        with self.store.cursor() as conn:
            row = conn.execute(
                "INSERT INTO whatsapp_sessions VALUES (?, ?, ?, ?, ?) ON CONFLICT (wa_id) DO UPDATE"
                " SET phone_number_id = coalesce(excluded.phone_number_id, phone_number_id)"
                " RETURNING conversation_id",
                (wa_id, new_conversation_id(), phone_number_id, now, now),
            ).fetchone()
        return row["conversation_id"]

    def touch(self, wa_id: str) -> None:
        """Set `updated_at` to now."""
        with self.store.cursor() as conn:
            conn.execute("UPDATE whatsapp_sessions SET updated_at = ? WHERE wa_id = ?",
                         (_ts(utcnow()), wa_id))

    def find_by_wa_id(self, wa_id: str) -> Session | None:
        """Look up by `wa_id`."""
        return self._one("wa_id", wa_id)

    def find_by_conversation_id(self, conversation_id: str) -> Session | None:
        """Look up by conversation id."""
        return self._one("conversation_id", conversation_id)

    def _one(self, column: str, value: str) -> Session | None:
        with self.store.cursor() as conn:
            row = conn.execute(f"SELECT {SESSION_COLUMNS} FROM whatsapp_sessions "
                               f"WHERE {column} = ?", (value,)).fetchone()
        return _session(row)

    def list_recent(self, limit: int, offset: int = 0) -> list[Session]:
        """Newest `updated_at` first."""
        with self.store.cursor() as conn:
            rows = conn.execute(f"SELECT {SESSION_COLUMNS} FROM whatsapp_sessions ORDER BY "
                                "updated_at DESC, wa_id LIMIT ? OFFSET ?", (limit, offset))
            return [_session(row) for row in rows]

    def count(self) -> int:
        """Number of sessions."""
        with self.store.cursor() as conn:
            return conn.execute("SELECT count(*) FROM whatsapp_sessions").fetchone()[0]


def _message(row: sqlite3.Row) -> Message:
    data = dict(row)
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    data["provider_message_ids"] = json.loads(data["provider_message_ids"])
    return Message(**data)


class SqliteMessages(MessageRepository):
    """`messages`, ordered by insertion (rowid)."""

    def __init__(self, store: SqliteStore):
        self.store = store

    def add(self, conversation_id: str, role: str, content: str, source: str = "whatsapp",
            **extra: object) -> Message:
        """Insert one message."""
        message = Message(id=uuid.uuid4().hex, conversation_id=conversation_id, role=role,
                          content=content, source=source, created_at=utcnow(), **extra)
        row = {**message.__dict__, "created_at": _ts(message.created_at),
               "provider_message_ids": json.dumps(message.provider_message_ids)}
        with self.store.cursor() as conn:
            conn.execute(f"INSERT INTO messages ({', '.join(row)}) "
                         f"VALUES ({', '.join('?' * len(row))})", tuple(row.values()))
        return message

    def record_send(self, message_id: str, state: str, provider_message_ids: list[str],
                    error_code: str | None = None, error_message: str | None = None) -> None:
        """Update the answer's send state."""
        with self.store.cursor() as conn:
            conn.execute("UPDATE messages SET send_state = ?, provider_message_ids = ?, "
                         "error_code = ?, error_message = ? WHERE id = ?",
                         (state, json.dumps(provider_message_ids), error_code, error_message,
                          message_id))

    def history(self, conversation_id: str, limit: int) -> list[Message]:
        """The last `limit` messages, oldest first."""
        with self.store.cursor() as conn:
            rows = conn.execute("SELECT * FROM messages WHERE conversation_id = ? "
                                "ORDER BY rowid DESC LIMIT ?", (conversation_id, limit))
            return [_message(row) for row in rows][::-1]

    def list(self, conversation_id: str, limit: int, offset: int = 0) -> list[Message]:
        """A page, oldest first."""
        with self.store.cursor() as conn:
            rows = conn.execute("SELECT * FROM messages WHERE conversation_id = ? "
                                "ORDER BY rowid LIMIT ? OFFSET ?", (conversation_id, limit, offset))
            return [_message(row) for row in rows]

    def count(self, conversation_id: str) -> int:
        """Messages in the conversation."""
        with self.store.cursor() as conn:
            return conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ?",
                                (conversation_id,)).fetchone()[0]
