"""Text analysis shared by indexing, querying and highlighting: words, folding and stems.

Both engines are handed text that this module has already analysed, so Whoosh and tantivy see
the same tokens and a listing is found by the same words whichever engine serves it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection
from typing import NamedTuple

from whoosh.lang.porter2 import stem as _porter2

# A word is letters and digits, with inner apostrophes kept so that "Alzheimer's" is one word.
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})
# Words longer than this are not words people type; analysing them only costs time.
MAX_WORD_LENGTH = 40


class Token(NamedTuple):
    """One word of a text: as folded (`word`), its stem, and where it sits in the original.

    A named tuple rather than a frozen dataclass: snippets analyse a page of descriptions per
    search, and a tuple is made in half the time.
    """

    word: str
    stem: str
    start: int
    end: int


def fold(text: str) -> str:
    """Lower-case `text` and strip accents, so "Café" and "cafe" are the same word."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# Listings repeat the same few thousand words; snippets analyse a page of them per search.
@functools.lru_cache(maxsize=65536)
def normalise_word(word: str) -> str:
    """A folded word without possessive "'s" or apostrophes ("carers'" -> "carers")."""
    folded = fold(word)
    if folded.endswith("'s"):
        folded = folded[:-2]
    return folded.replace("'", "")


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Porter2 (Snowball English) stem of a folded word; digits and codes are kept whole."""
    if not word.isalpha():
        return word
    return _porter2(word)


def tokenize(text: str, stop_words: Collection[str] = ()) -> list[Token]:
    """Every word of `text` that is not a stop word, with its stem and its place in `text`."""
    found: list[Token] = []
    for match in _WORD.finditer(text):
        word = normalise_word(match[0])
        if not word or word in stop_words or len(word) > MAX_WORD_LENGTH:
            continue
        found.append(Token(word, stem(word), *match.span()))
    return found


def slug(text: str) -> str:
    """A stable key for a free-text value ("British Sign Language" -> "british-sign-language")."""
    return "-".join(normalise_word(match.group()) for match in _WORD.finditer(text))
