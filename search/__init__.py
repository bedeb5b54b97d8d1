"""Full-text search over the directory: a library with no Flask in it.

The import-linter contract in pyproject.toml keeps it so: the web pages and the API call it,
never the other way round. The app builds `ListingDocument`s, opens an engine with
`open_engine(name, path, gazetteer=...)` and calls `search(parse_params(request.args, ...))`.
"""

from __future__ import annotations

from pathlib import Path

from search.categories import CategoryTree
from search.documents import Availability, ListingDocument
from search.errors import IndexCorrupted, IndexLocked, IndexMissing, SearchError, UnknownEngine
from search.gazetteer import Gazetteer, Place, PlaceMatch, load_onspd_csv, load_places_csv
from search.query import Filters, SearchQuery, Sort, parse_params, to_params
from search.results import DocumentSource, FacetCount, Hit, SearchEngine, SearchResults
from search.vocabulary import Vocabulary

ENGINES = ("whoosh", "tantivy")
DEFAULT_ENGINE = "whoosh"


def open_engine(
    name: str,
    path: Path | str,
    *,
    gazetteer: Gazetteer,
    categories: CategoryTree | None = None,
    vocabulary: Vocabulary | None = None,
    source: DocumentSource | None = None,
    writer_timeout: float = 10.0,
) -> SearchEngine:
    """The engine called `name` ("whoosh" or "tantivy") on the index folder `path`.

    Nothing is read until the first call. `source`, when given, is called to rebuild a missing
    or corrupted index instead of raising. Raises UnknownEngine for any other name.
    """
    if name == "whoosh":
        from search.whoosh_engine import WhooshEngine

        engine_class: type = WhooshEngine
    elif name == "tantivy":
        # Imported only when chosen, so a deployment on Whoosh never loads the Rust library.
        from search.tantivy_engine import TantivyEngine

        engine_class = TantivyEngine
    else:
        raise UnknownEngine(f"unknown search engine {name!r}: choose one of {', '.join(ENGINES)}")
    engine: SearchEngine = engine_class(
        Path(path),
        gazetteer=gazetteer,
        categories=categories,
        vocabulary=vocabulary,
        source=source,
        writer_timeout=writer_timeout,
    )
    return engine


__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "Availability",
    "CategoryTree",
    "DocumentSource",
    "FacetCount",
    "Filters",
    "Gazetteer",
    "Hit",
    "IndexCorrupted",
    "IndexLocked",
    "IndexMissing",
    "ListingDocument",
    "Place",
    "PlaceMatch",
    "SearchEngine",
    "SearchError",
    "SearchQuery",
    "SearchResults",
    "Sort",
    "UnknownEngine",
    "Vocabulary",
    "load_onspd_csv",
    "load_places_csv",
    "open_engine",
    "parse_params",
    "to_params",
]
