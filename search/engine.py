"""What every engine shares: index folders and locks, recovery, and the search itself.

An engine (Whoosh, tantivy) stores analysed documents and answers a few questions about one
generation of its index (see search.snapshot). Everything else (planning the words, filters,
facets, sorting, paging, distances, snippets) is done here once, so both engines behave the
same and pass the same tests.
"""

from __future__ import annotations

import shutil
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar, TypeVar
from zoneinfo import ZoneInfo

from search.catalogue import SealedPart, bits_of
from search.categories import CategoryTree
from search.documents import ListingDocument
from search.errors import IndexCorrupted, IndexMissing
from search.facets import Selection, compare_prices, count_facets, fixed_label, select
from search.gazetteer import Gazetteer, PlaceMatch, miles_between
from search.highlight import highlight, snippet
from search.home import IndexHome
from search.indexing import TEXT_FIELDS, PreparedDocument, prepare
from search.planning import QueryPlan, plan_words
from search.query import SearchQuery, Sort
from search.results import DocumentSource, Hit, Progress, SearchResults
from search.snapshot import Snapshot, View
from search.vocabulary import Vocabulary

T = TypeVar("T")
LONDON = ZoneInfo("Europe/London")


@dataclass
class _Prepared:
    plan: QueryPlan
    origin: PlaceMatch | None
    sort: Sort
    relaxed: bool
    matches: int
    selection: Selection
    candidates: int
    notices: list[str]
    # The place the words named when nothing was in it and the nearest beyond it are given.
    beyond: PlaceMatch | None = None


