"""Words for lexical search: lower-cased, accents folded, stemmed for Spanish and English."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Function words of both languages carry no topic; Snowball's own lists are longer than needed.
# "Dónde" and "where" are not among them: they ask for a place, which the passages that give
# an address answer (their facts' questions ask it too), and "donde esta la consulta" was
# otherwise a search for "consulta" alone.
STOPWORDS = frozenset("""
a al algo como con cual cuando de del el ella en es esta este hay la las le lo los mas me
mi mis no o para pero por que se si sin sobre su sus tal te tu tus un una uno y ya yo hola vale
an and are as at be by can do does for from have how i if in is it me my of on or so that the
this to was we what when which who why will with you your our us hi hello please thanks
""".split())

_STEMMERS = (snowballstemmer.stemmer("spanish"), snowballstemmer.stemmer("english"))


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents: `Envíos` and `envios` are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def stems(word: str) -> tuple[str, ...]:
    """The Spanish and the English stem of a folded word (one, when they agree)."""
    return tuple(dict.fromkeys(stemmer.stemWord(word) for stemmer in _STEMMERS))


def words(text: str) -> list[tuple[str, str]]:
    """`(as written, folded)` for every word of `text` that is not a stopword, lower-cased."""
    found = WORD.findall(unicodedata.normalize("NFC", text.lower()))
    return [(word, folded) for word in found if (folded := fold(word)) not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Index terms of `text`: every stem of every word that is not a stopword.

    A word gets both languages' stems, so a query matches a passage whatever language each
    was written in, without having to guess the language of a three-word message.
    """
    return [stem for word in WORD.findall(fold(text)) if word not in STOPWORDS
            for stem in stems(word)]


# What people abbreviate when they type on a phone, as the words the documents would use.
CHAT_SPEAK = {
    "q": "que", "k": "que", "xq": "porque", "pq": "porque", "tb": "también", "tmb": "también",
    "dnd": "dónde", "porfa": "por favor", "xfa": "por favor", "finde": "fin de semana",
    "u": "you", "ur": "your", "pls": "please", "plz": "please", "thx": "thanks",
}
_CHAT_WORD = re.compile(r"\b(?:" + "|".join(CHAT_SPEAK) + r")\b", re.IGNORECASE)


def spelled_out(text: str) -> str:
    """`text` with chat abbreviations written out ("q" as "que", "u" as "you"): the encoders
    read "quiero q borréis mis datos" further from the passage than "quiero que ...", and a
    single letter is no word for the lexical index."""
    return _CHAT_WORD.sub(lambda m: CHAT_SPEAK[m.group().lower()], text)
