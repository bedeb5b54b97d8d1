"""The relevance scorecard: graded cases, and the figures that say how well a search ranks them.

Each case in relevance_cases.json names the listings that are a *good* answer to its words and
those that are *acceptable*; a regression case's `must_find` are good. Two figures per engine:

- nDCG@5: the first five results' gains (good 2, acceptable 1), discounted by position
  (1 / log2(position + 1)), over the best possible first five for that case; averaged.
- found@5: the share of cases with something useful (good or acceptable) in the first five.

The cases and their listings (corpus.json and relevance_listings.json) are shared by
tests/search/test_relevance.py and bench/search_scorecard.py, which prints the table.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search import ListingDocument

HERE = Path(__file__).parent
DEPTH = 5
GOOD = 2
ACCEPTABLE = 1


def load_cases() -> list[dict[str, Any]]:
    """Every relevance case, in file order."""
    cases: list[dict[str, Any]] = json.loads(
        (HERE / "relevance_cases.json").read_text(encoding="utf-8")
    )["cases"]
    return cases


def load_listings() -> list[ListingDocument]:
    """The search tests' corpus and the listings added for the relevance cases."""
    documents: list[ListingDocument] = []
    for name in ("corpus.json", "relevance_listings.json"):
        data = json.loads((HERE / name).read_text(encoding="utf-8"))
        documents += [ListingDocument.from_dict(d) for d in data["documents"]]
    return documents


def gains(case: dict[str, Any]) -> dict[str, int]:
    """What each graded listing is worth to the person asking: good 2, acceptable 1."""
    graded = dict.fromkeys(case.get("acceptable", []), ACCEPTABLE)
    graded.update(dict.fromkeys([*case.get("good", []), *case.get("must_find", [])], GOOD))
    return graded


def ndcg(found: list[str], graded: dict[str, int], depth: int = DEPTH) -> float:
    """Normalised discounted cumulative gain of the first `depth` results (1.0 is ideal)."""
    best = sorted(graded.values(), reverse=True)[:depth]
    ideal = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(best))
    if not ideal:
        return 0.0
    got = sum(graded.get(i, 0) / math.log2(rank + 2) for rank, i in enumerate(found[:depth]))
    return got / ideal


def useful(found: list[str], graded: dict[str, int], depth: int = DEPTH) -> bool:
    """Whether something good or acceptable is among the first `depth` results."""
    return any(graded.get(i, 0) for i in found[:depth])


@dataclass(frozen=True)
class Score:
    """One engine's figures over the cases."""

    cases: int
    ndcg: float
    found: float
    misses: tuple[str, ...]


def score(cases: Iterable[dict[str, Any]], search: Callable[[dict[str, Any]], list[str]]) -> Score:
    """The scorecard of `search` (a case to its result ids, best first) over `cases`."""
    total_ndcg = 0.0
    hits = 0
    misses: list[str] = []
    counted = 0
    for case in cases:
        graded = gains(case)
        if not graded:
            continue
        found = search(case)
        counted += 1
        total_ndcg += ndcg(found, graded)
        if useful(found, graded):
            hits += 1
        else:
            misses.append(case["query"])
    return Score(counted, total_ndcg / counted, hits / counted, tuple(misses))
