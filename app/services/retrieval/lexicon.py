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

from app.services.retrieval.analysis import words
from app.services.retrieval.embeddings import MatrixEmbeddings

# The least cosine at which a document's word stands for a question's word. Calibrated with
# `make eval` on the tuning sets (README): 0.68 to 0.70 found the same answers; 0.75 let
# through only exact translations and cognates, and half the gain.
SAME_WORD = 0.70
# At most this many document words stand for one question word.
STAND_INS = 3


class Lexicon:
    """The documents' words (folded) and their unit vectors under one encoder."""

    def __init__(self, words: list[str], vectors: np.ndarray, encoder: MatrixEmbeddings):
        if len(words) != len(vectors):
            raise ValueError("the vectors are not those of these words")
        self.words = words
        self.vectors = vectors
        self.encoder = encoder

    @classmethod
    def build(cls, texts: list[str], encoder: MatrixEmbeddings) -> Lexicon:
        """Every word of `texts` that is not a stopword or a number, embedded as it is first
        written (accents help the encoder)."""
        spelling: dict[str, str] = {}
        for text in texts:
            for written, folded in words(text):
                if len(folded) > 1 and not folded.isdigit():
                    spelling.setdefault(folded, written)
        vocabulary = sorted(spelling)
        vectors = encoder.matrix([spelling[w] for w in vocabulary], query=False)
        return cls(vocabulary, vectors.reshape(len(vocabulary), -1), encoder)

    def stand_ins(self, written: list[str]) -> dict[str, list[tuple[str, float]]]:
        """For each word of `written`, the documents' words that stand for it, best first,
        with their cosine (an empty list when none is close enough)."""
        if not written or not self.words:
            return {word: [] for word in written}
        similarity = self.vectors @ self.encoder.matrix(written, query=True).T
        found = {}
        for column, word in enumerate(written):
            scores = similarity[:, column]
            # The few best of tens of thousands of words, without sorting them all.
            best = np.argpartition(-scores, min(STAND_INS, len(scores)) - 1)[:STAND_INS]
            best = best[np.argsort(-scores[best], kind="stable")]
            found[word] = [(self.words[i], float(scores[i])) for i in best
                           if scores[i] >= SAME_WORD]
        return found
