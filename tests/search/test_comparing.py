"""Comparing prices within one unit, and the area facet counted as its filter works (issue 13,
item 10 and a smaller thing). Every test runs on both engines; the last ones ask both the same
questions and compare their answers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchEngine,
    SearchResults,
    open_engine,
)
from search.documents import PRICE_UNITS

from .helpers import all_ids, ask, ids, listing


def _units(results: SearchResults) -> set[str]:
    return {hit.document.price_unit for hit in results.hits}


def _most_common_paid_unit(documents: list[ListingDocument]) -> str:
    counts = Counter(d.price_unit for d in documents if d.price_unit != "free")
    return max(counts, key=lambda unit: (counts[unit], -PRICE_UNITS.index(unit)))


def test_the_price_sort_compares_within_one_unit(corpus_engine: SearchEngine) -> None:
    # "Lowest price" put £2 a session beside £3.50 an item and £4.50 a week.
    results = ask(corpus_engine, sort="price", per_page="50")
    assert results.price_unit == "per_hour"
    assert _units(results) == {"per_hour"}
    prices = [hit.document.price_pence for hit in results.hits]
    assert prices == sorted(prices)
    assert results.total == 10


def test_a_price_ceiling_without_a_unit_reads_it_in_the_commonest_paid_unit(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    # "At most £20" let through £4.50 a week (telecare) and £3.50 a trip.
    found = set(all_ids(corpus_engine, max_price="20"))
    assert "telecare-herts" not in found
    assert "dial-a-ride-watford" not in found
    unit = _most_common_paid_unit(corpus)
    assert found == {d.id for d in corpus if d.price_unit == unit and d.price_pence <= 2000}
    assert ask(corpus_engine, max_price="20").price_unit == unit


def test_a_chosen_unit_is_what_prices_are_compared_in(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    results = ask(corpus_engine, max_price="20", unit="per_week", sort="price")
    assert results.price_unit == "per_week"
    assert ids(results) == ["telecare-herts"]
    weekly = ask(corpus_engine, unit="per_week", sort="price")
    assert [h.document.price_pence for h in weekly.hits] == sorted(
        d.price_pence for d in corpus if d.price_unit == "per_week"
    )


def test_each_other_unit_is_offered_with_what_choosing_it_gives(
    corpus_engine: SearchEngine,
) -> None:
    asked = {"q": "club", "max_price": "6", "sort": "price"}
    results = ask(corpus_engine, **asked)
    units = {c.value: c for c in results.facets["unit"]}
    assert units[results.price_unit or ""].selected
    assert len(units) > 1
    for unit, count in units.items():
        chosen = ask(corpus_engine, unit=unit, per_page="50", **asked)
        assert chosen.total == count.count, unit
        assert _units(chosen) <= {unit}


def test_free_listings_are_compared_only_when_asked_for(corpus_engine: SearchEngine) -> None:
    assert "free" not in _units(ask(corpus_engine, q="befriending", sort="price"))
    free = ask(corpus_engine, q="befriending", sort="price", unit="free")
    assert free.total > 0
    assert _units(free) == {"free"}


def test_without_a_price_sort_or_ceiling_every_unit_stays(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, per_page="50")
    assert results.price_unit is None
    assert len(_units(results)) > 3


def test_an_unknown_unit_is_named_and_ignored(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, unit="per_fortnight", sort="price")
    assert any("per_fortnight" in notice for notice in results.notices)
    assert results.price_unit == "per_hour"


# The area facet -----------------------------------------------------------------------------


def test_each_area_is_listed_once(corpus_engine: SearchEngine) -> None:
    # Stevenage was listed twice: the district and its town, with different counts.
    areas = ask(corpus_engine).facets["locality"]
    labels = [c.label for c in areas]
    assert labels.count("Stevenage") == 1
    assert len(labels) == len(set(labels))
    # A district sharing its name with one of several towns says which it is.
    assert "St Albans (district)" in labels
    assert "St Albans" in labels


def test_an_areas_count_is_what_choosing_it_gives(corpus_engine: SearchEngine) -> None:
    for asked in ({}, {"q": "care"}, {"mode": "at_home"}):
        for area in ask(corpus_engine, **asked).facets["locality"]:
            assert len(all_ids(corpus_engine, locality=area.value, **asked)) == area.count, (
                asked,
                area.value,
            )


def test_a_place_in_the_words_lists_only_areas_among_the_results(
    corpus_engine: SearchEngine, corpus: list[ListingDocument], gazetteer: Gazetteer
) -> None:
    # "care in Stevenage" listed Hitchin, Tring and the rest with counts from outside
    # Stevenage: clicking one gave something else.
    results = ask(corpus_engine, q="care in Stevenage", per_page="50")
    found = {d.id: d for d in corpus if d.id in set(ids(results))}
    assert len(found) == results.total
    listed = {c.value: c for c in results.facets["locality"]}
    assert listed["stevenage-town"].selected
    assert listed["stevenage-town"].count == results.total
    for area in listed.values():
        accepts = gazetteer.expand(area.value)
        serving = [d for d in found.values() if accepts & set(d.locality_codes)]
        assert area.count == len(serving), area.value
        narrowed = all_ids(corpus_engine, q="care in Stevenage", locality=area.value)
        assert sorted(narrowed) == sorted(d.id for d in serving), area.value
        # Listed because a result names it, not only because a county-wide one reaches it.
        assert any(
            gazetteer.area_of(code) == area.value for d in serving for code in d.locality_codes
        ), area.value
    # Hitchin's listings are outside the results and none of the results names it.
    assert "hitchin" not in listed
    assert "watford-town" not in listed


# The engines agree ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def both(
    tmp_path_factory: pytest.TempPathFactory,
    gazetteer: Gazetteer,
    categories: CategoryTree,
    corpus: list[ListingDocument],
) -> Iterator[tuple[SearchEngine, SearchEngine]]:
    opened = []
    for name in ("whoosh", "tantivy"):
        engine = open_engine(
            name,
            Path(tmp_path_factory.mktemp(f"comparing-{name}")),
            gazetteer=gazetteer,
            categories=categories,
        )
        engine.rebuild(corpus)
        opened.append(engine)
    yield opened[0], opened[1]
    for engine in opened:
        engine.close()


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "price"},
        {"q": "care", "max_price": "25"},
        {"q": "lunch club", "max_price": "6.50", "unit": "per_session"},
        {"q": "home care in Stevenage", "max_price": "30"},
        {"q": "meals", "locality": "North Herts", "sort": "price"},
        {"q": "day centre near Hitchin", "max_price": "45", "sort": "price"},
        {"q": "care in Stevenage", "locality": "hitchin"},
    ],
)
def test_both_engines_compare_prices_and_count_areas_alike(
    both: tuple[SearchEngine, SearchEngine], params: dict[str, str]
) -> None:
    whoosh, tantivy = both
    answers = []
    for engine in (whoosh, tantivy):
        results = ask(engine, per_page="50", **params)
        facets = results.facets
        answers.append(
            (
                sorted(ids(results)) if results.sort.value == "relevance" else ids(results),
                results.total,
                results.price_unit,
                {f: [(c.value, c.count, c.selected) for c in cs] for f, cs in facets.items()},
            )
        )
    assert answers[0] == answers[1]


def test_the_unit_is_chosen_among_the_results_of_every_other_filter(
    make_engine: Callable[..., SearchEngine],
) -> None:
    engine = make_engine()
    engine.rebuild(
        [listing(f"hourly-{n}", price_unit="per_hour", availability="full") for n in range(3)]
        + [listing(f"visits-{n}", price_unit="per_visit", price_pence=900 + n) for n in range(2)]
    )
    # The full hourly services cannot start within a week: per visit is what is left.
    results = ask(engine, sort="price", start_within="7")
    assert results.price_unit == "per_visit"
    assert ids(results) == ["visits-0", "visits-1"]
