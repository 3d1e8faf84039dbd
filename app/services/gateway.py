"""What happens to each event: recorded on the request path, answered in the background."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import timedelta

from app import metrics
from app.services.chat import ChatManager
from app.services.delivery import Outbox
from app.services.store import Message, Session, Store
from app.services.store.base import DELIVERY_RANK, SendError, utcnow
from dialects.base import Event, StatusUpdate

log = logging.getLogger(__name__)


class MessageHandler:
    """`record` stores an event before the webhook answers; `process` answers a stored message.

    `process` may run again for the same message (after a crash, on another worker): an answer
    already stored is not asked of the bot again, and parts the provider accepted are not resent.
    """

    def __init__(self, store: Store, chat: ChatManager, outbox: Outbox, notices: bool = True,
                 handoff_idle: timedelta = timedelta(minutes=60)):
        self.store = store
        self.chat = chat
        self.outbox = outbox
        self.notices = notices
        self.handoff_idle = handoff_idle

    def record(self, event: Event) -> str | None:
        """Store one event; the conversation id when a newly stored message awaits an answer."""
        if isinstance(event, StatusUpdate):
            self._record_status(event)
            return None
        conversation_id, seq = self.store.sessions.arrive(event.wa_id, event.business_number,
                                                          event.sent_at, event.profile_name)
        needs_reply = event.is_text or (event.wants_notice and self.notices)
        stored = self.store.messages.add_inbound(
            conversation_id, seq, event.text, kind=event.kind,
            status="queued" if needs_reply else "done", dialect=event.dialect, wa_id=event.wa_id,
            business_number=event.business_number, provider_message_id=event.message_id)
        if stored is None:
            metrics.DUPLICATES.labels(event.dialect).inc()
            log.info("duplicate dialect=%s message_id=%s wa_id=%s: already stored, ignored",
                     event.dialect, event.message_id, event.wa_id)
            return None
        metrics.INBOUND.labels(event.dialect, event.kind).inc()
        log.info("inbound dialect=%s message_id=%s wa_id=%s conversation=%s kind=%s chars=%d%s",
                 event.dialect, event.message_id, event.wa_id, conversation_id, event.kind,
                 len(event.text), "" if needs_reply else " (no reply needed)")
        return conversation_id if needs_reply else None

    def _record_status(self, event: StatusUpdate) -> None:
        if not event.message_id or event.status not in DELIVERY_RANK:
            log.info("status dialect=%s message_id=%s status=%s error_code=%s: noted",
                     event.dialect, event.message_id, event.status, event.error_code)
            return
        metrics.STATUSES.labels(event.dialect, event.status).inc()
        error = None
        if event.status == "failed":
            kind = self.outbox.clients[event.dialect].classify(None, event.error_code)
            error = SendError(kind, event.error_code, event.error_title)
        moved = self.store.messages.apply_status(event.message_id, event.status, error)
        ours = self.store.messages.find_by_provider_id(event.message_id)
        if ours is not None and ours.role == "assistant":  # its story keeps every status
            self.store.messages.add_event(ours.id, {
                "type": "status", "at": utcnow(), "status": event.status,
                "provider_message_id": event.message_id, "error_kind": error and error.kind,
                "error_code": event.error_code, "error_title": event.error_title,
                "applied": moved})
            if moved and event.status == "failed":
                self.store.sessions.flag(ours.conversation_id, "failed_answer")
        log.info("status dialect=%s message_id=%s status=%s error_kind=%s error_code=%s: %s",
                 event.dialect, event.message_id, event.status, error and error.kind,
                 event.error_code, "recorded" if moved else "unknown id or not newer, ignored")

    def process(self, inbound: Message) -> None:
        """Answer (or notice) a stored message, send it, and take it off the queue."""
        answer = self.store.messages.answer_for(inbound.id)
        session = self.store.sessions.find_by_conversation_id(inbound.conversation_id)
        if answer is None and self._held(inbound, session):
            return
        if answer is None and self.outbox.window_closed(inbound, session):
            # Nobody would read it: spare the bot (and the queue behind it, after an outage).
            answer = self.store.messages.add_answer(inbound, "", kind="skipped")
        elif answer is None:
            with (self.outbox.presence(inbound, instant=self.chat.instant)
                  if inbound.kind == "text" else nullcontext()):
                answer = self._compose(inbound)
        self.outbox.deliver(inbound, answer)
        self.store.messages.mark_done(inbound.id)
        self.store.sessions.touch(inbound.wa_id)

    def _held(self, inbound: Message, session: Session | None) -> bool:
        """Whether an operator has the conversation: the message stays unanswered (`held`).
        A handoff whose operator was silent for `handoff_idle` ends here, lazily."""
        if session is None or session.handoff_by is None:
            return False
        if not session.paused(self.handoff_idle):
            self.store.sessions.hand_off(inbound.conversation_id, None)
            log.info("handoff ended conversation=%s operator=%s: no operator message for %d "
                     "min, the bot answers again", inbound.conversation_id, session.handoff_by,
                     self.handoff_idle.total_seconds() // 60)
            return False
        self.store.messages.mark_done(inbound.id, "held")
        self.store.sessions.touch(inbound.wa_id)
        metrics.ANSWERS.labels(inbound.dialect, "answer", "held", "").inc()
        log.info("held dialect=%s message_id=%s conversation=%s operator=%s: an operator has "
                 "the conversation, the bot does not answer", inbound.dialect,
                 inbound.provider_message_id, inbound.conversation_id, session.handoff_by)
        return True

    def _compose(self, inbound: Message) -> Message:
        if inbound.kind == "text":
            return self.chat.generate_response(inbound.content, inbound.conversation_id,
                                               inbound.source, reply_to=inbound)
        return self.chat.notice(inbound, "unsupported")
