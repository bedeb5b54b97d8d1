"""Ranking from cached token scores: the same order and scores as the engine's own search, and
the distance order the catalogue keeps per place."""

from __future__ import annotations

import json
from array import array
from collections.abc import Callable
from pathlib import Path

import pytest
from whoosh import index

from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchEngine,
    open_engine,
    parse_params,
)
from search.catalogue import Catalogue, CataloguePart, bits_of, catalogue_row, ordinals_of
from search.engine import BaseEngine
from search.facets import select
from search.gazetteer import miles_between
from search.planning import plan_words
from search.scoring import ScoreCache, TokenScores, rank
from search.whoosh_engine import whoosh_query

from .helpers import TODAY, all_ids, ask, listing

HERE = Path(__file__).parent


def cache_of(tokens: dict[str, dict[int, float]], budget: int = 1000) -> ScoreCache:
    def load(token: str) -> TokenScores:
        postings = sorted(tokens.get(token, {}).items())
        return TokenScores(
            array("i", [o for o, _ in postings]), array("d", [s for _, s in postings])
        )

    return ScoreCache(load, budget)


def test_scores_add_up_with_their_weights_and_ties_go_to_the_lower_ordinal() -> None:
    cache = cache_of({"a": {1: 1.0, 2: 2.0, 5: 1.0}, "b": {2: 1.0, 5: 3.0, 7: 9.0}})
    ranked = rank([("a", 1.0), ("b", 0.5)], [1, 2, 5], cache, 10)
    assert ranked == [(2, 2.5), (5, 2.5), (1, 1.0)]
    # Only candidates are ranked (7 scores most but did not pass), and only `limit` of them.
    assert rank([("b", 1.0)], [2, 5], cache, 1) == [(5, 3.0)]
    assert rank([("a", 1.0)], [], cache, 5) == []


def test_a_token_asked_for_twice_counts_twice() -> None:
    cache = cache_of({"a": {0: 1.0, 1: 1.0}, "b": {1: 1.5}})
    assert rank([("a", 1.0), ("a", 1.0), ("b", 1.0)], [0, 1], cache, 2) == [(1, 3.5), (0, 2.0)]


def test_few_candidates_and_many_give_the_same_ranking() -> None:
    # A token with far more postings than candidates is looked up per candidate; otherwise its
    # postings are walked. Both must agree.
    scores = {"common": {o: (o % 7) / 3 for o in range(0, 3000, 2)}, "rare": {4: 2.0, 10: 1.0}}
    tokens = [("common", 1.0), ("rare", 0.8)]
    few = [4, 10, 11, 2998]
    many = list(range(0, 3000, 3))
    for candidates in (few, many):
        expected = sorted(
            ((o, sum(w * scores[t].get(o, 0.0) for t, w in tokens)) for o in candidates),
            key=lambda pair: (-pair[1], pair[0]),
        )
        assert rank(tokens, candidates, cache_of(scores), 5) == expected[:5]


def test_the_cache_loads_each_token_once_and_stays_within_its_budget() -> None:
    loaded: list[str] = []

    def load(token: str) -> TokenScores:
        loaded.append(token)
        return TokenScores(array("i", range(40)), array("d", [1.0] * 40))

    cache = ScoreCache(load, budget=100)
    cache.get("a")
    cache.get("b")
    cache.get("a")
    assert loaded == ["a", "b"]
    cache.get("c")  # 120 postings would pass the budget: the cache starts again
    cache.get("a")
    assert loaded == ["a", "b", "c", "a"]


@pytest.fixture
def whoosh_with_segments(
    tmp_path: Path, gazetteer: Gazetteer, categories: CategoryTree, corpus: list[ListingDocument]
) -> BaseEngine:
    """The corpus on Whoosh, then a second segment and a deletion, as after live changes."""
    engine = open_engine("whoosh", tmp_path, gazetteer=gazetteer, categories=categories)
    assert isinstance(engine, BaseEngine)
    engine.rebuild(corpus)
    engine.index_documents(
        [
            listing("extra-day-centre", name="Day centre and dementia cafe"),
            listing("extra-home-care", description="Home care: washing, dressing, meals."),
        ]
    )
    engine.delete([corpus[0].id])
    return engine


def test_whoosh_ranking_matches_whooshs_own_scoring(whoosh_with_segments: BaseEngine) -> None:
    """Every relevance case: the top 20 and their scores equal Whoosh's exhaustive search.

    (Whoosh's own top-N collector can drop a listing whose boosters lift it, so the check is
    against every match, scored, then sorted.)
    """
    engine = whoosh_with_segments
    view = engine.current_view()
    no_filters = select(view.catalogue, parse_params({}, today=TODAY).filters, (), TODAY)
    cases = json.loads((HERE / "relevance_cases.json").read_text(encoding="utf-8"))["cases"]
    ix = index.open_dir(str(engine.home.current()))
    compared = 0
    try:
        with ix.searcher() as searcher:
            assert len(searcher.reader().leaf_readers()) == 2
            for case in cases:
                plan = plan_words(
                    case["query"], engine.vocabulary, engine.gazetteer, lambda: view.lexicon(set)
                )
                for require_all in (True, False):
                    matches = view.match(plan.groups, require_all) if plan.groups else 0
                    if not matches:
                        continue
                    ours = view.snapshot.top(
                        plan.groups, require_all, matches, matches, no_filters, 20
                    )
                    theirs = searcher.search(
                        whoosh_query(plan.groups, require_all), limit=None, terms=False
                    )
                    expected = sorted(
                        ((hit.docnum, hit.score) for hit in theirs),
                        key=lambda pair: (-pair[1], pair[0]),
                    )
                    assert len(theirs) == matches.bit_count()
                    assert [o for o, _ in ours] == [o for o, _ in expected[:20]], case["query"]
                    for (_, mine), (_, whooshs) in zip(ours, expected, strict=False):
                        assert mine == pytest.approx(whooshs, rel=1e-9)
                    compared += 1
    finally:
        ix.close()
    assert compared >= len(cases)


