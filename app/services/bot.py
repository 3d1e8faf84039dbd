"""The bot: an LCEL chain (`prompt | model | parser`) over the business's documents.

The model is passed in. With no LLM configured, `ExtractiveChatModel` answers offline by quoting
the most relevant passage it is given, so the gateway is useful with no key. `Bot` decides what
to ask: small talk gets its fixed reply, a follow-up is searched with the message before it,
and a question no passage is relevant to gets the honest "no answer", in the customer's language.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import Runnable

from app.services.retrieval.embeddings import make_embeddings
from app.services.retrieval.index import load_index
from app.services.retrieval.retriever import Hit, HybridRetriever
from app.services.retrieval.splitter import Passage
from app.services.smalltalk import SmallTalk
from app.services.texts import LANGUAGE_NAMES, Texts

CONTEXT_MARKER = "Context:\n"
LANGUAGE_MARKER = "Reply language: "
PASSAGE_SEPARATOR = "\n\n---\n\n"
PASSAGE_HEADER = re.compile(r"^\[\d+\] .*\((?P<language>[a-z]*)\)$")
SYSTEM_PROMPT = (
    "You are the WhatsApp assistant of a business. Answer the customer's last message briefly "
    "and plainly, in {language_name}, whatever language the context is written in. Use only "
    "the context below: passages of the business's own documents, each headed by its number, "
    "source file, section and language. Use the conversation to understand follow-ups. If the "
    "context does not answer the message, reply exactly: {no_answer}\n\n"
    + LANGUAGE_MARKER + "{language}\n\n" + CONTEXT_MARKER + "{context}"
)
CONDENSE_PROMPT = (
    "Rewrite the customer's last message as one standalone question, in the language it is "
    "written in, taking from the conversation whatever it leaves implicit. Reply with the "
    "question only."
)
# A passage is relevant when its fused score (cosine + 0.2 x word coverage) reaches this.
# Calibrated on bench/eval (see README): the value that refuses most out-of-scope questions
# while keeping answerable ones, in both languages.
MIN_SCORE = 0.33
# Two passages this close in meaning say the same thing (a translation, usually).
SAME_CONTENT = 0.6
FOLLOW_UP_WORDS = 6
OWN_TOPIC_MARGIN = 0.1


def build_prompt() -> ChatPromptTemplate:
    """System prompt with language and context, the conversation so far, then the question."""
    return ChatPromptTemplate.from_messages([
        ("system", SYSTEM_PROMPT),
        MessagesPlaceholder("history"),
        ("human", "{question}"),
    ])


def build_chain(model: BaseChatModel) -> Runnable:
    """`prompt | model | parser`: takes the prompt's variables; returns a string."""
    return build_prompt() | model | StrOutputParser()


def build_condense_chain(model: BaseChatModel) -> Runnable:
    """`prompt | model | parser` that turns a follow-up into a standalone question."""
    prompt = ChatPromptTemplate.from_messages([
        ("system", CONDENSE_PROMPT), MessagesPlaceholder("history"), ("human", "{question}")])
    return prompt | model | StrOutputParser()


def format_context(passages: list[Passage]) -> str:
    """Passages as the prompt shows them: number, source, section and language, then text."""
    return PASSAGE_SEPARATOR.join(
        f"[{n}] {' › '.join([p.source, *p.headings])} ({p.language})\n{p.text}"
        for n, p in enumerate(passages, 1))


class ExtractiveChatModel(BaseChatModel):
    """Offline default model: replies with the first passage of its context, titled, and says
    so first when that passage is in another language than the reply."""

    texts: Texts = Texts()

    model_config = {"arbitrary_types_allowed": True}

    @property
    def _llm_type(self) -> str:
        return "extractive"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        system = next((m.content for m in messages if isinstance(m, SystemMessage)), "")
        language = system.partition(LANGUAGE_MARKER)[2].partition("\n")[0].strip() or "es"
        context = system.partition(CONTEXT_MARKER)[2].strip()
        answer = self._quote(context.split(PASSAGE_SEPARATOR)[0], language) if context else (
            self.texts.get("no_answer", language))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])

    def _quote(self, block: str, language: str) -> str:
        header, _, text = block.partition("\n")
        title = header.rsplit(" › ", 1)[-1].rsplit(" (", 1)[0]
        match = PASSAGE_HEADER.match(header)
        quote = f"## {title}\n{text.strip()}"
        if match and match["language"] and match["language"] != language:
            return f"{self.texts.get('other_language', language)}\n\n{quote}"
        return quote


