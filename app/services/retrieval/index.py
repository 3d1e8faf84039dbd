"""The searchable knowledge: passages, their vectors and a BM25 index, cached on disk.

The cache key is a hash of every file's name and bytes, the splitter's settings, the
embedding model and the source of the code that reads them (`INDEXED_CODE`): a restart with the
same documents reads the vectors instead of computing them, and any change to a document, the
code that splits it or the model builds the index afresh.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.embeddings import Embeddings

from app.services.language import LanguageDetector, names_in
from app.services.retrieval.analysis import STOPWORDS, at_home, spelled_out, without_whereabouts
from app.services.retrieval.bm25 import BM25, asking_verb
from app.services.retrieval.documents import LOADERS, read_folder
from app.services.retrieval.embeddings import (
    UniversalSentenceEmbeddings,
    WeightedEmbeddings,
    as_matrix,
    embeddings_id,
    widths_of,
)
from app.services.retrieval.facts import asked_of, holiday_words, hours_words, unit_words
from app.services.retrieval.lexicon import Lexicon
from app.services.retrieval.spelling import Speller, english_words, spanish_words
from app.services.retrieval.splitter import CHUNK_CHARS, OVERLAP_CHARS, Passage, split_document

log = logging.getLogger(__name__)
FORMAT_VERSION = 44  # bump when what is embedded of a passage, or of its words, changes
# How sure the language detector must be of a passage's own text to overrule its headings.
OWN_LANGUAGE_SURE = 0.9
# Lines of each language that make a passage a bilingual one (`_by_language`).
BILINGUAL_LINES = 2
# The least share of a passage's sentences (by characters) in each language that makes it
# one written in both, sentence by sentence (`_by_sentence_language`).
BILINGUAL_SHARE = 0.25
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(\s+)")
# An email or web address is no sentence's language: "pedidos@lirioazul.es" made "You can
# order in English by WhatsApp or email (...)" Spanish.
ADDRESS_OF_A_SITE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+")


# A sentence ends at . ! ? ; or : before a space, at a blank line, at a list item, or at a
# line that stands on its own (a price list's, ended by a hard break: "Docena de rosas 48 €");
# a hard-wrapped line does not end one.
SENTENCE = re.compile(r"(?<=[.!?;:])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+\.)\s)| {2,}\n")
MIN_SENTENCE_CHARS = 12


# How much each view's cosine counts: a heading or a single sentence can match a question
# closely by sharing one topic word, so they count a little less than the whole passage. A
# fact's question matches "where are you?" closely; at full weight it also drew vague
# messages ("y a Francia?" after a question on shipping) to the contact passage.
VIEW_WEIGHTS = {"passage": 1.0, "heading": 0.9, "sentence": 0.9, "fact": 0.95}


def views_of(passages: list[Passage]) -> list[list[tuple[str, str]]]:
    """The views of each passage of a knowledge base (`views`)."""
    return [views(passage, questions) for passage, questions in zip(
        passages, asked_of([p.text for p in passages]), strict=True)]


def views(passage: Passage, questions: list[str]) -> list[tuple[str, str]]:
    """What is embedded of a passage, as `(kind, text)`: all of it, its heading, each
    sentence, and the `questions` it answers by the kind of fact it gives (`facts`).

    A short question is closest in meaning to a short text: "is there parking?" to the one
    sentence that mentions it, "where are you?" to the question an address answers. A
    passage of one sentence under a document's title is read under its own heading alone
    too, as the sentences of a longer one are read without it: a PDF of one-line rules had
    each embedded with "ENVÍOS Y CONDICIONES DE LA TIENDA ONLINE", closer to every question
    about shipping than its own words.
    """
    sentences = [s.strip() for s in SENTENCE.split(passage.text)
                 if len(s.strip()) >= MIN_SENTENCE_CHARS]
    heading = passage.headings[-1] if passage.headings else ""
    if heading.rstrip().endswith("?") and sentences:
        # A FAQ's question alone matches any question of its shape ("¿Cuánto tarda una
        # revisión?" and "¿cuánto cuesta una revisión?"): with its answer's first sentence,
        # it says what it answers.
        heading = f"{heading} {sentences[0]}"
    if len(sentences) > 1:
        alone = sentences
    elif sentences and len(passage.headings) > 1:  # one sentence, under a document's title
        alone = [f"{passage.headings[-1]}\n{passage.text}"]
    else:
        alone = []
    return [("passage", passage.searchable),
            *([("heading", heading)] if passage.headings else []),
            *[("sentence", text) for text in alone],
            *[("fact", question) for question in questions]]


class KnowledgeIndex:
    """Passages, unit vectors of their views (rows `starts[i]` up to `starts[i + 1]` belong to
    passage `i`), a BM25 index, and the passages' words (`Lexicon`, always embedded offline
    by USE: it needs no server, whatever model ranks the passages)."""

    def __init__(self, passages: list[Passage], vectors: np.ndarray, starts: np.ndarray,
                 key: str = "", widths: tuple[int, ...] = (), lexicon: Lexicon | None = None):
        groups = views_of(passages)
        kinds = [kind for group in groups for kind, _ in group]
        if len(starts) != len(passages) or len(kinds) != len(vectors):
            raise ValueError("the vectors are not those of these passages' views")
        self.passages = passages
        self.vectors = vectors
        self.starts = starts
        # The questions the passages answer by the kind of fact they give (`facts.QUESTIONS`).
        self.facts_asked = frozenset(text for group in groups for kind, text in group
                                     if kind == "fact")
        self.weights = np.array([VIEW_WEIGHTS[kind] for kind in kinds], dtype=np.float32)
        # A fact's question is a passage's words too: "¿cuál es vuestro teléfono?" reaches the
        # passage that gives the number, though the passage never says "teléfono".
        self.bm25 = BM25([" ".join([p.searchable, *(text for kind, text in group
                                                   if kind == "fact"),
                                    hours_words(p.text), unit_words(p.text),
                                    holiday_words(p.text)])
                          for p, group in zip(passages, groups, strict=True)],
                         languages=[p.language for p in passages])
        texts, languages = [p.searchable for p in passages], [p.language for p in passages]
        # A Spanish word in an English message is no slip: a town ("our venue is in ronda"
        # had been mended to "rhonda"), a dish, a term of the documents' own language.
        self.speller = Speller(texts, languages, self.bm25.index, {"en": english_words()},
                               {"es": spanish_words(), "en": spanish_words()})
        # A message is read for the small talk batch, then for each search of its turn, and
        # again as the context of the next turn's follow-up.
        self._read = lru_cache(maxsize=4096)(
            lambda text, language: self.speller.mend(
                at_home(without_whereabouts(spelled_out(text))), language))
        self.lexicon = lexicon or Lexicon.build(texts, UniversalSentenceEmbeddings(), languages)
        self.key = key
        # Column ranges of each model in a joined vector: each finds its closest view alone.
        bounds = np.cumsum([0, *(widths or (vectors.shape[1] if vectors.ndim == 2 else 0,))])
        self.parts = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]

    @classmethod
    def build(cls, passages: list[Passage], embeddings: Embeddings, key: str = "",
              ) -> KnowledgeIndex:
        """Embed every view of `passages` and index them."""
        groups = views_of(passages)
        starts = np.concatenate([[0], np.cumsum([len(g) for g in groups])[:-1]]).astype(np.int64)
        rows = [row for group in groups for row in group]
        vectors = (embeddings.views_matrix(rows) if isinstance(embeddings, WeightedEmbeddings)
                   else as_matrix(embeddings, [text for _, text in rows]))
        return cls(passages, vectors, starts[:len(passages)], key, widths_of(embeddings))

    def read(self, text: str, language: str | None) -> str:
        """`text` as it is searched: chat abbreviations written out, where the customer is
        said only as the place (`without_whereabouts`), "a casa" as a business says it too
        (`at_home`), and slips mended against the documents' words in `language`
        (`Speller`)."""
        return self._read(text, language)

    def coverage(self, text: str) -> np.ndarray:
        """Each passage's share of the information of the words of `text`, a word no passage
        uses counted through its stand-ins (`BM25.coverage`, `Lexicon.stand_ins`)."""
        return self.bm25.coverage(text, self.lexicon.stand_ins)

    def word_coverage(self, text: str) -> np.ndarray:
        """`coverage` counted by word (`BM25.coverage`, `by_word`)."""
        return self.bm25.coverage(text, self.lexicon.stand_ins, by_word=True)

    def unknown_words(self, text: str) -> list[str]:
        """The words of `text` that no passage uses (`coverage` looks up their stand-ins)."""
        return list(self.bm25.unknown(text))

    def strange_words(self, text: str) -> list[str]:
        """The words of `text` that no passage uses, nor anything like them (no stand-in):
        what the documents never mention ("farmacia" to a hardware shop)."""
        unknown = self.unknown_words(text)
        stand_ins = self.lexicon.stand_ins(unknown) if unknown else {}
        return [word for word in unknown
                if not stand_ins.get(word) and not asking_verb(word)]

    def similarity(self, query_vector: np.ndarray) -> np.ndarray:
        """Each passage's similarity with the query: that of its closest view, per model, and
        the models' (weighted) similarities added."""
        if not self.passages:
            return np.zeros(0, dtype=np.float32)
        return sum(np.maximum.reduceat(
            self.weights * (self.vectors[:, part] @ query_vector[part]), self.starts)
            for part in self.parts)

    def vector(self, position: int) -> np.ndarray:
        """The vector of passage `position` as a whole."""
        return self.vectors[self.starts[position]]


