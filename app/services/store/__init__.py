"""Storage: MongoDB when MONGODB_URI is set, else the embedded SQLite file."""

from __future__ import annotations

from app.config import Settings
from app.services.store.base import Message, Session, Store

__all__ = ["Message", "Session", "Store", "open_store"]


def open_store(settings: Settings, mongo_client=None) -> Store:
    """The configured store. `mongo_client` is the one seam tests use to pass mongomock's."""
    if settings.mongodb_uri or mongo_client is not None:
        from app.services.store.mongo import MongoStore

        if mongo_client is None:
            from pymongo import MongoClient

            mongo_client = MongoClient(settings.mongodb_uri, serverSelectionTimeoutMS=5000,
                                       connectTimeoutMS=5000, tz_aware=True, connect=False)
        return MongoStore(mongo_client, settings.mongodb_db)
    from app.services.store.sqlite import SqliteStore

    return SqliteStore(settings.gateway_db_path, timeout=settings.gateway_db_timeout)
