"""`messages` on MongoDB: sparse unique indexes make every claim atomic."""

from __future__ import annotations

from dataclasses import fields

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

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
from app.services.store.mongo import aware, translated

FIELDS = {f.name for f in fields(Message)}


def _message(doc: dict | None) -> Message | None:
    if doc is None:
        return None
    doc = aware(doc)
    doc["id"] = str(doc.pop("_id"))
    return Message(**{k: v for k, v in doc.items() if k in FIELDS})


def _oid(message_id: str) -> ObjectId:
    try:
        return ObjectId(message_id)
    except InvalidId as err:
        raise ValueError(f"not a message id: {message_id!r}") from err


class MongoMessages(MessageRepository):
    """Person's messages are unique by `inbound_key`, answers by `in_reply_to` (both sparse:
    a document without the field is not indexed, so it is left out, never stored as null)."""

    def __init__(self, collection, sessions=None):
        self.collection = collection
        self.sessions = sessions  # `whatsapp_sessions`, whose leases the queue skips

    def _insert(self, doc: dict) -> bool:
        doc = {k: v for k, v in doc.items() if v is not None}
        with translated():
            try:
                self.collection.insert_one(doc)
            except DuplicateKeyError:
                return False
        return True

    def add_inbound(self, conversation_id, seq, content, *, kind, status, dialect=None,
                    wa_id=None, business_number=None, provider_message_id=None,
                    source="whatsapp") -> Message | None:
        """Insert unless the (dialect, provider id) is already stored."""
        doc = {"_id": ObjectId(), "conversation_id": conversation_id, "role": "user",
               "content": content, "source": source, "created_at": utcnow(),
               "position": 2 * seq, "kind": kind, "status": status, "dialect": dialect,
               "wa_id": wa_id, "business_number": business_number,
               "provider_message_id": provider_message_id,
               "inbound_key": f"{dialect}:{provider_message_id}" if provider_message_id else None}
        return _message(dict(doc)) if self._insert(doc) else None

    def add_answer(self, reply_to: Message, content: str, kind: str = "answer") -> Message:
        """Insert the one reply to `reply_to`, or return the one already stored."""
        doc = {"_id": ObjectId(), "conversation_id": reply_to.conversation_id,
               "role": "assistant", "content": content, "source": reply_to.source,
               "created_at": utcnow(), "position": reply_to.position + 1, "kind": kind,
               "status": "done", "dialect": reply_to.dialect, "wa_id": reply_to.wa_id,
               "in_reply_to": reply_to.id, "send_state": "pending", "parts_sent": 0,
               "provider_message_ids": [], "delivery_rank": 0}
        return _message(dict(doc)) if self._insert(doc) else self.answer_for(reply_to.id)

    def add_operator(self, conversation_id: str, seq: int, content: str, to: Message,
                     author: str) -> Message:
        """Insert the operator's message after everything that arrived so far."""
        doc = {"_id": ObjectId(), "conversation_id": conversation_id, "role": "assistant",
               "content": content, "source": "operator", "created_at": utcnow(),
               "position": 2 * seq + 1, "kind": "operator", "status": "done",
               "dialect": to.dialect, "wa_id": to.wa_id, "send_state": "pending",
               "parts_sent": 0, "provider_message_ids": [], "delivery_rank": 0,
               "author": author}
        self._insert(dict(doc))
        return _message(doc)

    def get(self, message_id: str) -> Message | None:
        """By `_id`; None for what cannot be one."""
        try:
            oid = _oid(message_id)
        except ValueError:
            return None
        with translated():
            return _message(self.collection.find_one({"_id": oid}))

    def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        """The person's message first, else ours (the multikey index on the ids we got)."""
        with translated():
            return _message(
                self.collection.find_one({"provider_message_id": provider_message_id})
                or self.collection.find_one({"provider_message_ids": provider_message_id}))

    def add_event(self, message_id: str, event: dict) -> None:
        """`$push` with `$slice`: the array keeps the latest `EVENTS_PER_MESSAGE`."""
        event = {**event, "at": event.get("at") or utcnow()}
        with translated():
            self.collection.update_one({"_id": _oid(message_id)}, {"$push": {"events": {
                "$each": [event], "$slice": -EVENTS_PER_MESSAGE}}})

    def events(self, message_id: str) -> list[dict]:
        """The array, times as ISO text like every other store's."""
        with translated():
            doc = self.collection.find_one({"_id": _oid(message_id)}, {"events": 1})
        return [aware_event(event) for event in (doc or {}).get("events", [])]

    def answer_for(self, inbound_id: str) -> Message | None:
        """The reply stored for a person's message."""
        with translated():
            return _message(self.collection.find_one({"in_reply_to": inbound_id}))

    def next_queued(self, conversation_id: str) -> Message | None:
        """Earliest queued message of the conversation."""
        with translated():
            return _message(self.collection.find_one(
                {"conversation_id": conversation_id, "status": "queued"},
                sort=[("position", ASCENDING)]))

    def queued_conversations(self, limit: int) -> list[str]:
        """Conversations with queued messages, longest waiting first."""
        seen: set[str] = set()
        chunk: list[str] = []
        found: list[str] = []
        with translated():
            cursor = self.collection.find({"status": "queued"}, {"conversation_id": 1}).sort(
                [("created_at", ASCENDING), ("_id", ASCENDING)])
            for doc in cursor:
                if doc["conversation_id"] in seen:
                    continue
                seen.add(doc["conversation_id"])
                chunk.append(doc["conversation_id"])
                if len(chunk) == 2 * limit:
                    found, chunk = found + self._not_leased(chunk), []
                    if len(found) >= limit:
                        break
            if chunk:
                found += self._not_leased(chunk)
        return found[:limit]

    def _not_leased(self, conversation_ids: list[str]) -> list[str]:
        """`conversation_ids`, in order, without those whose lease is current."""
        if self.sessions is None:
            return conversation_ids
        leased = {doc["conversation_id"] for doc in self.sessions.find(
            {"conversation_id": {"$in": conversation_ids}, "lock_until": {"$gte": utcnow()}},
            {"conversation_id": 1})}
        return [c for c in conversation_ids if c not in leased]

    def mark_done(self, inbound_id: str, status: str = "done") -> None:
        """Take the message off the queue."""
        with translated():
            self.collection.update_one({"_id": _oid(inbound_id)}, {"$set": {"status": status}})

    def count_failure(self, inbound_id: str) -> int:
        """`$inc` of `attempts`, returning the document after it."""
        with translated():
            doc = self.collection.find_one_and_update(
                {"_id": _oid(inbound_id)}, {"$inc": {"attempts": 1}},
                projection={"attempts": 1}, return_document=ReturnDocument.AFTER)
        if doc is None:
            raise LookupError(f"no message {inbound_id}")
        return doc["attempts"]

    def claim_send(self, answer_id: str, parts_sent: int) -> bool:
        """A conditional update from `pending` to `sending`."""
        with translated():
            result = self.collection.update_one(
                {"_id": _oid(answer_id), "send_state": "pending", "parts_sent": parts_sent},
                {"$set": {"send_state": "sending"}})
        return result.modified_count == 1

    def update_send(self, answer_id, state, parts_sent, provider_message_ids, error=None,
                    attempts=None, event=None) -> None:
        """Record the send state; the multikey index on the ids serves status callbacks."""
        error = error or SendError(kind=None)
        fields = {"send_state": state, "parts_sent": parts_sent,
                  "provider_message_ids": provider_message_ids, "error_kind": error.kind,
                  "error_code": error.code, "error_message": error.message}
        if attempts is not None:
            fields["attempts"] = attempts
        update: dict = {"$set": fields}
        if event is not None:
            update["$push"] = {"events": {"$each": [{**event, "at": event.get("at") or utcnow()}],
                                          "$slice": -EVENTS_PER_MESSAGE}}
        with translated():
            self.collection.update_one({"_id": _oid(answer_id)}, update)

    def apply_status(self, provider_message_id, status, error=None) -> bool:
        """One conditional update: only a higher-ranked status is written."""
        rank, error = DELIVERY_RANK[status], error or SendError(kind=None)
        with translated():
            result = self.collection.update_one(
                {"provider_message_ids": provider_message_id, "delivery_rank": {"$lt": rank}},
                {"$set": {"delivery_status": status, "delivery_rank": rank,
                          "delivery_error_kind": error.kind, "delivery_error_code": error.code,
                          "delivery_error_title": error.message}})
        return result.modified_count == 1

    def history(self, conversation_id: str, before: int, limit: int) -> list[Message]:
        """Texts and answers before `before`, oldest first."""
        if limit <= 0:  # MongoDB reads limit(0) as "no limit"
            return []
        with translated():
            cursor = self.collection.find(
                {"conversation_id": conversation_id, "position": {"$lt": before},
                 "kind": {"$in": list(HISTORY_KINDS)}}).sort("position", DESCENDING).limit(limit)
            return [_message(doc) for doc in cursor][::-1]

    def list(self, conversation_id: str, limit: int, offset: int = 0,
             where: MessageFilter = ALL_MESSAGES) -> list[Message]:
        """A page, in conversation order or newest first."""
        with translated():
            cursor = self.collection.find(_query(conversation_id, where), {"events": 0}).sort(
                "position", DESCENDING if where.newest_first else ASCENDING)
            return [_message(doc) for doc in cursor.skip(offset).limit(limit)]

    def count(self, conversation_id: str, where: MessageFilter = ALL_MESSAGES) -> int:
        """Messages in the conversation."""
        with translated():
            return self.collection.count_documents(_query(conversation_id, where))

    def count_queued(self) -> int:
        """Served by the (status, created_at) index."""
        with translated():
            return self.collection.count_documents({"status": "queued"})


def _query(conversation_id: str, where: MessageFilter) -> dict:
    query: dict = {"conversation_id": conversation_id}
    if where.send_state is not None:
        query["send_state"] = where.send_state
    if where.error_kind is not None:
        query["$or"] = [{"error_kind": where.error_kind},
                        {"delivery_error_kind": where.error_kind}]
    if where.role is not None:
        query["role"] = where.role
    return query


def aware_event(event: dict) -> dict:
    """An event as JSON-ready values: its time in ISO form, with its zone."""
    at = aware({"at": event["at"]})["at"]
    return {**event, "at": at.isoformat() if hasattr(at, "isoformat") else at}
