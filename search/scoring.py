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

import heapq
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from operator import itemgetter

from search.planning import TermGroup

# Looking a candidate up in a token's postings (a bisection) costs about as much as stepping
# over this many postings: the cheaper way is taken for each token.
LOOKUP_COST = 4
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
    tokens: Sequence[tuple[str, float]], candidates: list[int], cache: ScoreCache, limit: int
) -> list[tuple[int, float]]:
    """The `limit` best (ordinal, score) among `candidates` (ordinals in increasing order).

    Ties go to the lower ordinal, as in the engines' own collectors. Each token costs a pass
    over its postings, or a look-up per candidate when there are far fewer candidates.
    """
    if not candidates or limit <= 0:
        return []
    totals = dict.fromkeys(candidates, 0.0)
    for token, weight in tokens:
        scores = cache.get(token)
        ordinals, values = scores.ordinals, scores.scores
        if len(totals) * LOOKUP_COST < len(ordinals):
            end = len(ordinals)
            for ordinal in candidates:
                at = bisect_left(ordinals, ordinal)
                if at < end and ordinals[at] == ordinal:
                    totals[ordinal] += weight * values[at]
        else:
            for ordinal, score in zip(ordinals, values, strict=True):
                if ordinal in totals:
                    totals[ordinal] += weight * score
    return heapq.nlargest(limit, totals.items(), key=itemgetter(1))
