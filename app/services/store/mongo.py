"""The production store: MongoDB, shared by any number of workers and machines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from app.errors import StoreUnavailable
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


@contextmanager
def translated() -> Iterator[None]:
    """Turn an unreachable server into `StoreUnavailable`; other driver errors stay bugs."""
    try:
        yield
    except ConnectionFailure as err:
        raise StoreUnavailable(f"MongoDB unreachable: {type(err).__name__}") from err


def aware(doc: dict) -> dict:
    # pymongo returns naive UTC datetimes unless the client is tz_aware.
    return {k: v.replace(tzinfo=UTC) if hasattr(v, "tzinfo") and v.tzinfo is None else v
            for k, v in doc.items()}


class MongoStore(Store):
    """Receives a connected `MongoClient` (or mongomock's); never builds one at import."""

    def __init__(self, client, db_name: str):
        self.client = client
        self.db = client[db_name]
        from app.services.store.mongo_messages import MongoMessages

        self.sessions = MongoSessions(self.db["whatsapp_sessions"])
        self.messages = MongoMessages(self.db["messages"], self.db["whatsapp_sessions"])
        self.providers = MongoProviderStatus(self.db["provider_status"])

    def ensure_schema(self) -> None:
        """Unique indexes decide every race: one session per `wa_id`, one stored message per
        provider message, one answer per message. The others serve the reads."""
        with translated():
            sessions, messages = self.db["whatsapp_sessions"], self.db["messages"]
            sessions.create_index([("wa_id", ASCENDING)], unique=True, name="wa_id_unique")
            sessions.create_index([("updated_at", DESCENDING)], name="updated_at_desc")
            sessions.create_index([("conversation_id", ASCENDING)], name="conversation_id")
            sessions.create_index([("updated_at", DESCENDING)], name="needs_attention",
                                  partialFilterExpression={"attention": {"$type": "string"}})
            messages.create_index([("conversation_id", ASCENDING), ("position", ASCENDING)],
                                  name="conversation_position")
            messages.create_index([("inbound_key", ASCENDING)], unique=True, sparse=True,
                                  name="inbound_key_unique")
            messages.create_index([("in_reply_to", ASCENDING)], unique=True, sparse=True,
                                  name="in_reply_to_unique")
            messages.create_index([("status", ASCENDING), ("created_at", ASCENDING)],
                                  name="status_created_at")
            messages.create_index([("provider_message_ids", ASCENDING)],
                                  name="provider_message_ids")
            messages.create_index([("provider_message_id", ASCENDING)], sparse=True,
                                  name="provider_message_id")

    def ping(self) -> None:
        """`ping` the server."""
        with translated():
            self.client.admin.command("ping")

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


SESSION_FIELDS = [f.name for f in fields(Session)]


def _session(doc: dict | None) -> Session | None:
    if doc is None:
        return None
    doc = aware(doc)
    return Session(**{name: doc.get(name) for name in SESSION_FIELDS})


def _query(where: SessionFilter) -> dict:
    query: dict = {}
    if where.wa_id is not None:
        query["wa_id"] = where.wa_id
    if where.needs_attention:
        query["attention"] = {"$type": "string"}  # what the partial index holds
    return query


class MongoSessions(WhatsappSessionRepository):
    """`whatsapp_sessions`: `_id, wa_id (unique), conversation_id, phone_number_id, ...`."""

    def __init__(self, collection):
        self.collection = collection

    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """An atomic upsert; two upserts racing on a new `wa_id` can still collide on the unique
        index, and then the loser's retry finds the winner's document."""
        return self._upsert(wa_id, phone_number_id, None)[0]

    def arrive(self, wa_id: str, phone_number_id: str | None = None,
               sent_at: datetime | None = None,
               profile_name: str | None = None) -> tuple[str, int]:
        """The same upsert, with `$inc` of the arrival counter and `$max` of the inbound time."""
        return self._upsert(wa_id, phone_number_id, sent_at or utcnow(), profile_name)

    def _upsert(self, wa_id: str, phone_number_id: str | None,
                inbound_at: datetime | None, profile_name: str | None = None) -> tuple[str, int]:
        now = utcnow()
        on_insert = {"conversation_id": new_conversation_id(), "created_at": now,
                     "updated_at": now}
        update: dict = {"$setOnInsert": on_insert}
        if inbound_at is not None:
            update.update({"$inc": {"seq": 1}, "$max": {"last_inbound_at": inbound_at}})
        else:
            on_insert["seq"] = 0
        if phone_number_id:
            update["$set"] = {"phone_number_id": phone_number_id}
        else:
            on_insert["phone_number_id"] = None
        if profile_name:  # left out when unknown: a missing field reads as None
            update.setdefault("$set", {})["profile_name"] = profile_name
        with translated():
            for attempt in range(2):
                try:
                    doc = self.collection.find_one_and_update(
                        {"wa_id": wa_id}, update, upsert=True,
                        return_document=ReturnDocument.AFTER,
                        projection={"conversation_id": 1, "seq": 1})
                    return doc["conversation_id"], doc["seq"]
                except DuplicateKeyError:
                    if attempt:
                        raise
        raise AssertionError("unreachable")

    def next_seq(self, conversation_id: str) -> int:
        """`$inc` the arrival counter, atomically."""
        with translated():
            doc = self.collection.find_one_and_update(
                {"conversation_id": conversation_id}, {"$inc": {"seq": 1}},
                return_document=ReturnDocument.AFTER, projection={"seq": 1})
        if doc is None:
            raise LookupError(f"no conversation {conversation_id}")
        return doc["seq"]

    def touch(self, wa_id: str) -> None:
        """Set `updated_at` to now."""
        with translated():
            self.collection.update_one({"wa_id": wa_id}, {"$set": {"updated_at": utcnow()}})

    def find_by_wa_id(self, wa_id: str) -> Session | None:
        """Look up by `wa_id`."""
        with translated():
            return _session(self.collection.find_one({"wa_id": wa_id}))

    def find_by_conversation_id(self, conversation_id: str) -> Session | None:
        """Look up by conversation id."""
        with translated():
            return _session(self.collection.find_one({"conversation_id": conversation_id}))

    def list_recent(self, limit: int, offset: int = 0,
                    where: SessionFilter = ALL_SESSIONS) -> list[Session]:
        """Newest `updated_at` first."""
        with translated():
            cursor = self.collection.find(_query(where)).sort(
                [("updated_at", DESCENDING), ("wa_id", ASCENDING)])
            return [_session(doc) for doc in cursor.skip(offset).limit(limit)]

    def count(self, where: SessionFilter = ALL_SESSIONS) -> int:
        """Number of sessions."""
        with translated():
            return self.collection.count_documents(_query(where))

    def hand_off(self, conversation_id: str, operator: str | None) -> Session | None:
        """One `find_one_and_update`."""
        if operator is None:
            fields_ = {"handoff_by": None, "handoff_at": None, "operator_at": None,
                       "attention": None, "attention_at": None}
        else:
            fields_ = {"handoff_by": operator, "handoff_at": utcnow(), "operator_at": None}
        with translated():
            return _session(self.collection.find_one_and_update(
                {"conversation_id": conversation_id}, {"$set": fields_},
                return_document=ReturnDocument.AFTER))

    def operator_wrote(self, conversation_id: str) -> None:
        """Note the operator's message; the flag is answered."""
        with translated():
            self.collection.update_one({"conversation_id": conversation_id}, {"$set": {
                "operator_at": utcnow(), "attention": None, "attention_at": None}})

    def flag(self, conversation_id: str, reason: str) -> None:
        """Set the attention flag (the latest reason wins)."""
        with translated():
            self.collection.update_one({"conversation_id": conversation_id}, {"$set": {
                "attention": reason, "attention_at": utcnow()}})

    def acquire(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Take the lease if it is free or expired: one conditional update."""
        free = {"$or": [{"lock_until": None}, {"lock_until": {"$lt": utcnow()}}]}
        with translated():
            result = self.collection.update_one(
                {"conversation_id": conversation_id, **free},
                {"$set": {"lock_owner": owner, "lock_until": until}})
        return result.modified_count == 1

    def renew(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Extend the lease `owner` holds."""
        with translated():
            result = self.collection.update_one(
                {"conversation_id": conversation_id, "lock_owner": owner},
                {"$set": {"lock_until": until}})
        return result.matched_count == 1

    def release(self, conversation_id: str, owner: str) -> None:
        """Free the lease `owner` holds."""
        with translated():
            self.collection.update_one({"conversation_id": conversation_id, "lock_owner": owner},
                                       {"$set": {"lock_owner": None, "lock_until": None}})


class MongoProviderStatus(ProviderStatusRepository):
    """`provider_status`: one document per provider whose credentials were rejected."""

    def __init__(self, collection):
        self.collection = collection

    def record_auth_failure(self, dialect: str, error: SendError) -> None:
        """Upsert the provider's document."""
        with translated():
            self.collection.update_one(
                {"_id": dialect}, {"$set": {"kind": error.kind, "code": error.code,
                                            "message": error.message},
                                   "$setOnInsert": {"since": utcnow()}}, upsert=True)

    def clear_auth_failure(self, dialect: str) -> None:
        """Delete the provider's document."""
        with translated():
            self.collection.delete_one({"_id": dialect})

    def auth_failures(self) -> dict[str, SendError]:
        """Every document."""
        with translated():
            return {doc["_id"]: SendError(doc["kind"], doc.get("code"), doc.get("message"))
                    for doc in self.collection.find()}
