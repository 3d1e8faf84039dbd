"""What happens to each event: recorded on the request path, answered in the background."""

from __future__ import annotations

import logging
from contextlib import nullcontext

from app.services.chat import ChatManager
from app.services.delivery import Outbox
from app.services.store import Message, Store
from app.services.store.base import DELIVERY_RANK, SendError
from dialects.base import Event, StatusUpdate

log = logging.getLogger(__name__)


class MessageHandler:
    """`record` stores an event before the webhook answers; `process` answers a stored message.

    `process` may run again for the same message (after a crash, on another worker): an answer
    already stored is not asked of the bot again, and parts the provider accepted are not resent.
    """

    def __init__(self, store: Store, chat: ChatManager, outbox: Outbox, notices: bool = True):
        self.store = store
        self.chat = chat
        self.outbox = outbox
        self.notices = notices

    def record(self, event: Event) -> str | None:
        """Store one event; the conversation id when a newly stored message awaits an answer."""
        if isinstance(event, StatusUpdate):
            self._record_status(event)
            return None
        conversation_id, seq = self.store.sessions.arrive(event.wa_id, event.business_number,
                                                          event.sent_at)
        needs_reply = event.is_text or (event.wants_notice and self.notices)
        stored = self.store.messages.add_inbound(
            conversation_id, seq, event.text, kind=event.kind,
            status="queued" if needs_reply else "done", dialect=event.dialect, wa_id=event.wa_id,
            business_number=event.business_number, provider_message_id=event.message_id)
        if stored is None:
            log.info("duplicate dialect=%s message_id=%s wa_id=%s: already stored, ignored",
                     event.dialect, event.message_id, event.wa_id)
            return None
        log.info("inbound dialect=%s message_id=%s wa_id=%s conversation=%s kind=%s chars=%d%s",
                 event.dialect, event.message_id, event.wa_id, conversation_id, event.kind,
                 len(event.text), "" if needs_reply else " (no reply needed)")
        return conversation_id if needs_reply else None

    def _record_status(self, event: StatusUpdate) -> None:
        if not event.message_id or event.status not in DELIVERY_RANK:
            log.info("status dialect=%s message_id=%s status=%s error_code=%s: noted",
                     event.dialect, event.message_id, event.status, event.error_code)
            return
        error = None
        if event.status == "failed":
            kind = self.outbox.clients[event.dialect].classify(None, event.error_code)
            error = SendError(kind, event.error_code, event.error_title)
        moved = self.store.messages.apply_status(event.message_id, event.status, error)
        log.info("status dialect=%s message_id=%s status=%s error_kind=%s error_code=%s: %s",
                 event.dialect, event.message_id, event.status, error and error.kind,
                 event.error_code, "recorded" if moved else "unknown id or not newer, ignored")

    def process(self, inbound: Message) -> None:
        """Answer (or notice) a stored message, send it, and take it off the queue."""
        answer = self.store.messages.answer_for(inbound.id)
        if answer is None and self.outbox.window_closed(inbound):
            # Nobody would read it: spare the bot (and the queue behind it, after an outage).
            answer = self.store.messages.add_answer(inbound, "", kind="skipped")
        elif answer is None:
            with self.outbox.presence(inbound) if inbound.kind == "text" else nullcontext():
                answer = self._compose(inbound)
        self.outbox.deliver(inbound, answer)
        self.store.messages.mark_done(inbound.id)
        self.store.sessions.touch(inbound.wa_id)

    def _compose(self, inbound: Message) -> Message:
        if inbound.kind == "text":
            return self.chat.generate_response(inbound.content, inbound.conversation_id,
                                               inbound.source, reply_to=inbound)
        return self.chat.notice(inbound, "unsupported")
