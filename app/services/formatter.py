"""Turn a bot answer (often markdown) into WhatsApp messages under a provider's length limit.

WhatsApp markup: `*bold*`, `_italic_`, `~strike~`, ```` ```code``` ````, `` `inline` ``.
Lengths are counted conservatively, in UTF-16 code units: an emoji outside the Basic
Multilingual Plane takes two of the limit (Twilio counts emoji as more than one character).
"""

from __future__ import annotations

import re

CODE = re.compile(r"(```.*?```|`[^`\n]+`)", re.DOTALL)
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+(?=\S)", re.MULTILINE)
BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![*\w])")
STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
BLANK_RUNS = re.compile(r"\n{3,}")
TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
SENTENCE_END = re.compile(r"[.!?…](?=\s)")
# Spans a split must not cut through: code, and one-line formatting spans.
PROTECTED = re.compile(r"```.*?```|`[^`\n]+`|\*[^*\n]+\*|_[^_\n]+_|~[^~\n]+~", re.DOTALL)
FENCE = "```"
BOLD_MARK = "\x00"  # stands in for `*` of bold until italics are converted


def units(text: str) -> int:
    """The length of `text` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def format_text(text: str, max_len: int) -> list[str]:
    """WhatsApp-ready parts of `text`, none longer than `max_len`; nothing is dropped."""
    text = to_whatsapp(text)
    return split_text(text, max_len) if text else []


def to_whatsapp(text: str) -> str:
    """Trim, collapse blank lines, and turn common markdown into WhatsApp markup."""
    text = text.replace("\r\n", "\n").replace(BOLD_MARK, "").strip()
    pieces = CODE.split(text)
    # Odd pieces are code: WhatsApp shows it monospaced, so it is left as it is.
    pieces[::2] = [_markup(piece) for piece in pieces[::2]]
    return BLANK_RUNS.sub("\n\n", "".join(pieces)).strip()


def _markup(text: str) -> str:
    text = TRAILING_SPACE.sub("", text)
    text = HEADING.sub(lambda m: f"{BOLD_MARK}{m.group(1).strip('*_ ')}{BOLD_MARK}", text)
    text = BULLET.sub(r"\1• ", text)
    text = BOLD.sub(lambda m: f"{BOLD_MARK}{m.group(2)}{BOLD_MARK}", text)
    text = ITALIC.sub(r"_\1_", text)
    text = STRIKE.sub(r"~\1~", text)
    text = LINK.sub(lambda m: m.group(2) if m.group(1) == m.group(2)
                    else f"{m.group(1)} ({m.group(2)})", text)
    return text.replace(BOLD_MARK, "*")


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
    spans = [m.span() for m in PROTECTED.finditer(text) if m.start() < budget]

    def allowed(pos: int) -> bool:
        return 0 < pos <= budget and not any(start < pos < end for start, end in spans)

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
