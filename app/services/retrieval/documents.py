"""Loaders: each file type of the knowledge folder becomes markdown with `#` headings.

Markdown is read with its underlined headings written with `#` and its tables as lists;
HTML keeps its headings, paragraphs and list items and drops scripts, styles and page chrome;
plain text and PDF get headings back from their layout (a short line with no closing
punctuation, standing before a paragraph).

Text files are UTF-8 (with or without a byte order mark), UTF-16 with its mark, or what
Windows editors save Spanish and English in, Windows-1252: a file that is not UTF-8 is read
as that, and the log says so. An HTML page's declared charset is honoured.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections import Counter
from collections.abc import Callable, Container
from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from app.errors import KnowledgeError
from app.services.formatter import table_row
from app.services.retrieval.analysis import words
from app.services.retrieval.facts import gives_contact
from app.services.retrieval.splitter import HEADERS

log = logging.getLogger(__name__)

SENTENCE_END = (".", ",", ";", ":", "!", "?", "…", ")", "]", "»", '"')
MAX_HEADING_CHARS = 70
MAX_QUESTION_CHARS = 150
# A question that may head its answer: "¿Hacéis envíos?", "Do you ship?", "3. ¿Y a Canarias?",
# "1.- ¿Cómo pido cita?",
# or as a FAQ written in haste asks, in lower case and without its "¿": "donde estais?".
QUESTION = re.compile(r"(?:\d{1,3}[.)](?:\s*[-–—])?\s*|[PQ]\s*[:.]\s*)?"
                      r"(?P<question>(?:[¿¡]|(?=[^\W\d_])).*)")
# A FAQ's own marks: "P: ¿Hacéis envíos?" / "R: Sí, ...", "Q: Do you ship?" / "A: Yes, ...".
# A marked question may hold more than one sentence ("Q: I walk the Camino. Can you help?").
# Numbered too: "P1: ¿Dónde estáis?" / "R1: En la avenida...".
MARKED_QUESTION = re.compile(r"\s*(?:P|Q|Pregunta|Question)\s*\d{0,3}\s*[:.]\s*"
                             r"(?P<question>\S.*\?)\s*", re.IGNORECASE)
MARKED_ANSWER = re.compile(r"\s*(?:R|A|Respuesta|Answer)\s*\d{0,3}\s*[:.]\s+", re.IGNORECASE)
# A figure with its currency or unit ("50 €", "€50", "12 euros", "45 min") or a time of day
# ("9:00"): a line that states one is a price list's or a timetable's line, not a title,
# though it ends with no full stop.
FIGURE = re.compile(r"\d\s*(?:€|\$|£|%|eur(?:os?)?\b|min(?:utos?)?\b|h\b)|[€$£]\s*\d"
                    r"|\b\d{1,2}:\d{2}\b", re.IGNORECASE)
# "Sábados: de 9:00 a 13:00": a label and its value on one line, no title either.
LABEL_VALUE = re.compile(r"[^:]{1,60}:\s+\S.*")
# A price list's value in words, at the end of its row: "Montaje de muebles  incluido".
VALUE_WORDS = re.compile(r"\s(?:gratis|gratuit[oa]s?|incluid[oa]s?|included|free|(?:a )?consultar|"
                         r"on request|sin coste)$", re.IGNORECASE)
# A list's line, unmarked: at most this long, its figure at most this far from its end
# ("55 € al mes"), or its label ("Sábados:") at most this many words.
MAX_LIST_LINE_CHARS = 110
FIGURE_TAIL_CHARS = 15
LABEL_WORDS = 4
# "Devoluciones:" alone, a blank line before it: a label that heads what follows.
LABEL_HEADING = re.compile(r"(?P<title>[A-ZÀ-Ý][^:.!?]{0,40}?)\s*:\s*")
LABEL_HEADING_WORDS = 5
# Dot leaders (five dots or more) between a label and its value, as price lists and
# timetables align them: "Viernes ........ 10:00 - 14:00", "Corte de pelo . . . . . 15 €".
LEADER = re.compile(r"(?<=[^\s.])[ \t]*(?:\.[ \t]?){5,}[ \t]*(?=[^\s.])"
                    r"|(?<=\S)[ \t]*…{2,}[ \t]*(?=\S)")
# A table of contents' entry: a title, a leader and its page ("2. Precios ........ 4"); and
# the title of the table.
CONTENTS_ENTRY = re.compile(
    r"\s*(?P<title>\S.*?)(?:[ \t]*(?:\.[ \t]?){3,}|[ \t]*…+)[ \t]*\d{1,4}\s*")
CONTENTS_TITLE = re.compile(r"\s*(?i:índice|indice|contenidos?|tabla de contenidos?|sumario|"
                            r"contents|table of contents)\s*:?\s*")
# A list's bullet that markdown does not know ("• Corte", "▪ Tinte"), written as its "- ".
BULLETS = "•·▪◦●‣–—"
BULLET = re.compile(rf"\s*[{BULLETS}]\s+")
ITEM = re.compile(rf"\s*[-*+{BULLETS}]\s+")  # a list's item, however it is marked
# An emoji, or another symbol, before a line's words ("🦷 ", "📍 ", "⭐️ ").
EMOJI = r"[^\w\s*_#>|(\[¿¡\"'«.,;:!?-]\ufe0f?\s*"
EMOJI_LEAD = re.compile(rf"^(?:{EMOJI}){{1,2}}(?=\w)")
# This many guessed headings in a row, with no text between them, are a list's lines.
HEADINGS_IN_A_ROW = 3
# A title never ends with an article, a preposition or a conjunction; a line of a narrow
# column wrapped before its next word does ("Puedes sacarte el carnet de coche a").
OPEN_ENDED = frozenset(
    "a al ante con de del desde e el en entre hacia hasta la las lo los mediante ni o para "
    "por que según sin sobre su sus tu tus u un una unas unos y an and at by for from in "
    "into of on or the to with".split())
WRAPPED_WORDS = 5  # a line of so many words, the next starting in lower case, is wrapped
# A hard-wrapped text (a PDF's, a text file's) breaks a line where its next word no longer
# fits: a long line that ends no sentence, shorter than the text's lines by more than the
# next line's first word, was ended on purpose, as a subtitle is ("Gestoría Costa Papeles -
# lista orientativa, cada caso puede pedir algo más" over "NIE (número de identidad de
# extranjero)", which had run on into it). `FILLED` of the width is slack for a proportional
# font's lines, which hold more or fewer letters; the width is the `WIDTH_RANK` share of
# its long lines' lengths, read from at least `WIDTH_LINES` of them.
FILLED = 0.85
WIDTH_RANK = 0.9
WIDTH_LINES = 5
# A paragraph's first line in bold alone ("**Horario**", "**¿Tenéis garantía?**"), perhaps
# after an emoji or two ("🕒 **Horario**"): a heading written as bold text, as in documents
# exported from a word processor or written for social networks.
BOLD_LINE = re.compile(r"\s*(?:[^\w\s*_#>|-]\ufe0f?\s*){0,2}(\*\*|__)"
                       r"(?P<title>[^*_\n]{1,150}?)\1\s*:?\s*")


BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"))
# Bytes no text file holds (NUL, and C0 controls other than tab, newlines and form feed).
NOT_TEXT = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
CP1252_UNDEFINED = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)


def read_text(path: Path) -> str:
    """A text file's content (`decode`)."""
    return decode(path.read_bytes(), path)


