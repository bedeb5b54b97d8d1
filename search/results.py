"""What a search returns, and the interface every engine offers."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from search.documents import ListingDocument
from search.gazetteer import PlaceMatch
from search.query import SearchQuery, Sort

DocumentSource = Callable[[], Iterable[ListingDocument]]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class FacetCount:
    """One value of a facet: how many results would have it, and whether it is chosen."""

    value: str
    label: str
    count: int
    selected: bool = False


@dataclass(frozen=True)
class Hit:
    """One result. `snippet` and `name_html` are HTML: escaped text with <mark> around matches."""

    document: ListingDocument
    score: float
    snippet: str
    name_html: str
    distance_miles: float | None = None


@dataclass(frozen=True)
class SearchResults:
    """A page of results with the total, facet counts and what the words were taken to mean.

    `places` are the places recognised in the words (already applied as a locality filter);
    `origin` is where distances are measured from. `relaxed` is True when no listing matched
    all the words and these match some of them. `beyond` is the place the words named when
    nothing matched in it, and the hits are the nearest beyond it instead. `notices` explain
    anything ignored. `price_unit` is the one unit the results' prices were compared in.
    """

    query: SearchQuery
    hits: tuple[Hit, ...]
    total: int
    facets: Mapping[str, tuple[FacetCount, ...]]
    sort: Sort
    suggestion: str | None = None
    corrections: tuple[tuple[str, str], ...] = ()
    places: tuple[PlaceMatch, ...] = ()
    origin: PlaceMatch | None = None
    relaxed: bool = False
    beyond: PlaceMatch | None = None
    notices: tuple[str, ...] = ()
    generation: str = ""
    words_used: tuple[str, ...] = field(default=())
    # The unit prices were compared in (sorted by, or held to the ceiling in): the one chosen,
    # or the most common among the results when none was. None when prices were not compared
    # and no unit was chosen.
    price_unit: str | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.query.per_page))

    @property
    def page(self) -> int:
        return self.query.page


@runtime_checkable
class SearchEngine(Protocol):
    """The one interface the app uses, whichever engine is configured."""

    name: str

    def index_documents(self, documents: Iterable[ListingDocument]) -> int:
        """Add or replace listings by id; returns how many. Raises IndexLocked, IndexMissing."""
        ...

    def delete(self, listing_ids: Iterable[str]) -> int:
        """Remove listings by id (unknown ids are fine); returns how many ids were given."""
        ...

    def rebuild(
        self, documents: Iterable[ListingDocument], progress: Progress | None = None
    ) -> int:
        """Build a whole new index from `documents` and swap it in; returns the count."""
        ...

    def search(self, query: SearchQuery) -> SearchResults:
        """One page of results for `query`. Raises IndexMissing or IndexCorrupted."""
        ...

    def ranked_ids(self, query: SearchQuery, limit: int) -> list[str]:
        """The ids of the first `limit` results in `search`'s order, with no page to build."""
        ...

    def search_and_rank(self, query: SearchQuery, limit: int) -> tuple[SearchResults, list[str]]:
        """`search(query)` and `ranked_ids(query, limit)` from one ranking."""
        ...

    def places_named(self, words: str) -> tuple[PlaceMatch, ...]:
        """The places the words name, as `search` reads them, without searching."""
        ...

    def generation(self) -> str:
        """A key that changes whenever what searches see changes."""
        ...

    def count(self) -> int:
        """How many listings the current index holds."""
        ...

    def close(self) -> None:
        """Release open files."""
        ...
