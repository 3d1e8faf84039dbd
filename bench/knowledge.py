"""How the offline bot scales: index time, query time and memory, and memory per worker.

Measures, in one run, on 127.0.0.1 only:
1. a generated knowledge base of `--passages` passages (default 10,000: markdown files of
   sections in Spanish and English, with made-up product names): the time to embed and
   index it, the time to read it back from the cache, the time of one search, and the memory
   the index and the models take;
   with the shipped knowledge base (32 passages) measured the same way as the baseline;
2. the gateway under its production gunicorn config (2 workers) on the shipped knowledge base,
   then on `--built-by-master` generated sections (default 1,000) whose index the master
   builds before it forks: the master's and each worker's memory from /proc/<pid>/smaps_rollup
   (RSS, PSS, and USS: its private pages).

Usage: `make bench-bot`, or `python -m bench.knowledge [--passages 10000] [--queries 200]
[--built-by-master 1000]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from app.config import DEFAULT_KNOWLEDGE_DIR
from app.services.retrieval.embeddings import clear_question_cache, offline_embeddings
from app.services.retrieval.index import load_index
from app.services.retrieval.retriever import HybridRetriever
from tests.server import Gunicorn

TOPICS = ["envío", "devolución", "pago", "factura", "garantía", "horario", "reserva", "cita",
          "tarifa", "suscripción", "shipping", "refund", "invoice", "warranty", "booking"]
PLACES = ["Madrid", "Sevilla", "Valencia", "Lisboa", "Oporto", "Canarias", "Baleares", "Bilbao"]
SENTENCES = [
    "El servicio de {t} para {p} tarda {n} días laborables y cuesta {m} €.",
    "Si necesitas cambiar tu {t}, escríbenos con tu número de pedido antes de las {h}:00.",
    "Para clientes de {p}, la {t} se gestiona en un plazo máximo de {n} días.",
    "Our {t} service for {p} takes {n} working days and costs {m} €.",
    "To change your {t}, write to us with your order number before {h}:00.",
    "Los pedidos de más de {m} € tienen {t} gratuita en {p}.",
]
QUESTIONS = ["cuanto tarda el envio a canarias", "how long does a refund take",
             "puedo cambiar mi reserva", "do you ship to lisbon", "cuanto cuesta la garantia",
             "a que hora abren en bilbao", "quiero una factura", "what does the warranty cover"]


def write_knowledge(root: Path, passages: int, seed: int = 7) -> None:
    """`passages` sections of 2-4 sentences, 20 to a markdown file; each names two made-up
    products, so the vocabulary grows with the passages as a real catalogue's does."""
    rng = random.Random(seed)

    def product() -> str:
        return "".join(rng.choice("bcdfglmnprstv") + rng.choice("aeiou") for _ in range(3))

    for start in range(0, passages, 20):
        lines = [f"# Documento {start // 20}"]
        for n in range(start, min(start + 20, passages)):
            topic, place = rng.choice(TOPICS), rng.choice(PLACES)
            lines.append(f"\n## {topic.capitalize()} en {place} ({n})")
            lines.extend(rng.choice(SENTENCES).format(
                t=topic, p=place, n=rng.randint(1, 30), m=rng.randint(5, 200),
                h=rng.randint(8, 20)) for _ in range(rng.randint(2, 4)))
            lines.append(f"Productos: {product()} y {product()}.")
        (root / f"doc{start // 20:04d}.md").write_text("\n".join(lines), encoding="utf-8")


def rss_mb() -> float:
    """This process's resident memory now."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(directory: Path, queries: int) -> dict:
    """Index time (cold and cached), search times and memory for one knowledge folder."""
    embeddings = offline_embeddings()
    HybridRetriever(load_index(DEFAULT_KNOWLEDGE_DIR, embeddings, None), embeddings).search("x")
    before = rss_mb()
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        index = load_index(directory, embeddings, cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        index = load_index(directory, embeddings, cache)
        cached = time.perf_counter() - started
        retriever = HybridRetriever(index, embeddings)
        clear_question_cache()
        times = []
        for n in range(queries):
            question = f"{QUESTIONS[n % len(QUESTIONS)]} {n}"  # never a cached question
            started = time.perf_counter()
            retriever.search(question, 6)
            times.append((time.perf_counter() - started) * 1000)
        vectors_mb = (index.vectors.nbytes + index.lexicon.vectors.nbytes) / 2**20
        grown = rss_mb() - before
    times.sort()
    return {"passages": len(index.passages), "rows": len(index.vectors),
            "words": len(index.lexicon.words), "cold_s": cold,
            "cached_s": cached, "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))], "vectors_mb": vectors_mb,
            "rss_growth_mb": grown}


def worker_memory(knowledge_dir: Path | None = None) -> list[dict]:
    """RSS, PSS and USS of gunicorn's master and each worker serving the shipped knowledge
    base, or `knowledge_dir`, whose index the master builds before it forks."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GATEWAY_DB_PATH": f"{tmp}/bench.sqlite3", "INDEX_CACHE_DIR": f"{tmp}/index",
               "WEB_CONCURRENCY": "2"}
        if knowledge_dir is not None:
            env["KNOWLEDGE_DIR"] = str(knowledge_dir)
        server = Gunicorn(env)
        try:
            server.start(timeout=1800)
            time.sleep(3)  # both workers booted and warmed their models
            return server.memory()
        finally:
            server.stop()


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print them, with the ratios to the shipped knowledge base."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--built-by-master", type=int, default=1_000,
                        help="generated sections the gunicorn master indexes (memory)")
    args = parser.parse_args(argv)
    base = measure(Path(DEFAULT_KNOWLEDGE_DIR), args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        write_knowledge(Path(tmp), args.passages)
        big = measure(Path(tmp), args.queries)
    print(f"{'':22}{'passages':>9}{'rows':>7}{'words':>7}{'index s':>9}{'cached s':>9}"
          f"{'p50 ms':>8}"
          f"{'p95 ms':>8}{'vectors MB':>11}{'RSS +MB':>9}")
    for name, row in (("shipped (baseline)", base), ("generated", big)):
        print(f"{name:22}{row['passages']:>9}{row['rows']:>7}{row['words']:>7}"
              f"{row['cold_s']:>9.1f}"
              f"{row['cached_s']:>9.2f}{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}"
              f"{row['vectors_mb']:>11.1f}{row['rss_growth_mb']:>9.0f}")
    print(f"ratio generated/shipped: search p50 {big['p50_ms'] / base['p50_ms']:.2f}x, "
          f"p95 {big['p95_ms'] / base['p95_ms']:.2f}x")
    print("\ngunicorn on the shipped knowledge base (MB):")
    print_memory(worker_memory())
    with tempfile.TemporaryDirectory() as tmp:
        write_knowledge(Path(tmp), args.built_by_master)
        print(f"\ngunicorn on {args.built_by_master:,} generated sections, indexed by the "
              "master before it forks (MB):")
        print_memory(worker_memory(Path(tmp)))


def print_memory(rows: list[dict]) -> None:
    for row in rows:
        print(f"  {row['role']} {row['pid']}: RSS {row['rss']:.0f}  PSS {row['pss']:.0f}  "
              f"USS {row['uss']:.0f}")


if __name__ == "__main__":
    main()