def decode(data: bytes, path: Path, declared: str | None = None) -> str:
    """The text of file `path`'s `data`: UTF-8 or UTF-16 by their byte order marks, else
    `declared` (an HTML page's charset), else UTF-8, else Windows-1252."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    if NOT_TEXT.search(data):
        raise KnowledgeError(f"{path.name}: not a text file (it holds binary bytes; UTF-16 "
                             "needs its byte order mark)")
    for encoding in filter(None, (declared, "utf-8")):
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    # Windows-1252 leaves five bytes undefined: a file holding one is read as Latin-1.
    encoding, name = (("latin-1", "Latin-1") if CP1252_UNDEFINED.search(data)
                      else ("cp1252", "Windows-1252"))
    log.warning("knowledge file %s is not UTF-8: read as %s (save it as UTF-8 if its accents "
                "look wrong in answers)", path.name, name)
    return data.decode(encoding)


_MARKDOWN = MarkdownIt("commonmark").enable("table")


def table_markdown(rows: list[list[str]], header: bool = True) -> str:
    """A table as markdown: a list item per row naming its columns (the first row's cells,
    when `header`), or, for a table of one column (a page laid out in a table), its cells as
    paragraphs."""
    rows = [row for row in rows if any(row)]
    if not rows or max(map(len, rows)) < 2:
        return "\n\n".join(cell for row in rows for cell in row if cell)
    width = max(map(len, rows))
    names, body = (rows[0], rows[1:]) if header else ([], rows)
    names = [*names, *[""] * (width - len(names))]
    return "\n".join(f"- {table_row(names, row)}" for row in body)


def _asked_in_table(rows: list[list[str]]) -> list[tuple[str, str]]:
    """A FAQ written as a table, a question and its answer a row (under a first row that
    names the columns, or none): each `(question, answer)`; else nothing."""
    rows = [[cell.strip() for cell in row] for row in rows if any(row)]
    body = rows[1:] if rows and not _asks(rows[0][0] if rows[0] else "") else rows
    if len(body) < 2 or not all(len(row) == 2 and _asks(row[0]) and row[1] for row in body):
        return []
    return [(question, answer) for question, answer in body]


def _names_columns(rows: list[list[str]]) -> bool:
    """Whether a table's first row, written in `<td>` cells as the others, names its columns:
    no figure in it, where most rows below have one ("Tratamiento | Precio | Duración" over
    "Limpieza facial | 45 € | 60 min")."""
    rows = [row for row in rows if any(row)]
    if len(rows) < 3 or len(rows[0]) < 2 or any(re.search(r"\d", cell) for cell in rows[0]):
        return False
    return sum(any(FIGURE.search(cell) for cell in row) for row in rows[1:]) * 2 > len(rows) - 1


# HTML tags written in markdown's text (`without_tags`).
LINE_BREAK_TAG = re.compile(r"[ \t]*<br\s*/?>[ \t]*", re.IGNORECASE)
# A FAQ folded in <details>, its question the <summary>, reads as a question in bold.
INLINE_TAG = re.compile(r"</?(?P<name>b|strong|i|em|u|s|span|font|small|big|mark|sup|sub|a|abbr|"
                        r"details|summary)\b[^<>]*>", re.IGNORECASE)
INLINE_MARKS = {"b": "**", "strong": "**", "i": "_", "em": "_", "s": "~~", "summary": "**"}
# A paragraph that opens with its title in bold, closed by a full stop, and goes on on the
# same line: "**Lavado exterior.** A mano, con champú neutro...". ("**Precio:** 15 €" is a
# label and its value.)
BOLD_RUN_IN = re.compile(r"\s*(\*\*|__)(?P<title>[A-ZÀ-Ý¿][^*_\n]{0,60}?)(?:\.\1|\1\.)\s+"
                         r"(?P<text>\S.*)")
# A label in bold, its text after the colon: "**Horario:** la tienda abre de lunes a sábado".
BOLD_LABEL_RUN_IN = re.compile(r"\s*(\*\*|__)(?P<title>[A-ZÀ-Ý¿][^*_\n]{0,40}?)\s*"
                               r"(?::\s*\1|\1\s*:|(?<=\?)\1)\s*(?P<text>\S[\s\S]*)")
# ... and in plain text: "Envíos: enviamos a toda España...".
LABEL_RUN_IN = re.compile(r"\s*(?P<title>[A-ZÀ-Ý¿][^:.!?*\n]{0,40}?)\s*:\s+(?P<text>\S.*)")
# The words (other than function words and figures) that make a label's text a sentence
# ("la tienda abre de lunes a sábado"), not a value ("de 9:00 a 14:00"); one that opens with
# a figure is a value too ("25 € en Murcia ciudad, 35 € en pedanías", "954 111 222").
SENTENCE_WORDS = 3
FIGURE_FIRST = re.compile(r"[\d€$£+]")
# Labels head their texts only in a block longer than this: a short one is read as one answer
# ("**Particulares:** declaración de la renta...", "**Empresas:** contabilidad...", under
# *Servicios*, which "qué servicios tenéis" found whole).
LABELLED_BLOCK_CHARS = 400
LABELLED_PARAGRAPHS_CHARS = 250
# A paragraph that opens in bold.
BOLD_OPENING = re.compile(r"\s*(\*\*|__)\S")
# A list item that opens with a question in bold, its answer after it.
BOLD_QUESTION = re.compile(r"\s*(\*\*|__)(?P<question>[^*_\n]{1,150}?\?)\s*\1\s*:?\s*"
                           r"(?P<answer>.*)", re.DOTALL)
# ... or in plain text: its first sentence a question ("¿Duele el láser? Se nota un poco").
PLAIN_QUESTION = re.compile(r"\s*(?P<question>¿[^?\n]{1,148}\?|[A-ZÀ-Ý][^.!?¿\n]{1,148}\?)\s+"
                            r"(?P<answer>\S.*)", re.DOTALL)
# The marks that open a markdown quote's lines ("> ", "> > ").
QUOTE_MARKS = re.compile(r"^[ \t]{0,3}(?:>[ \t]?)+", re.MULTILINE)
# YAML front matter (static site generators, Obsidian, Notion exports): metadata, not text.
FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(?P<yaml>(?:[^\n]*\n){0,60}?)"
                          r"(?:---|\.\.\.)[ \t]*(?:\n|\Z)")
FRONT_TITLE = re.compile(r"^title:[ \t]*[\"']?(?P<title>[^\n\"']+?)[\"']?[ \t]*$", re.MULTILINE)


def load_markdown(path: Path) -> str:
    """A markdown file, its underlined headings written with `#`, its tables as lists; its
    front matter left out, but for its `title`, which heads a document that has none; the
    HTML tags written in its text read as markdown (`without_tags`); its quotes' marks left
    out, so that what a quote holds is read as the rest is (a FAQ written as quotes, each a
    question in bold and its answer, was one passage of every question)."""
    markdown = without_tags(read_text(path).replace("\r\n", "\n"))
    markdown = QUOTE_MARKS.sub("", markdown)
    if front := FRONT_MATTER.match(markdown):
        markdown = markdown[front.end():]
        title = FRONT_TITLE.search(front["yaml"])
        if title and not markdown.lstrip().startswith("# "):
            markdown = f"# {title['title'].strip()}\n\n{markdown}"
    return plain_markdown(markdown)


def without_tags(markdown: str) -> str:
    """Markdown with the HTML tags written in its text as markdown: a line break (`<br>`) a
    hard break (in a table's row, where a line cannot break, "; "), bold and italics as
    such, other tags (`<span>`, `<font>`, `<u>`) left out around their words. A phone shows
    a tag as it is written."""
    lines = []
    for line in markdown.split("\n"):
        table_row = line.lstrip().startswith("|")
        line = LINE_BREAK_TAG.sub("; " if table_row else "  \n", line)
        lines.append(INLINE_TAG.sub(lambda m: INLINE_MARKS.get(m["name"].lower(), ""), line))
    return "\n".join(lines)


def _list_items(tokens: list, start: int):
    """`(index, token)` of each item of the list opening at `tokens[start]`, not of the lists
    inside it."""
    depth = 0
    for index in range(start, len(tokens)):
        token = tokens[index]
        depth += token.nesting
        if token.type == "list_item_open" and depth == 2:
            yield index, token
        if depth == 0:
            return


def _at(tokens: list, index: int):
    """`tokens[index]`, or None past the end."""
    return tokens[index] if index < len(tokens) else None


def _paragraph_items(tokens: list, start: int) -> list[tuple[tuple[int, int], str]]:
    """For the list opening at `tokens[start]` whose every item is one paragraph, each item's
    lines and markdown; else nothing."""
    items = []
    for index, token in _list_items(tokens, start):
        inline, after = _at(tokens, index + 2), _at(tokens, index + 4)
        if (inline is None or inline.type != "inline" or token.map is None
                or after is None or after.type != "list_item_close"):
            return []
        items.append((tuple(token.map), inline.content))
    return items


def _list_of_questions(tokens: list, start: int) -> list[tuple[tuple[int, int], str, str]]:
    """For the list opening at `tokens[start]` whose every item is one paragraph that opens
    with a question, in bold or not, and goes on with its answer, each item's lines, question
    and answer; else nothing."""
    asked = [(lines, BOLD_QUESTION.match(content) or PLAIN_QUESTION.match(content))
             for lines, content in _paragraph_items(tokens, start)]
    if len(asked) < 2 or any(m is None or not m["answer"].strip() for _, m in asked):
        return []
    return [(lines, m["question"].strip(), m["answer"].strip()) for lines, m in asked]


def _labelled(texts: list[str], label: re.Pattern = BOLD_LABEL_RUN_IN,
              block_chars: int = LABELLED_BLOCK_CHARS) -> list[tuple[str, str]]:
    """Each of `texts` as its label and its text, when every one is so written (`label`:
    in bold, `BOLD_LABEL_RUN_IN`, or plain, `LABEL_RUN_IN`), they are longer than
    `LABELLED_BLOCK_CHARS` together and at least half of them are sentences
    (`SENTENCE_WORDS`), not values: a price list's "**Sesión individual:** 60 € (50
    minutos)" stays a list, which "cuánto cuesta una sesión" finds whole. Else nothing."""
    found = [label.fullmatch(text) for text in texts]
    if sum(map(len, texts)) <= block_chars or any(
            m is None or len(m["title"].split()) > LABEL_HEADING_WORDS for m in found):
        return []
    sentences = sum(not FIGURE_FIRST.match(m["text"]) and len(
        [written for written, _ in words(m["text"])
         if not any(c.isdigit() for c in written)]) >= SENTENCE_WORDS for m in found)
    if 2 * sentences < len(found):
        return []
    return [(m["title"].strip(), m["text"].strip()) for m in found]


