"""The engine suite, reading side: filters, facets, sorting, paging, suggestions, snippets and
distances. Every test runs on both engines over the same corpus.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import ListingDocument, SearchEngine, Sort, parse_params

from .helpers import TODAY, all_ids, ask, ids

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def by_id(corpus: list[ListingDocument]) -> dict[str, ListingDocument]:
    return {d.id: d for d in corpus}


def test_empty_words_browse_everything_most_recently_confirmed_first(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    results = ask(corpus_engine)
    assert results.total == len(corpus)
    dates = [hit.document.last_confirmed for hit in results.hits]
    assert dates == sorted(dates, reverse=True)
    assert results.sort is Sort.RELEVANCE
    assert results.suggestion is None


def test_a_top_category_includes_its_kinds(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    found = all_ids(corpus_engine, category="help-at-home")
    kinds = {"personal-care", "domestic-help", "night-care", "live-in-care"}
    expected = {d.id for d in corpus if kinds & set(d.category_codes)}
    assert set(found) == expected
    only_kind = ask(corpus_engine, category="night-care")
    assert ids(only_kind) == ["night-sitting-hertford"]


def test_a_town_includes_services_covering_its_district_and_a_district_its_towns(
    corpus_engine: SearchEngine,
) -> None:
    hitchin = set(all_ids(corpus_engine, locality="hitchin"))
    # Listed for Hitchin itself, and for the whole of North Herts (its district).
    assert {"day-centre-hitchin", "meals-on-wheels-north-herts", "live-in-care-herts"} <= hitchin
    assert "day-centre-letchworth" not in hitchin
    north_herts = set(all_ids(corpus_engine, locality="north-herts"))
    assert {"day-centre-hitchin", "day-centre-letchworth", "lunch-club-royston"} <= north_herts
    assert "day-centre-watford" not in north_herts


def test_a_locality_may_be_given_as_a_name_or_a_postcode(corpus_engine: SearchEngine) -> None:
    by_code = all_ids(corpus_engine, locality="stevenage-town")
    assert all_ids(corpus_engine, locality="Stevenage") == by_code
    assert all_ids(corpus_engine, locality="SG1 2AB") == by_code
    unknown = ask(corpus_engine, locality="Atlantis")
    assert unknown.total == ask(corpus_engine).total
    assert any("Atlantis" in notice for notice in unknown.notices)


@pytest.mark.parametrize(
    ("params", "holds"),
    [
        ({"mode": "online"}, lambda d: "online" in d.delivery_modes),
        # A price ceiling is read in one unit: the one chosen, else the commonest paid one.
        (
            {"max_price": "5", "unit": "per_session"},
            lambda d: d.price_unit == "per_session" and d.price_pence <= 500,
        ),
        (
            {"max_price": "£25.50"},
            lambda d: d.price_unit == "per_hour" and d.price_pence <= 2550,
        ),
        ({"unit": "per_item"}, lambda d: d.price_unit == "per_item"),
        ({"availability": "waiting_list"}, lambda d: d.availability == "waiting_list"),
        ({"budgets": "yes"}, lambda d: d.accepts_personal_budgets),
        ({"language": "Polish"}, lambda d: "Polish" in d.languages),
        ({"access": "Hearing loop"}, lambda d: "Hearing loop" in d.accessibility),
        ({"cqc": ["good", "outstanding"]}, lambda d: d.cqc_rating in ("good", "outstanding")),
        (
            {"start_within": "30"},
            lambda d: (
                d.availability != "full"
                and (
                    (d.earliest_start is not None and d.earliest_start <= TODAY + timedelta(30))
                    or (d.earliest_start is None and d.availability == "accepting")
                )
            ),
        ),
    ],
)
def test_each_filter_keeps_exactly_the_listings_that_pass(
    corpus_engine: SearchEngine, corpus: list[ListingDocument], params: dict, holds: object
) -> None:
    found = all_ids(corpus_engine, **params)
    expected = {d.id for d in corpus if holds(d)}  # type: ignore[operator]
    assert expected
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_filters_combine_and_values_of_one_filter_are_alternatives(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    results = ask(
        corpus_engine,
        mode=["at_venue", "online"],
        budgets="yes",
        max_price="10",
        unit="per_session",
        per_page="50",
    )
    expected = {
        d.id
        for d in corpus
        if {"at_venue", "online"} & set(d.delivery_modes)
        and d.accepts_personal_budgets
        and d.price_unit == "per_session"
        and d.price_pence <= 1000
    }
    assert len(expected) > 3
    assert set(ids(results)) == expected
    assert results.total == len(expected)


def test_facet_counts_ignore_their_own_selection_but_not_the_others(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    results = ask(corpus_engine, q="day centre", mode="at_venue", availability="accepting")
    availability = {c.value: c for c in results.facets["availability"]}
    # Counted without the availability choice, with the words and the mode.
    assert availability["accepting"].selected
    assert availability["accepting"].count == results.total
    assert availability["full"].count == 1
    assert availability["waiting_list"].count == 1
    assert availability["accepting"].label == "Accepting new clients"
    modes = {c.value: c.count for c in results.facets["mode"]}
    assert modes["at_venue"] == results.total


def test_facets_cover_every_field_and_count_the_whole_corpus_when_browsing(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    facets = ask(corpus_engine).facets
    assert set(facets) == {
        "category",
        "locality",
        "mode",
        "availability",
        "language",
        "access",
        "cqc",
        "budgets",
        "unit",
    }
    budgets = {c.value: c.count for c in facets["budgets"]}
    assert budgets == {"yes": len(corpus) - 1, "no": 1}
    languages = {c.value: (c.label, c.count) for c in facets["language"]}
    assert languages["polish"] == ("Polish", sum("Polish" in d.languages for d in corpus))
    categories = {c.value: (c.label, c.count) for c in facets["category"]}
    assert categories["meals"] == ("Meals", 5)
    assert categories["hot-meal-delivery"] == ("Hot meal delivery", 2)
    localities = {c.value: c.label for c in facets["locality"]}
    assert localities["letchworth-garden-city"] == "Letchworth Garden City"


def test_a_chosen_value_nobody_has_still_shows_so_it_can_be_removed(
    corpus_engine: SearchEngine,
) -> None:
    results = ask(corpus_engine, language="Klingon")
    assert results.total == 0
    languages = [(c.value, c.count, c.selected) for c in results.facets["language"]]
    assert ("klingon", 0, True) in languages
    # The other languages are still counted, as choosing one instead would give.
    assert ("english", 54, False) in languages


def test_sort_by_price_cheapest_first(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="day centre", sort="price")
    prices = [hit.document.price_pence for hit in results.hits]
    assert prices == sorted(prices)
    assert results.sort is Sort.PRICE


def test_sort_by_recently_confirmed(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="transport", sort="confirmed")
    dates = [hit.document.last_confirmed for hit in results.hits]
    assert len(dates) >= 3
    assert dates == sorted(dates, reverse=True)


def test_sort_by_distance_from_a_place_shows_miles(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="day centre", near="SG5", sort="distance")
    venues = [hit for hit in results.hits if hit.distance_miles is not None]
    assert venues[0].document.id == "day-centre-hitchin"
    miles = [hit.distance_miles for hit in venues]
    assert miles == sorted(miles)
    # Letchworth is a few miles from Hitchin; Watford is over twenty.
    away = {hit.document.id: hit.distance_miles for hit in venues}
    assert 1 < away["day-centre-letchworth"] < 5
    assert away["day-centre-watford"] > 20
    # Services without a venue come after those with one.
    last_venue = max(i for i, hit in enumerate(results.hits) if hit.distance_miles is not None)
    assert all(hit.distance_miles is None for hit in results.hits[last_venue + 1 :])


def test_sort_by_distance_without_a_place_falls_back_with_a_notice(
    corpus_engine: SearchEngine,
) -> None:
    results = ask(corpus_engine, q="day centre", sort="distance")
    assert results.sort is Sort.RELEVANCE
    assert results.notices


def test_near_a_place_in_the_words_sorts_by_distance(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="lunch club near Royston")
    assert results.sort is Sort.DISTANCE
    assert [p.label for p in results.places] == ["Royston"]
    assert results.origin is not None
    assert results.origin.label == "Royston"
    assert ids(results)[0] == "lunch-club-royston"
    assert results.words_used == ("lunch club",)


def test_a_place_in_the_words_filters_but_keeps_relevance(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="home care in Stevenage")
    assert results.sort is Sort.RELEVANCE
    assert ids(results)[0] == "home-care-stevenage"
    locality = {c.value: c for c in results.facets["locality"]}
    assert locality["stevenage-town"].selected


def test_misspelt_words_are_forgiven_and_suggested(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="Demensia cafe")
    assert results.suggestion == "dementia cafe"
    assert results.corrections == (("demensia", "dementia"),)
    assert {"memory-cafe-stevenage", "dementia-cafe-st-albans"} <= set(ids(results))


def test_correct_words_are_not_corrected(corpus_engine: SearchEngine) -> None:
    for words in ("caring", "dementia", "carers", "hitchin", "sg5"):
        assert ask(corpus_engine, q=words).suggestion is None


def test_no_listing_with_every_word_gives_those_with_some(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="stairlift podiatrist")
    assert results.relaxed
    assert {"stairlifts-herts", "foot-care-bushey"} <= set(ids(results))
    assert any("some of them" in notice for notice in results.notices)


def test_snippets_are_escaped_and_marked(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="alzheimers")
    hit = next(h for h in results.hits if h.document.id == "dementia-home-care-harpenden")
    assert "<mark>Alzheimer&#x27;s</mark>" in hit.snippet
    # Marked through the vocabulary: memory loss is dementia.
    assert "<mark>memory</mark> <mark>loss</mark>" in hit.snippet
    assert "<script" not in hit.snippet
    name_hit = next(h for h in results.hits if h.document.id == "dementia-sitting-potters-bar")
    assert name_hit.name_html == "<mark>Dementia</mark> sitting service"


def test_hits_carry_the_whole_document(
    corpus_engine: SearchEngine, corpus: list[ListingDocument]
) -> None:
    hit = ask(corpus_engine, q="stairlift").hits[0]
    assert hit.document == by_id(corpus)["stairlifts-herts"]
    assert hit.score > 0


@given(per_page=st.integers(min_value=1, max_value=12))
@FUZZ
def test_paging_covers_every_hit_exactly_once(corpus_engine: SearchEngine, per_page: int) -> None:
    for words, sort in (("care", "relevance"), ("day centre", "relevance"), ("", "price")):
        first = ask(corpus_engine, q=words, sort=sort, per_page=str(per_page))
        seen: list[str] = []
        for page in range(1, first.pages + 1):
            seen += ids(
                ask(corpus_engine, q=words, sort=sort, per_page=str(per_page), page=str(page))
            )
        everything = all_ids(corpus_engine, q=words, sort=sort)
        assert seen == everything
        assert len(seen) == first.total


@pytest.mark.parametrize(
    ("words", "sort", "extra"),
    [
        ("care", "relevance", {}),
        ("day centre", "relevance", {}),
        ("", "price", {}),
        ("home care near Hitchin", "relevance", {}),
        ("", "recent", {"category": "personal-care"}),
    ],
)
def test_ranked_ids_are_every_page_in_order(
    corpus_engine: SearchEngine, words: str, sort: str, extra: dict[str, str]
) -> None:
    everything = all_ids(corpus_engine, q=words, sort=sort, **extra)
    query = parse_params({"q": words, "sort": sort, **extra}, today=TODAY)

    assert corpus_engine.ranked_ids(query, limit=10_000) == everything
    assert corpus_engine.ranked_ids(query, limit=3) == everything[:3]


@pytest.mark.parametrize(
    ("words", "extra", "limit"),
    [
        ("care", {}, 10_000),
        ("care", {"page": "2", "per_page": "5"}, 3),
        ("day centre", {}, 2),
        ("washing zzzqqq", {}, 10_000),  # relaxed: some of the words
        ("", {"sort": "price"}, 10_000),
        ("home care near Hitchin", {}, 7),
        ("stairlift", {"page": "9"}, 10_000),  # a page past the end, every id all the same
    ],
)
def test_search_and_rank_is_the_search_and_its_ranking_at_once(
    corpus_engine: SearchEngine, words: str, extra: dict[str, str], limit: int
) -> None:
    query = parse_params({"q": words, **extra}, today=TODAY)

    results, ranked = corpus_engine.search_and_rank(query, limit)

    assert results == corpus_engine.search(query)
    assert ranked == corpus_engine.ranked_ids(query, limit)
    assert ranked


def test_a_page_past_the_end_is_empty_with_a_notice(corpus_engine: SearchEngine) -> None:
    results = ask(corpus_engine, q="stairlift", page="9")
    assert results.hits == ()
    assert results.total > 0
    assert any("past the end" in notice for notice in results.notices)


@pytest.mark.parametrize(
    "words",
    [
        'dementia AND (care OR "home',
        "name:respite^9 OR *:*",
        "care* ~2 +meals -wheels",
        '"unbalanced quote',
        "{[(<>)]}",
        "field:[a TO z]",
        "x" * 10_000,
        "café 🙂 ﷽ 𝔇𝔢𝔪𝔢𝔫𝔱𝔦𝔞 \u0000 \u202e",
        "@help-at-home",
        "sg1 sg1 sg1 hitchin stevenage near near near",
    ],
)
def test_odd_words_never_raise(corpus_engine: SearchEngine, words: str) -> None:
    results = ask(corpus_engine, q=words)
    assert results.total >= 0


@given(words=st.text(max_size=60))
@FUZZ
def test_any_text_is_a_query(corpus_engine: SearchEngine, words: str) -> None:
    results = ask(corpus_engine, q=words, per_page="5")
    assert len(results.hits) <= 5
    assert results.total >= len(results.hits)


@given(
    params=st.dictionaries(
        st.sampled_from(
            [
                "q",
                "category",
                "locality",
                "mode",
                "max_price",
                "unit",
                "availability",
                "start_within",
                "budgets",
                "language",
                "access",
                "cqc",
                "near",
                "sort",
                "page",
                "per_page",
            ]
        ),
        st.text(max_size=12),
    )
)
@FUZZ
def test_any_parameters_are_a_search(corpus_engine: SearchEngine, params: dict[str, str]) -> None:
    results = ask(corpus_engine, **params)
    assert results.total >= 0


def test_words_that_match_but_a_filter_that_excludes_them_all_give_no_hits(
    corpus_engine: SearchEngine,
) -> None:
    assert ask(corpus_engine, q="dementia").total > 0
    results = ask(corpus_engine, q="dementia", max_price="0.01", mode="online")
    assert results.total == 0
    assert ids(results) == []
