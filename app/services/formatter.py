"""Turn a bot answer (often markdown) into WhatsApp messages under a provider's length limit."""

from __future__ import annotations

import re

FENCE = re.compile(r"(```.*?```)", re.DOTALL)
BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
BLANK_RUNS = re.compile(r"\n{3,}")
TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
SENTENCE_END = re.compile(r"[.!?…](?=\s)")


def format_text(text: str, max_len: int) -> list[str]:
    """WhatsApp-ready parts of `text`, none longer than `max_len`; nothing is dropped."""
    text = to_whatsapp(text)
    return split_text(text, max_len) if text else []


def to_whatsapp(text: str) -> str:
    """Trim, collapse blank lines, and turn common markdown into WhatsApp markup."""
    text = text.replace("\r\n", "\n").strip()
    pieces = FENCE.split(text)
    # Odd pieces are fenced code blocks: WhatsApp shows them monospaced, so leave them be.
    pieces[::2] = [_markup(piece) for piece in pieces[::2]]
    return BLANK_RUNS.sub("\n\n", "".join(pieces)).strip()


def _markup(text: str) -> str:
    text = TRAILING_SPACE.sub("", text)
    text = HEADING.sub(lambda m: f"*{m.group(1).strip('*')}*", text)
    text = BOLD.sub(r"*\2*", text)
    return LINK.sub(lambda m: m.group(2) if m.group(1) == m.group(2)
                    else f"{m.group(1)} ({m.group(2)})", text)


def split_text(text: str, max_len: int) -> list[str]:
    """Split at paragraph, then sentence, then word boundaries; cut mid-word only as a last
    resort. Joining the parts with whitespace gives back every word of `text`, in order."""
    if max_len < 1:
        raise ValueError("max_len must be positive")
    parts: list[str] = []
    rest = text.strip()
    while len(rest) > max_len:
        cut = _cut_point(rest, max_len)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut_point(text: str, max_len: int) -> int:
    window = text[: max_len + 1]
    paragraph = window.rfind("\n\n")
    if paragraph > 0:
        return paragraph
    sentences = [m.end() for m in SENTENCE_END.finditer(window) if m.end() <= max_len]
    if sentences:
        return sentences[-1]
    space = max(window.rfind(" "), window.rfind("\n"))
    return space if space > 0 else max_len
