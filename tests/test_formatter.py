"""Answers become WhatsApp markup and are split under a limit without losing a word."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.formatter import format_text, split_text, to_whatsapp


@pytest.mark.parametrize("markdown, whatsapp", [
    ("  hello  ", "hello"),
    ("one\n\n\n\n\ntwo", "one\n\ntwo"),
    ("a **bold** word", "a *bold* word"),
    ("a __bold__ word", "a *bold* word"),
    ("## Opening hours\nNine to six", "*Opening hours*\nNine to six"),
    ("# **Title** #", "*Title*"),
    ("see [our site](https://example.com/a?b=1)", "see our site (https://example.com/a?b=1)"),
    ("[https://example.com](https://example.com)", "https://example.com"),
    ("line with spaces   \nnext", "line with spaces\nnext"),
    ("```\n**not bold** # here\n```", "```\n**not bold** # here\n```"),
    ("windows\r\nline", "windows\nline"),
    ("2 ** 3 and a*b", "2 ** 3 and a*b"),
])
def test_markdown_becomes_whatsapp_markup(markdown, whatsapp):
    assert to_whatsapp(markdown) == whatsapp


def test_short_text_is_one_part():
    assert format_text("**Hi** there", 4096) == ["*Hi* there"]


def test_empty_text_is_no_part():
    assert format_text("  \n ", 100) == []


@pytest.mark.parametrize("text, max_len, parts", [
    ("First paragraph.\n\nSecond paragraph.", 20, ["First paragraph.", "Second paragraph."]),
    ("One sentence here. Another one here.", 25, ["One sentence here.", "Another one here."]),
    ("words without any sentence end at all", 12,
     ["words", "without any", "sentence end", "at all"]),
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
])
def test_splits_at_paragraph_then_sentence_then_word(text, max_len, parts):
    assert split_text(text, max_len) == parts


@given(st.text(alphabet=st.sampled_from("ab .!?\n¿é🤖"), max_size=400),
       st.integers(min_value=1, max_value=80))
def test_no_part_exceeds_the_limit_and_no_text_is_lost(text, max_len):
    parts = split_text(text, max_len)
    assert all(0 < len(part) <= max_len for part in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())
