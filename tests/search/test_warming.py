"""Warming a new generation: the same answers, with the commonest tokens' bitsets made first."""

from __future__ import annotations

from collections.abc import Callable

from search import ListingDocument, SearchEngine, parse_params
from search.indexing import TEXT_FIELDS
from search.tantivy_engine import COMMON_TOKEN_SHARE, COMMON_TOKENS_AT_MOST, TantivySnapshot

from .helpers import TODAY

QUERIES = [
    {},
    {"q": "help getting dressed"},
    {"q": "home care", "sort": "price"},
    {"q": "day centre near Hitchin"},
    {"near": "SG1", "sort": "distance", "page": "2", "per_page": "5"},
    {"q": "meals", "max_price": "8", "availability": "accepting"},
    {"q": "dementia", "start_within": "14", "budgets": "yes"},
    {"category": "help-at-home", "locality": "Stevenage", "sort": "recent"},
    {"q": "demensia"},
]


def answers(engine: SearchEngine) -> list[object]:
    found: list[object] = []
    for params in QUERIES:
        results = engine.search(parse_params(params, today=TODAY))
        found.append(
            (
                results.total,
                [
                    (h.document.id, round(h.score, 6), h.snippet, h.distance_miles)
                    for h in results.hits
                ],
                {
                    f: [(c.value, c.count, c.selected) for c in cs]
                    for f, cs in results.facets.items()
                },
                results.suggestion,
                results.notices,
            )
        )
    return found


def test_a_warmed_generation_answers_as_a_cold_one(
    make_engine: Callable[..., SearchEngine], corpus: list[ListingDocument]
) -> None:
    warm, cold = make_engine(), make_engine()
    warm.rebuild(corpus)
    warm.warms, cold.warms = True, False  # type: ignore[attr-defined, misc]
    assert answers(warm) == answers(cold)


def test_tantivy_warms_the_bitsets_of_tokens_that_many_listings_hold(
    make_engine: Callable[..., SearchEngine], corpus: list[ListingDocument], engine_name: str
) -> None:
    engine = make_engine()
    engine.rebuild(corpus)
    view = engine.current_view()
    snapshot = view.snapshot
    if not isinstance(snapshot, TantivySnapshot):
        assert snapshot.common_tokens() == []  # Whoosh reads a token's postings cheaply
        return
    held: dict[str, int] = {}
    for name in TEXT_FIELDS:
        for token, count in snapshot._searcher.terms_with_prefix(name, ""):
            held[token] = held.get(token, 0) + count
    enough = int(len(corpus) * COMMON_TOKEN_SHARE)
    expected = sorted((t for t, n in held.items() if n >= enough), key=lambda t: (-held[t], t))
    assert snapshot.common_tokens() == expected[:COMMON_TOKENS_AT_MOST]
    common = snapshot.common_tokens()
    assert set(common) <= set(view._tokens)
    rare = min(held, key=held.__getitem__)
    assert rare not in view._tokens
