"""The heavy read-only models, loaded once in gunicorn's master so every worker shares them.

A worker is a fork of the master: pages the master filled before forking stay shared until
someone writes to them, and nobody writes to model weights. Loading lingua's language models
and the sentence encoder here, instead of in each worker, saves each worker their size (see
README). Nothing here opens a connection or starts a thread, so it is safe before a fork.
"""

from __future__ import annotations

from app.config import Settings
from app.services.language import LanguageDetector
from app.services.retrieval.embeddings import UniversalSentenceEmbeddings, load_e5


def preload(settings: Settings) -> None:
    """Load what the bot of `settings` will use: the language detector, the sentence
    encoder, and the e5 engine when retrieval is offline."""
    LanguageDetector().guess("hola, ¿qué tal? hello, how are you?")
    UniversalSentenceEmbeddings().encode(["hola"], query=True)
    if settings.embeddings_provider == "offline":
        load_e5()  # loaded, never run here: its OpenMP runtime must not start threads pre-fork