class BaseEngine(ABC):
    """Index folders, locking, recovery and searching; subclasses store and score."""

    name: ClassVar[str]
    # Whether a new generation is warmed (View.warm) before its first search is answered.
    warms: ClassVar[bool] = False

    def __init__(
        self,
        path: Path,
        *,
        gazetteer: Gazetteer,
        vocabulary: Vocabulary | None = None,
        categories: CategoryTree | None = None,
        source: DocumentSource | None = None,
        writer_timeout: float = 10.0,
    ) -> None:
        self.home = IndexHome(Path(path), self.name)
        self.gazetteer = gazetteer
        self.vocabulary = vocabulary or Vocabulary.load()
        self.categories = categories or CategoryTree()
        self.source = source
        self.writer_timeout = writer_timeout
        self._lock = threading.RLock()
        self._view: View | None = None
        self._previous: View | None = None
        self._known_words: set[str] | None = None
        # Catalogue parts kept across generations, one per index segment (both engines).
        self.segment_parts: dict[object, SealedPart] = {}

    # What each engine provides -------------------------------------------------------------

    @abstractmethod
    def _open(self, folder: Path) -> Snapshot:
        """A snapshot of the index in `folder`. Raises IndexCorrupted if it cannot be read."""

    @abstractmethod
    def _write(self, folder: Path, upserts: list[PreparedDocument], deletes: list[str]) -> None:
        """Apply changes to the index in `folder` (the write lock is held)."""

    @abstractmethod
    def _build(
        self, folder: Path, documents: Iterable[PreparedDocument], progress: Progress | None
    ) -> int:
        """Create a complete index of `documents` in the empty `folder`; returns the count."""

    # Writing --------------------------------------------------------------------------------

    def index_documents(self, documents: Iterable[ListingDocument]) -> int:
        """Add or replace listings by id; returns how many.

        Raises IndexLocked if another writer holds the index past the timeout, and IndexMissing
        or IndexCorrupted when there is no usable index and no source to rebuild it from.
        """
        prepared = [prepare(d, self.vocabulary, self.categories) for d in documents]
        if prepared:
            self._recovering(lambda: self._write_current(prepared, []))
        return len(prepared)

    def delete(self, listing_ids: Iterable[str]) -> int:
        """Remove listings by id; ids not in the index are ignored. Raises as index_documents."""
        ids = list(dict.fromkeys(listing_ids))
        if ids:
            self._recovering(lambda: self._write_current([], ids))
        return len(ids)

    def rebuild(
        self, documents: Iterable[ListingDocument], progress: Progress | None = None
    ) -> int:
        """Index `documents` into a new folder and swap it in; returns how many.

        Searches keep reading the old index until the swap. Changes written to the old index
        while this runs are not carried over: note the outbox position before reading the
        documents and apply the outbox from there afterwards. `progress` is called with the
        running count. Raises IndexLocked if another rebuild or writer holds the locks past
        the timeout; the new folder is removed if anything fails.
        """
        with self.home.rebuild_lock(self.writer_timeout):
            return self._rebuild_locked(documents, progress)

    def _rebuild_locked(
        self, documents: Iterable[ListingDocument], progress: Progress | None
    ) -> int:
        folder = self.home.new_folder()
        try:
            count = self._build_listings(folder, documents, progress)
            with self.home.write_lock(self.writer_timeout):
                self.home.swap(folder)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return count

    def _build_listings(
        self, folder: Path, documents: Iterable[ListingDocument], progress: Progress | None
    ) -> int:
        """Create a complete index of `documents` (not yet analysed) in the empty `folder`;
        returns the count. An engine may override it to share the work between processes."""
        return self._build(
            folder, (prepare(d, self.vocabulary, self.categories) for d in documents), progress
        )

    def _write_current(self, upserts: list[PreparedDocument], deletes: list[str]) -> None:
        self.home.current()
        with self.home.write_lock(self.writer_timeout):
            self._write(self.home.current(), upserts, deletes)

    def _recovering(self, action: Callable[[], T]) -> T:
        # A missing or unreadable index is rebuilt from the source when the caller gave one;
        # only one attempt, so a source that itself fails surfaces its error.
        try:
            return action()
        except (IndexMissing, IndexCorrupted):
            if self.source is None:
                raise
            broken = self.home.pointer()
        with self.home.rebuild_lock(self.writer_timeout):
            # Several processes find the same broken index; the first rebuilds it, the others
            # find it swapped once they get the lock and simply carry on.
            if self.home.pointer() == broken:
                self._rebuild_locked(self.source(), None)
        return action()

    # Reading --------------------------------------------------------------------------------

    def generation(self) -> str:
        """A key that changes whenever what searches see changes (a write or a swap)."""
        return self._recovering(self._current_view).generation

    def count(self) -> int:
        """How many listings the current index holds."""
        return self._recovering(self._current_view).catalogue.live.bit_count()

    def close(self) -> None:
        """Close the open snapshots; the engine reopens on the next search."""
        with self._lock:
            for view in (self._view, self._previous):
                if view is not None:
                    view.snapshot.close()
            self._view = self._previous = None

    def current_view(self) -> View:
        """The current generation's snapshot with its cached data (for tools and benchmarks).

        Raises IndexMissing or IndexCorrupted as `search` does, rebuilding if it can.
        """
        return self._recovering(self._current_view)

    def _current_view(self) -> View:
        with self._lock:
            view = self._view
            name = self.home.pointer()
            if view is not None and view.folder == name and view.snapshot.is_current():
                return view
            folder = self.home.current()
            snapshot = self._open(folder)
            try:
                fresh = View(folder.name, snapshot, snapshot.catalogue())
                if self.warms:
                    # After a small change, most of the last generation's bitsets still hold.
                    if view is not None and view.folder == fresh.folder:
                        fresh.inherit(view, self._tokens_of)
                    fresh.warm()
            except BaseException:
                snapshot.close()
                raise
            # The view before last is closed; the last one may still serve a search in
            # another thread, so it stays open until the next change.
            if self._previous is not None:
                self._previous.snapshot.close()
            self._previous, self._view = view, fresh
            return fresh

    def _tokens_of(self, document: ListingDocument) -> set[str]:
        """Every token a listing is indexed under, in any text field."""
        fields = prepare(document, self.vocabulary, self.categories).fields
        return {token for name in TEXT_FIELDS for token in fields[name].split()}

    def _words(self) -> set[str]:
        if self._known_words is None:
            self._known_words = self.vocabulary.words() | self.gazetteer.words()
        return self._known_words

    def search(self, query: SearchQuery) -> SearchResults:
        """One page of results for `query`, with facets, suggestion and distances.

        Never raises for odd words, unknown filter values or a page past the end: those give
        fewer or no hits and a notice. Raises IndexMissing or IndexCorrupted only when the
        index is unusable and no source was given to rebuild it.
        """
        return self._recovering(lambda: self._search(query)[0])

    def search_and_rank(self, query: SearchQuery, limit: int) -> tuple[SearchResults, list[str]]:
        """`search(query)` and `ranked_ids(query, limit)` at once, from one ranking: for a caller
        that needs both what a search says (its total, the places and words it used, its
        facets) and every match in order (the feed's search, which logs the search as the
        search page does). Ranking is a search's main cost: at 66,000 listings, "home care"
        took 31 ms of a 36 ms search, and the feed ranked twice."""
        return self._recovering(lambda: self._search(query, limit))

    def places_named(self, words: str) -> tuple[PlaceMatch, ...]:
        """The places `words` name, as `search` reads them ("home care in Stevenage"), without
        searching: for a caller that must know the area before it searches (the council's
        lead providers for an area come first)."""
        return self._recovering(lambda: self._places_named(words))

    def _places_named(self, words: str) -> tuple[PlaceMatch, ...]:
        view = self._current_view()
        return plan_words(
            words, self.vocabulary, self.gazetteer, lambda: view.lexicon(self._words)
        ).places

    def ranked_ids(self, query: SearchQuery, limit: int) -> list[str]:
        """The ids of the first `limit` results for `query`, in the order `search` gives them,
        without facets, snippets or documents: for a caller that needs every match at once
        (the feed's own paging) rather than one page."""
        return self._recovering(lambda: self._ranked_ids(query, limit))

    def _ranked_ids(self, query: SearchQuery, limit: int) -> list[str]:
        view = self._current_view()
        found = self._prepare(view, query)
        ranked = self._rank(
            view,
            found.plan,
            found.sort,
            found.relaxed,
            found.matches,
            found.candidates,
            found.selection,
            found.origin,
            0,
            limit,
            query.first,
        )
        ids = view.catalogue.ids
        return [ids[ordinal] for ordinal, _ in ranked if ids[ordinal] is not None]  # type: ignore[misc]

    def _prepare(self, view: View, query: SearchQuery) -> _Prepared:
        """What a query asks of this generation: its plan, place, order and candidates."""
        catalogue = view.catalogue
        notices = list(query.problems)
        plan = plan_words(
            query.words, self.vocabulary, self.gazetteer, lambda: view.lexicon(self._words)
        )
        localities, places, areas = self._localities(query, plan, notices)
        origin = self._origin(query, plan, notices)
        sort = query.sort
        if sort is Sort.DISTANCE and origin is None:
            notices.append("Give a town or postcode to sort by distance.")
            sort = Sort.RELEVANCE
        elif plan.near and origin is not None and sort is Sort.RELEVANCE:
            sort = Sort.DISTANCE

        relaxed = False
        if plan.groups:
            matches = view.match(plan.groups, require_all=True)
            if not matches and len(plan.groups) > 1:
                matches = view.match(plan.groups, require_all=False)
                relaxed = bool(matches)
        else:
            matches = catalogue.live
        as_of = query.as_of or _today()
        # Prices are compared within one unit: for a price sort and for a price ceiling.
        comparing = sort is Sort.PRICE or query.filters.max_price_pence is not None

        def selecting(localities: set[str], places: set[str], areas: set[str]) -> Selection:
            chosen = select(catalogue, query.filters, localities, as_of, places=places, areas=areas)
            return compare_prices(catalogue, matches, chosen) if comparing else chosen

        selection = selecting(localities, places, areas)
        candidates = matches & selection.combined()
        beyond = None
        if not candidates and matches and plan.places and not query.filters.localities:
            # Nothing in the place the words named: rather than a dead end, the nearest
            # matches beyond it, nearest first (the hits say how far), and a plain notice.
            wider = selecting(set(), set(), set())
            if origin is not None and matches & wider.combined():
                selection, candidates = wider, matches & wider.combined()
                sort, beyond = Sort.DISTANCE, plan.places[0]
                notices.append(
                    f"No service in {beyond.label} matched, so these are the nearest beyond "
                    "it, nearest first."
                )
        return _Prepared(
            plan=plan,
            origin=origin,
            sort=sort,
            relaxed=relaxed,
            matches=matches,
            selection=selection,
            candidates=candidates,
            notices=notices,
            beyond=beyond,
        )

    def _search(self, query: SearchQuery, ids_limit: int = 0) -> tuple[SearchResults, list[str]]:
        """The page `query` asks for and, with `ids_limit`, the ids of the first that many
        results, in the same order, from the same ranking."""
        view = self._current_view()
        found = self._prepare(view, query)
        plan, origin, sort, relaxed = found.plan, found.origin, found.sort, found.relaxed
        notices = found.notices
        total = found.candidates.bit_count()
        offset = (query.page - 1) * query.per_page
        past_the_end = bool(offset and offset >= total)
        if past_the_end:
            pages = max(1, -(-total // query.per_page))
            notices.append(f"Page {query.page} is past the end: there are {pages} pages.")
        # From the first result when the ids are wanted too: `_rank` gives the same order from
        # any offset, so the page is a slice of it.
        start = 0 if ids_limit else offset
        ranked: list[tuple[int, float]] = []
        if ids_limit or not past_the_end:
            ranked = self._rank(
                view,
                plan,
                sort,
                relaxed,
                found.matches,
                found.candidates,
                found.selection,
                origin,
                start,
                max(offset + query.per_page, ids_limit) - start,
                query.first,
            )
        page = [] if past_the_end else ranked[offset - start : offset - start + query.per_page]
        if relaxed:
            notices.append("No service matched all your words; these match some of them.")
        ids = view.catalogue.ids
        return SearchResults(
            query=query,
            hits=tuple(self._hits(view, page, plan, origin)),
            total=total,
            facets=count_facets(
                view.catalogue, found.matches, found.selection, self._label, self.gazetteer
            ),
            price_unit=found.selection.price_unit,
            sort=sort,
            suggestion=plan.suggestion,
            corrections=plan.corrections,
            places=plan.places,
            origin=origin,
            relaxed=relaxed,
            beyond=found.beyond,
            notices=tuple(notices),
            generation=view.generation,
            words_used=tuple(group.words for group in plan.groups),
        ), [ids[ordinal] for ordinal, _ in ranked[:ids_limit] if ids[ordinal] is not None]  # type: ignore[misc]

    def _localities(
        self, query: SearchQuery, plan: QueryPlan, notices: list[str]
    ) -> tuple[set[str], set[str], set[str]]:
        """The localities the chosen areas accept, those the places named in the words accept
        (both expanded), and the areas chosen or named as the area facet lists them."""
        chosen: set[str] = set()
        for value in query.filters.localities:
            match = self.gazetteer.resolve(value)
            if match is None:
                notices.append(f"We do not know the place {value!r}, so it was not used.")
                continue
            chosen |= match.codes
        named = {code for place in plan.places for code in place.codes}
        areas = {self.gazetteer.area_of(code) for code in chosen | named}
        return self._expanded(chosen), self._expanded(named), areas

    def _expanded(self, codes: set[str]) -> set[str]:
        expanded: set[str] = set()
        for code in codes:
            expanded |= self.gazetteer.expand(code)
        return expanded

    def _origin(self, query: SearchQuery, plan: QueryPlan, notices: list[str]) -> PlaceMatch | None:
        if query.near:
            found = self.gazetteer.resolve(query.near)
            if found is not None:
                return found
            notices.append(f"We do not know the place {query.near!r}, so distances are not shown.")
        return plan.places[0] if plan.places else None

    def _rank(
        self,
        view: View,
        plan: QueryPlan,
        sort: Sort,
        relaxed: bool,
        matches: int,
        candidates: int,
        selection: Selection,
        origin: PlaceMatch | None,
        offset: int,
        limit: int,
        first: frozenset[str] = frozenset(),
    ) -> list[tuple[int, float]]:
        """The candidates from `offset`, `limit` of them, in `sort`'s order; the candidates
        whose ids are in `first` come before all the others, in the same order among
        themselves."""
        ahead = candidates & self._bits_of_ids(view, first) if first else 0
        if not ahead:
            return self._rank_all(
                view, plan, sort, relaxed, matches, candidates, selection, origin, offset, limit
            )
        # An engine's scoring may take its filters from `selection` rather than from the
        # candidates given (Tantivy's does), so each part is read wide and then held to its
        # own members.
        count = ahead.bit_count()
        fetch = count
        while True:
            ranked = self._rank_all(
                view, plan, sort, relaxed, matches, ahead, selection, origin, 0, fetch
            )
            pinned = [hit for hit in ranked if (ahead >> hit[0]) & 1]
            if len(pinned) >= count or len(ranked) < fetch:
                break
            fetch *= 4
        page = pinned[offset : offset + limit]
        wanted = limit - len(page)
        if wanted > 0:
            skip = max(0, offset - len(pinned))
            rest = self._rank_all(
                view,
                plan,
                sort,
                relaxed,
                matches,
                candidates & ~ahead,
                selection,
                origin,
                0,
                skip + wanted + count,
            )
            page += [hit for hit in rest if not (ahead >> hit[0]) & 1][skip : skip + wanted]
        return page

    def _bits_of_ids(self, view: View, ids: frozenset[str]) -> int:
        return bits_of(
            (ordinal for ordinal, id_ in enumerate(view.catalogue.ids) if id_ in ids),
            view.catalogue.size,
        )

    def _rank_all(
        self,
        view: View,
        plan: QueryPlan,
        sort: Sort,
        relaxed: bool,
        matches: int,
        candidates: int,
        selection: Selection,
        origin: PlaceMatch | None,
        offset: int,
        limit: int,
    ) -> list[tuple[int, float]]:
        catalogue = view.catalogue
        if not candidates:
            return []
        if sort is Sort.RELEVANCE and plan.groups:
            top = view.snapshot.top(
                plan.groups, not relaxed, candidates, matches, selection, offset + limit
            )
            return top[offset : offset + limit]
        wanted = offset + limit
        if sort is Sort.DISTANCE and origin is not None:
            first = catalogue.nearest_among(origin.latitude, origin.longitude, candidates, wanted)
        elif sort is Sort.PRICE:
            first = catalogue.cheapest_among(candidates, wanted)
        else:
            first = catalogue.freshest_among(candidates, wanted)
        return [(ordinal, 0.0) for ordinal in first[offset:]]

    def _hits(
        self,
        view: View,
        ranked: list[tuple[int, float]],
        plan: QueryPlan,
        origin: PlaceMatch | None,
    ) -> list[Hit]:
        documents = view.snapshot.documents([ordinal for ordinal, _ in ranked])
        hits = []
        for (_, score), document in zip(ranked, documents, strict=True):
            distance = None
            if (
                origin is not None
                and document.latitude is not None
                and document.longitude is not None
            ):
                distance = round(
                    miles_between(
                        origin.latitude, origin.longitude, document.latitude, document.longitude
                    ),
                    1,
                )
            marks = (self.vocabulary, plan.highlight_stems, plan.highlight_concepts)
            hits.append(
                Hit(
                    document=document,
                    score=score,
                    snippet=snippet(document.description, *marks),
                    name_html=highlight(document.name, *marks),
                    distance_miles=distance,
                )
            )
        return hits

    def _label(self, facet: str, value: str, stored: str) -> str:
        if facet == "locality":
            return self.gazetteer.area_name(value) or stored
        if facet == "category" and stored == value:
            return self.categories.names.get(value, stored)
        return fixed_label(facet, value, stored)


def _today() -> date:
    return datetime.now(LONDON).date()