def catalogue_at(places: list[tuple[float, float] | None]) -> Catalogue:
    part = CataloguePart()
    for ordinal, place in enumerate(places):
        lat, lon = place if place else (None, None)
        document = listing(
            f"l{ordinal}",
            latitude=lat,
            longitude=lon,
            last_confirmed=TODAY.replace(day=1 + ordinal % 28),
        )
        part.add(ordinal, catalogue_row(document, {}))
    size = len(places)
    return Catalogue.join([(0, part)], size, bits_of(range(size), size))


@pytest.mark.parametrize("origin", [(51.95, -0.28), (51.75, -0.34), (52.05, 0.02)])
def test_nearest_first_is_the_haversine_order_then_the_freshest(
    origin: tuple[float, float],
) -> None:
    places: list[tuple[float, float] | None] = [
        None if n % 5 == 0 else (51.6 + (n * 37 % 50) / 100, -0.6 + (n * 53 % 70) / 100)
        for n in range(60)
    ]
    places[7] = places[8]  # two listings at one venue: the lower ordinal first
    catalogue = catalogue_at(places)
    order = list(catalogue.nearest_first(*origin))
    assert sorted(order) == list(range(60))

    def away(ordinal: int) -> tuple[int, float, int, int]:
        place = places[ordinal]
        if place is None:
            return (1, 0.0, -catalogue.confirmed[ordinal], ordinal)
        return (0, miles_between(*origin, *place), 0, ordinal)

    assert order == sorted(range(60), key=away)


@pytest.mark.parametrize("origin", [(51.95, -0.28), (51.75, -0.34)])
@pytest.mark.parametrize("step", [1, 3, 7])
def test_nearest_among_some_is_the_whole_order_kept_to_them(
    origin: tuple[float, float], step: int
) -> None:
    places: list[tuple[float, float] | None] = [
        None if n % 5 == 0 else (51.6 + (n * 37 % 50) / 100, -0.6 + (n * 53 % 70) / 100)
        for n in range(60)
    ]
    places[9] = places[8]  # a tie: the lower ordinal first either way
    catalogue = catalogue_at(places)
    chosen = list(range(2, 60, step))
    candidates = bits_of(chosen, 60)
    expected = [o for o in catalogue.nearest_first(*origin) if o in set(chosen)]
    for wanted in (1, 5, len(chosen), len(chosen) + 4):
        assert catalogue.nearest_among(*origin, candidates, wanted) == expected[:wanted]


def test_dense_and_sparse_bitsets_give_their_ordinals() -> None:
    for ordinals in (set(range(0, 1000)), set(range(3, 997, 2)), {0, 999}, set()):
        bits = bits_of(ordinals, 1000)
        assert ordinals_of(bits) == sorted(ordinals)


@pytest.mark.parametrize(
    "params",
    [
        {"q": "home care", "language": "Polish"},
        {"q": "day centre", "mode": "at_venue", "locality": "Hitchin"},
        {"q": "dementia", "max_price": "20", "unit": "per_session"},
        {"q": "help at home", "budgets": "yes", "category": "help-at-home"},
        {"q": "home care", "start_within": "14"},
        {"q": "personal care", "start_within": "7", "availability": "accepting", "max_price": "30"},
    ],
)
def test_filtered_relevance_is_the_unfiltered_ranking_of_those_that_pass(
    corpus_engine: SearchEngine, params: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Filters change which listings rank, never their scores or order (tantivy applies
    most of them itself while scoring, and checks the start date on the hits)."""
    from search import tantivy_engine

    monkeypatch.setattr(tantivy_engine, "OVERFETCH", 2)
    words = {"q": params["q"]}
    passing = set(all_ids(corpus_engine, **{k: v for k, v in params.items() if k != "q"}))
    everything = ask(corpus_engine, per_page="50", **words)
    assert everything.total == len(everything.hits)
    expected = [(h.document.id, h.score) for h in everything.hits if h.document.id in passing]
    filtered = ask(corpus_engine, per_page="50", **params)
    assert expected
    assert [(h.document.id, h.score) for h in filtered.hits] == expected
    assert filtered.total == len(expected)


def test_a_tantivy_index_of_another_schema_is_rebuilt_from_the_source(
    tmp_path: Path, gazetteer: Gazetteer, categories: CategoryTree, corpus: list[ListingDocument]
) -> None:
    import shutil

    import tantivy

    from search import IndexCorrupted

    def engine_on(source: Callable[[], list[ListingDocument]] | None) -> BaseEngine:
        built = open_engine(
            "tantivy", tmp_path, gazetteer=gazetteer, categories=categories, source=source
        )
        assert isinstance(built, BaseEngine)
        return built

    first = engine_on(None)
    first.rebuild(corpus[:3])
    folder = first.home.current()
    first.close()
    # What an older version of the library wrote: no facet or price fields.
    shutil.rmtree(folder)
    folder.mkdir()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    writer = tantivy.Index(builder.build(), path=str(folder)).writer()
    writer.commit()
    writer.wait_merging_threads()
    with pytest.raises(IndexCorrupted):
        engine_on(None).count()
    assert engine_on(lambda: corpus[:5]).count() == 5
