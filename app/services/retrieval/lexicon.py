"""The documents' own words, for a question that uses none of them.

A question in English over Spanish documents shares no word with them ("teeth whitening
price?" against "El blanqueamiento cuesta 250 €"), so the words signal of the retriever is
silent exactly where the meaning signal is weakest: a translation scores lower than a
paraphrase. USE multilingual v3 places a word near its translation (whitening and
blanqueamiento 0.80, closed and cerrados 0.84, kids and niños 0.93) and a misspelling near its
word, so each question word that no document uses is read as the documents' words closest to
it in that space, counted at their similarity. This is bilingual lexicon induction, limited
to the vocabulary of the business's documents: no word list of ours, any pair of USE's 16
languages, and a word the documents do use is left alone.
"""

from __future__ import annotations

import numpy as np

from app.services.retrieval.analysis import fold, words
from app.services.retrieval.embeddings import MatrixEmbeddings, question_cache_generation

# The least cosine at which a document's word stands for a question's word. Calibrated with
# `make eval` on the tuning sets (README): 0.68 to 0.70 found the same answers; 0.75 let
# through only exact translations and cognates, and half the gain.
SAME_WORD = 0.70
# At most this many document words stand for one question word.
STAND_INS = 3
# The question words whose stand-ins are kept, once looked up (a few hundred kB).
REMEMBERED = 4096


def dictionary_forms(written: list[tuple[str, str]]) -> list[str | None]:
    """Each `(word, language)`'s lemma (simplemma: dictionaries in its wheel) in that
    language (Spanish or English, else both), or None where it is the word itself.

    Run when an index is built, never on a question: its dictionaries, read in their
    low-memory form, take about 14 MB and are let go afterwards.
    """
    from simplemma import Lemmatizer
    from simplemma.strategies import DefaultStrategy

    lemmatizer = Lemmatizer(lemmatization_strategy=DefaultStrategy(low_memory=True))
    forms: list[str | None] = []
    for word, language in written:
        lemma = lemmatizer.lemmatize(
            word, lang=(language,) if language in ("es", "en") else ("es", "en"))
        forms.append(lemma if fold(lemma.lower()) != fold(word.lower()) else None)
    return forms


class Lexicon:
    """The documents' words (folded) and their unit vectors under one encoder; a word may
    have two rows, as written and as its dictionary form."""

    def __init__(self, words: list[str], vectors: np.ndarray, encoder: MatrixEmbeddings):
        if len(words) != len(vectors):
            raise ValueError("the vectors are not those of these words")
        self.words = words
        self.vectors = vectors
        self.encoder = encoder
        # A question's words are looked up several times while it is answered (its search,
        # the reach tests, the next message's context): each only once, while the question
        # vectors they come from are kept (`question_cache_generation`).
        self._found: dict[str, list[tuple[str, float]]] = {}
        self._generation = question_cache_generation()

    @classmethod
    def build(cls, texts: list[str], encoder: MatrixEmbeddings,
              languages: list[str] | None = None) -> Lexicon:
        """Every word of `texts` that is not a stopword or a number, embedded as it is first
        written (accents help the encoder), and again as its dictionary form when that differs
        (`languages`: each text's, to find it in).

        Documents conjugate ("cerramos", "abrimos") and customers ask in other words ("are
        you closed", "opening hours"): USE places "close" at 0.78 from "cerrar" but 0.38 from
        "cerramos", "open" at 0.84 from "abrir" but 0.62 from "abrimos". A dictionary form is
        a second row for the same word of the documents.
        """
        spelling: dict[str, str] = {}
        language: dict[str, str] = {}
        for text, lang in zip(texts, languages or [""] * len(texts), strict=True):
            for written, folded in words(text):
                if len(folded) > 1 and not folded.isdigit():
                    spelling.setdefault(folded, written)
                    language.setdefault(folded, lang)
        vocabulary = sorted(spelling)
        forms = dictionary_forms([(spelling[word], language[word]) for word in vocabulary])
        rows = [(word, spelling[word]) for word in vocabulary]
        rows += [(word, form) for word, form in zip(vocabulary, forms, strict=True) if form]
        vectors = encoder.matrix([text for _, text in rows], query=False)
        return cls([word for word, _ in rows], vectors.reshape(len(rows), -1), encoder)

    def stand_ins(self, written: list[str]) -> dict[str, list[tuple[str, float]]]:
        """For each word of `written`, the documents' words that stand for it, best first,
        with their cosine (an empty list when none is close enough)."""
        if not written or not self.words:
            return {word: [] for word in written}
        if self._generation != question_cache_generation():
            self._found, self._generation = {}, question_cache_generation()
        # Replaced, never emptied in place: another thread may be reading the one it holds.
        kept = self._found
        missing = [word for word in dict.fromkeys(written) if word not in kept]
        found = self._look_up(missing) if missing else {}
        answer = {word: found[word] if word in found else kept[word] for word in written}
        if len(kept) > REMEMBERED:
            self._found = found
        else:
            kept.update(found)
        return answer

    def _look_up(self, written: list[str]) -> dict[str, list[tuple[str, float]]]:
        """`stand_ins`, uncached."""
        similarity = self.vectors @ self.encoder.matrix(written, query=True).T
        found = {}
        for column, word in enumerate(written):
            scores = similarity[:, column]
            # The few best of tens of thousands of rows, without sorting them all (a word may
            # have two rows: as written and its dictionary form).
            best = np.argpartition(-scores, min(2 * STAND_INS, len(scores)) - 1)[:2 * STAND_INS]
            best = best[np.argsort(-scores[best], kind="stable")]
            picked: dict[str, float] = {}
            for i in best:
                if scores[i] >= SAME_WORD and len(picked) < STAND_INS:
                    picked.setdefault(self.words[i], float(scores[i]))
            found[word] = list(picked.items())
        return found