# The code that decides what an index holds: loaders, splitter, views, facts, words, the
# passages' language. Its source is part of an index's name (`folder_key`).
INDEXED_CODE = tuple(Path(__file__).with_name(name) for name in (
    "documents.py", "splitter.py", "index.py", "facts.py", "analysis.py", "lexicon.py")) + (
    Path(__file__).parents[1] / "language.py",)


def _code_digest(paths: tuple[Path, ...]) -> str:
    """A hash of the source of `paths`."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def folder_key(directory: str | Path, embeddings: Embeddings) -> str:
    """The content hash that names an index: files, splitter settings, model, the function
    words (the documents' vocabulary, whose vectors the index keeps, leaves them out: a list
    changed without a new `FORMAT_VERSION` had a stale vocabulary read back), and the source
    of the code that reads them (`INDEXED_CODE`): a change to a loader measured and undone
    under one `FORMAT_VERSION` left the measured passages in the cache, read back after."""
    digest = hashlib.sha256(json.dumps(
        [FORMAT_VERSION, CHUNK_CHARS, OVERLAP_CHARS, embeddings_id(embeddings),
         UniversalSentenceEmbeddings.model_id, sorted(STOPWORDS),
         _code_digest(INDEXED_CODE)]).encode())
    root = Path(directory)
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.suffix.lower() in LOADERS):
            if path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:32]


def passages_of(directory: str | Path) -> list[Passage]:
    """Every passage of every document in `directory`, each with its language (`_language`);
    a passage written in two languages line by line is two (`_by_language`)."""
    documents = [(name, markdown, split_document(markdown, name))
                 for name, markdown in read_folder(directory)]
    # Read without the documents' names where words remain, as the customers' messages are.
    detector = LanguageDetector(names=names_in(
        p.text for _, _, passages in documents for p in passages))
    return [replace(part, language=part.language or _language(part, detector, document))
            for _, markdown, passages in documents
            for document in [_sure_language(markdown, detector)]
            for p in passages for part in _by_language(p, detector)]


def _by_language(passage: Passage, detector: LanguageDetector) -> list[Passage]:
    """A passage whose lines are in two languages, each line a translation of the one before
    or after it as a bilingual notice writes them ("Llega 10 minutos antes." / "Please
    arrive 10 minutes early."), as two passages under the same headings, one a language:
    an English customer was quoted both, under "I only have this information in Spanish".
    At least `BILINGUAL_LINES` lines of each language, each one the detector is nearly sure
    of, make a passage bilingual; a line it is unsure of goes with the line before it."""
    lines = passage.text.split("\n")
    sure = [_sure_language(line, detector) for line in lines]
    counts = Counter(language for language in sure if language)
    if len(counts) < 2 or min(counts.values()) < BILINGUAL_LINES:
        return _by_sentence_language(passage, detector)
    parts = _parts_by_language(lines, sure, shared=lambda line: not line.strip())
    return [replace(passage, text=re.sub(r"\n{3,}", "\n\n", "\n".join(part)).strip(),
                    language=language) for language, part in parts.items()]


def _by_sentence_language(passage: Passage, detector: LanguageDetector) -> list[Passage]:
    """A passage written sentence by sentence in two languages, a sentence and then its
    translation ("De lunes a viernes de 8:30 a 18:00. Monday to Friday, 8:30 to 18:00."), each
    language at least `BILINGUAL_SHARE` of the sentences the detector is nearly sure of, as
    one passage a language, as `_by_language` splits lines: an English customer was told "I
    only have this information in Spanish" before the English. A sentence it is unsure of,
    or of fewer than three words, goes with the one before it; one of figures and addresses
    with a word at most ("WhatsApp: 678 45 12 90 · info@kayaktramuntana.com") goes with both:
    the Spanish part of a kayak rental's address had lost its contact line to the English."""
    pieces = SENTENCE_BREAK.split(passage.text)  # sentence, the space after it, sentence...
    sentences, spaces = pieces[::2], ["", *pieces[1::2]]  # the space before each
    if sum(len(sentence.split()) >= 3 for sentence in sentences) < 2:
        return [passage]  # one sentence is in one language (and lingua is not asked)
    sure = [_sure_language(ADDRESS_OF_A_SITE.sub(" ", sentence), detector)
            if len(sentence.split()) >= 3 else None for sentence in sentences]
    sizes: Counter[str] = Counter()
    for sentence, language in zip(sentences, sure, strict=True):
        if language:
            sizes[language] += len(sentence)
    if len(sizes) < 2 or min(sizes.values()) < BILINGUAL_SHARE * sum(sizes.values()):
        return [passage]
    parts = _parts_by_language(
        [("\n" if "\n" in space else " ") + sentence
         for sentence, space in zip(sentences, spaces, strict=True)], sure, shared=_data_only)
    return [replace(passage, text="".join(part).strip(), language=language)
            for language, part in parts.items()]


def _parts_by_language(pieces: list[str], sure: list[str | None],
                       shared: Callable[[str], bool]) -> dict[str, list[str]]:
    """`pieces` (lines, sentences) by the language each is in (`sure`, in the order the
    languages first come); a piece of no sure language goes with the one before it, and one
    that is `shared` (a blank line, a line of figures) with every language."""
    parts: dict[str, list[str]] = {language: [] for language in sure if language}
    current = next(language for language in sure if language)
    for piece, language in zip(pieces, sure, strict=True):
        current = language or current
        for part in parts.values() if shared(piece) else [parts[current]]:
            part.append(piece)
    return parts


def _data_only(sentence: str) -> bool:
    """Whether `sentence` gives figures or an address and at most one word besides."""
    data = ADDRESS_OF_A_SITE.sub(" ", sentence)
    return (data != sentence or any(c.isdigit() for c in sentence)) and len(
        re.findall(r"[^\W\d_]{2,}", data)) <= 1


def _language(passage: Passage, detector: LanguageDetector, document: str | None = None) -> str:
    """The language of a passage's text and its own heading when the detector is nearly sure
    of it ("Do you speak English?" under *Preguntas frecuentes* is English, 99%), else that of
    its `document` when the detector is as sure of the whole document, else that of all its
    headings and its text. Names mislead it on a short passage: "Where are you? Avenida de
    Madrid 112, Zaragoza, next to the tram stop" alone is 75% Spanish, and so was a photo
    studio's English "Where: Calle Licenciado Poza 31, Bilbao, near San Mamés metro station"
    under its page's title, which a pintxos bar "near San Mamés" then reached at the bar of a
    passage in the other language than the customer's."""
    return (_sure_language("\n".join([*passage.headings[-1:], passage.text]), detector)
            or document or detector.guess(passage.searchable)[0])


def _sure_language(text: str, detector: LanguageDetector) -> str | None:
    """The language of `text` when the detector is `OWN_LANGUAGE_SURE` of it; else None."""
    if not text.strip():
        return None
    language, confidence = detector.guess(text)
    return language if confidence >= OWN_LANGUAGE_SURE else None


def load_index(directory: str | Path, embeddings: Embeddings, cache_dir: str | Path | None,
               rebuild: bool = False) -> KnowledgeIndex:
    """The index of `directory`, read from `cache_dir` when its documents are unchanged."""
    key = folder_key(directory, embeddings)
    cached = Path(cache_dir, f"{key}.npy") if cache_dir else None
    if cached is not None and cached.exists() and not rebuild:
        try:
            return _read(cached, key, widths_of(embeddings))
        except (OSError, ValueError, KeyError) as err:
            log.warning("index cache %s unreadable (%s): rebuilding", cached.name, err)
    started = time.monotonic()
    index = KnowledgeIndex.build(passages_of(directory), embeddings, key)
    log.info("knowledge indexed passages=%d ms=%d key=%s", len(index.passages),
             (time.monotonic() - started) * 1000, key)
    if cached is not None:
        _write(cached, index)
    return index


def _read(path: Path, key: str, widths: tuple[int, ...]) -> KnowledgeIndex:
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    passages = [Passage(d["text"], d["source"], tuple(d["headings"]), d["language"])
                for d in meta["passages"]]
    # Mapped, not read: every worker on the machine shares the same pages.
    vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    lexicon = Lexicon(meta["words"], np.load(_words_path(path), mmap_mode="r",
                                             allow_pickle=False), UniversalSentenceEmbeddings())
    return KnowledgeIndex(passages, vectors, np.asarray(meta["starts"], dtype=np.int64), key,
                          widths, lexicon)


def _write(path: Path, index: KnowledgeIndex) -> None:
    """Write atomically (vectors last, as they mark the cache complete): several workers may
    build the same index at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"passages": [asdict(p) for p in index.passages], "starts": index.starts.tolist(),
            "words": index.lexicon.words}
    try:
        _replace(path.with_suffix(".json"), json.dumps(meta, ensure_ascii=False).encode())
        _replace(_words_path(path),
                 lambda out: np.save(out, np.asarray(index.lexicon.vectors), allow_pickle=False))
        _replace(path, lambda out: np.save(out, index.vectors, allow_pickle=False))
    except OSError as err:
        log.warning("index cache not written to %s: %s", path.parent, err)


def _words_path(path: Path) -> Path:
    return path.with_name(path.stem + ".words.npy")


def _replace(path: Path, content) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            content(out) if callable(content) else out.write(content)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
