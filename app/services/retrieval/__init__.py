"""Retrieval over the business's documents, as small replaceable parts.

`documents` reads a folder (a loader per file type), `splitter` cuts it into passages that keep
their headings, `analysis` + `bm25` rank by words, `embeddings` by meaning, `index` holds both
(cached on disk by content), and `retriever` fuses the two rankings.
"""
