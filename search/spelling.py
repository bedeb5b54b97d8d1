"""Spelling: the words the index knows, and the nearest known word to a misspelt one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rapidfuzz import process
from rapidfuzz.distance import OSA

from search.analysis import stem

# Words this short have too many near neighbours to correct safely ("pa", "ot").
MIN_WORD_TO_CORRECT = 4
# The same misspellings come again and again ("demensia"); their corrections are kept.
CORRECTION_CACHE_SIZE = 4096


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours costs 1), or limit + 1 if above."""
    return int(OSA.distance(a, b, score_cutoff=limit))


class Lexicon:
    """Known words with how many listings use them; corrects a word it does not know."""

    def __init__(self, frequencies: Mapping[str, int], extra_words: Iterable[str] = ()) -> None:
        self._frequencies = dict(frequencies)
        for word in extra_words:
            self._frequencies.setdefault(word, 0)
        self._stems = {stem(word) for word in self._frequencies}
        self._corrected: dict[str, str | None] = {}
        self._words = list(self._frequencies)

    def __len__(self) -> int:
        return len(self._frequencies)

    def knows(self, word: str) -> bool:
        """True for a known word or any form of one ("caring" when "care" is known)."""
        return word in self._frequencies or stem(word) in self._stems

    def correct(self, word: str) -> str | None:
        """The closest known word to an unknown `word`, or None if it is known or too far off.

        One edit is allowed in words of up to five letters and two in longer ones; among equally
        close words the one more listings use wins.
        """
        if len(word) < MIN_WORD_TO_CORRECT or not word.isalpha() or self.knows(word):
            return None
        if word not in self._corrected:
            if len(self._corrected) >= CORRECTION_CACHE_SIZE:
                self._corrected.clear()
            self._corrected[word] = self._closest(word)
        return self._corrected[word]

    def _closest(self, word: str) -> str | None:
        limit = 1 if len(word) <= 5 else 2
        # rapidfuzz compares against every known word in C++: thousands of words take well
        # under a millisecond, where the same loop in Python took about ten.
        near = process.extract(
            word, self._words, scorer=OSA.distance, score_cutoff=limit, limit=None
        )
        if not near:
            return None
        best = min(near, key=lambda found: (found[1], -self._frequencies[found[0]], found[0]))
        return best[0]
