"""The default engine: Whoosh (whoosh-reloaded), pure Python, one folder per generation.

Writers wait for Whoosh's lock with a timeout (never the default of failing at once), inside the
library's own cross-process write lock. Facet data is cached per Whoosh segment, keyed on the
segment's id: segments never change once written except for deletions, which a per-generation
live mask takes care of, so after a small change only the new segment is read again.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import pickle
import struct
import threading
import warnings
import weakref
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from whoosh import fields, index
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, IndexVersionError, LockError
from whoosh.index import IndexError as WhooshIndexError
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.util import random_name
from whoosh.writing import SegmentWriter

from search.catalogue import Catalogue, CataloguePart, SealedPart, ordinal_array
from search.documents import ListingDocument
from search.engine import BaseEngine
from search.errors import IndexCorrupted, IndexLocked
from search.facets import Selection
from search.indexing import FIELD_BOOSTS, SPELL_FIELD, TEXT_FIELDS, PreparedDocument, prepare
from search.planning import TermGroup
from search.results import Progress
from search.scoring import ScoreCache, TokenScores, rank, weighted_tokens
from search.snapshot import Snapshot

# What a damaged Whoosh folder raises when opened or read.
_DAMAGE = (
    EmptyIndexError,
    WhooshIndexError,
    IndexVersionError,
    OSError,
    EOFError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    KeyError,
    IndexError,
    ValueError,
)
T = TypeVar("T")
BUILD_MEMORY_MB = 256
PROGRESS_EVERY = 1000
# Per-segment catalogue parts kept across generations; more than an index ever has segments.
PART_CACHE_SIZE = 64
# A rebuild may be shared between processes (one segment each; `build_processes`, at most the
# cores), from this many listings: for fewer, starting the processes costs more than they save.
# On a quiet 2-core machine two processes rebuilt 100,000 listings in 108.5 s against one's
# 217.5 s (docs/performance.md); on a machine whose cores are taken by other work a second
# process gains nothing, and costs about a seventh more CPU.
BUILD_PROCESSES = 2
CORES = os.cpu_count() or 1
PARALLEL_FROM = 4000
# Postings kept per segment across generations (see SegmentPostings), all tokens together.
SEGMENT_POSTINGS = 4_000_000


class SegmentPostings:
    """Tokens' postings (and the spelling words) as read from each segment, kept across
    generations.

    A segment never changes once written, except that listings in it are deleted, so what a
    token's postings in one field of one segment hold (document numbers, term frequencies,
    field lengths) is read once and then only masked with the generation's deletions. A new
    generation after a small change reads just its new segment, and works its BM25 scores
    out of these arrays with the generation's own idf and average lengths. Bounded in
    postings: when full it is emptied and filled again as tokens are asked for.
    """

    def __init__(self, budget: int = SEGMENT_POSTINGS) -> None:
        self._budget = budget
        self._held = 0
        self._postings: dict[tuple[object, str, str], _Postings | None] = {}
        # Field lengths by segment and field, 0 until read: arrays, which the garbage
        # collector does not walk element by element as it would lists.
        self._lengths: dict[tuple[object, str], array[int]] = {}
        self._words: dict[object, dict[str, int]] = {}
        self._lock = threading.Lock()

    def words_of(self, key: object, reader: IndexReader) -> dict[str, int]:
        """The words of the segment `key` that `reader` reads, with their document counts."""
        found = self._words.get(key)
        if found is None:
            found = {
                text.decode("utf-8") if isinstance(text, bytes) else text: info.doc_frequency()
                for text, info in reader.iter_field(SPELL_FIELD)
            }
            with self._lock:
                if len(self._words) >= PART_CACHE_SIZE:
                    self._words.clear()
                self._words[key] = found
        return found

    def get(self, key: object, searcher: Searcher, name: str, token: str) -> _Postings | None:
        """`token`'s postings in field `name` of the segment `key` that `searcher` reads (as
        first read: documents deleted since are still there), or None if it has none."""
        found = self._postings.get((key, name, token), _MISSING)
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        read = self._read(key, searcher, name, token)
        with self._lock:
            size = 0 if read is None else len(read[0])
            if self._held + size > self._budget:
                self._postings.clear()
                self._lengths.clear()
                self._words.clear()
                self._held = 0
            self._postings[key, name, token] = read
            self._held += size
        return read

    def _read(self, key: object, searcher: Searcher, name: str, token: str) -> _Postings | None:
        reader = searcher.reader()
        if (name, token) not in reader:
            return None
        lengths = self._lengths.get((key, name))
        if lengths is None:
            lengths = self._lengths[key, name] = array("i", bytes(4 * reader.doc_count_all()))
        docnums: list[int] = []
        frequencies: list[float] = []
        postings = reader.postings(name, token)  # without the documents deleted so far
        while postings.is_active():
            docnum = postings.id()
            docnums.append(docnum)
            frequencies.append(postings.weight())
            if not lengths[docnum]:
                lengths[docnum] = searcher.doc_field_length(docnum, name, 1)
            postings.next()
        numbers = np.asarray(docnums, dtype=np.intp)
        return (
            numbers,
            np.asarray(frequencies, dtype=np.float64),
            np.asarray([lengths[d] for d in docnums], dtype=np.float64),
        )


# Document numbers, term frequencies and field lengths of a token in one field of a segment.
_Postings = tuple[npt.NDArray[np.intp], npt.NDArray[np.float64], npt.NDArray[np.float64]]
_MISSING = object()


def whoosh_schema() -> fields.Schema:
    """Text fields hold pre-analysed tokens, so Whoosh only splits them on spaces."""
    tokens = SpaceSeparatedTokenizer()
    text = {name: fields.TEXT(analyzer=tokens, phrase=False) for name in TEXT_FIELDS}
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        payload=fields.STORED(),
        row=fields.STORED(),
        # Scorable only so that it has a lengths column: without one, Whoosh looks for the
        # column's file on disk for every posting while committing (a tenth of a rebuild).
        **{SPELL_FIELD: fields.KEYWORD(scorable=True)},
        **text,
    )


@contextmanager
def _reading(folder: Path) -> Iterator[None]:
    try:
        yield
    except _DAMAGE as error:
        raise IndexCorrupted(f"cannot read the Whoosh index in {folder}: {error!r}") from error


class _Storage(FileStorage):  # type: ignore[misc]
    """Whoosh's file storage, making its temporary folder without an exception on the way.

    A writer asks twice for the same temporary folder, and the second `os.makedirs` raises
    FileExistsError, which Whoosh catches into a local variable (`e = sys.exc_info()[1]`): a
    frame and its traceback referring to each other. Until the garbage collector broke that
    cycle, it kept every frame below it alive, the index's write included, with its readers
    and their mapped files: tens of MiB a generation on a large index.
    """

    def temp_storage(self, name: str | None = None) -> FileStorage:
        folder = os.path.join(self.folder, name or f"{random_name()}.tmp")
        os.makedirs(folder, exist_ok=True)
        return FileStorage(folder)


def _open_dir(folder: Path) -> index.FileIndex:
    return index.FileIndex(_Storage(str(folder)))


def _create_in(folder: Path) -> index.FileIndex:
    return index.FileIndex.create(_Storage(str(folder)), whoosh_schema(), index._DEF_INDEX_NAME)


def _opening(folder: Path, action: Callable[[], T]) -> T:
    """Run a Whoosh open (the folder, or a searcher on it); raise IndexCorrupted if damaged.

    On a damaged file Whoosh retries ten times and leaves each try's file open. Those
    ResourceWarnings are noise (the IndexCorrupted is the news), so they are silenced here
    and the files closed at once rather than wherever the garbage collector next runs.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return action()
        except _DAMAGE as error:
            message = f"cannot open the Whoosh index in {folder}: {error!r}"
            error.__traceback__ = None
            gc.collect()
            raise IndexCorrupted(message) from None


