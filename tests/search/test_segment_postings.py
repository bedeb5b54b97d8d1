"""A new Whoosh generation after a small change reads postings only from its new segment:
the older segments' postings (kept per segment, masked with each generation's deletions)
give the same scores as reading everything afresh."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from whoosh.reading import SegmentReader

from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchResults,
    open_engine,
    parse_params,
)
from search.whoosh_engine import WhooshEngine

from .helpers import TODAY

HERE = Path(__file__).parent


def _answer(results: SearchResults) -> Any:
    return [
        results.total,
        [(h.document.id, h.score, h.snippet) for h in results.hits],
        {f: [(c.value, c.count) for c in cs] for f, cs in results.facets.items()},
        list(results.notices),
        results.suggestion,
        results.corrections,
    ]


def _queries() -> list[dict[str, str]]:
    with (HERE / "relevance_cases.json").open(encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    return [{"q": "home care"}, {"q": "carer"}, {"q": ""}] + [
        {"q": case["query"]} for case in cases[:50]
    ]


def _whoosh(path: Path, gazetteer: Gazetteer, categories: CategoryTree) -> WhooshEngine:
    engine = open_engine("whoosh", path, gazetteer=gazetteer, categories=categories)
    assert isinstance(engine, WhooshEngine)
    return engine


def test_kept_postings_score_as_a_fresh_reading_after_changes(
    tmp_path: Path, gazetteer: Gazetteer, categories: CategoryTree, corpus: list[ListingDocument]
) -> None:
    serving = _whoosh(tmp_path / "index", gazetteer, categories)
    serving.rebuild(corpus)
    queries = [parse_params(params, today=TODAY) for params in _queries()]
    try:
        for query in queries:
            serving.search(query)  # postings of the first generation kept
        serving.index_documents(
            [replace(corpus[0], name="Home care and befriending"), replace(corpus[1], name="X")]
        )
        serving.delete([corpus[2].id, corpus[3].id])
        serving.index_documents([replace(corpus[0], description="Now a carer's day out.")])
        fresh = _whoosh(tmp_path / "index", gazetteer, categories)
        try:
            for query in queries:
                assert _answer(serving.search(query)) == _answer(fresh.search(query)), query.words
            assert serving.count() == fresh.count() == len(corpus) - 2
        finally:
            fresh.close()
    finally:
        serving.close()


def test_a_change_reads_postings_of_the_new_segment_only(
    tmp_path: Path,
    gazetteer: Gazetteer,
    categories: CategoryTree,
    corpus: list[ListingDocument],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = _whoosh(tmp_path / "index", gazetteer, categories)
    engine.rebuild(corpus)
    query = parse_params({"q": "home care"}, today=TODAY)
    try:
        engine.search(query)
        [first] = [
            leaf.segment().segment_id()
            for leaf, _ in engine.current_view().snapshot._reader.leaf_readers()  # type: ignore[attr-defined]
        ]
        read_from: list[str] = []
        postings = SegmentReader.postings

        def counted(reader: SegmentReader, *args: Any, **kwargs: Any) -> Any:
            read_from.append(reader.segment().segment_id())
            return postings(reader, *args, **kwargs)

        engine.index_documents([replace(corpus[0], name="Home care at night")])
        # Counted from here: writing reads the old segment's ids (to delete the old version).
        monkeypatch.setattr(SegmentReader, "postings", counted)
        assert engine.search(query).total
        assert read_from
        assert first not in read_from
    finally:
        engine.close()
