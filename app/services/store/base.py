"""The storage interface: what the gateway keeps, independent of MongoDB or SQLite.

A conversation's messages are ordered by `position`: the person's message with arrival number
`seq` sits at `2 * seq`, its answer right after it at `2 * seq + 1`, whenever each was stored.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

# How far a delivery status has come; a status only ever moves to a higher rank.
DELIVERY_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
HISTORY_KINDS = ("text", "answer", "operator")
# What the story of one message keeps of its sends and delivery statuses: the latest ones.
EVENTS_PER_MESSAGE = 50
# Why a conversation needs a person: its customer asked for one, or an answer did not arrive.
ATTENTION_REASONS = ("wants_person", "failed_answer")


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
    last_inbound_at: datetime | None = None
    profile_name: str | None = None
    handoff_by: str | None = None
    handoff_at: datetime | None = None
    operator_at: datetime | None = None
    attention: str | None = None
    attention_at: datetime | None = None

    def paused(self, idle: timedelta, now: datetime | None = None) -> bool:
        """Whether a person has the conversation: handed off, and the operator has not been
        silent for `idle` (then the bot takes it back by itself)."""
        if self.handoff_by is None or self.handoff_at is None:
            return False
        last = max(self.handoff_at, self.operator_at or self.handoff_at)
        return (now or utcnow()) - last < idle

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class Message:
    """One stored message: the person's (`user`) or ours (`assistant`: an `answer`, a `notice`,
    or `skipped`, an empty answer recorded when the 24-hour window had closed before the bot was
    asked).

    A person's message is `queued` until it has been answered (or needs nothing) and is `done`,
    or `failed` when answering it raised too often (its `attempts` count those failures).
    An answer's `send_state` is `pending`, `sending` (a part is in flight), `sent`, `failed`
    or `not_sent`; `parts_sent` of its parts were accepted, with `provider_message_ids`, after
    `attempts` sends in all. A failure keeps its `error_kind` and the provider's code and message.
    """

    id: str
    conversation_id: str
    role: str
    content: str
    source: str
    created_at: datetime
    position: int = 0
    kind: str = "text"
    status: str = "done"
    dialect: str | None = None
    wa_id: str | None = None
    business_number: str | None = None
    provider_message_id: str | None = None
    in_reply_to: str | None = None
    send_state: str | None = None
    parts_sent: int = 0
    provider_message_ids: list[str] = field(default_factory=list)
    error_kind: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: int = 0
    delivery_status: str | None = None
    delivery_error_kind: str | None = None
    delivery_error_code: str | None = None
    delivery_error_title: str | None = None
    author: str | None = None

    def to_dict(self) -> dict:
        """JSON-ready."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class SendError:
    """Why a send failed: our kind, and the provider's own code and message."""

    kind: str
    code: str | None = None
    message: str | None = None


def _jsonable(data: dict) -> dict:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}


def event_at(event: dict) -> datetime:
    """When an event happened (kept as ISO text by the SQLite store)."""
    at = event["at"]
    return at if isinstance(at, datetime) else datetime.fromisoformat(at)


@dataclass(frozen=True)
class SessionFilter:
    """Which sessions a listing shows: one person's (`wa_id`), or those needing attention."""

    wa_id: str | None = None
    needs_attention: bool = False


@dataclass(frozen=True)
class MessageFilter:
    """Which of a conversation's messages a listing shows, in which order. `error_kind`
    matches a failed send or a failed delivery alike."""

    send_state: str | None = None
    error_kind: str | None = None
    role: str | None = None
    newest_first: bool = False


ALL_SESSIONS = SessionFilter()
ALL_MESSAGES = MessageFilter()


