"""Spelling: the words the index knows, and the nearest known word to a misspelt one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from search.analysis import stem

# Words this short have too many near neighbours to correct safely ("pa", "ot").
MIN_WORD_TO_CORRECT = 4
# The same misspellings come again and again ("demensia"); their corrections are kept.
CORRECTION_CACHE_SIZE = 4096


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a swap of neighbours costs 1), or limit + 1 if above."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Lexicon:
    """Known words with how many listings use them; corrects a word it does not know."""

    def __init__(self, frequencies: Mapping[str, int], extra_words: Iterable[str] = ()) -> None:
        self._frequencies = dict(frequencies)
        for word in extra_words:
            self._frequencies.setdefault(word, 0)
        self._stems = {stem(word) for word in self._frequencies}
        self._corrected: dict[str, str | None] = {}
        self._by_length: dict[int, list[str]] = {}
        for word in self._frequencies:
            self._by_length.setdefault(len(word), []).append(word)

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
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - limit, len(word) + limit + 1):
            for candidate in self._by_length.get(length, ()):
                distance = edit_distance(word, candidate, limit)
                if distance > limit:
                    continue
                rank = (distance, -self._frequencies[candidate], candidate)
                if best is None or rank < best:
                    best = rank
        return best[2] if best else None
