"""Turn a bot answer (often markdown) into WhatsApp messages under a provider's length limit.

WhatsApp markup: `*bold*`, `_italic_`, `~strike~`, ```` ```code``` ````, `` `inline` ``.
Lengths are counted conservatively, in UTF-16 code units: an emoji outside the Basic
Multilingual Plane takes two of the limit (Twilio counts emoji as more than one character).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import takewhile

from markdown_it import MarkdownIt
from markdown_it.token import Token

SENTENCE_END = re.compile(r"[.!?…](?=\s)")
# Spans a split must not cut through: code, and one-line formatting spans.
PROTECTED = re.compile(r"```.*?```|`[^`\n]+`|\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~", re.DOTALL)
FENCE = "```"
BLANK_RUNS = re.compile(r"\n{3,}")


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def format_text(text: str, max_len: int) -> list[str]:
    """WhatsApp-ready parts of `text`, none longer than `max_len`; nothing is dropped."""
    return list(_formatted(text, max_len))


@lru_cache(maxsize=512)
def _formatted(text: str, max_len: int) -> tuple[str, ...]:
    # A bot over one business's documents gives the same answers again and again.
    text = to_whatsapp(text)
    return tuple(split_text(text, max_len)) if text else ()


def to_whatsapp(text: str) -> str:
    """Markdown, parsed by markdown-it, rendered in WhatsApp markup.

    A paragraph's hard-wrapped lines are joined (a phone wraps by itself), emphasis may nest
    (`***x***` is `_*x*_`), escaped characters stay literal, headings become bold lines, links
    `label (url)`, bullets `•`; code is left as it is.
    """
    tokens = _MARKDOWN.parse(text.replace("\r\n", "\n").strip())
    return BLANK_RUNS.sub("\n\n", _Renderer().blocks(tokens)).strip()


_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable(["strikethrough", "table"])
INLINE_MARKS = {"strong": "*", "em": "_", "s": "~"}


def table_row(header: list[str], row: list[str]) -> str:
    """One row of a table as a line that reads on its own: `label: value` for two columns,
    `label — Name: value, Name: value` for more (a phone cannot show the columns)."""
    label, *values = [*row, *[""] * (len(header) - len(row))][:len(header)]
    named = [f"{name}: {value}" if name and len(header) > 2 else value
             for name, value in zip(header[1:], values, strict=True) if value]
    if not named:
        return label
    return f"{label}{': ' if len(header) == 2 else ' — '}{', '.join(named)}" if label else (
        ", ".join(named))


class _Renderer:
    """Walks markdown-it's block tokens; one instance per text."""

    def __init__(self) -> None:
        self.lists: list[list[int | None]] = []  # per open list: the next number, or None
        self.table: list[list[str]] | None = None  # the rows of the table being read

    def blocks(self, tokens: list[Token]) -> str:
        out: list[str] = []
        for index, token in enumerate(tokens):
            kind = token.type
            if kind == "table_open":
                self.table = []
            elif self.table is not None:
                if kind == "tr_open":
                    self.table.append([])
                elif kind == "inline":
                    self.table[-1].append(self.inline(token.children or []).strip())
                elif kind == "table_close":
                    header, *body = self.table
                    out.append("".join(f"• {table_row(header, row)}\n" for row in body) + "\n")
                    self.table = None
            elif kind == "inline" and index and tokens[index - 1].type == "heading_open":
                # A heading is one bold line; emphasis inside it would only double the marks.
                out.append(f"*{self.inline(token.children or []).strip('*_ ')}*\n")
            elif kind == "inline":
                out.append(self.inline(token.children or []))
            elif kind in ("fence", "code_block"):
                out.append(f"{FENCE}\n{token.content.rstrip(chr(10))}\n{FENCE}\n\n")
            elif kind in ("bullet_list_open", "ordered_list_open"):
                start = int(token.attrGet("start") or 1) if kind == "ordered_list_open" else None
                self.lists.append([start])
                out.append("\n" if len(self.lists) > 1 else "")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                out.append("" if self.lists else "\n")
            elif kind == "list_item_open":
                out.append(self._bullet())
            elif kind == "list_item_close":
                out.append("\n")
            elif kind == "paragraph_close" and not (token.hidden or self.lists):
                out.append("\n\n")
            elif kind == "blockquote_open":
                out.append("> ")
            elif kind == "html_block":
                out.append(token.content)
        return "".join(out)

    def _bullet(self) -> str:
        indent = "  " * (len(self.lists) - 1)
        number = self.lists[-1][0]
        if number is None:
            return f"{indent}• "
        self.lists[-1][0] = number + 1
        return f"{indent}{number}. "

    def inline(self, tokens: list[Token]) -> str:
        out: list[str] = []
        links: list[str] = []
        for token in tokens:
            kind = token.type
            if kind in ("text", "html_inline"):
                out.append(token.content)
            elif kind == "softbreak":
                out.append(" ")
            elif kind == "hardbreak":
                out.append("\n")
            elif kind == "code_inline":
                out.append(f"`{token.content}`")
            elif kind.endswith("_open") and kind[:-5] in INLINE_MARKS:
                out.append(INLINE_MARKS[kind[:-5]])
            elif kind.endswith("_close") and kind[:-6] in INLINE_MARKS:
                out.append(INLINE_MARKS[kind[:-6]])
            elif kind == "link_open":
                links.append(str(token.attrGet("href") or ""))
                out.append("\x00")  # where the label starts
            elif kind == "link_close":
                href = links.pop()
                label_at = len(out) - out[::-1].index("\x00") - 1
                label = "".join(out[label_at + 1:])
                out[label_at:] = [href if label in (href, "") else f"{label} ({href})"]
            elif kind == "image":
                out.append(str(token.attrGet("src") or ""))
        return "".join(out)


