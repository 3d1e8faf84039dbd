"""Storage: MongoDB when MONGODB_URI is set, else the embedded SQLite file."""

from __future__ import annotations

import threading

from app.config import Settings
from app.errors import ConfigError
from app.services.store.base import Message, Session, Store

__all__ = ["Message", "SchemaGate", "Session", "Store", "open_store"]


class SchemaGate:
    """Nothing is written before the schema, and so its unique indexes, is in place.

    A worker that boots while the store is down still starts; `ensure` raises
    `StoreUnavailable` (the webhook answers 503) until the schema could be ensured.
    """

    def __init__(self, store: Store):
        self.store = store
        self.ready = False
        self._lock = threading.Lock()

    def ensure(self) -> None:
        """Ensure the schema once; raise `StoreUnavailable` while the store cannot be reached."""
        if not self.ready:
            with self._lock:
                if not self.ready:
                    self.store.ensure_schema()
                    self.ready = True


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
        return MongoClient(uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000,
                           tz_aware=True, connect=False)
    except (ConfigurationError, ValueError) as err:  # InvalidURI is one; a bad port, the other
        # pymongo's reasons name the rule broken, not the URI: no password reaches the message.
        raise ConfigError(f"MONGODB_URI is not a usable MongoDB URI: {err}") from None
