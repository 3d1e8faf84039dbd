"""The bot: an LCEL chain over the knowledge base, with history, offline or with a model."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from app.config import DEFAULT_KNOWLEDGE_DIR, load_settings
from app.services.bot import NO_ANSWER, Bot, ExtractiveChatModel, build_chain, make_model
from app.services.knowledge import KnowledgeBase, Passage


class RecordingModel(FakeListChatModel):
    """A fake chat model that keeps the messages it was prompted with."""

    prompts: list = []

    def _call(self, messages, stop=None, run_manager=None, **kwargs):
        self.prompts.append(messages)
        return super()._call(messages, stop, run_manager, **kwargs)


def knowledge() -> KnowledgeBase:
    return KnowledgeBase.from_directory(DEFAULT_KNOWLEDGE_DIR)


def test_offline_bot_answers_from_the_most_relevant_passage():
    bot = Bot(build_chain(ExtractiveChatModel()), knowledge())
    answer = bot.answer("How can I delete my data?", [])
    assert answer.startswith("**Delete my data**")
    assert "removes your conversation history" in answer


def test_offline_bot_admits_what_it_does_not_know():
    bot = Bot(build_chain(ExtractiveChatModel()), knowledge())
    assert bot.answer("xylophone quantum zebra", []) == NO_ANSWER


def test_the_model_gets_context_history_and_question_in_order():
    model = RecordingModel(responses=["Nine to six."], prompts=[])
    bot = Bot(build_chain(model), knowledge())
    answer = bot.answer("When are you open?", [("user", "hi"), ("assistant", "Hello!")])
    assert answer == "Nine to six."
    [messages] = model.prompts
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage, AIMessage, HumanMessage]
    assert "Opening hours" in messages[0].content
    assert [m.content for m in messages[1:]] == ["hi", "Hello!", "When are you open?"]


def test_retrieval_ranks_by_relevance():
    kb = KnowledgeBase([Passage("a.md", "Prices", "Plans cost ten euros a month."),
                        Passage("b.md", "Opening hours", "We open at nine.")])
    assert [p.title for p in kb.search("what do plans cost")] == ["Prices"]
    assert kb.search("") == []


def test_the_offline_model_is_the_default_and_openai_is_one_setting_away():
    assert isinstance(make_model(load_settings({})), ExtractiveChatModel)
    model = make_model(load_settings({"LLM_PROVIDER": "openai", "OPENAI_API_KEY": "sk-test",
                                      "LLM_MODEL": "gpt-test",
                                      "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    assert (type(model).__name__, model.model_name) == ("ChatOpenAI", "gpt-test")
