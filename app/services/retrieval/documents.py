"""Loaders: each file type of the knowledge folder becomes markdown with `#` headings.

Markdown is read as it is; HTML keeps its headings, paragraphs and list items and drops
scripts, styles and page chrome; plain text and PDF get headings back from their layout
(a short line with no closing punctuation, standing before a paragraph).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from app.errors import KnowledgeError

SENTENCE_END = (".", ",", ";", ":", "!", "?", "…", ")", "]", "»", '"')
MAX_HEADING_CHARS = 70


def load_markdown(path: Path) -> str:
    """A markdown file, as it is."""
    return path.read_text(encoding="utf-8-sig")


def load_text(path: Path) -> str:
    """A plain-text file, its title-like lines turned into headings."""
    return mark_headings(path.read_text(encoding="utf-8-sig"))


def load_pdf(path: Path) -> str:
    """The text of every page of a PDF, its title-like lines turned into headings."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as err:
        raise KnowledgeError(f"{path.name}: not a readable PDF ({err})") from err
    return mark_headings("\n\n".join(pages))


def load_html(path: Path) -> str:
    """An HTML page's readable content, as markdown."""
    parser = _HtmlToMarkdown()
    parser.feed(path.read_text(encoding="utf-8-sig", errors="replace"))
    parser.close()
    return parser.markdown()


LOADERS: dict[str, Callable[[Path], str]] = {
    ".md": load_markdown, ".markdown": load_markdown, ".txt": load_text,
    ".pdf": load_pdf, ".html": load_html, ".htm": load_html,
}


def read_folder(directory: str | Path) -> list[tuple[str, str]]:
    """`(file name, markdown)` for every supported file under `directory`, sorted by path.

    A missing or empty folder, or a file that cannot be read, raises `KnowledgeError` naming it:
    a bot with no documents would refuse every question without saying why.
    """
    root = Path(directory)
    if not root.is_dir():
        raise KnowledgeError(f"KNOWLEDGE_DIR={str(directory)!r} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in LOADERS
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    documents = []
    for path in files:
        name = str(path.relative_to(root))
        try:
            text = LOADERS[path.suffix.lower()](path)
        except KnowledgeError:
            raise
        except (OSError, UnicodeDecodeError) as err:
            raise KnowledgeError(f"{name}: cannot be read ({type(err).__name__}: {err})") from err
        if text.strip():
            documents.append((name, text))
    if not documents:
        raise KnowledgeError(f"KNOWLEDGE_DIR={str(directory)!r} has no document with text "
                             f"(looked for {', '.join(sorted(LOADERS))})")
    return documents


def mark_headings(text: str) -> str:
    """Plain text with `## ` before each line that reads as a heading (`# ` before a heading
    that is followed at once by another, as a document's title is)."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    filled = [i for i, line in enumerate(lines) if line.strip()]
    heading = set()
    for n, i in enumerate(filled):
        before = lines[filled[n - 1]] if n else ""
        after = lines[filled[n + 1]] if n + 1 < len(filled) else ""
        if _is_heading(lines[i], before, after, blank_before=i == 0 or not lines[i - 1].strip()):
            heading.add(n)
    out = []
    for n, i in enumerate(filled):
        if n in heading:
            level = "#" if n + 1 in heading else "##"
            out.extend(["", f"{level} {lines[i].strip()}", ""])
        else:
            out.append(("\n" if i and not lines[i - 1].strip() else "") + lines[i])
    return "\n".join(out)


def _is_heading(line: str, before: str, after: str, blank_before: bool) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > MAX_HEADING_CHARS or stripped.endswith(SENTENCE_END):
        return False
    if not stripped[0].isupper() or stripped.startswith(("-", "*", "•")) or not after:
        return False
    # A wrapped paragraph's line follows a line that does not end a sentence.
    return blank_before or not before or before.strip().endswith((".", "!", "?", ":")) or (
        len(before.strip()) <= MAX_HEADING_CHARS and not before.strip().endswith(SENTENCE_END))


class _HtmlToMarkdown(HTMLParser):
    """Headings, paragraphs, list items and line breaks; nothing from skipped elements."""

    SKIP = frozenset({"script", "style", "nav", "footer", "header", "noscript", "template",
                      "svg", "form", "button", "head"})
    BLOCKS = frozenset({"p", "div", "section", "article", "main", "table", "tr", "ul", "ol",
                        "dl", "blockquote", "pre", "br", "hr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append(f"\n\n{'#' * int(tag[1])} ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("strong", "b"):
            self.parts.append("**")
        elif tag in self.BLOCKS or tag in ("td", "th", "dt", "dd"):
            self.parts.append("\n\n" if tag in self.BLOCKS else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif re.fullmatch(r"h[1-6]", tag) or tag in self.BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("strong", "b"):
            self.parts.append("**")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))

    def markdown(self) -> str:
        """The collected text, one blank line between blocks."""
        text = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(self.parts))
        return re.sub(r"\n{3,}", "\n\n", text).strip()
