"""Small talk: greetings, thanks, goodbyes and asking for a person, in any language we serve.

A message is compared by meaning (the multilingual sentence encoder) with a few examples of each
kind; typos and phrasings the examples do not list land near them all the same.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from langchain_core.embeddings import Embeddings

from app.services.retrieval.embeddings import as_matrix

EXAMPLES: dict[str, dict[str, tuple[str, ...]]] = {
    "greeting": {
        "es": ("hola", "buenas", "buenos días", "buenas tardes", "buenas noches", "hola qué tal",
               "qué puedes hacer", "en qué me puedes ayudar", "quién eres"),
        "en": ("hi", "hello", "hey there", "good morning", "good afternoon", "good evening",
               "what can you do", "how can you help me", "who are you"),
    },
    "thanks": {
        "es": ("gracias", "muchas gracias", "vale gracias", "perfecto, gracias", "genial", "vale"),
        "en": ("ok", "thanks", "thank you", "ok thx", "cheers", "great, thanks", "perfect",
               "awesome thank you"),
    },
    "goodbye": {
        "es": ("adiós", "ok, adiós", "vale, hasta luego", "hasta luego", "hasta pronto", "chao",
               "nos vemos", "un saludo"),
        "en": ("bye", "ok bye", "goodbye", "see you", "see you later", "have a nice day",
               "take care"),
    },
    "handoff": {
        "es": ("quiero hablar con una persona", "pásame con un agente", "agente",
               "hablar con alguien del equipo", "quiero hablar con un humano",
               "atención al cliente humana"),
        "en": ("human please", "can I talk to a person", "I want to speak to someone", "agent",
               "talk to a human", "connect me with customer service"),
    },
}
MIN_SIMILARITY = 0.62
MAX_WORDS = 8


class SmallTalk:
    """`classify(text)`: `(kind, language, similarity)` of the closest example when `text` is a
    short social message, else `(None, None, best similarity)`."""

    def __init__(self, embeddings: Embeddings, min_similarity: float = MIN_SIMILARITY):
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.labels = [(kind, language) for kind, by_language in EXAMPLES.items()
                       for language, examples in by_language.items() for _ in examples]
        self._vectors: np.ndarray | None = None  # embedded on first use

    def classify(self, text: str) -> tuple[str | None, str | None, float]:
        """The kind of social message `text` is, the language of the example it is closest
        to, and how close it came."""
        words = re.findall(r"\w+", text.lower())
        if not words:
            # "👍", "🙏", "😊": an emoji alone acknowledges what was said. The encoder reads
            # every emoji as the same unknown token, so it cannot tell them apart.
            symbols = any(unicodedata.category(c) in ("So", "Sk") for c in text)
            return ("thanks", None, 1.0) if symbols else (None, None, 0.0)
        if len(words) > MAX_WORDS:
            return None, None, 0.0
        # Its words alone: the encoder reads "bye!" much further from "bye" than a person does
        # (0.68 against 1.0), and "Vale!" as no example at all.
        text = " ".join(words)
        if self._vectors is None:
            self._vectors = as_matrix(self.embeddings, [
                example for by_language in EXAMPLES.values() for examples in by_language.values()
                for example in examples])
        similarity = self._vectors @ as_matrix(self.embeddings, [text], query=True)[0]
        best = int(np.argmax(similarity))
        score = float(similarity[best])
        if score < self.min_similarity:
            return None, None, score
        return (*self.labels[best], score)
