"""`SearchQuery.first`: listings the caller puts first (the council's lead providers for the
searcher's area, issue 18), on both engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from search import SearchEngine, parse_params
from tests.search.helpers import TODAY, listing


def _engine(make_engine: Callable[..., SearchEngine]) -> SearchEngine:
    engine = make_engine()
    engine.rebuild(
        [
            listing("a", price_pence=1000, name="Washing help a"),
            listing("b", price_pence=2000, name="Washing help b"),
            listing("c", price_pence=3000, name="Washing help c"),
            listing("d", price_pence=4000, name="Washing help d"),
            listing("e", price_pence=5000, name="Washing help e"),
            listing("f", price_pence=6000, name="Gardening", description="We cut lawns."),
        ]
    )
    return engine


def _pages(engine: SearchEngine, first: frozenset[str], **params: str) -> list[str]:
    found: list[str] = []
    page = 1
    while True:
        query = parse_params({"per_page": "2", "page": str(page), **params}, today=TODAY)
        results = engine.search(replace(query, first=first))
        found += [hit.document.id for hit in results.hits]
        if page >= results.pages:
            assert results.total == len(found)
            return found
        page += 1


def test_chosen_listings_come_first_in_the_sorts_order_across_pages(
    make_engine: Callable[..., SearchEngine],
) -> None:
    engine = _engine(make_engine)
    assert _pages(engine, frozenset(), sort="price") == ["a", "b", "c", "d", "e", "f"]
    assert _pages(engine, frozenset({"e", "c"}), sort="price") == ["c", "e", "a", "b", "d", "f"]
    # A page boundary inside the chosen ones: one chosen, then the best of the rest.
    assert _pages(engine, frozenset({"e", "c", "d"}), sort="price") == [
        "c",
        "d",
        "e",
        "a",
        "b",
        "f",
    ]


def test_a_chosen_listing_the_search_does_not_match_is_not_added(
    make_engine: Callable[..., SearchEngine],
) -> None:
    engine = _engine(make_engine)
    matching = _pages(engine, frozenset(), q="washing", budgets="yes", max_price="45")
    assert "e" not in matching
    assert "c" in matching
    found = _pages(
        engine, frozenset({"e", "c", "nowhere"}), q="washing", budgets="yes", max_price="45"
    )
    assert found[0] == "c"
    assert sorted(found) == sorted(matching)


def test_ranked_ids_puts_them_first_too(make_engine: Callable[..., SearchEngine]) -> None:
    engine = _engine(make_engine)
    query = replace(parse_params({"sort": "price"}, today=TODAY), first=frozenset({"b"}))
    assert engine.ranked_ids(query, 3) == ["b", "a", "c"]


def test_the_places_the_words_name_are_known_before_searching(
    make_engine: Callable[..., SearchEngine],
) -> None:
    """The search page finds the searcher's area (and so its lead providers) before it
    searches, so the search is made once: the engine reads the places in the words as its
    search does."""
    engine = _engine(make_engine)
    words = "washing help in Stevenage"
    named = engine.places_named(words)
    searched = engine.search(parse_params({"q": words}, today=TODAY)).places
    assert [place.codes for place in named] == [place.codes for place in searched]
    assert named
    assert engine.places_named("washing help") == ()
