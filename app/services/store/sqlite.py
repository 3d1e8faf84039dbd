"""The embedded store: one SQLite file that every worker on the machine shares (WAL mode)."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime

from app.errors import ConfigError, StoreUnavailable
from app.services.store.base import (
    ALL_SESSIONS,
    ProviderStatusRepository,
    SendError,
    Session,
    SessionFilter,
    Store,
    WhatsappSessionRepository,
    new_conversation_id,
    utcnow,
)
from app.services.store.sqlite_schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

SESSION_FIELDS = [f.name for f in fields(Session)]
SESSION_COLUMNS = ", ".join(SESSION_FIELDS)
SESSION_TIMES = ("created_at", "updated_at", "last_inbound_at", "handoff_at", "operator_at",
                 "attention_at")


def ts(moment: datetime) -> str:
    """A fixed-width ISO form, so that text order is time order."""
    return moment.isoformat(timespec="microseconds")


WRITES = ("INSERT", "UPDATE", "DELETE")


class Rows:
    """A statement's rows, all read, and how many rows it changed."""

    def __init__(self, cursor: sqlite3.Cursor):
        self.rows = cursor.fetchall()  # a statement with RETURNING is done only once read
        self.rowcount = cursor.rowcount

    def fetchone(self) -> sqlite3.Row | None:
        """The first row, if any."""
        return self.rows[0] if self.rows else None

    def __iter__(self) -> Iterator[sqlite3.Row]:
        return iter(self.rows)


class WriteTurn:
    """One writer at a time among the threads and processes that share the file: a thread
    lock, then an exclusive `flock` on `<file>-lock`, for the outermost holder.

    SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries, so a writer that finds
    the file taken for a tenth of a millisecond waits milliseconds: under load, the webhook's
    p99 was made of those sleeps. A turn is tried again within half a millisecond. Waiting is
    bounded by `timeout`, then the store is busy (503: the provider retries).
    """

    def __init__(self, path: str, timeout: float):
        self.path = f"{path}-lock"
        self.timeout = timeout
        self._thread = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        _TURNS.add(self)

    def _forget(self) -> None:
        """In a forked child: the parent's holder is not here, and a descriptor shared with
        the parent would share its lock, excluding nobody."""
        if self._fd is not None:
            os.close(self._fd)  # the parent's lock stays: it has its own copy
        self._thread, self._depth, self._fd = threading.RLock(), 0, None

    def __enter__(self) -> None:
        if not self._thread.acquire(timeout=self.timeout):
            raise StoreUnavailable(f"SQLite store {self.path}: locked by another writer of "
                                   f"this process for {self.timeout} s")
        try:
            if self._depth == 0:
                self._take(self._file())
        except BaseException:
            self._thread.release()
            raise
        self._depth += 1

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()

    def _take(self, fd: int) -> None:
        deadline, pause = time.monotonic() + self.timeout, 0.00005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreUnavailable(f"SQLite store {self.path}: locked by another "
                                           f"writer for {self.timeout} s") from None
                time.sleep(pause)
                pause = min(2 * pause, 0.0005)

    def _file(self) -> int:
        if self._fd is None:
            try:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as err:
                raise StoreUnavailable(f"SQLite store {self.path}: {err}") from err
        return self._fd


_TURNS: weakref.WeakSet[WriteTurn] = weakref.WeakSet()
# Right after a fork only the forking thread runs in the child: nothing else holds a turn.
os.register_at_fork(after_in_child=lambda: [turn._forget() for turn in list(_TURNS)])