def _label_items(lines: list[str]) -> list[str]:
    """A paragraph's lines as labels in bold with their texts, a text running on over the
    lines after its label until the next one (a hard-wrapped paragraph); nothing unless
    the first line has a label."""
    items: list[str] = []
    for line in lines:
        if BOLD_LABEL_RUN_IN.fullmatch(line):
            items.append(line)
        elif not items:
            return []
        else:
            items[-1] += "\n" + line
    return items


def _labelled_paragraphs(tokens: list, lines: list[str]) -> dict[int, list[tuple[str, str]]]:
    """For each run of paragraphs one after another made of labels in bold and their texts
    (`_label_items`), that `_labelled` reads together as labels and their texts, each
    paragraph's (by the index of its opening token)."""
    runs: list[list[tuple[int, list[str]]]] = [[]]
    for index, token in enumerate(tokens):
        if token.level != 0 or token.nesting == -1:
            continue
        if token.type == "paragraph_open" and token.map and (
                items := _label_items(lines[slice(*token.map)])):
            runs[-1].append((index, items))
        elif runs[-1]:
            runs.append([])
    found: dict[int, list[tuple[str, str]]] = {}
    for run in runs:
        # A label a paragraph, each set apart by the writer, heads its text in a shorter block
        # than labels line after line, as a list's are.
        apart = len(run) >= 2 and all(len(items) == 1 for _, items in run)
        read = _labelled([item for _, items in run for item in items],
                         block_chars=LABELLED_PARAGRAPHS_CHARS if apart else LABELLED_BLOCK_CHARS)
        for index, items in run if read else ():
            found[index], read = read[:len(items)], read[len(items):]
    return found


def _list_of_labels(tokens: list, start: int) -> list[tuple[tuple[int, int], str, str]]:
    """For the list opening at `tokens[start]` whose every item is one paragraph that
    `_labelled` reads as labels and their texts, each item's lines, label and text; else
    nothing."""
    items = _paragraph_items(tokens, start)
    labelled = _labelled([content for _, content in items]) if len(items) >= 2 else []
    return [(lines, title, text) for (lines, _), (title, text)
            in zip(items, labelled, strict=True)] if labelled else []


def _list_of_titles(tokens: list, start: int) -> list[tuple[int, str, tuple[int, int]]]:
    """For the list opening at `tokens[start]` whose every item is a title in bold over a
    list of its own ("- **Bajas**" and, indented under it, its rules), each item's first line,
    title and its inner list's lines; else nothing."""
    items = []
    for index, token in _list_items(tokens, start):
        inline, inner = _at(tokens, index + 2), _at(tokens, index + 4)
        titled = BOLD_LINE.fullmatch(inline.content) if (
            inline is not None and inline.type == "inline") else None
        if (titled is None or token.map is None or inner is None or inner.map is None
                or inner.type not in ("bullet_list_open", "ordered_list_open")):
            return []
        items.append((token.map[0], titled["title"].strip(" :"), tuple(inner.map)))
    return items if len(items) >= 2 else []


def plain_markdown(markdown: str) -> str:
    """Markdown as the splitter reads it, found by markdown-it (so a `|` in a sentence is left
    alone): a heading underlined with `===` or `---` (setext), or written as a paragraph's
    first line in bold, starts with `#`; a rule is dropped; and a table becomes one list item
    per row, each naming its columns. A row then reads on its own, in a passage cut from a long
    table as in an answer on a phone, and each question of a FAQ heads its own answer."""
    lines = markdown.replace("\r\n", "\n").split("\n")
    edits: list[tuple[int, int, list[str]]] = []
    rows: list[list[str]] = []
    level, start, end = 1, 0, 0
    heading_asks = False  # whether the last heading asks a question
    answer_next = False  # a marked question was just made a heading: its answer may be marked

    def under(title: str) -> str:
        """A heading one level under the last one (a FAQ's question, a bold title); a
        question after a heading that asks one is its sibling, not a part of it."""
        sibling = heading_asks and title.rstrip().endswith("?")
        return f"{'#' * min(level + (not sibling), len(HEADERS))} {title}"

    tokens = _MARKDOWN.parse("\n".join(lines))
    labelled = _labelled_paragraphs(tokens, lines)  # by the index of a paragraph's token
    section = ""  # the last heading, as the splitter reads it
    # Items were made headings: what follows a list of them is the section's ("any"), and so
    # is a paragraph opening in bold after labelled paragraphs ("bold"), where one that does
    # not may carry on the last label's text.
    resume = ""
    for index, token in enumerate(tokens):
        after_question = answer_next and token.type == "paragraph_open"
        if (resume and token.level == 0 and token.nesting != -1 and token.map
                and index not in labelled):
            # "No vendemos electrodomésticos" after a list of labels, "**Juegos de mesa** para
            # todas las edades" after "**Libros:** novela, cómic...": no part of the last.
            if token.type != "heading_open" and section and (
                    resume == "any" or BOLD_OPENING.match(lines[token.map[0]])):
                edits.append((token.map[0], token.map[0], [section, ""]))
            resume = ""
        if token.type in ("paragraph_open", "heading_open", "table_open", "bullet_list_open"):
            answer_next = False
        if token.type == "heading_open":
            level, heading_asks = int(token.tag[1]), False
            if token.map and token.level == 0:
                # Underlined (setext), or with closing marks or emphasis ("## **Envíos** ##"):
                # the splitter reads "# " and the title's words to the end of the line.
                start, end = token.map
                title = " ".join("".join(
                    " " if child.type == "softbreak" else child.content
                    for child in tokens[index + 1].children or ()
                    if child.type in ("text", "code_inline", "softbreak")).split())
                if question := MARKED_QUESTION.fullmatch(title):  # "### P: ¿Hay wifi?"
                    title, answer_next = question["question"], True
                section = f"{'#' * level} {title}"
                edits.append((start, end, [section]))
                heading_asks = title.endswith("?")
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and MARKED_QUESTION.fullmatch(lines[token.map[0]])):
            # "P: ¿Hacéis envíos?" then "R: Sí, ...": each question heads its answer.
            start, end = token.map
            rewritten: list[str] = []
            for line in lines[start:end]:
                if question := MARKED_QUESTION.fullmatch(line):
                    rewritten += ["", under(question["question"]), ""]
                else:
                    rewritten.append(MARKED_ANSWER.sub("", line, count=1))
            edits.append((start, end, rewritten))
            answer_next = start + 1 == end  # the answer is the next paragraph
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and (run_in := BOLD_RUN_IN.fullmatch(lines[token.map[0]]))
              and len(run_in["title"].split()) <= LABEL_HEADING_WORDS):
            start = token.map[0]
            edits.append((start, start + 1, [under(run_in["title"]), "", run_in["text"]]))
        elif token.type == "paragraph_open" and token.map and index in labelled:
            # "**Horario:** la tienda abre...", "**Envíos:** enviamos a...": each label
            # heads its text, which were otherwise one passage of every topic.
            edits.append((*token.map, [piece for title, text in labelled[index]
                                       for piece in ("", under(title), "", text, "")]))
            resume = "bold"
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and (bold := BOLD_LINE.fullmatch(lines[token.map[0]]))
              and not bold["title"].rstrip().endswith((".", "!", ","))
              and "strong_open" in [c.type for c in (tokens[index + 1].children or [])[:2]]):
            start = token.map[0]
            rest = [] if start + 1 == token.map[1] else [""]  # its answer, below
            title = bold["title"].rstrip(" :")
            if question := MARKED_QUESTION.fullmatch(title):
                title = question["question"]
                if rest:
                    lines[start + 1] = MARKED_ANSWER.sub("", lines[start + 1], count=1)
                answer_next = not rest
            edits.append((start, start + 1, [under(title), *rest]))
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and token.map[1] - token.map[0] == 1
              and _asks(lines[token.map[0]].strip())
              and index + 3 < len(tokens)
              and tokens[index + 3].type in ("paragraph_open", "bullet_list_open",
                                             "ordered_list_open", "table_open")):
            # "¿Hacéis envíos a Canarias?" alone, its answer the next paragraph: as in text.
            start = token.map[0]
            edits.append((start, start + 1,
                          [under(lines[start].strip())]))
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and after_question and MARKED_ANSWER.match(lines[token.map[0]])):
            start = token.map[0]
            edits.append((start, start + 1, [MARKED_ANSWER.sub("", lines[start], count=1)]))
        elif (token.type == "paragraph_open" and token.map and token.level == 0
              and (listed := _list_lines([line.strip() for line in
                                          lines[token.map[0]:token.map[1]]], {}))):
            # "Corte: 15 €" and "Tinte: 35 €" on two lines are one paragraph to markdown,
            # and one line on a phone; a price list's lines stay one to a line.
            start, end = token.map
            breaks = _breaks(listed, end - start, ())
            edits.append((start, end, [piece for n, line in enumerate(lines[start:end])
                                       for piece in ([line, ""] if n in breaks else [line])]))
        elif (token.type in ("bullet_list_open", "ordered_list_open") and token.level == 0
              and (asked := _list_of_questions(tokens, index))):
            # "- **¿Hacéis envíos a Canarias?** Sí, ...": a FAQ written as a list, each
            # question heading its answer, as in a FAQ of paragraphs.
            for (start, end), question, answer in asked:
                edits.append((start, end, ["", under(question), "", *answer.split("\n"), ""]))
            resume = "any"
        elif (token.type in ("bullet_list_open", "ordered_list_open") and token.level == 0
              and (items := _list_of_labels(tokens, index))):
            # "- **Horario:** la tienda abre...": as in paragraphs.
            for (start, end), title, text in items:
                edits.append((start, end, ["", under(title), "", *text.split("\n"), ""]))
            resume = "any"
        elif (token.type in ("bullet_list_open", "ordered_list_open") and token.level == 0
              and (titled := _list_of_titles(tokens, index))):
            # "- **Bajas**" over its own rules, indented: each title heads its rules, which
            # were otherwise one passage with every other title's.
            for first, title, (start, end) in titled:
                inner = lines[start:end]
                indent = min((len(line) - len(line.lstrip()) for line in inner if line.strip()),
                             default=0)
                edits.append((first, end, ["", under(title), "",
                                           *(line[indent:] for line in inner), ""]))
            resume = "any"
        elif token.type == "hr" and token.map:  # a rule: a row of symbols on a phone
            edits.append((token.map[0], token.map[1], [""]))
        elif token.type == "table_open":
            rows = []
            start, end = token.map or (0, 0)
        elif token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token.content.strip())
        elif token.type == "table_close":
            # A FAQ as a table ("Pregunta | Respuesta"): each question heads its answer.
            asked = [line for question, answer in _asked_in_table(rows)
                     for line in ("", under(question), "", answer, "")]
            edits.append((start, end, asked or [*table_markdown(rows).split("\n"), ""]))
            rows = []
    for start, end, replacement in reversed(edits):
        lines[start:end] = replacement
    return "\n".join(lines)


