"""The storage interface: what the gateway keeps, independent of MongoDB or SQLite."""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

SEND_STATES = ("pending", "sent", "failed", "not_sent")


def utcnow() -> datetime:
    """Now, in UTC, at millisecond precision (what MongoDB keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def new_conversation_id() -> str:
    """A fresh conversation id."""
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Session:
    """The conversation a WhatsApp user is in."""

    wa_id: str
    conversation_id: str
    phone_number_id: str | None
    created_at: datetime
    updated_at: datetime

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Message:
    """One stored message: the person's (`user`) or the bot's (`assistant`)."""

    id: str
    conversation_id: str
    role: str
    content: str
    source: str
    created_at: datetime
    dialect: str | None = None
    provider_message_id: str | None = None
    send_state: str | None = None
    provider_message_ids: list[str] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _jsonable(asdict(self))


def _jsonable(data: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


class WhatsappSessionRepository(ABC):
    """Maps a WhatsApp user (`wa_id`) to their conversation, atomically."""

    @abstractmethod
    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """The conversation id for `wa_id`, created on first contact; safe under races."""

    @abstractmethod
    def touch(self, wa_id: str) -> None:
        """Mark the session as just active."""

    @abstractmethod
    def find_by_wa_id(self, wa_id: str) -> Session | None:
        """The session of `wa_id`, if any."""

    @abstractmethod
    def find_by_conversation_id(self, conversation_id: str) -> Session | None:
        """The session owning `conversation_id`, if any."""

    @abstractmethod
    def list_recent(self, limit: int, offset: int = 0) -> list[Session]:
        """Sessions, most recently active first."""

    @abstractmethod
    def count(self) -> int:
        """How many sessions there are."""


class MessageRepository(ABC):
    """The `messages` of every conversation, in the order they were stored."""

    @abstractmethod
    def add(self, conversation_id: str, role: str, content: str, source: str = "whatsapp",
            **extra: object) -> Message:
        """Store a message; `extra` holds dialect, provider ids and send state."""

    @abstractmethod
    def record_send(self, message_id: str, state: str, provider_message_ids: list[str],
                    error_code: str | None = None, error_message: str | None = None) -> None:
        """Record what happened when an answer was sent."""

    @abstractmethod
    def history(self, conversation_id: str, limit: int) -> list[Message]:
        """The last `limit` messages of a conversation, oldest first."""

    @abstractmethod
    def list(self, conversation_id: str, limit: int, offset: int = 0) -> list[Message]:
        """A page of a conversation's messages, oldest first."""

    @abstractmethod
    def count(self, conversation_id: str) -> int:
        """How many messages a conversation has."""


class Store(ABC):
    """One backend: its repositories and its lifecycle."""

    sessions: WhatsappSessionRepository
    messages: MessageRepository

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create tables/collections and indexes; idempotent."""

    @abstractmethod
    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store answers."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
