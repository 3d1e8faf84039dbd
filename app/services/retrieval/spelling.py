"""Slips of the thumb, mended against the documents' own words and, in English, a dictionary.

"garanita", "neumaicos", "diagonsis": one letter dropped, doubled, swapped or mistyped in the
word that carries the question, and the question no longer finds its passage. The encoders
read such a word as other pieces, and the lexical index does not know it. A word that neither
the documents nor their stems know, and that is one edit (Damerau: a letter deleted,
inserted, replaced, or two swapped) from a word of the documents in the customer's language,
is read as that word. An English customer mostly asks Spanish documents, whose words cannot
mend an English one ("sundas"): an English word that is in neither is mended to the most
common English word one edit away (pyspellchecker's word frequencies, from subtitles).
Short words are left alone: at four letters, one edit reaches too many other words.
"""

from __future__ import annotations

import gzip
import re
import string
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping
from functools import cache
from importlib import resources

from app.services.language import UNACCENTED_VOSOTROS, WORD
from app.services.retrieval.analysis import STOPWORDS, fold, stems, words

# Words shorter than this are never mended, nor used to mend.
MIN_CHARS = 5
# A "vosotros" verb of the third conjugation typed without its accent ("abris", "recibis",
# "servis"): no slip either, though no document need write it ("abris" is one edit from
# "abril", and "¿a qué hora abrís?" asked about the peonies' season).
UNACCENTED_IR_VOSOTROS = re.compile(r"\w{3,}is")
# The question words that are not function words to the lexical index (they count there:
# "¿cuánto cuesta?" is a price's question), but are never slips: "cuanto" is one edit from
# "canto", which a music school teaches.
QUESTION_WORDS = frozenset("cuanto cuanta cuantos cuantas quien quienes cuales".split())
# The English words a slip is mended to: the most common, enough for what customers write.
ENGLISH_WORDS = 50_000
# The Spanish words that are no slip, though no document uses them: "verano" is one edit
# from "vegano", which an ice cream shop's documents use. Only a guard: mending Spanish
# slips to a dictionary's words made answers worse (README). Past the 24,000 or so most
# common, the file lists dictionary words at its floor count ("empelazgarse").
SPANISH_WORDS = 20_000
_LETTERS = string.ascii_lowercase  # folded words have no accents, and "ñ" folds to "n"


def edits(word: str) -> set[str]:
    """Every string one edit from `word`: a letter deleted, inserted or replaced, or two
    adjacent letters swapped."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    return ({a + b[1:] for a, b in splits if b}
            | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
            | {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
            | {a + c + b for a, b in splits for c in _LETTERS}) - {word}


@cache
def english_words() -> Mapping[str, int]:
    """The `ENGLISH_WORDS` most common English words and their frequencies, from the word
    frequencies pyspellchecker ships. Read from its file without its `SpellChecker`, which
    would hold all 160,000 words (25 MB): about 10 MB stay."""
    return _common_words("en", "a-z", ENGLISH_WORDS)


@cache
def spanish_words() -> Mapping[str, int]:
    """The `SPANISH_WORDS` most common Spanish words, accents folded, and their frequencies
    (pyspellchecker's Spanish file, read as the English one)."""
    return _common_words("es", "a-záéíóúüñ", SPANISH_WORDS)


def _common_words(language: str, letters: str, count: int) -> dict[str, int]:
    """About the `count` most common words of pyspellchecker's file for `language` that are
    written in `letters` alone (every word as frequent as the last one kept is kept too),
    accents folded."""
    data = resources.files("spellchecker") / "resources" / f"{language}.json.gz"
    text = gzip.decompress(data.read_bytes()).decode("utf-8")
    entry = re.compile(rf'"([{letters}]+)": (\d+)')
    histogram = Counter(int(m[2]) for m in entry.finditer(text))
    kept = floor = 0
    for frequency in sorted(histogram, reverse=True):  # the count of the last word kept
        kept, floor = kept + histogram[frequency], frequency
        if kept >= count:
            break
    found: Counter[str] = Counter()
    for m in entry.finditer(text):
        if int(m[2]) >= floor:
            found[fold(m[1])] += int(m[2])
    return dict(found)


def one_of(word: str, known: Container[str]) -> bool:
    """Whether `word`, or the singular it is the plural of, is one of `known`: the common
    words' lists hold "moto" and "remo" but seldom their plurals, and "¿alquiláis motos de
    agua?" had been read as "fotos de agua"."""
    return word in known or (word.endswith("s") and (
        word[:-1] in known or (word.endswith("es") and word[:-2] in known)))


class Speller:
    """The documents' words by language, and the dictionaries of languages that have one."""

    def __init__(self, texts: Iterable[str], languages: Iterable[str],
                 known_stems: Container[str],
                 dictionaries: Mapping[str, Mapping[str, int]] | None = None,
                 words_of: Mapping[str, Container[str]] | None = None):
        """`texts` and their `languages`; `known_stems`: the stems the lexical index knows
        (a word with one of them is no slip: "mesas" where the documents say "mesa");
        `dictionaries`: the words a slip may be mended to, by language, which are no slips
        either; `words_of`: more words that are no slips, by language."""
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text, language in zip(texts, languages, strict=True):
            self.counts[language].update({folded for _, folded in words(text)
                                          if len(folded) >= MIN_CHARS and folded.isalpha()})
        self.every = sum(self.counts.values(), Counter())
        self.known_stems = known_stems
        self.dictionaries = dict(dictionaries or {})
        self.words_of = dict(words_of or {})

    def mend(self, text: str, language: str | None) -> str:
        """`text` with each unknown word one edit from a word of the documents in `language`
        (any, when it is not known) written as that word, the most used of them; else, in a
        language with a dictionary, as its most common word one edit away."""
        documents = self.counts[language] if language in self.counts else self.every
        dictionary = self.dictionaries.get(language or "", {})
        common = self.words_of.get(language or "", ())

        def mended(match: re.Match) -> str:
            written = match.group()
            word = fold(written)
            if (len(word) < MIN_CHARS or word in STOPWORDS or word in QUESTION_WORDS
                    or one_of(word, dictionary) or one_of(word, common)
                    # "alquilais", "teneis": a verb of "vosotros" typed without its
                    # accent is no slip ("alquilamos" in the documents is not its stem).
                    or UNACCENTED_VOSOTROS.fullmatch(word)
                    or (language != "en" and UNACCENTED_IR_VOSOTROS.fullmatch(word))
                    or any(stem in self.known_stems for stem in stems(word))):
                return written
            near = edits(word)
            for vocabulary in (documents, dictionary):
                found = sorted(w for w in near if w in vocabulary and len(w) >= MIN_CHARS)
                if found:
                    return max(found, key=lambda w: vocabulary[w])
            return written

        return WORD.sub(mended, text)
