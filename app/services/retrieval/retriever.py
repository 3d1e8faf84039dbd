"""Hybrid retrieval: meaning (dense cosine) and words (BM25), fused.

Both signals are put on one absolute scale before they are added: the cosine similarity of the
query with the passage's closest view, and the passage's coverage of the query's words (the
share of the query's idf it contains). Unlike raw BM25 scores or ranks, both mean the same on
any knowledge base, so the sum can also decide whether anything is relevant at all.
Reciprocal rank fusion ranked worse on our evaluation set (top-1 70% against 76%), because it
gives a lucky common word as much say as a close meaning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from langchain_core.embeddings import Embeddings

from app.services.retrieval.embeddings import as_matrix, question_cache_generation
from app.services.retrieval.index import KnowledgeIndex
from app.services.retrieval.splitter import Passage

# Calibrated with `make eval` on the tuning sets (README), with the lexicon's stand-ins.
WORDS_WEIGHT = 0.05


@dataclass(frozen=True)
class Hit:
    """A retrieved passage: its position in the index, fused score, cosine similarity with
    the query, and the share of the query's words it contains (0-1)."""

    position: int
    passage: Passage
    score: float
    similarity: float
    coverage: float


class HybridRetriever:
    """`search(query, k)`: the `k` best passages for `query`, best first."""

    def __init__(self, index: KnowledgeIndex, embeddings: Embeddings,
                 words_weight: float = WORDS_WEIGHT):
        self.index = index
        self.embeddings = embeddings
        self.words_weight = words_weight
        # The last query scored, and its scores: `hit` after `search` for the same query (a
        # follow-up answered by the passage quoted before) reads them instead of scoring
        # every passage again. One entry, replaced whole, so threads never see half of one;
        # forgotten with the question vectors (`clear_question_cache`).
        self._last: tuple[tuple, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None

    def search(self, query: str, k: int = 3, context: str = "",
               context_weight: float = 0.5, language: str | None = None) -> list[Hit]:
        """Fused ranking of the passages for `query`; empty for an empty query or index.

        `context` (the message a follow-up follows) is searched too, at `context_weight`:
        "and on Sundays?" after "when do you open?" means the opening hours. Chat
        abbreviations are written out and slips mended against the documents' words in the
        customer's `language` (`Speller`).
        """
        if not query.strip() or not self.index.passages:
            return []
        fused, similarity, coverage = self.scores(query, context, context_weight, language)
        k = min(k, len(fused))
        order = np.argpartition(-fused, k - 1)[:k]
        order = order[np.argsort(-fused[order], kind="stable")]
        return [self._hit(int(i), fused, similarity, coverage) for i in order]

    def hit(self, position: int, query: str, context: str = "", context_weight: float = 0.5,
            language: str | None = None) -> Hit:
        """Passage `position` as `search` scores it for `query` (in `context`)."""
        return self._hit(position, *self.scores(query, context, context_weight, language))

    def scores(self, query: str, context: str = "", context_weight: float = 0.5,
               language: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every passage's fused score, similarity and coverage for `query` (`search`); the
        arrays are shared with the next caller of the same query, to read, not to change."""
        key = (query, context, context_weight, language, question_cache_generation())
        if (last := self._last) is not None and last[0] == key:
            return last[1]
        found = self._scores(query, context, context_weight, language)
        self._last = (key, found)
        return found

    def _scores(self, query: str, context: str, context_weight: float,
                language: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        query, context = (self.index.read(text, language) for text in (query, context))
        texts = [query, context] if context.strip() else [query]
        vectors = as_matrix(self.embeddings, texts, query=True)
        vector = vectors[0] + context_weight * vectors[1] if len(texts) > 1 else vectors[0]
        similarity = self.index.similarity(vector / (np.linalg.norm(vector) or 1.0))
        coverage = self.index.coverage(query)
        if len(texts) > 1:
            coverage = np.maximum(coverage, self.index.coverage(" ".join(texts)))
        return similarity + self.words_weight * coverage, similarity, coverage

    def _hit(self, position: int, fused: np.ndarray, similarity: np.ndarray,
             coverage: np.ndarray) -> Hit:
        return Hit(position, self.index.passages[position], float(fused[position]),
                   float(similarity[position]), float(coverage[position]))
