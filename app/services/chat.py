"""ChatManager: one exchange of a conversation, asked of the bot and stored."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from app.services.store import Message, Store

log = logging.getLogger(__name__)

FALLBACK_ANSWER = "Sorry, I can't answer right now. Please try again in a few minutes."


class Answerer(Protocol):
    """Anything that answers a question given the history: the `Bot`, or a test double."""

    def answer(self, question: str, history: list[tuple[str, str]]) -> str:
        """The answer to `question`."""


class ChatManager:
    """Asks the bot with the conversation's history and stores the answer beside the question."""

    def __init__(self, store: Store, bot: Answerer, history_limit: int = 10):
        self.store = store
        self.bot = bot
        self.history_limit = history_limit

    def generate_response(self, text: str, conversation_id: str, source: str = "whatsapp",
                          reply_to: Message | None = None) -> Message:
        """The stored answer (send state `pending`) to `text`.

        `reply_to` is the person's message when it is already stored (the webhook stores it
        before acknowledging); otherwise it is stored here, at the end of the conversation.
        An answer already stored for it is returned as it is: the bot is not asked twice.
        """
        if reply_to is None:
            seq = self.store.sessions.next_seq(conversation_id)
            reply_to = self.store.messages.add_inbound(conversation_id, seq, text, kind="text",
                                                       status="done", source=source)
        existing = self.store.messages.answer_for(reply_to.id)
        if existing is not None:
            return existing
        history = self.store.messages.history(conversation_id, reply_to.position,
                                              self.history_limit)
        started = time.monotonic()
        try:
            answer = self.bot.answer(text, [(m.role, m.content) for m in history]).strip()
        except Exception as err:  # an LLM client can fail in many ways; the person still hears back
            log.exception("bot failed conversation=%s error=%s", conversation_id,
                          type(err).__name__)
            answer = ""
        log.info("answered conversation=%s bot_ms=%d history=%d chars=%d%s", conversation_id,
                 (time.monotonic() - started) * 1000, len(history), len(answer),
                 "" if answer else " (fallback)")
        return self.store.messages.add_answer(reply_to, answer or FALLBACK_ANSWER)