def load_text(path: Path) -> str:
    """A plain-text file, its title-like lines turned into headings."""
    return mark_headings(read_text(path))


def load_pdf(path: Path) -> str:
    """The text of every page of a PDF, without its page furniture, its title-like lines
    turned into headings."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path)
        # One protected against editing only opens with an empty password, which pypdf tries.
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeError(f"{path.name}: protected by a password; save a copy without "
                                 "one (print it to PDF) to use it")
        pages = [_styled_lines(page) for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError) as err:
        raise KnowledgeError(f"{path.name}: not a readable PDF ({err})") from err
    text = "\n\n".join(without_page_furniture(["\n".join(line for line, _ in page)
                                               for page in pages]))
    return mark_headings(HYPHENATED.sub(r"\1\n", text), titles=_titles_by_font(pages))


# A PDF sets its titles apart by their font: a line that reads as a title and is drawn
# wholly in a font `TITLE_SIZE` times the size of the text's, or in bold where the text is
# not, stays one among other short lines, which otherwise read as a list. A bouldering gym's
# rules, "ROCÓDROMO BLOQUE NORTE" / "Normas de uso y condiciones" / "Actualizadas en
# septiembre de 2026" over its first section's bold title "Primera visita", had lost that
# title with them. (Every line so drawn as a title, whatever the lines around it, lost three
# answers on the eval sets: a dance school's timetable a passage a day, a photo studio's
# packs apart from the wedding reportage they belong to.)
TITLE_SIZE = 1.15
BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
Style = tuple[float, bool]  # a font's size as drawn, and whether it is bold


def _styled_lines(page) -> list[tuple[str, Style | None]]:
    """A page's text (pypdf's), line by line, each line with the style all its letters are
    drawn in; `None` when they differ, or when the line is drawn in several pieces, as a
    table's row is, cell by cell (its header row is often bold)."""
    chunks: list[tuple[str, Style]] = []

    def visit(text: str, cm: list, tm: list, font: dict | None, size: float) -> None:
        scale = abs(tm[0] * cm[0]) if tm and cm and tm[0] and cm[0] else 1.0
        name = str((font or {}).get("/BaseFont", ""))
        chunks.append((text, (round(size * scale, 1), bool(BOLD_FONT.search(name)))))

    page.extract_text(visitor_text=visit)
    lines: list[tuple[str, list[Style]]] = [("", [])]
    for text, style in chunks:
        for n, piece in enumerate(text.split("\n")):
            if n:
                lines.append(("", []))
            line, styles = lines[-1]
            lines[-1] = (line + piece, styles + ([style] if piece.strip() else []))
    return [(line, styles[0] if len(styles) == 1 else None) for line, styles in lines]


def _titles_by_font(pages: list[list[tuple[str, Style | None]]]) -> frozenset[str]:
    """The lines drawn as titles (`TITLE_SIZE`); the text's style is the one most of its
    letters are drawn in."""
    weight: Counter[Style] = Counter()
    for page in pages:
        for line, style in page:
            if style is not None:
                weight[style] += len(line.strip())
    if not weight:
        return frozenset()
    size, bold = weight.most_common(1)[0][0]
    if size <= 0:  # no size to compare with (a font scaled some way pypdf does not report)
        return frozenset()
    return frozenset(
        line.strip() for page in pages for line, style in page
        if style is not None and 0 < len(line.strip()) <= MAX_HEADING_CHARS
        and (style[0] >= TITLE_SIZE * size or (style[1] and not bold and style[0] >= size))
        and not line.rstrip().endswith((".", ",", ";")) and any(c.isalpha() for c in line))


# "3", "- 3 -", "Página 3 de 12", "Pág. 3", "Page 3 of 12", "3/12".
PAGE_NUMBER = re.compile(r"[\s\-–—|·.(\[]*(?:p(?:á|a)g(?:ina)?\.?|page|p\.)?\s*\d{1,4}"
                         r"(?:\s*(?:de|of|/)\s*\d{1,4})?[\s\-–—|·.)\]]*", re.IGNORECASE)
# A footer that names the page after a title: "Óptica Marina - Página 1", "Acme | Page 2 of 5".
TITLED_PAGE_NUMBER = re.compile(r".{1,60}?\s[-–—|·]\s*(?:p(?:á|a)g(?:ina)?\.?|page)\s*\d{1,4}"
                                r"(?:\s*(?:de|of|/)\s*\d{1,4})?\s*", re.IGNORECASE)
# A word a justified PDF split at a line's end ("del to-" / "tal por"), whole again on the
# first line: between two lower-case letters, a hyphen at a line's end breaks a word.
HYPHENATED = re.compile(r"(?<=[a-zß-ÿ])-\n([a-zß-ÿ]\S*)[ \t]*")
EDGE_LINES = 2  # a page's header or footer: among its first or last two lines


def without_page_furniture(pages: list[str]) -> list[str]:
    """Pages without their numbers, and without the running header or footer that repeats
    on at least half of them (kept where it first appears: a title or an address once).

    Left in, a page number reads as a heading ("Página 2 de 5" heading the next section)
    or ends a passage, and a running header splits a section in two at every page break.
    """
    lines = [page.split("\n") for page in pages]

    def edges(page: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(page) if line.strip()]
        return sorted(set(filled[:EDGE_LINES] + filled[-EDGE_LINES:]))

    def shape(line: str) -> str:
        return re.sub(r"\d+", "#", " ".join(line.split()).lower())

    seen_on = Counter(key for page in lines for key in {shape(page[i]) for i in edges(page)})
    running = {key for key, count in seen_on.items() if count >= max(2, len(pages) / 2)}
    met: set[str] = set()
    for page in lines:
        for i in edges(page):
            key = shape(page[i])
            if (PAGE_NUMBER.fullmatch(page[i].strip()) or key in met
                    or TITLED_PAGE_NUMBER.fullmatch(page[i].strip())):
                page[i] = ""
            elif key in running:
                met.add(key)
    return ["\n".join(page) for page in lines]


