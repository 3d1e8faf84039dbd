"""Slips of the thumb, mended against the documents' own words.

"garanita", "neumaicos", "diagonsis": one letter dropped, doubled, swapped or mistyped in the
word that carries the question, and the question no longer finds its passage. The encoders
read such a word as other pieces, and the lexical index does not know it. A word that neither
the documents nor their stems know, and that is one edit (Damerau: a letter deleted,
inserted, replaced, or two swapped) from a word of the documents in the customer's language,
is read as that word. Short words are left alone: at four letters, one edit reaches too
many other words.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Container, Iterable

from app.services.retrieval.analysis import STOPWORDS, fold, stems, words

# Words shorter than this are never mended, nor used to mend.
MIN_CHARS = 5
_WORD = re.compile(r"[^\W\d_]+")
# "alquilais", "teneis": a verb of "vosotros" typed without its accent, no slip (the documents
# say "alquilamos", "tenemos", which the stemmer does not join to it).
VOSOTROS = re.compile(r"\w{3,}[ae]is")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def one_edit_apart(a: str, b: str) -> bool:
    """Whether `b` is `a` with one letter deleted, inserted, replaced, or two adjacent letters
    swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), len(a))
    if len(a) < len(b):  # one inserted
        return a[start:] == b[start + 1:]
    return a[start + 1:] == b[start + 1:] or (  # one replaced, or two swapped
        a[start + 2:] == b[start + 2:] and a[start:start + 2] == b[start:start + 2][::-1])


class Speller:
    """The documents' words by language, and their one-letter deletions for look-up."""

    def __init__(self, texts: Iterable[str], languages: Iterable[str],
                 known_stems: Container[str]):
        """`texts` and their `languages`; `known_stems`: the stems the lexical index knows
        (a word with one of them is no slip: "mesas" where the documents say "mesa")."""
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text, language in zip(texts, languages, strict=True):
            self.counts[language].update({folded for _, folded in words(text)
                                          if len(folded) >= MIN_CHARS and folded.isalpha()})
        self.every = sum(self.counts.values(), Counter())
        self.known_stems = known_stems
        self.keys: dict[str, set[str]] = defaultdict(set)
        for word in self.every:
            for key in {word, *_deletions(word)}:
                self.keys[key].add(word)

    def mend(self, text: str, language: str | None) -> str:
        """`text` with each unknown word one edit from a word of the documents in `language`
        (any, when it is not known) written as that word: the most used of them."""
        def mended(match: re.Match) -> str:
            written = match.group()
            word = fold(written)
            if len(word) < MIN_CHARS or word in STOPWORDS or VOSOTROS.fullmatch(word) or any(
                    stem in self.known_stems for stem in stems(word)):
                return written
            counts = self.counts[language] if language in self.counts else self.every
            candidates = {c for key in {word, *_deletions(word)} for c in self.keys.get(key, ())
                          if c in counts and one_edit_apart(word, c)}
            if not candidates:
                return written
            return max(sorted(candidates), key=lambda c: counts[c])

        return _WORD.sub(mended, text)
