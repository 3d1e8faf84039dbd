"""What happens to each event: recorded on the request path, answered in the background."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from app.services.chat import ChatManager
from app.services.formatter import format_text
from app.services.store import Message, Store
from dialects.base import Event, StatusUpdate
from dialects.client import ProviderClient

log = logging.getLogger(__name__)


class MessageHandler:
    """`record` stores an event before the webhook answers; `process` answers a stored message.

    `process` may run again for the same message (after a crash, on another worker): an answer
    already stored is not asked of the bot again, and parts the provider accepted are not resent.
    """

    def __init__(self, store: Store, chat: ChatManager, clients: Mapping[str, ProviderClient],
                 limits: Mapping[str, int], unsupported_reply: str = ""):
        self.store = store
        self.chat = chat
        self.clients = clients
        self.limits = limits
        self.unsupported_reply = unsupported_reply

    def record(self, event: Event) -> str | None:
        """Store one event; the conversation id when a newly stored message awaits an answer."""
        if isinstance(event, StatusUpdate):
            self._record_status(event)
            return None
        conversation_id, seq = self.store.sessions.arrive(event.wa_id, event.business_number)
        needs_reply = event.is_text or bool(event.wants_notice and self.unsupported_reply)
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
        if not event.message_id or event.status not in ("sent", "delivered", "read", "failed"):
            log.info("status dialect=%s message_id=%s status=%s error_code=%s: noted",
                     event.dialect, event.message_id, event.status, event.error_code)
            return
        moved = self.store.messages.apply_status(event.message_id, event.status,
                                                 event.error_code, event.error_title)
        log.info("status dialect=%s message_id=%s status=%s error_code=%s: %s", event.dialect,
                 event.message_id, event.status, event.error_code,
                 "recorded" if moved else "unknown id or not newer, ignored")

    def process(self, inbound: Message) -> None:
        """Answer (or notice) a stored message, send it, and take it off the queue."""
        answer = self.store.messages.answer_for(inbound.id) or self._compose(inbound)
        self.deliver(inbound, answer)
        self.store.messages.mark_done(inbound.id)
        self.store.sessions.touch(inbound.wa_id)

    def _compose(self, inbound: Message) -> Message:
        if inbound.kind == "text":
            return self.chat.generate_response(inbound.content, inbound.conversation_id,
                                               inbound.source, reply_to=inbound)
        return self.store.messages.add_answer(inbound, self.unsupported_reply, kind="notice")

    def deliver(self, inbound: Message, answer: Message) -> None:
        """Send the answer's remaining parts; a part whose send was interrupted is not resent."""
        if answer.send_state == "sending":
            log.error("send interrupted dialect=%s to=%s answer=%s part=%d: the provider may "
                      "have it, so it is not sent again", inbound.dialect, inbound.wa_id,
                      answer.id, answer.parts_sent + 1)
            self.store.messages.update_send(answer.id, "failed", answer.parts_sent,
                                            answer.provider_message_ids, "send_interrupted",
                                            "a send was interrupted; delivery unknown")
            return
        if answer.send_state != "pending":
            return
        parts = format_text(answer.content, self.limits[inbound.dialect])
        ids, sent = list(answer.provider_message_ids), answer.parts_sent
        for number, part in enumerate(parts[sent:], sent + 1):
            if not self.store.messages.claim_send(answer.id, sent):
                log.warning("send skipped answer=%s part=%d: another worker is sending it",
                            answer.id, number)
                return
            result = self.clients[inbound.dialect].send_text(inbound.wa_id, part,
                                                             inbound.business_number)
            if not result.accepted:
                state = "not_sent" if result.error_code == "not_configured" else "failed"
                self.store.messages.update_send(answer.id, state, sent, ids, result.error_code,
                                                result.error_message)
                log.error("send failed dialect=%s to=%s part=%d/%d error_code=%s http=%s: %s",
                          inbound.dialect, inbound.wa_id, number, len(parts), result.error_code,
                          result.http_status, result.error_message)
                return
            sent += 1
            if result.message_id:
                ids.append(result.message_id)
            self.store.messages.update_send(answer.id, "sent" if sent == len(parts) else
                                            "pending", sent, ids)
        log.info("reply dialect=%s to=%s in_reply_to=%s kind=%s parts=%d ids=%s",
                 inbound.dialect, inbound.wa_id, inbound.provider_message_id, answer.kind,
                 len(parts), ",".join(ids))