def load_docx(path: Path) -> str:
    """A Word document as markdown: its Title and Heading styles as headings, list paragraphs
    as items, tables as a list item per row naming its columns, a bold line as a heading."""
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = Document(str(path))
        blocks = list(document.iter_inner_content())
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as err:
        raise KnowledgeError(f"{path.name}: not a readable Word document ({err})") from err
    # Bold lines in more than one size: the larger, the higher the heading ("a title in
    # 14 pt bold over sections in 11 pt bold", as documents written without styles are).
    default = document.styles.element.xpath("./w:docDefaults/w:rPrDefault/w:rPr/w:sz/@w:val")
    base = int(default[0]) * 6350 if default and default[0].isdigit() else 0  # half points
    sizes = sorted({_size(block, base) for block in blocks
                    if not isinstance(block, Table) and _bold(block)}, reverse=True)
    levels = dict(zip(sizes, range(1, len(HEADERS)), strict=False)) if len(sizes) > 1 else {}
    out: list[str] = []
    step = 0  # the number of the last item of a numbered list ("List Number" style)
    for block in blocks:
        if isinstance(block, Table):
            # A merged cell repeats its text in each cell it spans.
            out.append(table_markdown([list(dict.fromkeys(cell.text.strip() for cell in row.cells))
                                       for row in block.rows]))
            step = 0
            continue
        text = " ".join(block.text.split())
        style = (block.style.name if block.style is not None else "").lower()
        if not text:
            continue
        step = step + 1 if style.startswith("list number") else 0
        if step:  # numbered steps keep their numbers: "1. Escríbenos...", "2. Dinos..."
            out.append(f"{step}. {text}")
        elif style == "title":
            out.append(f"# {text}")
        elif (level := re.fullmatch(r"heading (\d)", style)):
            out.append(f"{'#' * min(int(level[1]) + 1, 4)} {text}")
        # A numbered or bulleted paragraph of another style: python-docx has no public
        # property for its numbering.
        elif "list" in style or block._p.pPr is not None and block._p.pPr.numPr is not None:
            out.append(f"- {text}")
        elif _bold(block):
            level = levels.get(_size(block, base))
            out.append(f"{'#' * level} {text}" if level else f"**{text}**")
        else:
            out.append(text)
    return plain_markdown("\n\n".join(out))


def _bold(paragraph) -> bool:
    """Whether every word of a Word paragraph is bold."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def _size(paragraph, default: int) -> int:
    """The largest font size of a Word paragraph's words, in EMU: theirs, else their style's
    (or the style it is based on), else the document's `default`."""
    sizes = [run.font.size for run in paragraph.runs if run.text.strip() and run.font.size]
    style = paragraph.style
    while not sizes and style is not None:
        sizes = [style.font.size] if style.font.size else []
        style = style.base_style
    return max(sizes, default=default)


def load_html(path: Path) -> str:
    """An HTML page's readable content, as markdown (a bold line or a `<dt>` heads what
    follows it, as in a FAQ page)."""
    data = path.read_bytes()
    declared = HTML_CHARSET.search(data[:4096])
    parser = _HtmlToMarkdown()
    parser.feed(decode(data, path, declared and declared.group(1).decode("ascii")))
    parser.close()
    return plain_markdown(parser.markdown())


LOADERS: dict[str, Callable[[Path], str]] = {
    ".md": load_markdown, ".markdown": load_markdown, ".txt": load_text,
    ".pdf": load_pdf, ".html": load_html, ".htm": load_html, ".docx": load_docx,
}


# A copyright line ("© 2026 Nácar Estética · Aviso legal"): a page's furniture, not an answer.
COPYRIGHT = re.compile(r"^[ \t]*(?:©|\(c\)\s*\d{4}|copyright\b)[^\n]{0,120}$\n?",
                       re.IGNORECASE | re.MULTILINE)


def read_folder(directory: str | Path) -> list[tuple[str, str]]:
    """`(file name, markdown)` for every supported file under `directory`, sorted by path.

    A missing or empty folder, or a file that cannot be read, raises `KnowledgeError` naming it:
    a bot with no documents would refuse every question without saying why.
    """
    root = Path(directory)
    if not root.is_dir():
        raise KnowledgeError(f"KNOWLEDGE_DIR={str(directory)!r} is not a folder")
    found = sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith((".", "~$")) for part in p.relative_to(root).parts))
    files = [p for p in found if p.suffix.lower() in LOADERS]
    if left := [str(p.relative_to(root)) for p in found if p.suffix.lower() not in LOADERS]:
        log.warning("knowledge files left out: %d not of a type read (only %s): %s%s",
                    len(left), ", ".join(sorted(LOADERS)), ", ".join(left[:5]),
                    f" and {len(left) - 5} more" if len(left) > 5 else "")
    documents = []
    for path in files:
        name = str(path.relative_to(root))
        try:
            text = LOADERS[path.suffix.lower()](path)
        except KnowledgeError:
            raise
        except (OSError, UnicodeDecodeError) as err:
            raise KnowledgeError(f"{name}: cannot be read ({type(err).__name__}: {err})") from err
        text = COPYRIGHT.sub("", text)
        if text.strip():
            documents.append((name, text))
        elif name.lower().endswith(".pdf"):  # a scan: its pages are images
            log.warning("knowledge file %s has no text, left out (a scanned PDF needs OCR "
                        "first)", name)
        else:
            log.warning("knowledge file %s has no text, left out", name)
    if not documents:
        raise KnowledgeError(f"KNOWLEDGE_DIR={str(directory)!r} has no document with text "
                             f"(looked for {', '.join(sorted(LOADERS))})")
    return documents


# Plain text's own heading marks: a line of =, -, ~, *, _ or # under a title (or alone, a
# rule); a title between runs of them ("*** Envíos ***", "== Pagos =="); a numbered title in
# capitals ("2. DATOS QUE GUARDAMOS").
RULE = re.compile(r"\s*([=\-~*_#])\1{2,}\s*")
DECORATED = re.compile(r"\s*([=\-~*#_]{2,})\s*(?P<title>[^=\-~*#_\s][^=~*#_]*?)\s*[=\-~*#_]*\s*")
NUMBERED_CAPS = re.compile(r"\s*\d{1,2}(?:\.\d{1,2})*[.)]?\s+[^a-zà-ÿ]*[A-ZÀ-Ý][^a-zà-ÿ]*")
# A title's label and number, as rules and terms number theirs: "Artículo 5. ", "Cláusula 2 -
# ", "Section 3: ".
LABELLED = (r"(?i:art[íi]culo|art\.|article|cap[íi]tulo|chapter|cl[áa]usula|clause|secci[óo]n|"
            r"section|apartado|anexo|annex|parte|part)\s+(?:\d{1,3}(?:\.\d{1,3})*|[IVXLC]{1,6})"
            r"[º°]?\s*(?:[.):]|\.?\s*[-–—])?\s*")
# What numbers a title: that, or "3. ", "2.1. ", "IV. ".
NUMBERED = re.compile(rf"(?:{LABELLED}|\d{{1,3}}(?:\.\d{{1,3}})*[.)](?:\s*[-–—](?=\s))?|"
                      rf"[IVXLC]{{1,6}}[.)](?=\s))\s*")
# A labelled title: what follows its number starts as a title does and ends no sentence.
LABELLED_TITLE = re.compile(rf"\s*{LABELLED}[A-ZÀ-Ý¿][^.!?]*[^\s.,;:!?]\s*")
# A clause numbered in words, as Spanish contracts number theirs: "PRIMERA.- ", "Segundo. ".
ORDINAL = (r"(?i:(?:d[ée]cim[ao]\s*)?(?:primer[ao]?|segund[ao]|tercer[ao]?|cuart[ao]|quint[ao]|"
           r"sext[ao]|s[ée]ptim[ao]|octav[ao]|noven[ao])|d[ée]cim[ao]|und[ée]cim[ao]|"
           r"duod[ée]cim[ao])\s*(?:\.\s*-?|-|:)\s*")
# A numbered title in capitals that its section's text follows on the same line, as terms
# and conditions write theirs: "4. RECLAMACIONES. Dispones de 7 días desde la entrega...",
# "PRIMERA.- OBJETO. La empresa cede...".
RUN_IN_TITLE = re.compile(
    rf"(?P<title>\s*(?:{LABELLED}|{ORDINAL}|\d{{1,2}}(?:\.\d{{1,2}})*[.)]\s*)"
    r"[A-ZÀ-Ý][^a-zà-ÿ.:!?]*[A-ZÀ-Ý]{3}[^a-zà-ÿ.:!?]*?)\s*[.:]\s+(?P<text>\S.*)")
# A labelled clause's title in plain case, run into its text as well: "Artículo 2. Seguro.
# Todas las mudanzas incluyen...", "Cláusula 4.- Duración: el contrato...". The label says it
# is a title; a sentence so numbered is longer than `LABEL_HEADING_WORDS` words.
LABELLED_RUN_IN = re.compile(
    rf"(?P<title>\s*(?:{LABELLED}|{ORDINAL})[A-ZÀ-Ý¿][^.:!?]*?)\s*[.:]\s+(?P<text>\S.*)")
# A label in capitals run into a sentence of its own: "HORARIO: de lunes a sábado de 9:00 a
# 20:00." (a price list's "CORTE: 15 €" is a list's line, not a title: its text is a value).
CAPS_LABEL_RUN_IN = re.compile(
    r"(?P<title>\s*[A-ZÀ-Ý][A-ZÀ-Ý ]{2,40}?)\s*:\s+(?P<text>\S+(?:\s+\S+){3,}.*)")
