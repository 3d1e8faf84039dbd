"""ChatManager: one exchange of a conversation, asked of the bot and stored."""

from __future__ import annotations

import logging
from typing import Protocol

from app.services.store import Message, Store

log = logging.getLogger(__name__)

FALLBACK_ANSWER = "Sorry, I can't answer right now. Please try again in a few minutes."


class Answerer(Protocol):
    """Anything that answers a question given the history: the `Bot`, or a test double."""

    def answer(self, question: str, history: list[tuple[str, str]]) -> str:
        """The answer to `question`."""


class ChatManager:
    """Stores the person's message, asks the bot with recent history, stores the answer."""

    def __init__(self, store: Store, bot: Answerer, history_limit: int = 10):
        self.store = store
        self.bot = bot
        self.history_limit = history_limit

    def generate_response(self, text: str, conversation_id: str, source: str = "whatsapp",
                          **inbound: object) -> Message:
        """The stored answer (send state `pending`) to `text`; `inbound` holds provider ids."""
        history = self.store.messages.history(conversation_id, self.history_limit)
        self.store.messages.add(conversation_id, "user", text, source, **inbound)
        error_code = None
        try:
            answer = self.bot.answer(text, [(m.role, m.content) for m in history]).strip()
        except Exception as err:  # an LLM client can fail in many ways; the person still hears back
            log.exception("bot failed conversation=%s error=%s", conversation_id,
                          type(err).__name__)
            answer, error_code = FALLBACK_ANSWER, "bot_failed"
        return self.store.messages.add(
            conversation_id, "assistant", answer or FALLBACK_ANSWER, source,
            dialect=inbound.get("dialect"), send_state="pending", error_code=error_code)
