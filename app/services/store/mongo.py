"""The production store: MongoDB, shared by any number of workers and machines."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError

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


@contextmanager
def translated() -> Iterator[None]:
    """Turn an unreachable server into `StoreUnavailable`; other driver errors stay bugs."""
    try:
        yield
    except ConnectionFailure as err:
        raise StoreUnavailable(f"MongoDB unreachable: {type(err).__name__}") from err


def _aware(doc: dict) -> dict:
    # pymongo returns naive UTC datetimes unless the client is tz_aware.
    return {k: v.replace(tzinfo=UTC) if hasattr(v, "tzinfo") and v.tzinfo is None else v
            for k, v in doc.items()}


class MongoStore(Store):
    """Receives a connected `MongoClient` (or mongomock's); never builds one at import."""

    def __init__(self, client, db_name: str):
        self.client = client
        self.db = client[db_name]
        self.sessions = MongoSessions(self.db["whatsapp_sessions"])
        self.messages = MongoMessages(self.db["messages"])

    def ensure_schema(self) -> None:
        """The unique `wa_id` index decides get-or-create races; the others serve the reads."""
        with translated():
            sessions = self.db["whatsapp_sessions"]
            sessions.create_index([("wa_id", ASCENDING)], unique=True, name="wa_id_unique")
            sessions.create_index([("updated_at", DESCENDING)], name="updated_at_desc")
            sessions.create_index([("conversation_id", ASCENDING)], name="conversation_id")
            self.db["messages"].create_index(
                [("conversation_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)],
                name="conversation_created_at")

    def ping(self) -> None:
        """`ping` the server."""
        with translated():
            self.client.admin.command("ping")

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()


SESSION_FIELDS = ("wa_id", "conversation_id", "phone_number_id", "created_at", "updated_at")


def _session(doc: dict | None) -> Session | None:
    if doc is None:
        return None
    doc = _aware(doc)
    return Session(*(doc.get(name) for name in SESSION_FIELDS))


class MongoSessions(WhatsappSessionRepository):
    """`whatsapp_sessions`: `_id, wa_id (unique), conversation_id, phone_number_id, ...`."""

    def __init__(self, collection):
        self.collection = collection

    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """An atomic upsert; two upserts racing on a new `wa_id` can still collide on the unique
        index, and then the loser reads the winner's document."""
        now = utcnow()
        on_insert = {"conversation_id": new_conversation_id(), "created_at": now,
                     "updated_at": now}
        update = {"$setOnInsert": on_insert}
        if phone_number_id:
            update["$set"] = {"phone_number_id": phone_number_id}
        else:
            on_insert["phone_number_id"] = None
        with translated():
            try:
                doc = self.collection.find_one_and_update(
                    {"wa_id": wa_id}, update, upsert=True,
                    return_document=ReturnDocument.AFTER, projection={"conversation_id": 1})
            except DuplicateKeyError:
                doc = self.collection.find_one({"wa_id": wa_id}, {"conversation_id": 1})
        return doc["conversation_id"]

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

    def list_recent(self, limit: int, offset: int = 0) -> list[Session]:
        """Newest `updated_at` first."""
        with translated():
            cursor = self.collection.find().sort([("updated_at", DESCENDING), ("wa_id", ASCENDING)])
            return [_session(doc) for doc in cursor.skip(offset).limit(limit)]

    def count(self) -> int:
        """Number of sessions."""
        with translated():
            return self.collection.count_documents({})


def _message(doc: dict) -> Message:
    doc = _aware(doc)
    doc["id"] = str(doc.pop("_id"))
    return Message(**doc)


class MongoMessages(MessageRepository):
    """`messages`: ordered by `created_at`, then by `_id` (ObjectIds grow within a process)."""

    def __init__(self, collection):
        self.collection = collection

    def add(self, conversation_id: str, role: str, content: str, source: str = "whatsapp",
            **extra: object) -> Message:
        """Insert one message."""
        doc = {"_id": ObjectId(), "conversation_id": conversation_id, "role": role,
               "content": content, "source": source, "created_at": utcnow(),
               "provider_message_ids": [], **extra}
        with translated():
            self.collection.insert_one(doc)
        return _message(dict(doc))

    def record_send(self, message_id: str, state: str, provider_message_ids: list[str],
                    error_code: str | None = None, error_message: str | None = None) -> None:
        """Update the answer's send state."""
        try:
            oid = ObjectId(message_id)
        except InvalidId as err:
            raise ValueError(f"not a message id: {message_id!r}") from err
        with translated():
            self.collection.update_one({"_id": oid}, {"$set": {
                "send_state": state, "provider_message_ids": provider_message_ids,
                "error_code": error_code, "error_message": error_message}})

    def history(self, conversation_id: str, limit: int) -> list[Message]:
        """The last `limit` messages, oldest first."""
        if limit <= 0:  # MongoDB reads limit(0) as "no limit"
            return []
        with translated():
            cursor = self.collection.find({"conversation_id": conversation_id}).sort(
                [("created_at", DESCENDING), ("_id", DESCENDING)]).limit(limit)
            return [_message(doc) for doc in cursor][::-1]

    def list(self, conversation_id: str, limit: int, offset: int = 0) -> list[Message]:
        """A page, oldest first."""
        with translated():
            cursor = self.collection.find({"conversation_id": conversation_id}).sort(
                [("created_at", ASCENDING), ("_id", ASCENDING)]).skip(offset).limit(limit)
            return [_message(doc) for doc in cursor]

    def count(self, conversation_id: str) -> int:
        """Messages in the conversation."""
        with translated():
            return self.collection.count_documents({"conversation_id": conversation_id})

