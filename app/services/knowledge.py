"""A small knowledge base: markdown files split into passages, retrieved by TF-IDF relevance."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be by for from how i if in is it me my of on or so that the"
    " this to was we what when where which who why will with you your".split()
)


SUFFIXES = (("ing", 6), ("ed", 5), ("s", 4))


def tokens(text: str) -> list[str]:
    """Lower-cased words without stopwords, with common English suffixes folded away."""
    return [_stem(w) for w in (w.lower() for w in WORD.findall(text)) if w not in STOPWORDS]


def _stem(word: str) -> str:
    for suffix, min_length in SUFFIXES:
        if len(word) >= min_length and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class Passage:
    """A titled section of one knowledge-base file."""

    source: str
    title: str
    text: str


def read_passages(directory: str | Path) -> list[Passage]:
    """Every `## ` section (or whole file, when it has none) of every `*.md` in `directory`."""
    passages = []
    for path in sorted(Path(directory).glob("*.md")):
        title, lines = path.stem.replace("_", " ").title(), []
        for line in path.read_text(encoding="utf-8").splitlines() + ["## "]:
            if line.startswith("#"):
                if "".join(lines).strip():
                    passages.append(Passage(path.name, title, "\n".join(lines).strip()))
                title, lines = line.lstrip("#").strip() or title, []
            else:
                lines.append(line)
    return passages


class KnowledgeBase:
    """Ranks passages against a question by cosine similarity of TF-IDF vectors."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        docs = [Counter(tokens(f"{p.title} {p.title} {p.text}")) for p in passages]
        frequency = Counter(word for doc in docs for word in doc)
        self.idf = {w: math.log((1 + len(docs)) / (1 + n)) + 1 for w, n in frequency.items()}
        self.vectors = [self._weigh(doc) for doc in docs]

    @classmethod
    def from_directory(cls, directory: str | Path) -> KnowledgeBase:
        """Load every markdown file of `directory`."""
        return cls(read_passages(directory))

    def _weigh(self, counts: Counter) -> dict[str, float]:
        vector = {w: n * self.idf.get(w, 0.0) for w, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {w: v / norm for w, v in vector.items()}

    def search(self, question: str, k: int = 2, min_score: float = 0.08) -> list[Passage]:
        """The `k` most relevant passages scoring at least `min_score`, best first."""
        query = self._weigh(Counter(tokens(question)))
        scored = [(sum(query.get(w, 0.0) * v for w, v in vector.items()), i)
                  for i, vector in enumerate(self.vectors)]
        ranked = sorted((-s, i) for s, i in scored if s >= min_score)
        return [self.passages[i] for _, i in ranked[:k]]
