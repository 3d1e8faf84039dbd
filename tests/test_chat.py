"""ChatManager: both sides stored, history passed, the bot asked once, failures answered."""

from __future__ import annotations

from app.services.chat import ChatManager
from app.services.texts import Texts


class Bot:
    def __init__(self, fail=False):
        self.fail, self.calls = fail, []

    def answer(self, question, history, language):
        self.calls.append((question, history, language))
        if self.fail:
            raise TimeoutError("model took too long")
        return f"  answer to {question}  "


def test_stores_both_sides_and_passes_history(store):
    bot = Bot()
    chat = ChatManager(store, bot, history_limit=2)
    conversation = store.sessions.get_or_create("34600000001")
    chat.generate_response("one", conversation)
    answer = chat.generate_response("two", conversation)
    assert (answer.content, answer.send_state, answer.source) == (
        "answer to two", "pending", "whatsapp")
    assert bot.calls[1][:2] == ("two", [("user", "one"), ("assistant", "answer to one")])
    assert [m.content for m in store.messages.list(conversation, 10)] == [
        "one", "answer to one", "two", "answer to two"]


def test_an_answered_message_is_not_asked_again(store):
    bot = Bot()
    chat = ChatManager(store, bot)
    conversation = store.sessions.get_or_create("34600000001")
    first = chat.generate_response("one", conversation)
    question = store.messages.list(conversation, 1)[0]
    again = chat.generate_response("one", conversation, reply_to=question)
    assert (again.id, len(bot.calls)) == (first.id, 1)


def test_a_failing_bot_yields_the_fallback_answer_in_the_persons_language(store, caplog):
    chat = ChatManager(store, Bot(fail=True))
    conversation = store.sessions.get_or_create("34600000001")
    english = chat.generate_response("what time do you open tomorrow?", conversation)
    spanish = chat.generate_response("¿a qué hora abrís mañana?", conversation)
    assert english.content == Texts().get("fallback", "en")
    assert spanish.content == Texts().get("fallback", "es")
    assert "bot failed" in caplog.text and "TimeoutError" in caplog.text


def test_the_language_of_a_short_message_comes_from_the_conversation(store):
    bot = Bot()
    chat = ChatManager(store, bot)
    conversation = store.sessions.get_or_create("34600000001")
    chat.generate_response("how long does shipping to Portugal take?", conversation)
    chat.generate_response("ok thx", conversation)
    other = store.sessions.get_or_create("34600000002")
    chat.generate_response("hola", other)
    assert [call[2] for call in bot.calls] == ["en", "en", "es"]
