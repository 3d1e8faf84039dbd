"""The offline model: it answers by quoting the context it is given, so no key is needed.

It reads the prompt the way an LLM would: the reply language after `LANGUAGE_MARKER`, and the
passages after `CONTEXT_MARKER`, each headed by its number, place, language and relevance.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from app.services.texts import Texts

CONTEXT_MARKER = "Context:\n"
LANGUAGE_MARKER = "Reply language: "
PASSAGE_SEPARATOR = "\n\n---\n\n"
PASSAGE_HEADER = re.compile(r"^\[\d+\] (?P<where>.*) \((?P<language>[a-z]*), "
                            r"relevance (?P<score>[0-9.]+)\)$")
# A second passage is quoted when it is as relevant as the first (a tie).
QUOTE_AT_MOST = 2


class ExtractiveChatModel(BaseChatModel):
    """Offline default model: replies with the first passage of its context, titled, and with
    the next one too when it is nearly as relevant (in the first one's language, or in another
    after one in the reply's); a note says so before what is in another language."""

    texts: Texts = Texts()
    tie: float = 0.02  # scores this close are a tie (the embedding model's `close`)

    model_config = {"arbitrary_types_allowed": True}

    @property
    def _llm_type(self) -> str:
        return "extractive"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: Any = None, **kwargs: Any) -> ChatResult:
        system = next((m.content for m in messages if isinstance(m, SystemMessage)), "")
        language = system.partition(LANGUAGE_MARKER)[2].partition("\n")[0].strip() or "es"
        context = system.partition(CONTEXT_MARKER)[2].strip()
        passages = [_parse(block) for block in context.split(PASSAGE_SEPARATOR)] if context else []
        if not passages:
            answer = self.texts.get("no_answer", language)
        else:
            first = passages[0]
            # A tie in the first one's language, or in another after one in the reply's: the
            # note that says so always stands before what is in another language.
            quoted = [first] + [p for p in passages[1:QUOTE_AT_MOST] if
                                p[2] >= first[2] - self.tie
                                and (p[1] == first[1] or first[1] in ("", language))]
            answer = "\n\n".join(
                f"{self.texts.get('other_language', language)}\n\n{titled(title, text)}"
                if lang not in ("", language) and (n == 0 or quoted[n - 1][1] != lang)
                else titled(title, text)
                for n, (title, lang, _, text) in enumerate(quoted))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=answer))])


def titled(title: str, text: str) -> str:
    """A passage as the model quotes it: under its title, if it has one."""
    return f"## {title}\n{text}" if title else text


def _parse(block: str) -> tuple[str, str, float, str]:
    """`(title, language, relevance, text)` of one context passage; its title is its closest
    heading, none under no heading (a file's name means nothing to a customer)."""
    header, _, text = block.partition("\n")
    match = PASSAGE_HEADER.match(header)
    if match is None:
        return header.strip(), "", 0.0, text.strip()
    _, _, headings = match["where"].partition(" › ")  # the file's name, then its headings
    return (headings.rsplit(" › ", 1)[-1], match["language"], float(match["score"]),
            text.strip())
