"""ChatManager: one exchange of a conversation, asked of the bot and stored."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from app import metrics
from app.services.bot import Reply
from app.services.language import LanguageDetector
from app.services.store import Message, Store
from app.services.texts import Texts

log = logging.getLogger(__name__)


class Answerer(Protocol):
    """Anything that answers a question given the history: the `Bot`, or a test double."""

    def answer(self, question: str, history: list[tuple[str, str]], language: str) -> str:
        """The answer to `question`, in `language`."""


class ChatManager:
    """Asks the bot with the conversation's history and stores the answer beside the question."""

    def __init__(self, store: Store, bot: Answerer, history_limit: int = 10,
                 texts: Texts | None = None, detector: LanguageDetector | None = None):
        self.store = store
        self.bot = bot
        self.history_limit = history_limit
        self.texts = texts or Texts()
        self.detector = detector or LanguageDetector()

    @property
    def instant(self) -> bool:
        """Whether the bot answers in process within milliseconds (no LLM, no server)."""
        return getattr(self.bot, "instant", False)

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
        history = [(m.role, m.content) for m in self.store.messages.history(
            conversation_id, reply_to.position, self.history_limit)]
        language = self.detector.detect(text, _said_by_person(history))
        started = time.monotonic()
        try:
            reply = _reply(self.bot, text, history, language)
        except Exception as err:  # an LLM client can fail in many ways; the person still hears back
            log.exception("bot failed conversation=%s error=%s", conversation_id,
                          type(err).__name__)
            reply = Reply("")
        took = time.monotonic() - started
        metrics.BOT_LATENCY.observe(took)
        answer = reply.text.strip()
        outcome = reply.outcome if answer else "fallback"
        metrics.BOT_REPLIES.labels(outcome).inc()
        line = "answered conversation=%s bot_ms=%d history=%d language=%s outcome=%s chars=%d"
        values = [conversation_id, took * 1000, len(history), language, outcome, len(answer)]
        if reply.source:  # what the answer was drawn from, and how relevant it was
            line += " source=%s relevance=%s"
            values += [reply.source, reply.relevance]
        log.info(line, *values)
        if reply.wants_person:
            self.store.sessions.flag(conversation_id, "wants_person")
            log.warning("person requested conversation=%s wa_id=%s: flagged for an operator",
                        conversation_id, reply_to.wa_id)
        return self.store.messages.add_answer(reply_to, answer or self.texts.get("fallback",
                                                                                  language))

    def notice(self, inbound: Message, key: str = "unsupported") -> Message:
        """Store the fixed reply `key` to `inbound`, in the language the person writes in."""
        history = self.store.messages.history(inbound.conversation_id, inbound.position,
                                              self.history_limit)
        earlier = _said_by_person([(m.role, m.content) for m in history])
        language = self.detector.detect(earlier[-1], earlier[:-1]) if earlier else (
            self.detector.default)
        return self.store.messages.add_answer(inbound, self.texts.get(key, language),
                                              kind="notice")


def _reply(bot: Answerer, text: str, history: list[tuple[str, str]], language: str) -> Reply:
    """The bot's `Reply`; an answerer that only answers text never asks for a person."""
    respond = getattr(bot, "respond", None)
    return respond(text, history, language) if respond else Reply(bot.answer(text, history,
                                                                             language))


def _said_by_person(history: list[tuple[str, str]]) -> list[str]:
    return [content for role, content in history if role == "user" and content]
