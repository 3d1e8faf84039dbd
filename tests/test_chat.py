"""ChatManager: both sides stored, history passed, and a failing bot still gets an answer out."""

from __future__ import annotations

from app.services.chat import FALLBACK_ANSWER, ChatManager


class Bot:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, []

    def answer(self, question, history):
        self.calls.append((question, history))
        if self.fail:
            raise TimeoutError("model took too long")
        return f"  answer to {question}  "


def test_stores_both_sides_and_passes_history(store):
    bot = Bot()
    chat = ChatManager(store, bot, history_limit=2)
    conversation = store.sessions.get_or_create("34600000001")
    chat.generate_response("one", conversation, provider_message_id="w1", dialect="cloud_api")
    answer = chat.generate_response("two", conversation, provider_message_id="w2",
                                    dialect="cloud_api")
    assert (answer.content, answer.send_state, answer.source) == (
        "answer to two", "pending", "whatsapp")
    assert bot.calls[1] == ("two", [("user", "one"), ("assistant", "answer to one")])
    assert store.messages.count(conversation) == 4


def test_a_failing_bot_yields_the_fallback_answer(store, caplog):
    chat = ChatManager(store, Bot(fail=True))
    conversation = store.sessions.get_or_create("34600000001")
    answer = chat.generate_response("hi", conversation)
    assert (answer.content, answer.error_code) == (FALLBACK_ANSWER, "bot_failed")
    assert "bot failed" in caplog.text and "TimeoutError" in caplog.text