# A short label after an emoji, run into a sentence: "📌 Horario: de lunes a viernes...".
EMOJI_LABEL_RUN_IN = re.compile(
    rf"(?P<title>\s*(?:{EMOJI}){{1,2}}[A-ZÀ-Ý][^:.!?]{{1,30}}?)"
    r"\s*:\s+(?P<text>\S+(?:\s+\S+){3,}.*)")
# A title in WhatsApp's bold, as a business copies its messages into a text file:
# "*HORARIO*", "*Tienda Animalia* 🐾".
WHATSAPP_TITLE = re.compile(r"\s*\*(?P<title>[^*\s][^*\n]{0,68}[^*\s]|[^*\s])\*"
                            r"(?P<after>(?:\s*[^\w\s*]\ufe0f?)*)\s*")
# A question and its answer on one line: "¿Hay parking? - No, el Casco Viejo es peatonal.",
# "Is there parking? – No."
QUESTION_RUN_IN = re.compile(r"(?P<title>\s*(?:¿[^?¿]{2,148}|[A-ZÀ-Ý][^?¿]{2,148})\?)"
                             r"\s*[-–—]\s+(?P<text>\S.*)")
# Such a clause's title alone on its line: "SEGUNDA. DURACIÓN".
ORDINAL_CAPS = re.compile(rf"\s*{ORDINAL}[^a-zà-ÿ]*[A-ZÀ-Ý][^a-zà-ÿ]*")
# A WhatsApp Business quick reply's shortcut on a line of its own, its message below:
# "/horario". It heads the message, without its slash.
SHORTCUT = re.compile(r"\s*/(?P<name>[^\W\d_][\w-]{1,30})\s*")


def mark_headings(text: str, titles: Container[str] = frozenset()) -> str:
    """Plain text with `## ` before each line that reads as a heading (`# ` before a heading
    that is followed at once by another, as a document's title is, or underlined with `=`);
    a run of short lines is a list, but for those of them that are `titles` (a PDF's lines
    drawn as titles, `_titles_by_font`). Underlines and rules are dropped: on a phone they
    are a row of symbols."""
    text = without_contents(text.replace("\r\n", "\n"))
    lines = [BULLET.sub("- ", line.rstrip(), count=1) if BULLET.match(line) else line.rstrip()
             for line in LEADER.sub(": ", text).split("\n")]
    lines = [part for line in _labels_apart(lines) for part in _run_in_title_apart(line)]
    marked: dict[int, str] = {}  # line index -> "#" or "##", from the text's own marks
    for i, line in enumerate(lines):
        if RULE.fullmatch(line):
            title = lines[i - 1].strip() if i else ""
            if title and not RULE.fullmatch(title) and len(title) <= MAX_HEADING_CHARS and (
                    not title.endswith((".", ",", ";", "!"))):
                marked[i - 1] = "#" if line.strip()[0] == "=" else "##"
            lines[i] = ""
        elif len(line.strip()) > 2 * MAX_HEADING_CHARS:  # a paragraph: no title
            continue
        elif (decorated := DECORATED.fullmatch(line)) and len(
                decorated["title"]) <= MAX_HEADING_CHARS:
            lines[i], marked[i] = decorated["title"], "##"
        elif (NUMBERED_CAPS.fullmatch(line) or LABELLED_TITLE.fullmatch(line)
              or ORDINAL_CAPS.fullmatch(line)) and len(
                line.strip()) <= MAX_HEADING_CHARS:
            marked[i] = "##"
        elif whatsapp := WHATSAPP_TITLE.fullmatch(line):
            lines[i] = f"{whatsapp['title']}{whatsapp['after']}".strip()
            marked[i] = "##"
        elif shortcut := SHORTCUT.fullmatch(line):
            name = shortcut["name"].replace("_", " ").replace("-", " ")
            lines[i], marked[i] = name[:1].upper() + name[1:], "##"
    filled = [i for i, line in enumerate(lines) if line.strip()]
    width = _wrap_width([lines[i] for i in filled])
    heading: dict[int, str] = {}
    for n, i in enumerate(filled):
        before = lines[filled[n - 1]] if n else ""
        after = lines[filled[n + 1]] if n + 1 < len(filled) else ""
        if i in marked:
            heading[n] = marked[i]
        elif MARKED_QUESTION.fullmatch(lines[i]) and len(lines[i].strip()) <= (
                MAX_QUESTION_CHARS) and after:
            heading[n] = "##"
        elif (label := LABEL_HEADING.fullmatch(lines[i])) and after and (
                i == 0 or not lines[i - 1].strip()) and len(
                label["title"].split()) <= LABEL_HEADING_WORDS:
            lines[i], heading[n] = label["title"], "##"
        elif (asked := _asked_item(lines[i], after)) and _is_heading(
                asked, before, after, blank_before=True):
            lines[i], heading[n] = asked, "##"
        elif _is_heading(lines[i], before, after,
                         blank_before=i == 0 or not lines[i - 1].strip()
                         or _ended_short(before, lines[i], width)):
            heading[n] = ""
    listed = _unmark_lists(heading, [i == 0 or not lines[i - 1].strip() or lines[i].strip()
                                     in titles or _number(lines[i]) is not None for i in filled])
    items = listed | _list_lines([lines[i].strip() for i in filled], heading)
    breaks = _breaks(items, len(filled), heading)
    out = []
    for n, i in enumerate(filled):
        line = lines[i]
        if n in heading:
            level = heading[n] or ("#" if n + 1 in heading else "##")
            if question := MARKED_QUESTION.fullmatch(line):
                line = question["question"]
            out.extend(["", f"{level} {line.strip()}", ""])
        else:
            if n - 1 in heading and MARKED_QUESTION.fullmatch(lines[filled[n - 1]]):
                line = MARKED_ANSWER.sub("", line, count=1)  # "R: Sí, ..." is "Sí, ..."
            out.append(("\n" if i and not lines[i - 1].strip() else "") + line)
            if n in breaks:
                out.append("")
    return "\n".join(out)


def _wrap_width(lines: list[str]) -> int:
    """The width a hard-wrapped text's lines were wrapped at, in characters; 0 when too few
    lines are long enough to tell."""
    long = sorted(len(line.strip()) for line in lines if len(line.strip()) > MAX_HEADING_CHARS)
    return long[int(WIDTH_RANK * (len(long) - 1))] if len(long) >= WIDTH_LINES else 0


def _ended_short(before: str, line: str, width: int) -> bool:
    """Whether `before`, a long line that ends no sentence, ends where the first word of
    `line` would still have fitted in the text's `width`: not wrapped, so `line` starts a
    block."""
    before, first = before.strip(), line.split()[:1]
    return bool(width and first and len(before) > MAX_HEADING_CHARS
                and not before.endswith(SENTENCE_END)
                and len(before) + 1 + len(first[0]) <= FILLED * width)


def _asked_item(line: str, after: str) -> str | None:
    """The question of a list's item that asks one and has its answer below, not as the next
    item ("- ¿Qué carnet necesito?" over "  Con el carnet B..."); else `None`. Questions
    listed one after another, with no answers, are a list."""
    item = ITEM.match(line)
    if item is None or ITEM.match(after) or not line.rstrip().endswith("?"):
        return None
    return line[item.end():].strip()


def _labels_apart(lines: list[str]) -> list[str]:
    """`lines` with each run of labels and their texts ("Envíos: enviamos a toda España...",
    one after another or between blank lines; not a FAQ's "P:" and "R:") that `_labelled`
    reads as such, written as a label on a line of its own ("Envíos:", which heads what
    follows) over its text. A text hard-wrapped in the middle of a sentence runs on over the
    lines after its label ("Opening hours: every day ... In winter (December to" / "March)
    we open at weekends only"): they had ended the run, and its labels each stayed in one
    passage with the rest of a page for visitors."""
    out: list[str] = []
    run: list[list[str]] = []  # a label's line and the lines its text runs on over, or a blank
    for line in [*lines, None]:
        if line is not None and (not line.strip() or (
                LABEL_RUN_IN.fullmatch(line) and not (
                    MARKED_QUESTION.fullmatch(line) or MARKED_ANSWER.match(line)))):
            run.append([line])
            continue
        if line is not None and run and run[-1][-1].strip() and not run[-1][-1].rstrip(
                ).endswith(SENTENCE_END):
            run[-1].append(line)
            continue
        items = [item for item in run if item[0].strip()]
        labelled = iter(_labelled([" ".join(item) for item in items], LABEL_RUN_IN))
        for item in run:
            pair = next(labelled, None) if item[0].strip() else None
            if pair:
                first = LABEL_RUN_IN.fullmatch(item[0])
                out += ["", f"{pair[0]}:", first["text"].strip(), *item[1:]]
            else:
                out += item
        run = []
        if line is not None:
            out.append(line)
    return out