def make_model(settings: Any, texts: Texts | None = None) -> BaseChatModel:
    """The configured chat model; the OpenAI client is imported only when asked for."""
    if settings.llm_provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(model=settings.llm_model, api_key=settings.openai_api_key,
                          base_url=settings.openai_base_url, timeout=30, max_retries=1,
                          max_tokens=settings.llm_max_tokens)
    return ExtractiveChatModel(texts=texts or Texts())


class Bot:
    """Answers one message, given the conversation so far and the customer's language."""

    def __init__(self, chain: Runnable, retriever: HybridRetriever, smalltalk: SmallTalk,
                 texts: Texts, condense: Runnable | None = None, passages: int = 3):
        self.chain = chain
        self.retriever = retriever
        self.smalltalk = smalltalk
        self.texts = texts
        self.condense = condense
        self.passages = passages

    def answer(self, question: str, history: list[tuple[str, str]], language: str) -> str:
        """The reply to `question`; `history` is (role, content), oldest first."""
        kind, social = self.smalltalk.classify(question)
        if kind == "handoff":
            return self.texts.get("handoff", language)
        hits = self.relevant(question, history)
        if kind is not None and (not hits or social >= hits[0].score):
            return self.texts.get(kind, language)
        if not hits:
            return self.texts.get("no_answer", language)
        messages = [HumanMessage(content) if role == "user" else AIMessage(content)
                    for role, content in history]
        return self.chain.invoke({
            "context": format_context([h.passage for h in self._in_language(hits, language)]),
            "history": messages, "question": question, "language": language,
            "language_name": LANGUAGE_NAMES.get(language, language),
            "no_answer": self.texts.get("no_answer", language)})

    def relevant(self, question: str, history: list[tuple[str, str]]) -> list[Hit]:
        """The relevant passages for `question`, best first, read in its conversation."""
        hits = [h for h in self.retriever.search(question, self.passages) if _relevant(h)]
        earlier = self._earlier_question(history)
        if earlier is None:
            return hits
        if self.condense is not None:
            standalone = self.condense.invoke({"question": question, "history": [
                HumanMessage(c) if r == "user" else AIMessage(c) for r, c in history]})
            return [h for h in self.retriever.search(standalone, self.passages) if _relevant(h)]
        if hits and len(question.split()) > FOLLOW_UP_WORDS:
            return hits
        # A short message after a question is most often about the same thing ("and on
        # Sundays?"): read with that question, unless it is clearly better on its own.
        together = [h for h in self.retriever.search(question, self.passages, context=earlier)
                    if _relevant(h)]
        if hits and (not together or hits[0].score > together[0].score + OWN_TOPIC_MARGIN):
            return hits
        return together

    def _earlier_question(self, history: list[tuple[str, str]]) -> str | None:
        """The person's last message before this one that was not small talk."""
        for role, content in reversed(history[-6:]):
            if role == "user" and self.smalltalk.classify(content)[0] is None:
                return content
        return None

    def _in_language(self, hits: list[Hit], language: str) -> list[Hit]:
        """`hits` with the best one in `language` first, when it says what the best one says."""
        if not hits or hits[0].passage.language == language:
            return hits
        index = self.retriever.index
        for hit in hits[1:]:
            if hit.passage.language == language and float(
                    index.vector(hit.position) @ index.vector(hits[0].position)) >= SAME_CONTENT:
                return [hit, *(h for h in hits if h is not hit)]
        return hits


def _relevant(hit: Hit) -> bool:
    return hit.score >= MIN_SCORE


def make_bot(settings: Any, texts: Texts) -> Bot:
    """The bot the settings describe: its model, its index (built or read from the cache),
    and, with an LLM, the chain that makes follow-ups standalone."""
    embeddings = make_embeddings(settings)
    index = load_index(settings.knowledge_dir, embeddings, settings.index_cache_dir)
    model = make_model(settings, texts)
    condense = (build_condense_chain(model)
                if not isinstance(model, ExtractiveChatModel) else None)
    return Bot(build_chain(model), HybridRetriever(index, embeddings), SmallTalk(embeddings),
               texts, condense=condense)
