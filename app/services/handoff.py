"""A person steps in: takes a conversation from the bot, answers through the same outbox, and
gives it back (or the bot takes it back after the operator has been silent for a while)."""

from __future__ import annotations

import logging

from app.errors import Conflict, NotFound
from app.services.delivery import Outbox
from app.services.store import Message, Session, Store
from app.services.store.base import MessageFilter, event_at

log = logging.getLogger(__name__)


class Operators:
    """What the operator routes and the console do to a conversation."""

    def __init__(self, store: Store, outbox: Outbox):
        self.store = store
        self.outbox = outbox

    def session(self, conversation_id: str) -> Session:
        """The conversation's session, else `NotFound`."""
        session = self.store.sessions.find_by_conversation_id(conversation_id)
        if session is None:
            raise NotFound(f"no conversation {conversation_id}")
        return session

    def take(self, conversation_id: str, operator: str) -> Session:
        """Pause the bot: `operator` has the conversation from now on."""
        self.session(conversation_id)
        session = self.store.sessions.hand_off(conversation_id, operator)
        log.info("handoff conversation=%s operator=%s: the bot is paused", conversation_id,
                 operator)
        return session

    def give_back(self, conversation_id: str, operator: str) -> Session:
        """The bot answers again; the attention flag is cleared."""
        self.session(conversation_id)
        session = self.store.sessions.hand_off(conversation_id, None)
        log.info("handoff ended conversation=%s operator=%s: the bot answers again",
                 conversation_id, operator)
        return session

    def send(self, conversation_id: str, text: str, operator: str) -> Message:
        """Store the operator's text and send it like an answer (formatted, split, retried,
        its delivery tracked): the stored message, as sending left it. `Conflict` when the
        person never wrote, or last wrote more than 24 hours ago."""
        self.session(conversation_id)
        latest = self.store.messages.list(conversation_id, 1, where=MessageFilter(
            role="user", newest_first=True))
        if not latest:
            raise Conflict("no_inbound", "the person has not written in this conversation yet; "
                           "WhatsApp only lets a business reply to someone who wrote")
        if self.outbox.window_closed(latest[0]):
            raise Conflict("window_closed", "the person last wrote more than 24 hours ago; "
                           "WhatsApp only accepts a template message now, not free text")
        seq = self.store.sessions.next_seq(conversation_id)
        message = self.store.messages.add_operator(conversation_id, seq, text, latest[0],
                                                   operator)
        self.store.sessions.operator_wrote(conversation_id)
        log.info("operator message conversation=%s operator=%s message=%s chars=%d",
                 conversation_id, operator, message.id, len(text))
        self.outbox.deliver(latest[0], message)
        return self.store.messages.get(message.id) or message

    def story(self, provider_message_id: str) -> dict:
        """Everything about one message, found by any provider id it has: the person's
        message, our reply to it, and every send attempt and delivery status, in time
        order."""
        found = self.store.messages.find_by_provider_id(provider_message_id)
        if found is None:
            raise NotFound(f"no message with provider id {provider_message_id}")
        messages = self.store.messages
        if found.role == "user":
            inbound, reply = found, messages.answer_for(found.id)
        else:
            inbound = messages.get(found.in_reply_to) if found.in_reply_to else None
            reply = found
        timeline = []
        if inbound is not None:
            timeline.append({"type": "received", "at": inbound.created_at,
                             "provider_message_id": inbound.provider_message_id,
                             "status": inbound.status})
        if reply is not None:
            timeline.append({"type": "stored_reply", "at": reply.created_at,
                             "kind": reply.kind, "source": reply.source})
            timeline += messages.events(reply.id)
        for event in timeline:  # one form, so that text order is time order too
            event["at"] = event_at(event).isoformat(timespec="milliseconds")
        timeline.sort(key=lambda event: event["at"])
        return {"inbound": inbound, "reply": reply, "timeline": timeline}
