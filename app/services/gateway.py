"""What happens to each inbound event: answer it, send a notice, or just note it."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from app.services.chat import ChatManager
from app.services.formatter import format_text
from app.services.store import Message, Store
from dialects.base import Event, InboundMessage, StatusUpdate
from dialects.client import ProviderClient, SendResult

log = logging.getLogger(__name__)


class MessageHandler:
    """Routes events: texts to the bot and back out through the dialect's client."""

    def __init__(self, store: Store, chat: ChatManager, clients: Mapping[str, ProviderClient],
                 limits: Mapping[str, int], unsupported_reply: str = ""):
        self.store = store
        self.chat = chat
        self.clients = clients
        self.limits = limits
        self.unsupported_reply = unsupported_reply

    def handle(self, event: Event) -> None:
        """Process one event; provider and bot failures are logged and recorded, not raised."""
        if isinstance(event, StatusUpdate):
            log.info("status dialect=%s message_id=%s status=%s error_code=%s", event.dialect,
                     event.message_id, event.status, event.error_code)
        elif event.is_text:
            self.answer(event)
        elif event.wants_notice and self.unsupported_reply:
            log.info("non-text dialect=%s message_id=%s wa_id=%s kind=%s: notice sent",
                     event.dialect, event.message_id, event.wa_id, event.kind)
            self.send(event, self.unsupported_reply)
        else:
            log.info("non-text dialect=%s message_id=%s wa_id=%s kind=%s: ignored",
                     event.dialect, event.message_id, event.wa_id, event.kind)

    def answer(self, message: InboundMessage) -> Message:
        """Ask the bot, store both sides, send the answer, record how the send went."""
        sessions = self.store.sessions
        conversation_id = sessions.get_or_create(message.wa_id, message.business_number)
        log.info("inbound dialect=%s message_id=%s wa_id=%s conversation=%s chars=%d",
                 message.dialect, message.message_id, message.wa_id, conversation_id,
                 len(message.text))
        answer = self.chat.generate_response(
            message.text, conversation_id, dialect=message.dialect,
            provider_message_id=message.message_id)
        results = self.send(message, answer.content)
        self.store.messages.record_send(answer.id, *_outcome(results))
        sessions.touch(message.wa_id)
        return answer

    def send(self, to: InboundMessage, text: str) -> list[SendResult]:
        """Send `text` as one or more parts; stop at the first part the provider refuses."""
        client = self.clients[to.dialect]
        parts = format_text(text, self.limits[to.dialect])
        results = []
        for number, part in enumerate(parts, 1):
            result = client.send_text(to.wa_id, part, to.business_number)
            results.append(result)
            if not result.accepted:
                log.error("send failed dialect=%s to=%s part=%d/%d error_code=%s http=%s: %s",
                          to.dialect, to.wa_id, number, len(parts), result.error_code,
                          result.http_status, result.error_message)
                break
        sent = [r.message_id for r in results if r.accepted]
        log.info("reply dialect=%s to=%s in_reply_to=%s parts=%d sent=%d ids=%s", to.dialect,
                 to.wa_id, to.message_id, len(parts), len(sent), ",".join(filter(None, sent)))
        return results


def _outcome(results: list[SendResult]) -> tuple[str, list[str], str | None, str | None]:
    """(send state, provider ids, error code, error message) for the stored answer."""
    ids = [r.message_id for r in results if r.accepted and r.message_id]
    failure = next((r for r in results if not r.accepted), None)
    if failure is None:
        return "sent", ids, None, None
    state = "not_sent" if failure.error_code == "not_configured" else "failed"
    return state, ids, failure.error_code, failure.error_message
