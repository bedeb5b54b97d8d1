"""The query model and its URL form: parsing, problems, and the round trip."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

from hypothesis import given
from hypothesis import strategies as st

from search import Filters, SearchQuery, Sort, parse_params, to_params
from search.query import MAX_PER_PAGE, MAX_WORDS_LENGTH

TODAY = date(2025, 6, 2)


def test_every_parameter_is_read() -> None:
    query = parse_params(
        {
            "q": "  day   centre ",
            "category": ["day-centres", "Dementia cafes"],
            "locality": ["hitchin"],
            "mode": ["at_venue", "online"],
            "max_price": "£45.50",
            "availability": "accepting",
            "start_within": "14",
            "budgets": "yes",
            "language": "British Sign Language",
            "access": ["Step-free access"],
            "cqc": ["good", "outstanding"],
            "near": "SG5",
            "sort": "distance",
            "page": "2",
            "per_page": "10",
        },
        today=TODAY,
    )
    assert query == SearchQuery(
        words="day centre",
        filters=Filters(
            categories=("day-centres", "dementia-cafes"),
            localities=("hitchin",),
            delivery_modes=("at_venue", "online"),
            max_price_pence=4550,
            availability=("accepting",),
            start_within_days=14,
            accepts_personal_budgets=True,
            languages=("british-sign-language",),
            accessibility=("step-free-access",),
            cqc_ratings=("good", "outstanding"),
        ),
        sort=Sort.DISTANCE,
        page=2,
        per_page=10,
        near="SG5",
        as_of=TODAY,
    )


def test_pairs_from_a_query_string_are_read_too() -> None:
    query = parse_params(parse_qsl("q=meals&mode=at_home&mode=online"), today=TODAY)
    assert query.words == "meals"
    assert query.filters.delivery_modes == ("at_home", "online")


def test_bad_values_are_dropped_and_explained() -> None:
    query = parse_params(
        {
            "sort": "cheapest",
            "mode": ["teleport", "at_home"],
            "max_price": "lots",
            "availability": "maybe",
            "start_within": "soon",
            "cqc": "brilliant",
            "page": "0",
            "per_page": "1000",
        },
        today=TODAY,
    )
    assert query.sort is Sort.RELEVANCE
    assert query.filters.delivery_modes == ("at_home",)
    assert query.filters.max_price_pence is None
    assert query.filters.availability == ()
    assert query.filters.start_within_days is None
    assert query.filters.cqc_ratings == ()
    assert query.page == 1
    assert query.per_page == MAX_PER_PAGE
    assert len(query.problems) == 8


def test_very_long_words_are_cut() -> None:
    query = parse_params({"q": "care " * 1000}, today=TODAY)
    assert len(query.words) == MAX_WORDS_LENGTH
    assert query.problems


def test_a_plain_search_has_a_short_url() -> None:
    assert to_params(parse_params({"q": "meals"}, today=TODAY)) == [("q", "meals")]
    assert to_params(SearchQuery()) == []


slugs = st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True)
queries = st.builds(
    SearchQuery,
    words=st.from_regex(r"[a-z]{1,10}( [a-z]{1,10}){0,3}", fullmatch=True),
    filters=st.builds(
        Filters,
        categories=st.lists(slugs, max_size=3, unique=True).map(tuple),
        localities=st.lists(slugs, max_size=3, unique=True).map(tuple),
        delivery_modes=st.lists(
            st.sampled_from(["at_home", "at_venue", "online"]), unique=True
        ).map(tuple),
        max_price_pence=st.none() | st.integers(min_value=0, max_value=99_999_999),
        availability=st.lists(
            st.sampled_from(["accepting", "waiting_list", "full"]), unique=True
        ).map(tuple),
        start_within_days=st.none() | st.integers(min_value=0, max_value=366),
        accepts_personal_budgets=st.booleans(),
        languages=st.lists(slugs, max_size=2, unique=True).map(tuple),
        accessibility=st.lists(slugs, max_size=2, unique=True).map(tuple),
        cqc_ratings=st.lists(st.sampled_from(["good", "outstanding"]), unique=True).map(tuple),
    ),
    sort=st.sampled_from(Sort),
    page=st.integers(min_value=1, max_value=500),
    per_page=st.integers(min_value=1, max_value=MAX_PER_PAGE),
    near=st.none() | st.sampled_from(["SG5", "Hitchin"]),
    as_of=st.just(TODAY),
)


@given(queries)
def test_a_query_survives_the_round_trip_through_a_url(query: SearchQuery) -> None:
    url = urlencode(to_params(query))
    assert parse_params(parse_qsl(url), today=TODAY) == query


@given(st.dictionaries(st.text(max_size=10), st.text(max_size=20) | st.lists(st.text(max_size=8))))
def test_any_parameters_parse(params: dict[str, str | list[str]]) -> None:
    query = parse_params(params, today=TODAY)
    assert 1 <= query.per_page <= MAX_PER_PAGE
    assert query.page >= 1
