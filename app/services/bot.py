"""The bot: an LCEL chain (`prompt | model | parser`) over the knowledge base.

The model is passed in. With no LLM configured, `ExtractiveChatModel` answers offline by quoting
the most relevant passage of the context it is given, so the gateway is useful with no key.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable

from app.config import Settings
from app.services.knowledge import KnowledgeBase, Passage

CONTEXT_MARKER = "Context:\n"
PASSAGE_SEPARATOR = "\n\n---\n\n"
NO_ANSWER = (
    "I'm sorry, I don't have an answer to that yet. Could you rephrase it, "
    "or ask about something else?"
)
SYSTEM_PROMPT = (
    "You are a helpful assistant answering people on WhatsApp. Answer in the language of the "
    "question, briefly and plainly, using only the context below. If the context does not "
    "answer the question, say you don't know.\n\n" + CONTEXT_MARKER + "{context}"
)


def build_prompt() -> ChatPromptTemplate:
    """System prompt with the retrieved context, the conversation so far, then the question."""
    return ChatPromptTemplate.from_messages([
        ("system", SYSTEM_PROMPT),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ])


def build_chain(model: BaseChatModel) -> Runnable:
    """`prompt | model | parser`: takes `context`, `history`, `question`; returns a string."""
    return build_prompt() | model | StrOutputParser()


def format_context(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: a bold title line, then the text."""
    return PASSAGE_SEPARATOR.join(f"**{p.title}**\n{p.text}" for p in passages)


class ExtractiveChatModel(BaseChatModel):
    """Offline default model: replies with the top passage of its context, or admits it can't."""

    @property
    def _llm_type(self) -> str:
        return "extractive"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        system = next((m.content for m in messages if isinstance(m, SystemMessage)), "")
        context = system.partition(CONTEXT_MARKER)[2].strip()
        answer = context.split(PASSAGE_SEPARATOR)[0] if context else NO_ANSWER
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])


def make_model(settings: Settings) -> BaseChatModel:
    """The configured chat model; the OpenAI client is imported only when asked for."""
    if settings.llm_provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=settings.llm_model, api_key=settings.openai_api_key,
                          base_url=settings.openai_base_url, timeout=30, max_retries=1)
    return ExtractiveChatModel()


class Bot:
    """Retrieves context for a question and runs the chain with the conversation's history."""

    def __init__(self, chain: Runnable, knowledge: KnowledgeBase, passages: int = 2):
        self.chain = chain
        self.knowledge = knowledge
        self.passages = passages

    def answer(self, question: str, history: list[tuple[str, str]]) -> str:
        """The bot's answer to `question`; `history` is (role, content), oldest first."""
        context = format_context(self.knowledge.search(question, k=self.passages))
        messages = [HumanMessage(content) if role == "user" else AIMessage(content)
                    for role, content in history]
        return self.chain.invoke({"context": context, "history": messages, "question": question})
