"""Replaced generations are freed as soon as the engine lets go of them, without waiting for
the garbage collector: a reference cycle kept each old Whoosh generation's scores and field
lengths alive (80 to 160 MB each at 100,000 listings) until a collection ran."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from dataclasses import replace

import pytest

from search import ListingDocument, SearchEngine, parse_params
from search.snapshot import Snapshot

from .helpers import TODAY

GENERATIONS = 40


@pytest.fixture
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_only_the_current_and_previous_generations_stay_alive(
    engine: SearchEngine,
    corpus: list[ListingDocument],
    monkeypatch: pytest.MonkeyPatch,
    collector_off: None,
) -> None:
    engine.rebuild(corpus)
    alive: weakref.WeakSet[Snapshot] = weakref.WeakSet()
    opening = type(engine)._open

    def open_and_watch(self: SearchEngine, folder: object) -> Snapshot:
        snapshot = opening(self, folder)
        alive.add(snapshot)
        return snapshot

    monkeypatch.setattr(type(engine), "_open", open_and_watch)
    searchers_before = _whoosh_searchers()

    for n in range(GENERATIONS):
        engine.index_documents([replace(corpus[n % len(corpus)], name=f"Changed {n}")])
        results = engine.search(parse_params({"q": "home care"}, today=TODAY))
        assert results.total > 0

    # Reference counting alone (the collector is off) has freed every generation but the
    # one being searched and the one before it, which a search in another thread may hold.
    assert len(alive) <= 2
    # And every searcher the writes opened (Whoosh's writer caches one in a reference cycle,
    # with its readers and their mapped files): only the two snapshots' own are left.
    assert len(_whoosh_searchers() - searchers_before) <= len(alive)


def _whoosh_searchers() -> set[int]:
    """Whoosh's searchers on a whole generation (not those it makes for each segment)."""
    from whoosh.searching import Searcher

    return {
        id(found)
        for found in gc.get_objects()
        if isinstance(found, Searcher) and found.parent is None
    }
