"""The heavy read-only models, loaded once in gunicorn's master so every worker shares them.

A worker is a fork of the master: pages the master filled before forking stay shared until
someone writes to them, and nobody writes to model weights. Loading lingua's language models
and the sentence encoder here, instead of in each worker, saves each worker their size (see
README). The master also builds the knowledge index, once, into its cache, so the workers
only map it. Nothing here opens a connection or starts a thread (the encoders run on one
thread, and e5's OpenMP starts none for one), so it is safe before a fork.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

from app.config import Settings
from app.services.language import LanguageDetector
from app.services.retrieval.embeddings import (
    UniversalSentenceEmbeddings,
    load_e5,
    make_embeddings,
)
from app.services.retrieval.index import load_index
from app.services.retrieval.spelling import english_words, spanish_words


def preload(settings: Settings) -> None:
    """Load what the bot of `settings` will use: the language detector, the English words
    that mend slips and the Spanish ones that are none, the sentence encoder, the e5 engine
    and the index, when retrieval is offline (a remote model would be called before the
    fork: the workers do that themselves)."""
    LanguageDetector().load()
    english_words()
    spanish_words()
    UniversalSentenceEmbeddings().encode(["hola"], query=True)
    if settings.embeddings_provider == "offline":
        load_e5()
        load_index(settings.knowledge_dir, make_embeddings(settings), settings.index_cache_dir)
    release_freed_memory()


def release_freed_memory() -> None:
    """Hand the heap that building the index used and freed back to the system. glibc keeps
    freed memory for the process to reuse, so the master held what a build took for good,
    and every worker forked from it started with those pages (README, *Memory and scale*).
    A C library without `malloc_trim` (musl, macOS) keeps it as before."""
    gc.collect()
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return
    trim(0)
