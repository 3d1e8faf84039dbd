"""Storage: MongoDB when MONGODB_URI is set, else the embedded SQLite file."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from app import metrics
from app.config import Settings
from app.errors import ConfigError, StoreUnavailable
from app.services.store.base import Message, Session, Store

__all__ = ["Message", "SchemaGate", "Session", "Store", "open_store"]

log = logging.getLogger(__name__)


class SchemaGate:
    """Nothing is written before the schema (and so its unique indexes) is in place, and no
    request waits on a store known to be down.

    A worker that boots while the store is down still starts; `ensure` raises
    `StoreUnavailable` (the webhook answers 503) until the schema could be ensured. Once a
    call through `watch` finds the store down, `ensure` refuses at once, without touching it,
    while one background thread pings it every `probe_seconds`; the first ping that succeeds
    lets requests through again. An outage is logged when it starts, when it ends, and at
    most every `remind_seconds` in between.
    """

    def __init__(self, store: Store, probe_seconds: float = 1.0, remind_seconds: float = 60):
        self.store = store
        self.ready = False
        self.probe_seconds = probe_seconds
        self.remind_seconds = remind_seconds
        self.down_since: float | None = None
        self.reason = ""
        self._lock = threading.Lock()
        self._state = threading.Lock()
        self._closed = threading.Event()

    def close(self) -> None:
        """Stop probing a store that is down (the store itself is closed apart)."""
        self._closed.set()

    def ensure(self) -> None:
        """Ensure the schema once; raise `StoreUnavailable` while the store is down."""
        if self.down_since is not None:
            raise StoreUnavailable(self.reason)
        if self.ready:
            return
        # Another request creating the schema holds the lock: refuse rather than queue up.
        if not self._lock.acquire(timeout=0.1):
            raise StoreUnavailable("the schema is being created by another request")
        try:
            if not self.ready:
                with self.watch():
                    self.store.ensure_schema()
                self.ready = True
        finally:
            self._lock.release()

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Note a `StoreUnavailable` raised inside as the start of an outage."""
        try:
            yield
        except StoreUnavailable as err:
            metrics.STORE_ERRORS.inc()
            self._down(err.reason)
            raise

    def probe(self, timeout: float) -> bool:
        """Whether the store answers a ping within `timeout` seconds (at once `False` while it
        is known down); a ping that does not answer in time starts an outage."""
        if self.down_since is not None:
            return False
        outcome: list[BaseException | None] = []
        pinger = threading.Thread(target=lambda: outcome.append(_error_of(self.store.ping)),
                                  name="store-ping", daemon=True)
        pinger.start()
        pinger.join(timeout)
        error = outcome[0] if outcome else StoreUnavailable(f"no answer within {timeout}s")
        if isinstance(error, StoreUnavailable):
            metrics.STORE_ERRORS.inc()
            self._down(error.reason)
        return error is None

    def _down(self, reason: str) -> None:
        with self._state:
            if self.down_since is not None:
                return
            self.down_since, self.reason = time.monotonic(), reason
        log.error("store down (%s): webhooks answer 503 until it is back", reason)
        threading.Thread(target=self._probe_until_up, name="store-probe", daemon=True).start()

    def _probe_until_up(self) -> None:
        reminded = time.monotonic()
        while True:
            if self._closed.wait(self.probe_seconds):
                return
            error = _error_of(self.store.ping)
            if error is None:
                break
            if time.monotonic() - reminded >= self.remind_seconds:
                reminded = time.monotonic()
                log.error("store still down after %.0fs (%s)",
                          reminded - (self.down_since or reminded), self.reason)
        with self._state:
            lasted, self.down_since = time.monotonic() - (self.down_since or 0), None
        log.warning("store back after %.1fs (was: %s): webhooks accepted again", lasted,
                    self.reason)


def _error_of(call) -> BaseException | None:
    """The exception `call()` raised, or `None`."""
    try:
        call()
    except Exception as err:  # a ping's failure is the answer we want, whatever its type
        return err
    return None


def open_store(settings: Settings, mongo_client=None) -> Store:
    """The configured store. `mongo_client` is the one seam tests use to pass mongomock's."""
    if settings.mongodb_uri or mongo_client is not None:
        from app.services.store.mongo import MongoStore

        if mongo_client is None:
            mongo_client = _mongo_client(settings.mongodb_uri)
        return MongoStore(mongo_client, settings.mongodb_db)
    from app.services.store.sqlite import SqliteStore

    return SqliteStore(settings.gateway_db_path, timeout=settings.gateway_db_timeout)


def _mongo_client(uri: str):
    """A client that connects on first use (after gunicorn forks). A URI pymongo cannot use is
    a `ConfigError` naming `MONGODB_URI`."""
    from pymongo import MongoClient
    from pymongo.errors import ConfigurationError

    try:
        # The URI's own timeouts win: ours are defaults for what it leaves out.
        given = {name.lower() for name in parse_qs(urlsplit(uri).query)}
        defaults = {name: 5000 for name in ("serverSelectionTimeoutMS", "connectTimeoutMS")
                    if name.lower() not in given}
        return MongoClient(uri, tz_aware=True, connect=False, **defaults)
    except (ConfigurationError, ValueError) as err:  # InvalidURI is one; a bad port, the other
        # pymongo's reasons name the rule broken, not the URI: no password reaches the message.
        raise ConfigError(f"MONGODB_URI is not a usable MongoDB URI: {err}") from None