def _alive(
    method: weakref.WeakMethod[Callable[[str], TokenScores]],
) -> Callable[[str], TokenScores]:
    """The snapshot's scorer behind a weak method (its cache never outlives it in use)."""
    found = method()
    if found is None:
        raise RuntimeError("the snapshot this score cache belongs to is gone")
    return found


class WhooshSnapshot(Snapshot):
    """A Whoosh searcher on one generation."""

    def __init__(
        self,
        folder: Path,
        ix: index.Index,
        parts: dict[object, SealedPart],
        postings: SegmentPostings,
    ) -> None:
        self.folder = folder
        self._ix = ix
        self._parts = parts
        self._postings = postings
        self._searcher = _opening(folder, ix.searcher)
        self._reader = self._searcher.reader()
        self.generation = str(self._reader.generation())
        self.size = self._reader.doc_count_all()
        # The cache calls back into this snapshot through a weak reference: a bound method
        # would make a reference cycle that only the garbage collector frees, and until it ran
        # every replaced generation's scores and field lengths stayed in memory (80 to 160 MB
        # each at 100,000 listings).
        token_scores = weakref.WeakMethod(self._token_scores)
        self._scores = ScoreCache(lambda token: _alive(token_scores)(token))
        # Per segment (by position), which of its documents this generation has not deleted.
        self._live: dict[int, npt.NDArray[np.bool_] | None] = {}

    def is_current(self) -> bool:
        with _reading(self.folder):
            return self._searcher.up_to_date()

    def catalogue(self) -> Catalogue:
        placed: list[tuple[int, SealedPart]] = []
        live = 0
        with _reading(self.folder):
            for leaf, base in self._reader.leaf_readers():
                segment = leaf.segment()
                if segment is None:
                    # An index with no documents has a reader with no segment.
                    continue
                key = segment.segment_id()
                part = self._parts.get(key)
                if part is None:
                    rows = CataloguePart()
                    for docnum, stored in leaf.iter_docs():
                        rows.add(docnum, json.loads(stored["row"]))
                    part = rows.seal()
                    if len(self._parts) >= PART_CACHE_SIZE:
                        self._parts.clear()
                    self._parts[key] = part
                placed.append((base, part))
                leaf_live = (1 << leaf.doc_count_all()) - 1
                for docnum in leaf.deleted_docs_set or ():
                    leaf_live &= ~(1 << docnum)
                live |= leaf_live << base
        return Catalogue.join(placed, self.size, live)

    def token_ordinals(self, token: str) -> npt.NDArray[np.intp]:
        found = []
        with _reading(self.folder):
            for position, (searcher, base) in enumerate(self._searcher.leaf_searchers()):
                key = _segment_key(searcher)
                live = self._live_in(position, searcher)
                for name in TEXT_FIELDS:
                    postings = self._postings.get(key, searcher, name, token)
                    if postings is not None:
                        docnums = postings[0]
                        found.append((docnums if live is None else docnums[live[docnums]]) + base)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)

    def _live_in(self, position: int, searcher: Searcher) -> npt.NDArray[np.bool_] | None:
        """Which documents of the segment at `position` are not deleted (None: all are)."""
        if position not in self._live:
            reader = searcher.reader()
            deleted = list(reader.deleted_docs_set or ()) if reader.has_deletions() else []
            live = None
            if deleted:
                live = np.ones(reader.doc_count_all(), dtype=np.bool_)
                live[deleted] = False
            self._live[position] = live
        return self._live[position]

    def token_frequency(self, token: str) -> int:
        # The term's document frequency, kept in the index: no postings are read (reading
        # them for the vocabulary's concepts took about a second at 100,000 listings).
        with _reading(self.folder):
            return max((self._reader.doc_frequency(name, token) for name in TEXT_FIELDS), default=0)

    def top(
        self,
        groups: Sequence[TermGroup],
        require_all: bool,
        candidates: int,
        matches: int,
        selection: Selection,
        limit: int,
    ) -> list[tuple[int, float]]:
        # Scored from cached per-token scores rather than by Whoosh's matchers: the same
        # numbers (Whoosh's own scorer computes them), several times faster on broad queries.
        return rank(weighted_tokens(groups), ordinal_array(candidates), self._scores, limit)

    def _token_scores(self, token: str) -> TokenScores:
        """A token's BM25F score in every listing holding it, field boosts applied, summed.

        Whoosh's own scorer gives idf, average length, B and K1 (for the whole index, as in a
        search); the BM25 formula is Whoosh's, worked over a segment's postings at once (the
        same operations in the same order, so the same numbers) from postings read once per
        segment (SegmentPostings): after a change only the new segment's are read.
        """
        ordinals: list[npt.NDArray[np.intp]] = []
        values: list[npt.NDArray[np.float64]] = []
        with _reading(self.folder):
            for position, (searcher, base) in enumerate(self._searcher.leaf_searchers()):
                key = _segment_key(searcher)
                summed: npt.NDArray[np.float64] | None = None
                held: npt.NDArray[np.bool_] | None = None
                for name in TEXT_FIELDS:
                    postings = self._postings.get(key, searcher, name, token)
                    if postings is None:
                        continue
                    docnums, tf, length = postings
                    scorer = searcher.weighting.scorer(searcher, name, token)
                    idf, b, k1, avgfl = scorer.idf, scorer.B, scorer.K1, scorer.avgfl
                    # whoosh.scoring.bm25, the same expression.
                    score = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / avgfl)))
                    if summed is None or held is None:
                        size = searcher.reader().doc_count_all()
                        summed = np.zeros(size, dtype=np.float64)
                        held = np.zeros(size, dtype=np.bool_)
                    summed[docnums] += score * FIELD_BOOSTS[name]
                    held[docnums] = True
                if summed is None or held is None:
                    continue
                live = self._live_in(position, searcher)
                if live is not None:
                    held &= live
                found = np.flatnonzero(held)
                ordinals.append(found + base)
                values.append(summed[found])
        if not ordinals:
            return TokenScores(array("i"), array("d"))
        return TokenScores(
            array("i", np.concatenate(ordinals).astype(np.int32).tobytes()),
            array("d", np.concatenate(values).tobytes()),
        )

    def documents(self, ordinals: Sequence[int]) -> list[ListingDocument]:
        with _reading(self.folder):
            return [
                ListingDocument.from_json(self._searcher.stored_fields(o)["payload"])
                for o in ordinals
            ]

    def words(self) -> dict[str, int]:
        # Summed over segments, each segment's words read once (Whoosh's own figure for the
        # index is that sum), in Whoosh's order: by text.
        counts: dict[str, int] = {}
        with _reading(self.folder):
            for leaf, _ in self._reader.leaf_readers():
                for word, count in self._postings.words_of(_reader_key(leaf), leaf).items():
                    counts[word] = counts.get(word, 0) + count
        return dict(sorted(counts.items()))

    def close(self) -> None:
        self._searcher.close()
        self._ix.close()


