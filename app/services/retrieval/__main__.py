"""`python -m app.services.retrieval` (`make index`): rebuild the knowledge index now.

Reads KNOWLEDGE_DIR and the embedding settings like the gateway does, embeds every passage
afresh and writes the cache the workers read at startup. A folder that cannot be used exits 2
with the reason.
"""

from __future__ import annotations

import sys
import time

from app.config import load_settings
from app.errors import ConfigError
from app.services.retrieval.embeddings import make_embeddings, use_e5_threads
from app.services.retrieval.index import load_index


def main() -> int:
    """Rebuild, and say what was indexed."""
    try:
        settings = load_settings()
        use_e5_threads(settings.e5_threads)  # this process does not fork
        started = time.monotonic()
        index = load_index(settings.knowledge_dir, make_embeddings(settings),
                           settings.index_cache_dir, rebuild=True)
    except ConfigError as err:
        print(f"error: {err.message}", file=sys.stderr)
        return 2
    sources = sorted({p.source for p in index.passages})
    print(f"indexed {len(index.passages)} passages from {len(sources)} files in "
          f"{time.monotonic() - started:.1f} s into {settings.index_cache_dir}/{index.key}.npy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