def split_text(text: str, max_len: int) -> list[str]:
    """Split at paragraph, then sentence, then word boundaries, never inside code or a
    formatting span when it can be helped, and number the parts: `... (1/3)`."""
    if max_len < 1:
        raise ValueError("max_len must be positive")
    text = text.strip()
    if units(text) <= max_len:
        return [text] if text else []
    for digits in range(1, 5):
        budget = max_len - len(f" ({'9' * digits}/{'9' * digits})")
        if budget < 8:  # too small a limit to number the parts
            return _split(text, max_len)
        parts = _split(text, budget)
        if len(str(len(parts))) <= digits:
            return [f"{part} ({n}/{len(parts)})" for n, part in enumerate(parts, 1)]
    raise ValueError("text too long to split")


def _split(text: str, budget: int) -> list[str]:
    parts: list[str] = []
    rest = text
    while units(rest) > budget:
        cut, in_code = _cut_point(rest, _fitting(rest, budget))
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if in_code:  # a code block longer than a message: close it here, reopen it next
            head, rest = f"{head}\n{FENCE}", f"{FENCE}\n{rest}"
        parts.append(head)
    if rest:
        parts.append(rest)
    return parts


def _fitting(text: str, budget: int) -> int:
    """How many characters of `text` fit in `budget` UTF-16 code units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            return index
    return len(text)


def _cut_point(text: str, budget: int) -> tuple[int, bool]:
    """Where to cut, and whether that is inside a code block."""
    window = text[: budget + 1]
    spans = list(takewhile(lambda span: span[0] < budget,
                           (m.span() for m in PROTECTED.finditer(text))))
    # Which positions of the window fall inside a span: one pass, however many spans.
    inside = bytearray(budget + 2)
    for start, end in spans:
        stop = min(end, budget + 1)
        if stop > start + 1:
            inside[start + 1:stop] = b"\x01" * (stop - start - 1)

    def allowed(pos: int) -> bool:
        return 0 < pos <= budget and not inside[pos]

    for candidates in (
        [m.start() for m in re.finditer(r"\n\n", window)],
        [m.end() for m in SENTENCE_END.finditer(window)],
        [m.start() for m in re.finditer(r"\s", window)],
    ):
        if fits := [pos for pos in candidates if allowed(pos)]:
            return fits[-1], False
    code = next((s for s in spans if text.startswith(FENCE, s[0]) and s[0] < budget < s[1]),
                None)
    if code is not None:
        line_end = text.rfind("\n", code[0] + len(FENCE), budget - len(FENCE))
        if line_end > 0:
            return line_end, True
    space = max(window.rfind(" "), window.rfind("\n"))
    return (space, False) if space > 0 else (budget, False)
