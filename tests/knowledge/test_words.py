"""What a word is: a run of letters, digits and combining marks of the NFC-normalised,
case-folded text, started by a letter or digit. Scripts whose vowels are marks keep their
words whole, and a word written decomposed (NFD) is the word written composed (NFC)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpdesk_core.knowledge import STOPWORDS, article_words, search_words, tokenize
from helpdesk_core.knowledge import similar as similar_module
from helpdesk_core.knowledge.articles import MAX_WORD_LENGTH, Article
from helpdesk_core.testing.conformance import T0


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def _reference(text: str) -> list[str]:
    """The rule written out character by character: after NFC and case folding (and NFC
    again), a word starts at a letter or digit and takes every following letter, digit
    and mark."""
    folded = nfc(nfc(text).casefold())
    words: list[str] = []
    current = ""
    for char in folded:
        if char.isalnum() or (current and _is_mark(char)):
            current += char
        else:
            if current:
                words.append(current)
            current = ""
    if current:
        words.append(current)
    return [w for w in words if len(w) > 1 and w not in STOPWORDS]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("नमस्ते", ["नमस्ते"]),  # Hindi: a virama and a vowel sign, both marks
        ("मेरा लैपटॉप वीपीएन से कनेक्ट नहीं हो रहा", None),
        ("வணக்கம் உலகம்", ["வணக்கம்", "உலகம்"]),  # Tamil
        ("আমার প্রিন্টার কাজ করছে না", None),  # Bengali
        ("ಕನ್ನಡ ಪಠ್ಯ", ["ಕನ್ನಡ", "ಪಠ್ಯ"]),  # Kannada
    ],
)
def test_a_word_of_a_script_with_vowel_marks_is_one_word(
    text: str, words: list[str] | None
) -> None:
    expected = words if words is not None else text.split()
    assert tokenize(text) == expected
    assert search_words(text) == expected


def test_a_decomposed_word_is_the_composed_word() -> None:
    assert tokenize("cafe\u0301") == ["café"]
    assert tokenize("café CAFÉ Cafe\u0301 CAFE\u0301") == ["café"] * 4
    assert tokenize("Zu\u0308rich") == tokenize("Zürich") == ["zürich"]
    assert search_words(nfd("Ångström résumé")) == search_words("Ångström résumé")
    # folding decomposes ǰ (j with caron); the word is composed again
    assert tokenize("ǰob J\u030cOB") == ["ǰob", "ǰob"]
    assert all(word == nfc(word) for word in tokenize(nfd("Crème brûlée ǰ ǅemal")))


def test_a_mark_continues_a_word_but_does_not_start_one() -> None:
    assert tokenize("\u0301abc") == ["abc"]  # after nothing
    assert tokenize("x \u0301abc") == ["abc"]  # after a space (a mark belongs to it)
    assert tokenize("(\u0301\u0301ab)") == ["ab"]
    assert tokenize("ab\u0301\u0302cd") == [nfc("ab\u0301\u0302cd")]
    assert tokenize("ab\u20dd") == ["ab\u20dd"]  # an enclosing mark (Me)
    assert tokenize("ab\U0001d167cd") == ["ab\U0001d167cd"]  # a mark beyond the BMP
    assert tokenize("ab\U000e0100") == ["ab\U000e0100"]  # a variation selector (Mn)


def test_other_separators_stay_separators() -> None:
    assert tokenize("foo_bar vpn2.example.org o'brien") == [
        "foo", "bar", "vpn2", "example", "org", "brien"
    ]  # fmt: skip
    assert tokenize("ab\u200bcd") == ["ab", "cd"]  # a zero-width space is no mark
    assert tokenize("a\u0301 b") == []  # one letter and its mark: a one-letter word


def test_scripts_without_spaces_are_not_segmented() -> None:
    # Thai, Chinese and Japanese are written without spaces between words: a run of
    # them is one word (Thai's vowel marks no longer cut it into pieces).
    assert tokenize("ภาษาไทยง่ายนิดเดียว") == ["ภาษาไทยง่ายนิดเดียว"]
    assert tokenize("打印机 卡纸") == ["打印机", "卡纸"]
    assert tokenize("プリンターが動かない") == ["プリンターが動かない"]


def test_article_words_follow_the_same_rule() -> None:
    article = Article(
        id="KB-1",
        title="नमस्ते",
        body="cafe\u0301",
        tags=("लैपटॉप",),
        author="a-1",
        created_at=T0,
        updated_at=T0,
    )
    assert article_words(article) == ["नमस्ते", "café", "लैपटॉप"]


def test_a_word_with_marks_longer_than_the_limit_is_not_searchable() -> None:
    word = "क\u094d" * (MAX_WORD_LENGTH // 2) + "क"
    assert tokenize(word) == [word]
    assert search_words(word) == []


def test_every_mark_continues_a_word() -> None:
    # Over this Python's whole Unicode database: each mark joins the letters around it.
    for point in range(0x110000):
        char = chr(point)
        if _is_mark(char):
            assert len(tokenize(f"xy{char}zw")) == 1, hex(point)


def test_the_marks_are_where_the_tokenizer_looks_for_them() -> None:
    # The pattern is built from planes 0, 1 and the start of plane 14: no mark of this
    # Python's Unicode database lies elsewhere.
    outside = [
        hex(p)
        for p in (*range(0x20000, 0xE0000), *range(0xE1000, 0x110000))
        if _is_mark(chr(p))
    ]
    assert outside == []
    assert similar_module._WORD.pattern.count("\\U") > 500  # hundreds of mark ranges


_SAMPLE = st.sampled_from(
    "aAzZ09ß_ ,.'-\u0301\u0308\u0323\u0345\u094d\u093e\u0947नमस्तेக்ாéÅǰİΐᾳ\u200b\u20dd\U0001d167"
)
_TEXT = st.text(_SAMPLE, max_size=40) | st.text(max_size=40)


@given(_TEXT)
def test_words_of_nfd_and_nfc_text_are_the_same(text: str) -> None:
    assert tokenize(nfd(text)) == tokenize(nfc(text)) == tokenize(text)
    assert search_words(nfd(text)) == search_words(nfc(text))


@given(_TEXT)
def test_words_follow_the_rule_written_out(text: str) -> None:
    assert tokenize(text) == _reference(text)


@given(_TEXT)
def test_the_words_of_words_are_the_same_words(text: str) -> None:
    # Stores index the words and are asked for words: splitting them again changes nothing.
    words = search_words(text)
    assert search_words(" ".join(words)) == words
    assert all(search_words(word) == [word] for word in words)
    assert all(word == nfc(word) for word in words)
