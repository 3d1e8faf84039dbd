"""Which language a customer writes in: Spanish or English, from lingua's detector.

A WhatsApp message is often two or three words ("ok thx", "y el finde?"), too little for any
detector to be sure of. When the message alone is not clear, the person's recent messages
decide, and with none, the business's default language.

The names the business's documents use (its town, its brand, the places it ships to) say
nothing of the customer's language, and weigh heavily in a short message: "do u ship to
portugal" read as Spanish, "aceptais american express" as English. They are left out of a
message before its language is guessed, when another word remains.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache

from app.services.retrieval.analysis import (
    ENGLISH_GRAMMAR,
    SPANISH_GRAMMAR,
    accented,
    fold,
    spelled_out,
)

LANGUAGES = ("es", "en")
MIN_CONFIDENCE = 0.6
# How far the words of a message lingua is unsure of must lean to one language (`_words_vote`).
WORDS_LEAD = 0.3
# ... or at all, where lingua leans that way too, in a message of so many words: two words
# that lean apart ("dais ingles?", an English "dais" and a Spanish "ingles") are no vote.
AGREEING_VOTERS = 3
# "ok", "vale", "thx": a message this short follows the conversation's language.
SHORT_WORDS = 2
# A message of up to this many words is read with the person's message before it: "y el
# check out?" alone is 92% English to lingua, and so is "y el parking?", in Spanish chats.
WITH_THE_LAST_WORDS = 4
WORD = re.compile(r"[^\W\d_]+")
# The words a message must keep, its names left out, to be read without them.
NAMELESS_WORDS = 1
# Spanish "vosotros" verbs typed without their accent ("teneis", "aceptais"): lingua read
# "teneis parking" and "aceptais cheques" as English, "tenéis" and "aceptáis" as Spanish.
UNACCENTED_VOSOTROS = re.compile(r"\b(\w{3,})([ae])is\b", re.IGNORECASE)
# A verb of "vosotros" ("mandáis", "tenéis", accents folded): Spanish grammar by its ending,
# which no English word of its length has. "mandais a francia?" was read as English.
VOSOTROS_VERB = re.compile(r"\w{3,}[ae]is")
# A word as grammar counts it: "check-in" is one, and no function word.
COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
# How many times more function words of one language than of the other make a message that
# language (`grammar_of`): "y el check in?" is Spanish, "what does con leche mean" English.
GRAMMAR_LEAD = 2
# Where a sentence starts: its first word is capitalised whatever it is.
SENTENCE_START = re.compile(r"(?:^|[.!?¿¡:;|*#>\n]|(?:^|\n)\s*[-•]|\d[.)])\s*$")


def names_in(texts: Iterable[str]) -> frozenset[str]:
    """The words `texts` write only as names, folded: capitalised within a sentence
    ("Valencia", "American Express", "Olivar de la Vega") and never in lower case (so not
    "Plaza" where "plaza" is a word too)."""
    capitalised: set[str] = set()
    lower: set[str] = set()
    for text in texts:
        for match in WORD.finditer(text):
            word = match.group()
            if word.islower():
                lower.add(fold(word))
            elif word[0].isupper() and not SENTENCE_START.search(text[:match.start()][-4:]):
                capitalised.add(fold(word))
    return frozenset(capitalised - lower)


def terms_in(texts: Iterable[str]) -> frozenset[str]:
    """The words `texts` write with a capital past their first letter, in a line not written
    in capitals throughout, folded: acronyms and brands ("NIE", "IVA", "PayPal", "iPhone"),
    which name what a question asks about, where a town's name only sets the scene."""
    found: set[str] = set()
    for text in texts:
        for line in text.split("\n"):
            if any(c.islower() for c in line):
                found.update(fold(word) for word in WORD.findall(line)
                              if len(word) > 1 and any(c.isupper() for c in word[1:]))
    return frozenset(found)


@cache
def _detector():
    """One lingua detector per process, restricted to the languages we serve."""
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(Language.SPANISH, Language.ENGLISH).build()


def _confidences(text: str) -> dict[str, float]:
    return dict(_computed(text))


@lru_cache(maxsize=4096)
def _computed(text: str) -> tuple[tuple[str, float], ...]:
    """lingua's confidences (2 ms a message): a message is read for its language more than
    once (the reply's language, the bot's check, the next message's history)."""
    codes = {"SPANISH": "es", "ENGLISH": "en"}
    return tuple((codes[v.language.name], v.value)
                 for v in _detector().compute_language_confidence_values(text))


def clear_language_cache() -> None:
    """Forget the messages already read (benchmarks measure messages never seen)."""
    _computed.cache_clear()


