"""Ranking from per-token scores kept for one index generation, summed per search.

Whoosh's own search walks a tree of term matchers (every alternative of every group, in each
of the four text fields) document by document in Python: at 10,000 listings a broad query
such as "home care" costs it 30-50 ms to rank. Yet a listing's score is only a sum: for each
(token, weight) the search asks for, `weight` times the token's score in that listing, where
the token's score is its BM25F score summed over the text fields, each times its field boost.
The engine computes a token's scores once per generation (with its own scorer, so the numbers
are the ones it would give) and this module keeps them and adds them up for the candidates.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from search.planning import TermGroup

# Postings kept per generation, all tokens together (each costs 12 bytes): a bound on memory,
# well above what the few hundred words most searches use need.
SCORE_CACHE_POSTINGS = 4_000_000


class TokenScores:
    """For one token: the ordinals of the listings holding it, and its score in each."""

    __slots__ = ("ordinals", "scores")

    def __init__(self, ordinals: array[int], scores: array[float]) -> None:
        self.ordinals = ordinals
        self.scores = scores

    def __len__(self) -> int:
        return len(self.ordinals)


class ScoreCache:
    """Token scores for one generation, loaded on first use, within a bound on postings."""

    def __init__(
        self, load: Callable[[str], TokenScores], budget: int = SCORE_CACHE_POSTINGS
    ) -> None:
        self._load = load
        self._budget = budget
        self._held = 0
        self._tokens: dict[str, TokenScores] = {}

    def get(self, token: str) -> TokenScores:
        """The scores of `token`, computed by the engine the first time it is asked for."""
        found = self._tokens.get(token)
        if found is None:
            found = self._load(token)
            if self._held + len(found) > self._budget:
                self._tokens.clear()
                self._held = 0
            self._tokens[token] = found
            self._held += len(found)
        return found


def weighted_tokens(groups: Sequence[TermGroup]) -> list[tuple[str, float]]:
    """Every (token, weight) a search scores: each group's alternatives and its boosters.

    A token asked for twice (in two groups) counts twice, as it does in the engines' queries.
    """
    return [pair for group in groups for pair in (*group.alternatives, *group.boosters)]


def rank(
    tokens: Sequence[tuple[str, float]],
    candidates: Sequence[int] | npt.NDArray[np.intp],
    cache: ScoreCache,
    limit: int,
) -> list[tuple[int, float]]:
    """The `limit` best (ordinal, score) among `candidates` (ordinals in increasing order).

    Ties go to the lower ordinal, as in the engines' own collectors. Summed with numpy over
    every ordinal up to the last candidate, token by token in the order asked (each sum the
    same product and addition, in the same order, as adding up one listing at a time, so the
    same numbers): at 66,000 listings the Python loop over "home care"'s candidates took 25 ms
    of the search page's 31.
    """
    chosen = np.asarray(candidates, dtype=np.intp)
    if chosen.size == 0 or limit <= 0:
        return []
    totals = np.zeros(int(chosen[-1]) + 1, dtype=np.float64)
    for token, weight in tokens:
        scores = cache.get(token)
        ordinals = np.frombuffer(scores.ordinals, dtype=np.intc)
        values = np.frombuffer(scores.scores, dtype=np.float64)
        within = int(np.searchsorted(ordinals, totals.size))
        # A token's ordinals are distinct, so adding through the index adds each once.
        totals[ordinals[:within]] += weight * values[:within]
    found = totals[chosen]
    wanted = min(limit, found.size)
    if wanted < found.size:
        # Only those scoring at least the wanted-th best (ties included) are sorted.
        least = np.partition(found, found.size - wanted)[found.size - wanted]
        kept = np.flatnonzero(found >= least)
    else:
        kept = np.arange(found.size)
    best = kept[np.lexsort((chosen[kept], -found[kept]))][:wanted]
    return list(zip(chosen[best].tolist(), found[best].tolist(), strict=True))
