"""Small talk: greetings, thanks, goodbyes and asking for a person, in any language we serve.

A message is compared by meaning (the multilingual sentence encoder) with a few examples of each
kind; typos and phrasings the examples do not list land near them all the same.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from langchain_core.embeddings import Embeddings

from app.services.retrieval.analysis import fold
from app.services.retrieval.embeddings import as_matrix

EXAMPLES: dict[str, dict[str, tuple[str, ...]]] = {
    "greeting": {
        "es": ("hola", "buenas", "buenos días", "buenas tardes", "buenas noches", "hola qué tal",
               "qué puedes hacer", "en qué me puedes ayudar", "quién eres", "hola, una pregunta",
               "buenas, una consulta"),
        "en": ("hi", "hello", "hey there", "good morning", "good afternoon", "good evening",
               "what can you do", "how can you help me", "who are you", "hi, quick question"),
    },
    "thanks": {
        "es": ("gracias", "muchas gracias", "vale gracias", "perfecto, gracias", "genial", "vale",
               "venga", "oki"),
        "en": ("ok", "okay", "thanks", "thank you", "ok thx", "cheers", "great, thanks", "perfect",
               "awesome thank you"),
    },
    "goodbye": {
        "es": ("adiós", "ok, adiós", "vale, hasta luego", "hasta luego", "hasta pronto", "chao",
               "nos vemos", "un saludo", "hasta mañana", "gracias, nos vemos el sábado",
               "luego te escribo", "mañana me paso", "ya te diré algo",
               "nos vemos la semana que viene"),
        "en": ("bye", "ok bye", "goodbye", "see you", "see you later", "have a nice day",
               "take care", "see you tomorrow", "thanks, see you on Saturday", "talk soon",
               "I'll drop by tomorrow", "I'll let you know", "see you next week"),
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
# One word is little for the encoder: it put "¿qué?", "¿cómo?", "no" and "mmm" 0.65 to 0.71
# from "chao", so they got the goodbye. A lone word closes a conversation from this close
# ("adiós" 0.86, "k" 0.84, "ty" 0.81).
ONE_WORD_CLOSING = 0.75
CLOSINGS = ("thanks", "goodbye")
# Small talk never asks where or how much, and a greeting never asks when either: "where
# are you guys" was 0.66 from "who are you", over the 0.62 of small talk, and got the
# greeting when no passage was found; "cuánto vale" is "vale" to the encoder, a thanks.
# ("cómo", "qué", "how" and "what" also greet, and "cuando" and "when" join a thanks or a
# goodbye: "gracias, cuando pueda me paso".)
# A question asked without its mark ("is there a cheap day" was 0.65 from "have a nice day"
# and got the goodbye): an English question's inverted opening, or Spanish "hay".
QUESTION_OPENING = re.compile(
    r"(?:is|are|was|were|do|does|did|can|could|will|would|should|may)\s+(?:there|you|i|we|"
    r"they|it|he|she|the|your|my|this|that)\b|hay\b")
NEVER_ASKED = frozenset("donde adonde cuanto cuanta cuantos cuantas where why which whose whom"
                        .split())
NEVER_ASKED_IN_GREETINGS = NEVER_ASKED | {"cuando", "when"}
# Asking for help with something names what it is about, which a greeting never does: "can
# you help me with his will" was 0.66 from "how can you help me" and got the greeting. Help
# with a question, a doubt or something ("¿me ayudas con una duda?") announces one, as
# "hola, una pregunta" does: that is a greeting. (Folded, as `classify` reads a message.)
HELP_WITH = re.compile(r"\b(?:help|ayud\w*)\b.*?\b(?:with|con)\s+(?P<what>.+)")
ANNOUNCED = frozenset("""
un una unos unas a an some small quick pequena pequeno cosa cosita cosas duda dudita dudas
pregunta preguntita preguntas consulta consultas algo question questions something thing
things anything
""".split())
# Asking to talk with someone of the business, whoever they are ("quiero hablar con la
# peluquera", "can I speak to the manager"): the examples cannot list every trade's staff, and
# the encoder put "hablar con una peluquera" at 0.59 from "hablar con una persona". Not with
# one's own people ("tengo que hablar con mi marido"), nor about something ("hablar de precios").
# Asking to be called is asking for a person too ("¿me puede llamar alguien?"), and so is
# asking someone to attend to one ("¿me puede atender alguien de la tienda?", 0.54 from the
# examples), not whether one can be attended ("¿me podéis atender sin cita?").
ASKS_FOR_SOMEONE = {
    "es": re.compile(
        r"\b(?:quiero|kiero|quisiera|puedo|podria|podemos|necesito|gustaria|prefiero|"
        r"preferiria|se puede)\s+(?:hablar|contactar)\s+con\s+(?!(?:mis?|tus?|sus?)\b)"
        r"|\b(?:pasame|ponme|pasarme|ponerme)\s+con\s+(?!(?:mis?|tus?|sus?)\b)"
        r"|\bme\s+(?:\w+\s+)?(?:pasas|pones|pasais|poneis|pasar|poner)\s+con\s+"
        r"(?!(?:mis?|tus?|sus?)\b)"
        r"|\bme\s+(?:puede|pueden|podeis|podria|podrian|podriais)\s+llamar\b|\bllamadme\b"
        r"|\bque\s+me\s+llame\b"
        r"|\bme\s+(?:puede|pueden|podria|podrian|podeis|podriais)\s+atender\s+"
        r"(?:alguien|una persona|un humano)\b"
        r"|\b(?:alguien|una persona)\s+(?:que\s+)?me\s+(?:puede\s+atender|podria\s+atender|"
        r"atienda|atiende)\b|\bme\s+atiende\s+(?:alguien|una persona)\b"),
    "en": re.compile(
        r"(?:^|\b(?:can i|could i|may i|i want to|i wanna|i d like to|i would like to|"
        r"i need to|let me)\s+)(?:talk|speak|chat)\s+(?:to|with)\s+(?!(?:my|you)\b)"
        r"|\b(?:put me through|connect me|transfer me|pass me)\s+(?:to|with)\s+(?!my\b)"
        r"|\b(?:can|could)\s+(?:someone|somebody|anyone|you)\s+(?:call|ring|phone)\s+me\b"
        r"|\b(?:can|could)\s+(?:someone|somebody|anyone)\s+(?:from\s+(?:the\s+)?\w+\s+)?"
        r"(?:help|attend to|see to)\s+me\b"),
}


class SmallTalk:
    """`classify(text)`: `(kind, language, similarity)` of the closest example when `text` is a
    short social message, else `(None, None, best similarity)`."""

    def __init__(self, embeddings: Embeddings, min_similarity: float = MIN_SIMILARITY):
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.labels = [(kind, language) for kind, by_language in EXAMPLES.items()
                       for language, examples in by_language.items() for _ in examples]
        self._vectors: np.ndarray | None = None  # embedded by `load`, or on first use

    @staticmethod
    def reading(text: str) -> str | None:
        """What `classify` encodes of `text`: its words alone (the encoder reads "bye!" much
        further from "bye" than a person does, 0.68 against 1.0, and "Vale!" as no example
        at all); `None` when it encodes nothing (no words, or too many for small talk)."""
        words = _words(text)
        return " ".join(words) if 0 < len(words) <= MAX_WORDS else None

    @staticmethod
    def is_example(text: str) -> bool:
        """Whether `text` is one of the examples, its words as they are written there (accents
        and marks aside: "Hasta luego!"): that small talk for certain, never searched."""
        reading = SmallTalk.reading(text)
        return (reading is not None and not text.rstrip().endswith("?")
                and fold(reading) in _EXAMPLE_READINGS)

    def load(self) -> None:
        """Embed the examples now (a few dozen; 26 ms on this machine), not when the first
        customer writes."""
        if self._vectors is None:
            self._vectors = as_matrix(self.embeddings, [
                example for by_language in EXAMPLES.values() for examples in by_language.values()
                for example in examples])

    def classify(self, text: str) -> tuple[str | None, str | None, float]:
        """The kind of social message `text` is, the language of the example it is closest
        to, and how close it came."""
        words = _words(text)
        if not words:
            # "👍", "🙏", "😊": an emoji alone acknowledges what was said. The encoder reads
            # every emoji as the same unknown token, so it cannot tell them apart.
            symbols = any(unicodedata.category(c) in ("So", "Sk") for c in text)
            return ("thanks", None, 1.0) if symbols else (None, None, 0.0)
        if len(words) > MAX_WORDS:
            return None, None, 0.0
        asked = text.rstrip().endswith("?")
        text = " ".join(words)  # `reading`
        plain = fold(text)  # "pásame" as "pasame"
        asked = asked or bool(QUESTION_OPENING.match(plain))
        for language, asks in ASKS_FOR_SOMEONE.items():
            if asks.search(plain):
                return "handoff", language, 1.0
        self.load()
        similarity = self._vectors @ as_matrix(self.embeddings, [text], query=True)[0]
        best = int(np.argmax(similarity))
        score = float(similarity[best])
        if score < self.min_similarity:
            return None, None, score
        kind = self.labels[best][0]
        if kind in CLOSINGS and (asked or (len(words) == 1 and score < ONE_WORD_CLOSING)):
            return None, None, score  # "¿qué?" asks; it neither thanks nor says goodbye
        never = NEVER_ASKED_IN_GREETINGS if kind == "greeting" else NEVER_ASKED
        if never.intersection(plain.split()):
            return None, None, score  # "where are you guys" is no "who are you"
        helped = HELP_WITH.search(plain) if kind == "greeting" else None
        if helped and not set(helped["what"].split()) <= ANNOUNCED:
            return None, None, score  # "can you help me with his will" asks
        return (*self.labels[best], score)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


_EXAMPLE_READINGS = frozenset(fold(" ".join(_words(example))) for by_language in EXAMPLES.values()
                              for examples in by_language.values() for example in examples)
