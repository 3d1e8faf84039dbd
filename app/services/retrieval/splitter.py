"""Passages that follow a document's structure: a section under its headings, long ones split.

langchain-text-splitters does the work: `MarkdownHeaderTextSplitter` keeps each section's
heading path, and `RecursiveCharacterTextSplitter` cuts a long section at paragraph, line,
sentence and word boundaries, with overlap, each piece keeping the section's headings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3"), ("####", "h4")]
CHUNK_CHARS = 500
OVERLAP_CHARS = 100
# A tab or a space other than the plain one (no-break, narrow, thin: Word and web pages are
# full of them). The header splitter drops every character that does not print, and these
# do not: "Corte\t16 €" became "Corte16 €", "Tinte\u202f45 €" "Tinte45 €".
SPACES = re.compile(r"[^\S\n\r ]+")
# A sentence's last mark, and a closing bracket or quote if any.
CLOSES = r"[.!?…][)\]»\"']*"
# A sentence's end, at the end of a text.
SENTENCE_END = re.compile(rf"{CLOSES}\s*\Z")
# What goes on with a sentence at a line's start: a word in lower case, or a figure that
# numbers no list's item ("35 euros an hour.", not "2. Trae el DNI").
MID_SENTENCE = re.compile(r"[^\W\d_](?<=[a-zà-ÿ])|\d(?![\d.,]*[.)]\s)")
# A sentence's end within a text, and the space after it.
SENTENCE_BREAK = re.compile(rf"{CLOSES}\s+")


@dataclass(frozen=True)
class Passage:
    """A piece of one document: its text, the file, and the headings it sits under."""

    text: str
    source: str
    headings: tuple[str, ...] = ()
    language: str = ""

    @property
    def title(self) -> str:
        """The closest heading, or the file's name."""
        return self.headings[-1] if self.headings else self.source.rsplit(".", 1)[0]

    @property
    def searchable(self) -> str:
        """What the index reads: the heading path, then the text."""
        return "\n".join([*self.headings, self.text])


def split_document(markdown: str, source: str, chunk_chars: int = CHUNK_CHARS,
                   overlap_chars: int = OVERLAP_CHARS) -> list[Passage]:
    """The passages of one document's markdown, in document order."""
    markdown = SPACES.sub(" ", markdown)
    sections = MarkdownHeaderTextSplitter(HEADERS, strip_headers=True).split_text(markdown)
    pieces = RecursiveCharacterTextSplitter(
        chunk_size=chunk_chars, chunk_overlap=overlap_chars, keep_separator="end",
        separators=["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""])
    passages = []
    for section in sections:
        headings = tuple(section.metadata[key] for _, key in HEADERS if key in section.metadata)
        for part in (section.page_content,) if headings else _paragraphs(section.page_content):
            start = 0
            for number, text in enumerate(pieces.split_text(part)):
                found = part.find(text, start)
                start = max(start, found)
                if number and found > 0:
                    text = _from_a_sentence(text, part[:found], overlap_chars)
                if re.search(r"\w", text):  # not a rule ("---") or a row of symbols alone
                    passages.append(Passage(text.strip(), source, headings))
    return passages


def _from_a_sentence(piece: str, before: str, overlap_chars: int) -> str:
    """A piece after the first of a section (`before` it, the section's text), from the
    first sentence its overlap starts: the overlap is cut at a line, and a hard-wrapped
    paragraph's last line is the end of a sentence ("caduca." opened the next piece of a
    lottery office's prizes, "35 euros an hour." a villa manager's terms, and the replies
    that quoted them). A piece that opens a sentence, or a list's item, or whose overlap
    holds no sentence's end, is left whole."""
    if SENTENCE_END.search(before) or not MID_SENTENCE.match(piece):
        return piece
    end = SENTENCE_BREAK.search(piece, 0, overlap_chars + 1)
    return piece[end.end():] if end and piece[end.end():].strip() else piece


def _paragraphs(text: str) -> list[str]:
    """The paragraphs of text under no heading (a document of paragraphs alone, or its start
    before its first title), each its own passage: with no heading to say what a stretch of
    text is about, a paragraph is the unit of one topic. A paragraph that ends no sentence
    ("Precios:", "Corte 16 €", a list's line) stays with the next."""
    # The header splitter ends a paragraph with a hard break; a line within one, with "\n".
    paragraphs = [p for p in text.split("  \n") if p.strip()]
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not SENTENCE_END.search(joined[-1]):
            joined[-1] += "  \n" + paragraph
        else:
            joined.append(paragraph)
    return joined