class WhooshEngine(BaseEngine):
    """Search on Whoosh: the default, with nothing to install beyond the Python package."""

    name = "whoosh"
    build_processes = BUILD_PROCESSES
    parallel_from = PARALLEL_FROM

    def __init__(self, path: Path, **options: Any) -> None:
        super().__init__(path, **options)
        # Tokens' postings per segment, kept across generations (see SegmentPostings).
        self.segment_postings = SegmentPostings()

    def _open(self, folder: Path) -> Snapshot:
        ix = _opening(folder, lambda: _open_dir(folder))
        try:
            return WhooshSnapshot(folder, ix, self.segment_parts, self.segment_postings)
        except BaseException:
            ix.close()
            raise

    def _write(self, folder: Path, upserts: list[PreparedDocument], deletes: list[str]) -> None:
        ix = _opening(folder, lambda: _open_dir(folder))
        try:
            try:
                writer = ix.writer(timeout=self.writer_timeout)
            except LockError as error:
                raise IndexLocked(f"Whoosh's lock in {folder} stayed taken") from error
            try:
                # Our own searcher, closed here: the writer's own (what update_document and
                # delete_by_term use) is cached with a bound method of itself stored on it,
                # a reference cycle that keeps its readers and their mapped files until the
                # garbage collector runs.
                with Searcher(writer.reader()) as searcher:
                    for document in upserts:
                        writer.delete_by_term("id", document.id, searcher=searcher)
                        writer.add_document(**_fields_of(document))
                    for listing_id in deletes:
                        writer.delete_by_term("id", listing_id, searcher=searcher)
            except BaseException:
                writer.cancel()
                raise
            writer.commit()
        finally:
            ix.close()

    def _build(
        self, folder: Path, documents: Iterable[PreparedDocument], progress: Progress | None
    ) -> int:
        ix = _create_in(folder)
        count = 0
        try:
            writer = ix.writer(limitmb=BUILD_MEMORY_MB, timeout=self.writer_timeout)
            try:
                for count, document in enumerate(documents, start=1):
                    writer.add_document(**_fields_of(document))
                    if progress is not None and count % PROGRESS_EVERY == 0:
                        progress(count)
            except BaseException:
                writer.cancel()
                raise
            # One segment: the fastest shape to search.
            writer.commit(optimize=True)
        finally:
            ix.close()
        if progress is not None:
            progress(count)
        return count

    def _build_listings(
        self, folder: Path, documents: Iterable[ListingDocument], progress: Progress | None
    ) -> int:
        listings = list(documents)
        processes = min(self.build_processes, CORES, len(listings) // max(1, self.parallel_from))
        if processes < 2:
            return super()._build_listings(folder, listings, progress)
        return self._build_in_parallel(folder, listings, processes, progress)

    def _build_in_parallel(
        self,
        folder: Path,
        listings: list[ListingDocument],
        processes: int,
        progress: Progress | None,
    ) -> int:
        """Index `listings` in `processes` forked processes, each analysing and writing one
        contiguous share as a segment of its own, then commit the segments in order.

        Listings keep the document numbers a one-process build gives them (the first share's
        segment comes first), and Whoosh scores with the whole index's statistics, so the
        answers are the same; the index simply has a few segments instead of one. A rebuild
        of 100,000 took 226-230 s in one process, most of it our analysis and Whoosh's
        posting pool, both of which divide between processes.
        """
        ix = _create_in(folder)
        context = multiprocessing.get_context("fork")
        workers: list[tuple[multiprocessing.process.BaseProcess, int]] = []
        try:
            # The parent's writer holds Whoosh's lock and writes the table of segments; the
            # processes write their segments without the lock, as Whoosh's own MpWriter does.
            try:
                writer = ix.writer(timeout=self.writer_timeout)
            except LockError as error:
                raise IndexLocked(f"Whoosh's lock in {folder} stayed taken") from error
            try:
                share = -(-len(listings) // processes)
                channels = []
                for start in range(0, len(listings), share):
                    chunk = listings[start : start + share]
                    receiving, sending = context.Pipe(duplex=False)
                    worker = context.Process(
                        target=self._build_segment,
                        args=(ix, chunk, BUILD_MEMORY_MB // processes, sending),
                        daemon=True,
                    )
                    worker.start()
                    sending.close()
                    workers.append((worker, len(chunk)))
                    channels.append(receiving)
                segments = []
                done = 0
                for (building, size), receiving in zip(workers, channels, strict=True):
                    try:
                        kind, result = receiving.recv()
                    except EOFError:
                        kind, result = "failed", f"exit code {building.exitcode}"
                    receiving.close()
                    building.join()
                    if kind != "segment":
                        raise RuntimeError(f"a process building the Whoosh index failed: {result}")
                    segments.append(result)
                    done += size
                    if progress is not None:
                        progress(done)
                writer._close_segment()
                writer._commit_toc(segments)
                writer._finish()
            except BaseException:
                writer.cancel()
                raise
        finally:
            for building, _ in workers:
                if building.is_alive():
                    building.terminate()
                building.join()
            ix.close()
        return len(listings)

    def _build_segment(
        self, ix: index.Index, listings: list[ListingDocument], memory_mb: int, sending: object
    ) -> None:
        """In a forked process: analyse and write `listings` as one segment, and send it."""
        try:
            writer = SegmentWriter(ix, _lk=False, limitmb=memory_mb)
            for listing in listings:
                writer.add_document(
                    **_fields_of(prepare(listing, self.vocabulary, self.categories))
                )
            outcome: tuple[str, object] = ("segment", writer._finalize_segment())
        except BaseException as error:  # reported to the parent, which raises
            outcome = ("failed", repr(error))
        sending.send(outcome)  # type: ignore[attr-defined]
        sending.close()  # type: ignore[attr-defined]


def _segment_key(searcher: Searcher) -> object:
    return _reader_key(searcher.reader())


def _reader_key(reader: IndexReader) -> object:
    segment = reader.segment()
    return None if segment is None else segment.segment_id()


def whoosh_query(groups: Sequence[TermGroup], require_all: bool) -> wq.Query:
    """The Whoosh query for term groups: all of them (or any), boosters only adding score."""
    parts = [_any_of(group.alternatives) for group in groups]
    query: wq.Query = wq.And(parts) if require_all else wq.Or(parts)
    boosters = [booster for group in groups for booster in group.boosters]
    if boosters:
        query = wq.AndMaybe(query, _any_of(boosters))
    return query


def _any_of(tokens: Iterable[tuple[str, float]]) -> wq.Query:
    return wq.Or(
        [
            wq.Term(name, token, boost=weight * FIELD_BOOSTS[name])
            for token, weight in tokens
            for name in TEXT_FIELDS
        ]
    )


def _fields_of(document: PreparedDocument) -> dict[str, str]:
    return {
        "id": document.id,
        "payload": document.payload,
        "row": document.row,
        SPELL_FIELD: document.spell,
        **document.fields,
    }
