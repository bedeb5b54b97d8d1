"""A Whoosh rebuild shared between processes (one segment each) answers exactly as a rebuild
in one process: the same listings, scores, order, snippets, facet counts and notices."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchResults,
    open_engine,
    parse_params,
    whoosh_engine,
)
from search.errors import IndexMissing
from search.whoosh_engine import WhooshEngine

from .helpers import TODAY

HERE = Path(__file__).parent
QUERIES = [
    {"q": "home care"},
    {"q": "someone to help my dad get dressed"},
    {"q": "dementia day centre in Watford"},
    {"q": "carer"},
    {"q": "meals", "sort": "price"},
    {"q": "befriending", "near": "St Albans"},
    {"q": "personal care", "page": "2", "per_page": "5"},
    {"q": ""},
]


def _answer(results: SearchResults) -> Any:
    return [
        results.total,
        [(h.document.id, h.score, h.snippet, h.name_html, h.distance_miles) for h in results.hits],
        {f: [(c.value, c.label, c.count) for c in cs] for f, cs in results.facets.items()},
        list(results.notices),
        results.suggestion,
    ]


def _queries() -> list[dict[str, str]]:
    with (HERE / "relevance_cases.json").open(encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    return QUERIES + [{"q": case["query"]} for case in cases[:60]]


@pytest.fixture(autouse=True)
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """The build takes at most as many processes as cores: count two, so the test means the
    same on a one-core machine."""
    monkeypatch.setattr(whoosh_engine, "CORES", 2)


def _engine(
    path: Path, processes: int, gazetteer: Gazetteer, categories: CategoryTree
) -> WhooshEngine:
    engine = open_engine("whoosh", path, gazetteer=gazetteer, categories=categories)
    assert isinstance(engine, WhooshEngine)
    engine.build_processes = processes
    engine.parallel_from = 1  # the test corpus is small; the threshold is for cost only
    return engine


def _segments(engine: WhooshEngine) -> int:
    return len(engine.current_view().snapshot._reader.leaf_readers())  # type: ignore[attr-defined]


def test_a_rebuild_in_two_processes_answers_as_one_does(
    tmp_path: Path, gazetteer: Gazetteer, categories: CategoryTree, corpus: list[ListingDocument]
) -> None:
    with (HERE / "relevance_listings.json").open(encoding="utf-8") as f:
        listings = corpus + [ListingDocument.from_dict(d) for d in json.load(f)["documents"]]
    alone = _engine(tmp_path / "one", 1, gazetteer, categories)
    shared = _engine(tmp_path / "two", 2, gazetteer, categories)
    seen: list[int] = []
    try:
        assert alone.rebuild(listings) == len(listings)
        assert shared.rebuild(listings, progress=seen.append) == len(listings)
        assert (_segments(alone), _segments(shared)) == (1, 2)
        assert seen[-1] == len(listings)
        assert shared.count() == alone.count() == len(listings)
        for params in _queries():
            query = parse_params(params, today=TODAY)
            assert _answer(shared.search(query)) == _answer(alone.search(query)), params
        # Later changes land on the shared build as on any other.
        changed = replace(listings[0], name="Zebra care")
        for engine in (alone, shared):
            engine.index_documents([changed])
            engine.delete([listings[1].id])
        for params in ({"q": "zebra"}, {"q": "home care"}, {"q": ""}):
            query = parse_params(params, today=TODAY)
            assert _answer(shared.search(query)) == _answer(alone.search(query)), params
    finally:
        alone.close()
        shared.close()


def test_a_failing_building_process_fails_the_rebuild_and_the_old_index_serves(
    tmp_path: Path,
    gazetteer: Gazetteer,
    categories: CategoryTree,
    corpus: list[ListingDocument],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _engine(tmp_path / "index", 2, gazetteer, categories)
    try:
        with pytest.raises(IndexMissing):
            engine.count()
        engine.rebuild(corpus[:4])
        broken = corpus[-1].id
        real = whoosh_engine.prepare

        def prepare(document: ListingDocument, *args: Any) -> Any:
            if document.id == broken:
                raise ValueError("cannot analyse this listing")
            return real(document, *args)

        # Forked, the building processes see the patched function.
        monkeypatch.setattr(whoosh_engine, "prepare", prepare)
        with pytest.raises(RuntimeError, match="cannot analyse this listing"):
            engine.rebuild(corpus)
        assert engine.count() == 4
    finally:
        engine.close()