def _run_in_title_apart(line: str) -> tuple[str, ...]:
    """A line that opens with a numbered title in capitals, a labelled one or a label in
    capitals in a few words, or a question, as the title's line and its text's ("4.
    RECLAMACIONES", "Dispones de 7 días..."; "Artículo 2. Seguro", "Todas las mudanzas...";
    "HORARIO", "de lunes a sábado..."; "¿Hay parking?", "No, el Casco Viejo..."); any other
    line, alone."""
    run_in = RUN_IN_TITLE.fullmatch(line) or QUESTION_RUN_IN.fullmatch(line)
    for labelled in (LABELLED_RUN_IN, CAPS_LABEL_RUN_IN, EMOJI_LABEL_RUN_IN):
        if run_in is None and (found := labelled.fullmatch(line)) and len(
                _unnumbered(found["title"]).split()) <= LABEL_HEADING_WORDS:
            run_in = found
    if run_in is None or len(run_in["title"].strip()) > MAX_HEADING_CHARS:
        return (line,)
    return run_in["title"], run_in["text"]


def without_contents(text: str) -> str:
    """`text` without its table of contents: the entries whose title is also a line of its
    own (the section it heads), and the table's own title. Left in, a document's every title
    sat in one passage, which a question on any of them found ("horario" in "1. Horario de
    atención: 2")."""
    lines = text.split("\n")
    written = {" ".join(line.split()).casefold() for line in lines}
    entries = [i for i, line in enumerate(lines)
               if (entry := CONTENTS_ENTRY.fullmatch(line))
               and " ".join(entry["title"].split()).casefold() in written]
    if len(entries) < 2:  # one line with a leader and a number is a price or a time
        return text
    before = [i for i in range(entries[0]) if lines[i].strip()]
    if before and CONTENTS_TITLE.fullmatch(lines[before[-1]]):
        entries.append(before[-1])
    dropped = set(entries)
    return "\n".join(line for i, line in enumerate(lines) if i not in dropped)


def _breaks(items: set[int], count: int, heading: Container[int]) -> set[int]:
    """The lines after which a paragraph ends, so that each of `items` stands on a line of
    its own, on a phone too (the splitter writes a paragraph's end as a hard break)."""
    return {m for n in items for m in (n - 1, n)
            if m >= 0 and m not in heading and m + 1 < count and m + 1 not in heading}


def _list_lines(rows: list[str], heading: dict[int, str]) -> set[int]:
    """The rows of plain text or PDF that are a list's lines, unmarked: two or more in a row,
    each whole (the row before ended, the next starts anew) and shaped as a price list's line
    or a label and its value ("Sesión de 45 min: 40 €", "Sábados: de 9:00 a 13:00"). On a
    phone a paragraph's lines are joined, and a price list's would run into one line."""
    shaped = [n not in heading and _list_shaped(row) for n, row in enumerate(rows)]
    whole = [shaped[n] and (n == 0 or n - 1 in heading or shaped[n - 1]
                            or rows[n - 1].endswith(SENTENCE_END))
             and not (n + 1 < len(rows) and rows[n + 1][:1].islower())
             for n in range(len(rows))]
    return {n for n in range(len(rows)) if whole[n] and (
        (n and whole[n - 1]) or (n + 1 < len(rows) and whole[n + 1]))}


def _list_shaped(row: str) -> bool:
    """A line whose every sentence ends with a figure ("...: 50 €", "12 € por rueda.") or
    gives a short label its value, starting as an item does."""
    if not (row[:1].isupper() or row[:1].isdigit()) or len(row) > 2 * MAX_LIST_LINE_CHARS:
        return False
    return all(_item_shaped(sentence)
               for sentence in re.split(r"(?<=[.!?])\s+(?=[¿¡]?[A-ZÀ-Ý])", row))


def _item_shaped(sentence: str) -> bool:
    """One sentence that a price list's line could be."""
    if len(sentence) > MAX_LIST_LINE_CHARS:
        return False
    figures = list(FIGURE.finditer(sentence))
    label = LABEL_VALUE.fullmatch(sentence)
    # Two figures or more: a table's row, its columns joined ("Parcela 28 € 36 € en julio
    # y agosto", "Lunes 9:00 14:00"), whatever its last column says.
    return bool(figures and (len(figures) > 1
                             or len(sentence) - figures[-1].end() <= FIGURE_TAIL_CHARS)) or bool(
        label and len(sentence.split(":")[0].split()) <= LABEL_WORDS) or bool(
        VALUE_WORDS.search(sentence))


def _unmark_lists(heading: dict[int, str], apart: list[bool]) -> set[int]:
    """Drop guessed headings (`""`) that come `HEADINGS_IN_A_ROW` or more in a row, but those
    a blank line sets apart or a number heads (`apart`, the text's first line included; a
    list's numbered steps were told from titles by `_is_heading`): a list's short lines
    ("Corte de pelo", "Tinte", "Mechas"), which would otherwise each head an empty section
    and be lost. A document's title and subtitle before its first numbered section are no
    list. Returns the lines unmarked."""
    unmarked: set[int] = set()
    n, count = 0, len(apart)
    while n < count:
        end = n
        while end < count and heading.get(end) == "":
            end += 1
        if end - n >= HEADINGS_IN_A_ROW:
            for row in range(n, end):
                if not apart[row]:
                    del heading[row]
                    unmarked.add(row)
        n = end + 1
    return unmarked


def _unnumbered(line: str) -> str:
    """`line` without the number or the label and number that open it, if any."""
    return NUMBERED.sub("", line, count=1) if NUMBERED.match(line) else line


def _number(line: str) -> int | None:
    """The number that opens `line` as a list's item or a title's ("3. ", "3) ", "3.- "), if
    any."""
    found = re.match(r"\s*(\d{1,3})[.)](?:\s*[-–—])?\s", line)
    return int(found[1]) if found else None


def _one_sentence(line: str) -> bool:
    """Whether `line` holds at most one sentence, its number ("3. ", "Artículo 3. ") aside:
    two are prose, not a title."""
    return not re.search(r"[.!?…]\s", _unnumbered(line))


def _asks(line: str) -> bool:
    """Whether `line` is one question that may head its answer ("¿Hacéis envíos?", "3. Do
    you ship?"), not prose that ends with one ("Si tienes dudas, escribe. ¿Vale?")."""
    return (line.endswith("?") and len(line) <= MAX_QUESTION_CHARS and _one_sentence(line)
            and bool(QUESTION.fullmatch(line)))


def _is_heading(line: str, before: str, after: str, blank_before: bool) -> bool:
    stripped, before = line.strip(), before.strip()
    # It starts a block: after a blank line, a sentence's end (a PDF's text has no blank
    # lines) or a heading; a wrapped paragraph's line follows a line that ends no sentence.
    # A short list item ends its line whatever its last mark: "- Tarjeta sanitaria
    # (original)" before the title of what not to bring.
    starts = blank_before or not before or before.endswith((".", "!", "?", ":")) or (
        len(before) <= MAX_HEADING_CHARS and (not before.endswith(SENTENCE_END)
                                              or bool(ITEM.match(before))))
    if not (stripped and after and starts and _one_sentence(stripped)):
        return False
    if stripped.endswith("?"):  # a FAQ's question, its answer below: it heads that answer
        # One in lower case ("donde estais?") only where a block surely starts: after a
        # short line that ends no sentence, it is that line's sentence, wrapped.
        return _asks(stripped) and not (
            stripped[:1].islower() and not blank_before and before
            and not before.endswith((".", "!", "?", ":")))
    # A narrow column's lines (a PDF's) are short and end no sentence, as titles do; but the
    # sentence goes on: the line ends open, or a long one runs into a line in lower case.
    words = stripped.split()
    if words[-1].lower() in OPEN_ENDED or (
            len(words) >= WRAPPED_WORDS and after.strip()[:1].islower()
            and not _asks(after.strip())):  # a question in lower case starts anew
        return False
    # A numbered list's steps ("1. Trae tu DNI", "2. Rellena el formulario") follow each
    # other; numbered titles have their sections between them.
    number = _number(stripped)
    if number is not None and (_number(before) == number - 1 or _number(after) == number + 1):
        return False
    # Its number and an emoji or two before it aside ("2. Precios", "Artículo 2: Horario",
    # "🦷 CLÍNICA DENTAL SONRÍE"): a title starts in capitals, and gives no label its value.
    title = EMOJI_LEAD.sub("", _unnumbered(stripped), count=1)
    # A title may close with a remark in brackets: "Tarifas 2026 (IVA no incluido)".
    closed = re.sub(r"\s*\([^()]*\)$", "", stripped) or stripped
    # A price list's first row whose value is a word ("Montaje de muebles incluido") is a
    # row of the list below it, not its title.
    return (len(stripped) <= MAX_HEADING_CHARS and not closed.endswith(SENTENCE_END)
            and title[:1].isupper() and not stripped.startswith(("-", "*", "•"))
            and not FIGURE.search(title) and not LABEL_VALUE.fullmatch(title)
            and not gives_contact(stripped)
            and not (VALUE_WORDS.search(stripped) and _list_shaped(after.strip())))