class SqliteStore(Store):
    """Connections are opened lazily, one per thread and process, after gunicorn forks.

    SQLite lets one writer at a time into the file. Writers take turns at a `WriteTurn`
    first, so SQLite's own lock is never found taken by one of ours.
    """

    def __init__(self, path: str, timeout: float = 5.0):
        from app.services.store.sqlite_messages import SqliteMessages

        self.path = path
        self.timeout = timeout
        self._local = threading.local()
        self._writing = WriteTurn(path, timeout)
        self.sessions = SqliteSessions(self)
        self.messages = SqliteMessages(self)
        self.providers = SqliteProviderStatus(self)

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

    def run(self, sql: str, params: tuple = ()) -> Rows:
        """One statement, in its own transaction; a write waits for its turn."""
        with self.cursor() as conn:
            if sql.lstrip().startswith(WRITES):
                with self._writing:
                    return Rows(conn.execute(sql, params))
            return Rows(conn.execute(sql, params))

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Several statements that take effect together or not at all."""
        with self.cursor() as conn, self._writing:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def ensure_schema(self) -> None:
        """Create or migrate the tables, in one transaction concurrent workers queue behind."""
        with self.transaction() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                statements = SCHEMA
            elif version in MIGRATIONS or version == SCHEMA_VERSION:
                statements = "".join(MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
            else:
                raise ConfigError(f"{self.path} has schema version {version}, this gateway "
                                  f"knows versions up to {SCHEMA_VERSION}: move the file away "
                                  "or set GATEWAY_DB_PATH")
            for statement in filter(str.strip, statements.split(";")):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def ping(self) -> None:
        """Take the write lock and let it go: a file another process holds write-locked
        cannot take a webhook, though it still answers reads."""
        with self.cursor() as conn, self._writing:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _session(row: sqlite3.Row | None) -> Session | None:
    if row is None:
        return None
    data = dict(row)
    for name in SESSION_TIMES:
        data[name] = datetime.fromisoformat(data[name]) if data[name] else None
    return Session(**data)


def _where(where: SessionFilter) -> tuple[str, tuple]:
    clauses, params = [], []
    if where.wa_id is not None:
        clauses.append("wa_id = ?")
        params.append(where.wa_id)
    if where.needs_attention:
        clauses.append("attention IS NOT NULL")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


class SqliteSessions(WhatsappSessionRepository):
    """`whatsapp_sessions`, keyed by `wa_id`; leases are a conditional UPDATE."""

    def __init__(self, store: SqliteStore):
        self.store = store

    def _write(self, sql: str, params: tuple) -> Rows:
        return self.store.run(sql, params)

    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """One upsert: the primary key decides the race, RETURNING gives the winner's id."""
        return self._upsert(wa_id, phone_number_id, None, count=False)[0]

    def arrive(self, wa_id: str, phone_number_id: str | None = None,
               sent_at: datetime | None = None,
               profile_name: str | None = None) -> tuple[str, int]:
        """The same upsert, counting one more arrival and keeping the latest inbound time."""
        return self._upsert(wa_id, phone_number_id, ts(sent_at or utcnow()), count=True,
                            profile_name=profile_name)

    def _upsert(self, wa_id: str, phone_number_id: str | None, inbound_at: str | None,
                count: bool, profile_name: str | None = None) -> tuple[str, int]:
        now = ts(utcnow())
        row = self._write(
            "INSERT INTO whatsapp_sessions (wa_id, conversation_id, phone_number_id, created_at,"
            " updated_at, seq, last_inbound_at, profile_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (wa_id) DO UPDATE"
            " SET phone_number_id = coalesce(excluded.phone_number_id, phone_number_id),"
            " profile_name = coalesce(excluded.profile_name, profile_name),"
            " seq = seq + ?, last_inbound_at = max(coalesce(last_inbound_at, ''),"
            " coalesce(excluded.last_inbound_at, '')) RETURNING conversation_id, seq",
            (wa_id, new_conversation_id(), phone_number_id, now, now, int(count), inbound_at,
             profile_name, int(count))).fetchone()
        return row["conversation_id"], row["seq"]

    def next_seq(self, conversation_id: str) -> int:
        """Increment and return the arrival counter."""
        row = self._write("UPDATE whatsapp_sessions SET seq = seq + 1 WHERE conversation_id = ?"
                          " RETURNING seq", (conversation_id,)).fetchone()
        if row is None:
            raise LookupError(f"no conversation {conversation_id}")
        return row["seq"]

    def touch(self, wa_id: str) -> None:
        """Set `updated_at` to now."""
        self._write("UPDATE whatsapp_sessions SET updated_at = ? WHERE wa_id = ?",
                    (ts(utcnow()), wa_id))

    def find_by_wa_id(self, wa_id: str) -> Session | None:
        """Look up by `wa_id`."""
        return self._one("wa_id", wa_id)

    def find_by_conversation_id(self, conversation_id: str) -> Session | None:
        """Look up by conversation id."""
        return self._one("conversation_id", conversation_id)

    def _one(self, column: str, value: str) -> Session | None:
        return _session(self._write(f"SELECT {SESSION_COLUMNS} FROM whatsapp_sessions "
                                    f"WHERE {column} = ?", (value,)).fetchone())

    def list_recent(self, limit: int, offset: int = 0,
                    where: SessionFilter = ALL_SESSIONS) -> list[Session]:
        """Newest `updated_at` first."""
        clause, params = _where(where)
        rows = self._write(f"SELECT {SESSION_COLUMNS} FROM whatsapp_sessions{clause} ORDER BY "
                           "updated_at DESC, wa_id LIMIT ? OFFSET ?", (*params, limit, offset))
        return [_session(row) for row in rows]

    def count(self, where: SessionFilter = ALL_SESSIONS) -> int:
        """Number of sessions."""
        clause, params = _where(where)
        return self._write(f"SELECT count(*) FROM whatsapp_sessions{clause}",
                           params).fetchone()[0]

    def hand_off(self, conversation_id: str, operator: str | None) -> Session | None:
        """One UPDATE ... RETURNING."""
        if operator is None:
            sql = ("UPDATE whatsapp_sessions SET handoff_by = NULL, handoff_at = NULL,"
                   " operator_at = NULL, attention = NULL, attention_at = NULL")
            params: tuple = ()
        else:
            sql = "UPDATE whatsapp_sessions SET handoff_by = ?, handoff_at = ?, operator_at = NULL"
            params = (operator, ts(utcnow()))
        return _session(self._write(f"{sql} WHERE conversation_id = ? RETURNING "
                                    f"{SESSION_COLUMNS}", (*params, conversation_id)).fetchone())

    def operator_wrote(self, conversation_id: str) -> None:
        """Note the operator's message; the flag is answered."""
        self._write("UPDATE whatsapp_sessions SET operator_at = ?, attention = NULL, "
                    "attention_at = NULL WHERE conversation_id = ?",
                    (ts(utcnow()), conversation_id))

    def flag(self, conversation_id: str, reason: str) -> None:
        """Set the attention flag (the latest reason wins)."""
        self._write("UPDATE whatsapp_sessions SET attention = ?, attention_at = ? "
                    "WHERE conversation_id = ?", (reason, ts(utcnow()), conversation_id))

    def acquire(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Take the lease if it is free or expired."""
        return self._write(
            "UPDATE whatsapp_sessions SET lock_owner = ?, lock_until = ? WHERE conversation_id = ?"
            " AND (lock_until IS NULL OR lock_until < ?)",
            (owner, ts(until), conversation_id, ts(utcnow()))).rowcount == 1

    def renew(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease `owner` holds."""
        return self._write(
            "UPDATE whatsapp_sessions SET lock_until = ? WHERE conversation_id = ?"
            " AND lock_owner = ?", (ts(until), conversation_id, owner)).rowcount == 1

    def release(self, conversation_id: str, owner: str) -> None:
        """Free the lease `owner` holds."""
        self._write("UPDATE whatsapp_sessions SET lock_owner = NULL, lock_until = NULL"
                    " WHERE conversation_id = ? AND lock_owner = ?", (conversation_id, owner))


class SqliteProviderStatus(ProviderStatusRepository):
    """`provider_status`: one row per provider whose credentials were rejected."""

    def __init__(self, store: SqliteStore):
        self.store = store

    def record_auth_failure(self, dialect: str, error: SendError) -> None:
        """Upsert the provider's row."""
        self.store.run("INSERT INTO provider_status VALUES (?, ?, ?, ?, ?) ON CONFLICT (dialect)"
                       " DO UPDATE SET kind = excluded.kind, code = excluded.code,"
                       " message = excluded.message",
                       (dialect, error.kind, error.code, error.message, ts(utcnow())))

    def clear_auth_failure(self, dialect: str) -> None:
        """Delete the provider's row."""
        self.store.run("DELETE FROM provider_status WHERE dialect = ?", (dialect,))

    def auth_failures(self) -> dict[str, SendError]:
        """Every row."""
        rows = self.store.run("SELECT dialect, kind, code, message FROM provider_status")
        return {row[0]: SendError(row[1], row[2], row[3]) for row in rows}