class WhatsappSessionRepository(ABC):
    """Maps a WhatsApp user (`wa_id`) to their conversation, atomically, and leases
    conversations to one worker at a time."""

    @abstractmethod
    def get_or_create(self, wa_id: str, phone_number_id: str | None = None) -> str:
        """The conversation id for `wa_id`, created on first contact; safe under races."""

    @abstractmethod
    def arrive(self, wa_id: str, phone_number_id: str | None = None,
               sent_at: datetime | None = None,
               profile_name: str | None = None) -> tuple[str, int]:
        """`get_or_create` and `next_seq` in one atomic write: (conversation id, arrival no.).
        `last_inbound_at` becomes `sent_at` (the provider's time; now when it gave none) if
        that is later than what is kept; a `profile_name` given replaces the one kept."""

    @abstractmethod
    def next_seq(self, conversation_id: str) -> int:
        """The next arrival number of the conversation (1, 2, ...), atomically."""

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
    def list_recent(self, limit: int, offset: int = 0,
                    where: SessionFilter = ALL_SESSIONS) -> list[Session]:
        """Sessions, most recently active first."""

    @abstractmethod
    def count(self, where: SessionFilter = ALL_SESSIONS) -> int:
        """How many sessions there are."""

    @abstractmethod
    def hand_off(self, conversation_id: str, operator: str | None) -> Session | None:
        """Give the conversation to `operator` (who and when are kept), or with None back to
        the bot, clearing its attention flag; the session after it, None when unknown."""

    @abstractmethod
    def operator_wrote(self, conversation_id: str) -> None:
        """An operator answered: their pause lasts on, and the attention flag is cleared."""

    @abstractmethod
    def flag(self, conversation_id: str, reason: str) -> None:
        """Ask for an operator: `reason` is one of `ATTENTION_REASONS`."""

    @abstractmethod
    def acquire(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Lease the conversation to `owner` until `until`, unless another lease is current."""

    @abstractmethod
    def renew(self, conversation_id: str, owner: str, until: datetime) -> bool:
        """Extend `owner`'s lease; False when it was lost (expired and taken)."""

    @abstractmethod
    def release(self, conversation_id: str, owner: str) -> None:
        """End `owner`'s lease, if it still holds it."""


class MessageRepository(ABC):
    """The `messages` of every conversation."""

    @abstractmethod
    def add_inbound(self, conversation_id: str, seq: int, content: str, *, kind: str,
                    status: str, dialect: str | None = None, wa_id: str | None = None,
                    business_number: str | None = None, provider_message_id: str | None = None,
                    source: str = "whatsapp") -> Message | None:
        """Store a person's message; None when its (dialect, provider id) is already stored."""

    @abstractmethod
    def add_answer(self, reply_to: Message, content: str, kind: str = "answer") -> Message:
        """Store our reply to `reply_to` (`pending`); the stored one if it already exists."""

    @abstractmethod
    def add_operator(self, conversation_id: str, seq: int, content: str, to: Message,
                     author: str) -> Message:
        """Store an operator's reply (`pending`) at arrival number `seq`, addressed like `to`
        (the person's latest message)."""

    @abstractmethod
    def get(self, message_id: str) -> Message | None:
        """A message by our id."""

    @abstractmethod
    def find_by_provider_id(self, provider_message_id: str) -> Message | None:
        """The person's message with that provider id, or our message sent under it."""

    @abstractmethod
    def add_event(self, message_id: str, event: dict) -> None:
        """Keep one send attempt or delivery status of our message (the latest
        `EVENTS_PER_MESSAGE`). `event` holds JSON values and its time under `at`."""

    @abstractmethod
    def events(self, message_id: str) -> list[dict]:
        """The kept events of our message, in the order they happened."""

    @abstractmethod
    def answer_for(self, inbound_id: str) -> Message | None:
        """Our reply to a person's message, if stored."""

    @abstractmethod
    def next_queued(self, conversation_id: str) -> Message | None:
        """The conversation's earliest person's message still `queued`."""

    @abstractmethod
    def queued_conversations(self, limit: int) -> list[str]:
        """Conversations that have `queued` messages, oldest first, leaving out those leased
        now (their holder answers what arrives while it holds them)."""

    @abstractmethod
    def mark_done(self, inbound_id: str, status: str = "done") -> None:
        """Take the person's message off the queue: `done`, or `failed` when we gave up."""

    @abstractmethod
    def count_failure(self, inbound_id: str) -> int:
        """Count one more failed try at answering the person's message, atomically; the
        count."""

    @abstractmethod
    def claim_send(self, answer_id: str, parts_sent: int) -> bool:
        """Move the answer from `pending` with `parts_sent` parts sent to `sending`, atomically:
        of two workers about to send the same part, only one may."""

    @abstractmethod
    def update_send(self, answer_id: str, state: str, parts_sent: int,
                    provider_message_ids: list[str], error: SendError | None = None,
                    attempts: int | None = None, event: dict | None = None) -> None:
        """Record how sending an answer is going (`error` None clears the last one), and
        keep `event` (the attempt that brought it here) with it, in the same write."""

    @abstractmethod
    def apply_status(self, provider_message_id: str, status: str,
                     error: SendError | None = None) -> bool:
        """Move the delivery status of the answer holding that provider id forward; False
        when no answer holds it or the status would move backwards."""

    @abstractmethod
    def history(self, conversation_id: str, before: int, limit: int) -> list[Message]:
        """Up to `limit` texts and answers before `position`, oldest first."""

    @abstractmethod
    def list(self, conversation_id: str, limit: int, offset: int = 0,
             where: MessageFilter = ALL_MESSAGES) -> list[Message]:
        """A page of a conversation's messages, in conversation order (or newest first)."""

    @abstractmethod
    def count(self, conversation_id: str, where: MessageFilter = ALL_MESSAGES) -> int:
        """How many messages a conversation has."""

    @abstractmethod
    def count_queued(self) -> int:
        """How many person's messages wait for an answer, in all conversations."""


class ProviderStatusRepository(ABC):
    """Which providers rejected our credentials, shared by every worker."""

    @abstractmethod
    def record_auth_failure(self, dialect: str, error: SendError) -> None:
        """The provider rejected our credentials."""

    @abstractmethod
    def clear_auth_failure(self, dialect: str) -> None:
        """A send went through again."""

    @abstractmethod
    def auth_failures(self) -> dict[str, SendError]:
        """The providers whose credentials are currently rejected."""


class Store(ABC):
    """One backend: its repositories and its lifecycle."""

    sessions: WhatsappSessionRepository
    messages: MessageRepository
    providers: ProviderStatusRepository

    @abstractmethod
    def ensure_schema(self) -> None:
        """Create tables/collections and indexes; idempotent."""

    @abstractmethod
    def ping(self) -> None:
        """Raise `StoreUnavailable` unless the store answers."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""
