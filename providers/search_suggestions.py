"""The search box's suggestions for this process: one suggestion index, counts per generation.

The index of terms (`search.suggest.SuggestionIndex`) depends only on the vocabulary, the
taxonomy and the gazetteer, so it is built once per process. How many listings carry each term
changes with the listings, so it is read again when the engine's generation changes, at the
first suggestion after the change: a few milliseconds at 100,000 listings (docs/performance.md).
Suggestions do not catch up with the outbox themselves: the searches do, every few seconds.
"""

from __future__ import annotations

from flask import Flask, current_app

from providers.reference_data import gazetteer_data, taxonomy_data
from providers.search_index import search_engine
from search import CategoryTree, Gazetteer, Vocabulary
from search.engine import BaseEngine
from search.suggest import Suggester, SuggestionIndex, listing_counts


def suggestion_index(app: Flask | None = None) -> SuggestionIndex:
    """This process's index of suggestible terms (built on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["search"]
    index = state.get("suggestion_index")
    if index is None:
        engine = search_engine(app)
        if isinstance(engine, BaseEngine):
            vocabulary, categories = engine.vocabulary, engine.categories
            gazetteer = engine.gazetteer
        else:
            vocabulary = Vocabulary.load()
            categories = CategoryTree.from_terms(taxonomy_data()["terms"])
            gazetteer = Gazetteer.from_county(gazetteer_data())
        index = state["suggestion_index"] = SuggestionIndex.build(vocabulary, categories, gazetteer)
    return index


def suggester(app: Flask | None = None) -> Suggester:
    """A suggester ranked by the current index generation's listing counts."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    index = suggestion_index(app)
    engine = search_engine(app)
    if not isinstance(engine, BaseEngine):
        return index.with_counts(None)
    view = engine.current_view()
    state = app.extensions["search"]
    cached = state.get("suggester")
    if cached is not None and cached[0] == view.generation:
        return cached[1]
    # Two threads may both count a new generation; either result is right, the last one stays.
    found = index.with_counts(listing_counts(view, index.count_keys()))
    state["suggester"] = (view.generation, found)
    return found