class LanguageDetector:
    """`detect(text, earlier)`: the language to answer in, `es` or `en`."""

    def __init__(self, default: str = "es", min_confidence: float = MIN_CONFIDENCE,
                 names: frozenset[str] = frozenset()):
        self.default = default
        self.min_confidence = min_confidence
        self.names = names  # folded (`names_in`): left out of a message, when words remain

    def load(self) -> None:
        """Read lingua's models now, not when the first customer writes: lingua reads each
        one when a text first needs it (the first two messages took 120 and 200 ms). Read
        lazily on one thread: lingua's preloading starts threads, and a gunicorn master that
        loads them forks its workers afterwards."""
        self.guess("hola, ¿qué tal? hello, how are you?")

    def guess(self, text: str) -> tuple[str, float]:
        """The likelier language of `text` alone, and how sure the detector is (0.5-1).
        Chat abbreviations are read written out: "do u have wifi" was 59% English, under the
        bar, and got a Spanish reply; "do you have wifi" is 75%."""
        text = spelled_out(UNACCENTED_VOSOTROS.sub(accented, text))
        if self.names:
            written = WORD.findall(text)
            kept = [word for word in written if fold(word) not in self.names]
            if NAMELESS_WORDS <= len(kept) < len(written):
                text = " ".join(kept)
        scores = _confidences(text) if text.strip() else {}
        if not scores:
            return self.default, 0.0
        language = max(scores, key=scores.get)
        return language, scores[language]

    def detect(self, text: str, earlier: Sequence[str] = ()) -> str:
        """The language of `text`; the person's `earlier` messages (oldest first) settle a
        message too short to tell, and a short one is read with the message before it: a
        Spanish follow-up's English words ("y el check out?") outweigh its Spanish ones."""
        if earlier and len(text.split()) <= SHORT_WORDS:
            # Read as each of them was: by its grammar first ("el taller de batch cooking
            # cuando es" is Spanish, though lingua reads it as English for its nouns).
            language = grammar_of(" ".join(earlier[-3:]))
            if language is not None:
                return language
            language, confidence = self.guess(" ".join(earlier[-3:]))
            if confidence >= self.min_confidence:
                return language
        if earlier and len(text.split()) <= WITH_THE_LAST_WORDS:
            language, confidence = self.guess(" ".join([earlier[-1], text]))
            if confidence >= self.min_confidence:
                return language
        alone, confidence = self.guess(text)
        grammar = grammar_of(text)
        if grammar is not None:
            return grammar
        if confidence >= self.min_confidence:
            return alone
        if earlier:
            language, confidence = self.guess(" ".join([*earlier[-3:], text]))
            if confidence >= self.min_confidence:
                return language
        return self._words_vote(text, alone) or self.default

    def _words_vote(self, text: str, leaning_whole: str) -> str | None:
        """The language the words of `text` lean to, each read alone and counted by how sure
        lingua is of it past a toss-up, when it leads by `WORDS_LEAD`, or at all where the
        whole message leans that way too (`AGREEING_VOTERS`): lingua read "do you have a
        shop in barcelona" as 50% Spanish, for the town, and each of "you", "have", "shop" as
        87 to 93% English; "do you ship to madrid" as 52% English, its words leaning English
        by 0.18 ("do" is a Spanish word too), and it got a Spanish reply."""
        leaning: Counter[str] = Counter()
        voters = [word for word in WORD.findall(text) if len(word) > 1]
        for word in voters:
            language, confidence = self.guess(word)
            leaning[language] += confidence - 0.5
        ranked = leaning.most_common()
        lead = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0) if ranked else 0
        if lead >= WORDS_LEAD or (lead > 0 and ranked[0][0] == leaning_whole
                                  and len(voters) >= AGREEING_VOTERS):
            return ranked[0][0]
        return None

    def sure_of(self, text: str) -> bool:
        """Whether `text` alone says which language it is in."""
        return self.guess(text)[1] >= self.min_confidence


def grammar_of(text: str) -> str | None:
    """The language whose function words `text` is written with (`SPANISH_GRAMMAR`,
    `ENGLISH_GRAMMAR`), when it has `GRAMMAR_LEAD` times more of one's than of the other's.

    A sentence borrows nouns, not grammar: lingua read "hay parking" as 90% English, "hay
    parking para el coche?" and "tienen delivery?" as English too, for the English nouns
    Spanish uses. Its function words, and its verbs of "vosotros", say what language it is
    written in."""
    counts = Counter()
    for word in COMPOUND.findall(fold(spelled_out(text))):
        if word in SPANISH_GRAMMAR or VOSOTROS_VERB.fullmatch(word):
            counts["es"] += 1
        elif word in ENGLISH_GRAMMAR:
            counts["en"] += 1
    ranked = counts.most_common()
    if ranked and (len(ranked) == 1 or ranked[0][1] >= GRAMMAR_LEAD * ranked[1][1]):
        return ranked[0][0]
    return None