class _HtmlToMarkdown(HTMLParser):
    """Headings, paragraphs, list items, tables (a list item per row) and line breaks; nothing
    from skipped elements. A footer's own text is kept, its links left out: it is where a
    site writes the business's address and phone number, often nowhere else."""

    SKIP = frozenset({"script", "style", "nav", "header", "noscript", "template",
                      "svg", "form", "button", "head"})
    # Site builders draw menus, headers, footers and cookie notices with plain elements and
    # say what they are in a class, an id or a role ("site-header", "main-menu").
    FURNITURE = re.compile(r"(?:site|main|page|top|primary)?[-_]?(?:header|footer|nav|navbar|"
                           r"navigation|menu|menubar|breadcrumbs?|cookies?|cookie[-_](?:banner|"
                           r"notice|consent))", re.IGNORECASE)
    FURNITURE_ROLES = frozenset({"navigation", "banner", "menu", "menubar"})
    FOOTER = re.compile(r"(?:site|main|page)?[-_]?footer", re.IGNORECASE)
    # A footer's link that is itself the business's contact: an address to write or call.
    CONTACT_LINK = re.compile(r"\s*(?:mailto|tel|sms|https?://wa\.me)\b", re.IGNORECASE)
    VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "source", "wbr", "area",
                      "base", "col", "embed", "track", "param"})
    BLOCKS = frozenset({"p", "div", "section", "article", "main", "tr", "ul", "ol",
                        "dl", "blockquote", "pre", "br", "hr"})
    # An accordion's button, which shows its panel: a FAQ's question, as a <summary> is.
    # Accessible ones say so (ARIA's disclosure pattern); others, in their class.
    DISCLOSES = frozenset({"aria-expanded", "aria-controls", "data-toggle", "data-bs-toggle"})
    DISCLOSURE_CLASS = re.compile(r"(?i).*(?:accordion|collapse|toggle|faq|question|pregunta)")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.tables = 0  # how deep in tables; an inner table is read as its outer cell's text
        self.rows: list[list[str]] = []
        self.header = False  # the first row is of <th> cells
        self.cell: int | None = None  # where in `parts` the open cell's text starts
        self.furniture: list[list] = []  # [tag, how many of that tag are open] per skipped one
        self.footer: list | None = None  # [tag, how many open, where in `parts` it starts]
        self.title: list[str] | None = None  # the page's <title>, while it is being read
        self.page_title = ""
        self.disclosure = False  # in an accordion's button (`DISCLOSES`)

    @staticmethod
    def _named(attrs: list) -> tuple[str, list[str]]:
        """An element's role, and the words of its class and id: what it says it is."""
        values = dict(attrs)
        return (str(values.get("role") or "").lower(),
                f"{values.get('class') or ''} {values.get('id') or ''}".split())

    def _is_furniture(self, tag: str, attrs: list) -> bool:
        if tag in self.VOID:
            return False
        role, names = self._named(attrs)
        return role in self.FURNITURE_ROLES or any(
            self.FURNITURE.fullmatch(name) and not self.FOOTER.fullmatch(name) for name in names)

    def _discloses(self, attrs: list) -> bool:
        """Whether a button shows a panel, as an accordion's do."""
        _, names = self._named(attrs)
        return bool(self.DISCLOSES.intersection(name for name, _ in attrs)) or any(
            self.DISCLOSURE_CLASS.match(name) for name in names)

    def _is_footer(self, tag: str, attrs: list) -> bool:
        if tag in self.VOID or self.footer is not None:
            return False
        role, names = self._named(attrs)
        return tag == "footer" or role == "contentinfo" or any(
            self.FOOTER.fullmatch(name) for name in names)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "title" and self.page_title == "":
            self.title = []
        if self.furniture and tag == self.furniture[-1][0]:
            self.furniture[-1][1] += 1  # an element of the same tag inside a skipped one
            return
        if self.footer is not None and tag == self.footer[0]:
            self.footer[1] += 1
        elif not self.skipping and self._is_footer(tag, attrs):
            self.footer = [tag, 1, len(self.parts)]
        if self.footer is not None and tag == "a" and not self.CONTACT_LINK.match(
                str(dict(attrs).get("href") or "")):
            self.furniture.append([tag, 1])  # its menu, legal pages, social networks
            self.skipping += 1
            return
        if tag == "button" and not self.skipping and not self.tables and self._discloses(attrs):
            self.disclosure = True
            self.parts.append("\n\n**")
            return
        if tag in self.SKIP or self._is_furniture(tag, attrs):
            if tag not in self.SKIP:
                self.furniture.append([tag, 1])
            self.skipping += 1
            return
        if self.skipping:
            return
        if tag == "table":
            self.tables += 1
            if self.tables == 1:
                self.rows, self.header, self.cell = [], False, None
                self.parts.append("\n\n")
        elif self.tables == 1 and tag == "tr":
            self._close_cell()
            self.rows.append([])
        elif self.tables == 1 and tag in ("td", "th"):
            self._close_cell()
            if not self.rows:
                self.rows.append([])
            self.header = self.header or (len(self.rows) == 1 and tag == "th")
            self.cell = len(self.parts)
        elif re.fullmatch(r"h[1-6]", tag):  # h5 and h6 as h4: the splitter's last level
            self.parts.append(f"\n\n{'#' * min(int(tag[1]), len(HEADERS))} ")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in ("strong", "b"):
            self.parts.append("**")
        elif tag in ("dt", "summary") and not self.tables:  # a FAQ's question, in bold
            self.parts.append("\n\n**")
        elif tag in self.BLOCKS or tag in ("td", "th", "dt", "dd"):
            self.parts.append("\n\n" if tag in self.BLOCKS and not self.tables else " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self.title is not None:
            self.page_title, self.title = " ".join("".join(self.title).split()), None
        if tag in ("body", "html"):  # whatever was left open ends with the page
            self.furniture, self.skipping = [], 0
            self._close_footer()
            return
        if self.footer is not None and tag == self.footer[0] and not (
                self.furniture and tag == self.furniture[-1][0]):
            self.footer[1] -= 1
            if not self.footer[1]:
                self._close_footer()
                return
        if self.furniture and tag == self.furniture[-1][0]:
            self.furniture[-1][1] -= 1
            if not self.furniture[-1][1]:
                self.furniture.pop()
                self.skipping = max(0, self.skipping - 1)
            return
        if tag == "button" and self.disclosure:
            self.disclosure = False
            self.parts.append("**\n")
            return
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping:
            return
        if tag == "table" and self.tables:
            self.tables -= 1
            if not self.tables:
                self._close_cell()
                self.parts.append(self._table())
        elif self.tables == 1 and tag in ("td", "th"):
            self._close_cell()
        elif re.fullmatch(r"h[1-6]", tag) or (tag in self.BLOCKS and not self.tables):
            self.parts.append("\n\n")
        elif tag in ("strong", "b"):
            self.parts.append("**")
        elif tag in ("dt", "summary") and not self.tables:
            self.parts.append("**\n")

    def _close_cell(self) -> None:
        if self.cell is not None:
            text = re.sub(r"\s+", " ", "".join(self.parts[self.cell:])).strip()
            del self.parts[self.cell:]
            self.rows[-1].append(text)
            self.cell = None

    def _table(self) -> str:
        if asked := _asked_in_table(self.rows):  # a FAQ as a list, which markdown reads as one
            return "\n\n" + "\n".join(f"- **{q}** {a}" for q, a in asked) + "\n\n"
        header = self.header or _names_columns(self.rows)
        return f"\n\n{table_markdown(self.rows, header=header)}\n\n"

    def handle_data(self, data: str) -> None:
        if self.title is not None:
            self.title.append(data)
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))

    def _close_footer(self) -> None:
        """The footer's text, if any is left, as a section of its own under the page's title
        (else it would end the page's last section): its lines with a word or a figure,
        without the separators its links stood between."""
        if self.footer is None:
            return
        start, self.footer = self.footer[2], None
        text = re.sub(r"\s*\n\s*", "\n", "".join(self.parts[start:]))
        lines = [re.sub(r"^[\s·|•–—-]+|[\s·|•–—-]+$", "", line) for line in text.split("\n")]
        kept = [line for line in lines if re.search(r"[^\W_]", line)]
        del self.parts[start:]
        if kept:
            self.parts.append("\n\n" + (f"# {self.page_title}\n\n" if self.page_title else "")
                              + "\n\n".join(kept) + "\n\n")

    def markdown(self) -> str:
        """The collected text, one blank line between blocks."""
        text = re.sub(r"[ \t]*\n[ \t]*", "\n", "".join(self.parts))
        return re.sub(r"\n{3,}", "\n\n", text).strip()
