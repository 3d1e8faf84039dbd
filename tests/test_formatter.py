"""Answers become WhatsApp markup and are split under a limit without losing a word."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.formatter import format_text, split_text, to_whatsapp

LABEL = re.compile(r" \(\d+/\d+\)$")


@pytest.mark.parametrize("markdown, whatsapp", [
    ("  hello  ", "hello"),
    ("one\n\n\n\n\ntwo", "one\n\ntwo"),
    ("a **bold** word", "a *bold* word"),
    ("a __bold__ word", "a *bold* word"),
    ("an *italic* word", "an _italic_ word"),
    ("**bold** and *italic*", "*bold* and _italic_"),
    ("a ~~struck~~ word", "a ~struck~ word"),
    ("## Opening hours\nNine to six", "*Opening hours*\nNine to six"),
    ("# **Title** #", "*Title*"),
    ("see [our site](https://example.com/a?b=1)", "see our site (https://example.com/a?b=1)"),
    ("[https://example.com](https://example.com)", "https://example.com"),
    ("- one\n- two\n  * nested", "• one\n• two\n  • nested"),
    ("* first\n* second", "• first\n• second"),
    ("1. first\n2. second", "1. first\n2. second"),
    ("line with spaces   \nnext", "line with spaces\nnext"),
    ("```\n**not bold** # here\n```", "```\n**not bold** # here\n```"),
    ("run `rm *.tmp*` now", "run `rm *.tmp*` now"),
    ("windows\r\nline", "windows line"),
    ("wrapped\nat forty\ncolumns", "wrapped at forty columns"),
    ("***both***", "_*both*_"),
    ("**bold _and italic_ inside**", "*bold _and italic_ inside*"),
    ("\\*not emphasis\\*", "*not emphasis*"),
    ("> a quote", "> a quote"),
    ("2 * 3 = 6 and a*b and 2 ** 3", "2 * 3 = 6 and a*b and 2 ** 3"),
    ("snake_case_name stays", "snake_case_name stays"),
    # A phone cannot show columns: a row per line, naming its columns when there are several.
    ("| Zona | Envío |\n|:-|-:|\n| Península | 5 € |\n| Baleares | 9 € |",
     "• Península: 5 €\n• Baleares: 9 €"),
    ("Precios:\n\n| Servicio | Precio | Duración |\n|---|---|---|\n| Corte | **16 €** | 30 min |"
     "\n| Tinte | 45 € | |\n\nGracias.",
     "Precios:\n\n• Corte — Precio: *16 €*, Duración: 30 min\n• Tinte — Precio: 45 €\n\nGracias."),
    ("a | b is not a table", "a | b is not a table"),
])
def test_markdown_becomes_whatsapp_markup(markdown, whatsapp):
    assert to_whatsapp(markdown) == whatsapp


def test_short_text_is_one_unnumbered_part():
    assert format_text("**Hi** there", 4096) == ["*Hi* there"]


def test_empty_text_is_no_part():
    assert format_text("  \n ", 100) == []


@pytest.mark.parametrize("text, max_len, parts", [
    ("First paragraph.\n\nSecond paragraph.", 30,
     ["First paragraph. (1/2)", "Second paragraph. (2/2)"]),
    ("One sentence here. Another one here.", 30,
     ["One sentence here. (1/2)", "Another one here. (2/2)"]),
    ("words without any sentence end at all", 20,
     ["words without (1/3)", "any sentence (2/3)", "end at all (3/3)"]),
])
def test_splits_at_paragraph_then_sentence_then_word_and_numbers_parts(text, max_len, parts):
    assert split_text(text, max_len) == parts


def test_a_formatting_span_is_not_cut():
    parts = split_text("Read this: *very important words here* and more text", 40)
    assert "*very important words here*" in parts[1]


def test_a_code_block_is_kept_whole_when_it_fits():
    text = "Run this:\n\n```\nmake test\nmake run\n```\n\nThen check the logs."
    parts = split_text(text, 40)
    assert any("```\nmake test\nmake run\n```" in part for part in parts)


def test_a_code_block_longer_than_a_message_is_closed_and_reopened():
    code = "\n".join(f"line {n}" for n in range(40))
    parts = split_text(f"```\n{code}\n```", 100)
    assert len(parts) > 1
    for part in parts:
        body = LABEL.sub("", part)
        assert body.startswith("```") and body.endswith("```") and len(part) <= 100


MARKDOWN = st.text(alphabet=st.sampled_from("ab .!?\n*_~`#-[]()¿é🤖"), max_size=600)


def utf16_units(text: str) -> int:
    """Length as providers count it: an emoji outside the BMP is two."""
    return len(text.encode("utf-16-le")) // 2


def test_emoji_count_twice_against_the_limit():
    text = "🤖" * 30  # 30 characters, 60 UTF-16 code units
    parts = split_text(" ".join([text] * 3), 70)
    assert parts == [f"{text} ({n}/3)" for n in (1, 2, 3)]  # 66 units each


@settings(max_examples=300)
@given(MARKDOWN, st.integers(min_value=20, max_value=120))
def test_no_part_exceeds_the_limit_and_no_text_is_lost_or_reordered(text, max_len):
    formatted = to_whatsapp(text)
    parts = split_text(formatted, max_len)
    assert all(0 < utf16_units(part) <= max_len for part in parts)
    bodies = [LABEL.sub("", part) if len(parts) > 1 else part for part in parts]

    def letters(value: str) -> str:  # what a reader sees, fences added at cuts aside
        return re.sub(r"[\s`]", "", value)

    assert letters("".join(bodies)) == letters(formatted)
