"""A place with nothing in it is not a dead end: the nearest matches beyond it, nearest
first, with a notice that says none are in the place."""

from __future__ import annotations

from search import SearchEngine

from .helpers import ask, ids, listing

# Stairlifts in Baldock, Stevenage and St Albans; meals in Hitchin; a stairlift filed nowhere.
LISTINGS = [
    listing(
        "baldock",
        name="Stairlift fitting",
        description="We fit and repair stairlifts.",
        locality_codes=("baldock",),
        latitude=51.990,
        longitude=-0.188,
    ),
    listing(
        "stevenage",
        name="Stairlift hire",
        description="Stairlifts to hire by the month.",
        locality_codes=("stevenage",),
        latitude=51.902,
        longitude=-0.202,
    ),
    listing(
        "st-albans",
        name="Stairlift servicing",
        description="Yearly stairlift servicing.",
        locality_codes=("st-albans",),
        latitude=51.752,
        longitude=-0.338,
    ),
    listing(
        "hitchin-meals",
        name="Hot meals",
        description="Hot meals delivered at lunchtime.",
        locality_codes=("hitchin",),
        latitude=51.949,
        longitude=-0.279,
    ),
]


def test_nothing_in_the_town_gives_the_nearest_beyond_it_nearest_first(
    engine: SearchEngine,
) -> None:
    engine.index_documents(LISTINGS)

    results = ask(engine, q="stairlift in Hitchin")

    assert ids(results) == ["stevenage", "baldock", "st-albans"]
    assert results.beyond is not None
    assert results.beyond.label == "Hitchin"
    assert any("No service in Hitchin matched" in notice for notice in results.notices)
    distances = [hit.distance_miles for hit in results.hits]
    assert all(d is not None and d > 0 for d in distances)
    assert distances == sorted(distances)  # type: ignore[type-var]
    # The feed's ranking is the same search: no dead end there either.
    assert engine.ranked_ids(results.query, 10) == ids(results)


def test_a_town_with_a_match_keeps_to_the_town(engine: SearchEngine) -> None:
    engine.index_documents(LISTINGS)

    results = ask(engine, q="stairlift in Stevenage")

    assert ids(results) == ["stevenage"]
    assert results.beyond is None


def test_a_chosen_area_filter_is_not_widened(engine: SearchEngine) -> None:
    engine.index_documents(LISTINGS)

    results = ask(engine, q="stairlift", locality="hitchin")

    assert ids(results) == []
    assert results.beyond is None
