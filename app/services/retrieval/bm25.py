"""Okapi BM25 over an inverted index of numpy arrays: a query touches only its own terms."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping

import numpy as np

from app.services.retrieval.analysis import fold, stems, terms, words
from app.services.retrieval.spelling import spanish_words

# A "vosotros" verb, with its accent or without ("tenéis", "haceis", "lleváis"; the short
# "dais", "veis", "vais" too): the customer asking the business ("¿hacéis nóminas?", "¿dais
# clases de guitarra?"), not what is asked about.
ASKING_VERB = re.compile(r"\w{2,}(?:[aáeé]is|ís)|dais|veis|vais", re.IGNORECASE)


def asking_verb(word: str) -> bool:
    """Whether `word` is a "vosotros" verb (`ASKING_VERB`), or one of "-ir" typed without
    its accent ("venis", "salis", "abris"), which an "-is" word is when it is no Spanish
    word itself and its "-ir" is one: "tenis", "gratis" and "crisis" are not verbs."""
    if ASKING_VERB.fullmatch(word):
        return True
    folded = fold(word)
    return (len(folded) > 4 and folded.endswith("is") and folded not in spanish_words()
            and folded[:-2] + "ir" in spanish_words())

# For words no passage uses: each one's stand-ins among the passages' words, with a weight.
Bridge = Callable[[list[str]], Mapping[str, list[tuple[str, float]]]]


class BM25:
    """Scores every passage against a query; `k1` and `b` are the usual Okapi parameters."""

    def __init__(self, texts: list[str], k1: float = 1.2, b: float = 0.75,
                 languages: list[str] | None = None):
        """`languages`: each text's, when a word the texts of one language use and those of
        another do not is to be bridged for the other's (`coverage`)."""
        counts = [Counter(terms(text)) for text in texts]
        lengths = np.array([sum(c.values()) for c in counts], dtype=np.float32)
        average = float(lengths.mean()) if len(texts) and lengths.mean() else 1.0
        norm = k1 * (1 - b + b * lengths / average)
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for doc, counter in enumerate(counts):
            for term, tf in counter.items():
                postings[term].append((doc, tf))
        self.size = len(texts)
        # A word no passage has is as informative as the rarest one.
        self.unseen_idf = math.log(1 + (self.size + 0.5) / 0.5)
        self.idf: dict[str, float] = {}
        self.index: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, rows in postings.items():
            docs = np.array([d for d, _ in rows], dtype=np.int32)
            tf = np.array([t for _, t in rows], dtype=np.float32)
            idf = math.log(1 + (self.size - len(rows) + 0.5) / (len(rows) + 0.5))
            self.idf[term] = idf
            self.index[term] = (docs, (idf * tf * (k1 + 1) / (tf + norm[docs])).astype(np.float32))
        # The rows of the texts' main language and the terms they use, when there are others.
        by_language: dict[str, list[int]] = defaultdict(list)
        for row, language in enumerate(languages or []):
            by_language[language].append(row)
        main = max(by_language.values(), key=len) if len(by_language) > 1 else []
        self.main = (np.array(main, dtype=np.int32),
                     frozenset(term for row in main for term in counts[row])) if main else None

    def scores(self, query: str) -> np.ndarray:
        """Each passage's BM25 score for `query` (zeros where no term matches)."""
        total = np.zeros(self.size, dtype=np.float32)
        for term in set(terms(query)):
            if term in self.index:
                docs, weights = self.index[term]
                total[docs] += weights
        return total

    def coverage(self, query: str, bridge: Bridge | None = None,
                 by_word: bool = False) -> np.ndarray:
        """Each passage's share of the query's information (its terms' idf): 1 when it has
        every term, near 0 when it shares only common words. Unlike a BM25 score, it means the
        same on any knowledge base, so the retriever adds it to a cosine.

        With a `bridge`, a query word that no passage uses counts as its stand-ins: a passage
        holding one covers the word at the stand-in's weight times its idf.

        `by_word`: a word is worth its most informative stem, and a passage holds it with any
        of them, where by stem each of its stems counts. A word has a Spanish and an English
        stem, and a passage in its language holds both ("electrical" in an English page)
        where one in the other language holds one ("eléctrica"): by stem, an English page
        holds twice as much of an English word as the Spanish passage that uses it.
        """
        unknown = self.unknown(query) if bridge is not None else {}
        coverage = self._coverage(query, unknown, bridge, by_word)
        if bridge is None or self.main is None:
            return coverage
        # A word that only the passages in other languages than the main one use is bridged
        # for the main one's: "how much is a shirt" had reached no Spanish passage through
        # "camisa", as the English page's "shirts" made "shirt" a word of the documents.
        rows, used = self.main
        unknown_there = self.unknown(query, used)
        if unknown_there.keys() != unknown.keys():
            coverage[rows] = self._coverage(query, unknown_there, bridge, by_word)[rows]
        return coverage

    def _coverage(self, query: str, unknown: Mapping[str, tuple[str, ...]],
                  bridge: Bridge | None, by_word: bool) -> np.ndarray:
        """`coverage`, the words `unknown` (`unknown`: of all passages, or of some) bridged;
        one of them that other passages use and nothing stands in for counts as much as it
        does there."""
        covered = np.zeros(self.size, dtype=np.float32)
        known = [stems(folded) for written, folded in words(query) if written not in unknown]
        information = (self._cover_by_word(known, covered) if by_word
                       else self._cover_by_stem(known, covered))
        for written, stand_ins in (bridge(list(unknown)) if unknown else {}).items():
            if not stand_ins:  # nothing like it in the documents: as informative as it gets
                if not asking_verb(written):
                    information += self._unseen_information(unknown[written], by_word)
                continue
            information += self._cover_by_stand_ins(stand_ins, covered)
        return covered / (information or 1.0)

    def _unseen_information(self, word_stems: tuple[str, ...], by_word: bool) -> float:
        """The information of a word none of the passages counted use: that of its stems
        where other passages use them, else as informative as a word gets."""
        worth = [self.idf.get(stem, self.unseen_idf) for stem in word_stems]
        return max(worth) if by_word else sum(worth)

    def _cover_by_stem(self, known: list[tuple[str, ...]], covered: np.ndarray) -> float:
        """Add to `covered` the idf of each stem of `known` (words' stems) a passage holds;
        the information of those stems, each counted once."""
        information = 0.0
        for term in {stem for own in known for stem in own}:
            if term in self.index:
                covered[self.index[term][0]] += self.idf[term]
            information += self.idf.get(term, self.unseen_idf)
        return information

    def _cover_by_word(self, known: list[tuple[str, ...]], covered: np.ndarray) -> float:
        """Add to `covered` the worth of each word of `known` (its most informative stem) a
        passage holds with any of its stems; the information of those words."""
        information = 0.0
        for own in known:
            held = [stem for stem in own if stem in self.index]
            if not held:
                information += self.unseen_idf
                continue
            worth = max(self.idf[stem] for stem in held)
            holding = np.zeros(self.size, dtype=bool)
            for stem in held:
                holding[self.index[stem][0]] = True
            covered[holding] += worth
            information += worth
        return information

    def unknown(self, query: str, used: frozenset[str] | None = None,
                ) -> dict[str, tuple[str, ...]]:
        """The words of `query` that no passage uses (none of the terms `used`, when given),
        as written, with their stems."""
        vocabulary = self.index if used is None else used
        found = ((written, stems(folded)) for written, folded in words(query))
        return {written: word_stems for written, word_stems in found
                if not any(stem in vocabulary for stem in word_stems)}

    def _cover_by_stand_ins(self, stand_ins: list[tuple[str, float]],
                            covered: np.ndarray) -> float:
        """Add to `covered` what the best stand-in each passage holds is worth; the
        information of the word they stand for (that of its most informative stand-in)."""
        best = np.zeros(self.size, dtype=np.float32)
        information = 0.0
        for word, weight in stand_ins:
            for term in stems(word):
                if term in self.index:
                    docs = self.index[term][0]
                    best[docs] = np.maximum(best[docs], weight * self.idf[term])
                    information = max(information, self.idf[term])
        covered += best
        return information
