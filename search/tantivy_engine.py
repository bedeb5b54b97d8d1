"""The second engine: tantivy, an embedded Rust engine (no server), for large directories.

Chosen by configuration (`SEARCH_ENGINE=tantivy`). It indexes the same analysed tokens as
Whoosh, so relevance, filters and facets behave the same; tantivy only scores far faster.
Tantivy refuses a second writer at once, so writers queue on the library's write lock first.
"""

from __future__ import annotations

import bisect
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import tantivy

from search.catalogue import Catalogue, CataloguePart, Membership, SealedPart, bits_of
from search.documents import ListingDocument
from search.engine import BaseEngine
from search.errors import IndexCorrupted
from search.facets import Selection
from search.indexing import FIELD_BOOSTS, SPELL_FIELD, TEXT_FIELDS, PreparedDocument
from search.planning import TermGroup
from search.results import Progress
from search.snapshot import Carried, Snapshot

WRITE_HEAP_BYTES = 32_000_000
BUILD_HEAP_BYTES = 128_000_000
PROGRESS_EVERY = 1000
# When a filter tantivy cannot apply itself (can start within N days) is asked for: fetch
# enough hits to hold a page of them if it takes matches alike, then this many times more.
OVERFETCH = 4
# Tokens held by at least this share of listings have their bitsets made as a generation
# opens: tantivy hands back one Python object per document, so such a token costs tens of
# milliseconds at 100,000 listings on first use, where a rarer one costs a few.
COMMON_TOKEN_SHARE = 0.05
COMMON_TOKENS_AT_MOST = 256
FACET_FIELD = "facet"
PRICE_FIELD = "price"


def tantivy_schema() -> tantivy.Schema:
    """Text fields hold pre-analysed tokens: tantivy's whitespace tokenizer keeps them whole."""
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field(SPELL_FIELD, tokenizer_name="whitespace", index_option="basic")
    # Filters tantivy applies itself while scoring: "facet:value" tokens and the price.
    builder.add_text_field(FACET_FIELD, tokenizer_name="whitespace", index_option="basic")
    builder.add_unsigned_field(PRICE_FIELD, indexed=True, fast=True)
    builder.add_bytes_field("payload", stored=True)
    builder.add_bytes_field("row", stored=True)
    return builder.build()


@contextmanager
def _reading(folder: Path) -> Iterator[None]:
    try:
        yield
    except (ValueError, OSError, KeyError, IndexError) as error:
        # KeyError and IndexError: a stored field missing, as in an index written by an older
        # version of this library; rebuilding is the cure either way.
        raise IndexCorrupted(f"cannot read the tantivy index in {folder}: {error!r}") from error


def _segments(folder: Path) -> list[tuple[str, int]] | None:
    """Each segment's id and document count (deleted ones included), in tantivy's order."""
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        return [(str(s["segment_id"]), int(s["max_doc"])) for s in meta["segments"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stamp(folder: Path) -> tuple[int, int, int]:
    # Tantivy rewrites meta.json (write then rename) on every commit: a new inode or time.
    status = (folder / "meta.json").stat()
    return (status.st_ino, status.st_mtime_ns, status.st_size)


class TantivySnapshot(Snapshot):
    """A tantivy searcher on one commit, with ordinals laid out segment after segment.

    Segments are named by tantivy's segment ids (from meta.json, read while the commit stays
    the same), so a later generation can reuse the catalogue part of every segment it still
    has and carry token bitsets over (see `carried_from`); segments never change once written,
    only their deletions grow.
    """

    def __init__(
        self,
        folder: Path,
        ix: tantivy.Index,
        schema: tantivy.Schema,
        parts: dict[object, SealedPart] | None = None,
    ) -> None:
        self.folder = folder
        self._schema = schema
        self._parts = parts if parts is not None else {}
        with _reading(folder):
            # The stamp is taken before reloading: a commit in between makes the snapshot look
            # stale (and reload once more) rather than look current while missing the commit.
            self._stamp = _stamp(folder)
            ix.reload()
            self._searcher = ix.searcher()
            segments = _segments(folder)
            if _stamp(folder) != self._stamp:
                segments = None  # committed to meanwhile: the names may not be this searcher's
            everything = self._searcher.search(
                tantivy.Query.all_query(), limit=max(1, self._searcher.num_docs), count=False
            ).hits
        self.generation = "-".join(str(n) for n in self._stamp)
        live: dict[int, list[int]] = {}
        for _, address in everything:
            live.setdefault(address.segment_ord, []).append(address.doc)
        for docs in live.values():
            docs.sort()
        count = self._searcher.num_segments
        if segments is not None and (
            len(segments) != count
            or any(docs[-1] >= segments[ordinal][1] for ordinal, docs in live.items())
        ):
            segments = None  # not the layout this searcher has: no reuse, nothing carried over
        self.layout: list[tuple[str | None, int, int]] = []
        total = 0
        for ordinal in range(count):
            if segments is not None:
                key, size = segments[ordinal]
            else:
                key, size = None, (live[ordinal][-1] + 1 if ordinal in live else 0)
            self.layout.append((key, total, size))
            total += size
        self._bases = [base for _, base, _ in self.layout]
        self.size = total
        self._live = live

    def is_current(self) -> bool:
        try:
            return _stamp(self.folder) == self._stamp
        except OSError:
            return False

    def _ordinal(self, address: tantivy.DocAddress) -> int:
        return self._bases[address.segment_ord] + address.doc

    def _address(self, ordinal: int) -> tantivy.DocAddress:
        # The last segment starting at or before it (an empty segment shares the next's base).
        index = bisect.bisect_right(self._bases, ordinal) - 1
        return tantivy.DocAddress(index, ordinal - self._bases[index])

    def catalogue(self) -> Catalogue:
        placed: list[tuple[int, SealedPart]] = []
        live: list[int] = []
        # Needed only here: let the per-segment document lists go once the rows are read.
        documents, self._live = self._live, {}
        kept: dict[object, SealedPart] = {}
        with _reading(self.folder):
            for segment, (key, base, _) in enumerate(self.layout):
                docs = documents.get(segment, [])
                part = self._parts.get(key) if key is not None else None
                if part is None or not self._same_documents(part, segment, docs):
                    rows = CataloguePart()
                    for doc in docs:
                        row = self._searcher.doc(tantivy.DocAddress(segment, doc))["row"][0]
                        rows.add(doc, json.loads(bytes(row)))
                    part = rows.seal()
                if key is not None:
                    kept[key] = part
                placed.append((base, part))
                live.extend(base + doc for doc in docs)
        # Parts of segments merged away are dropped; views already built keep what they joined.
        self._parts.clear()
        self._parts.update(kept)
        return Catalogue.join(placed, self.size, bits_of(live, self.size))

    def _same_documents(self, part: SealedPart, segment: int, docs: list[int]) -> bool:
        # A part is reused by its segment's id; reading back the first and last live listing
        # guards against a layout read wrongly, at the cost of two stored documents.
        for doc in {docs[0], docs[-1]} if docs else ():
            if doc >= part.size:
                return False
            stored = self._searcher.doc(tantivy.DocAddress(segment, doc))["id"][0]
            if part.ids[doc] != stored:
                return False
        return True

    def carried_from(self, previous: Snapshot) -> Carried | None:
        if not isinstance(previous, TantivySnapshot) or previous.folder != self.folder:
            return None
        before = {key: (base, size) for key, base, size in previous.layout if key is not None}
        runs: list[tuple[int, int, int]] = []
        fresh: list[tuple[int, int]] = []
        for key, base, size in self.layout:
            if key is None:
                return None
            if key in before and before[key][1] == size:
                runs.append((before[key][0], base, size))
            elif size:
                fresh.append((base, size))
        return Carried(runs=runs, fresh=fresh)

    def _term_query(self, token: str) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, tantivy.Query.term_query(self._schema, name, token))
                for name in TEXT_FIELDS
            ]
        )

    def _any_of(self, tokens: Iterable[tuple[str, float]]) -> tantivy.Query:
        return tantivy.Query.boolean_query(
            [
                (
                    tantivy.Occur.Should,
                    tantivy.Query.boost_query(
                        tantivy.Query.term_query(self._schema, name, token),
                        weight * FIELD_BOOSTS[name],
                    ),
                )
                for token, weight in tokens
                for name in TEXT_FIELDS
            ]
        )

    def token_ordinals(self, token: str) -> list[int]:
        with _reading(self.folder):
            most = sum(self._searcher.doc_freq(name, token) for name in TEXT_FIELDS)
            if most == 0:
                return []
            hits = self._searcher.search(self._term_query(token), limit=most, count=False).hits
        bases = self._bases
        return [bases[address.segment_ord] + address.doc for _, address in hits]

    def top(
        self,
        groups: Sequence[TermGroup],
        require_all: bool,
        candidates: int,
        matches: int,
        selection: Selection,
        limit: int,
    ) -> list[tuple[int, float]]:
        groups_query = [(tantivy.Occur.Must, self._any_of(group.alternatives)) for group in groups]
        if not require_all:
            groups_query = [
                (
                    tantivy.Occur.Must,
                    tantivy.Query.boolean_query(
                        [(tantivy.Occur.Should, q) for _, q in groups_query]
                    ),
                )
            ]
        # Should clauses beside Must ones only add to the score, as Whoosh's AndMaybe does.
        boosters = [booster for group in groups for booster in group.boosters]
        if boosters:
            groups_query.append((tantivy.Occur.Should, self._any_of(boosters)))
        limit = max(1, limit)
        groups_query += self._filter_clauses(selection)
        query = tantivy.Query.boolean_query(groups_query)
        # Every filter but the start date is in the query; that one is checked on the hits.
        members = Membership(candidates) if selection.start_by is not None else None
        wanted = max(1, candidates.bit_count())
        fetch = limit if members is None else -(-limit * matches.bit_count() // wanted) * 2
        with _reading(self.folder):
            while True:
                hits = self._searcher.search(query, limit=fetch, count=False).hits
                ranked = [(self._ordinal(address), score) for score, address in hits]
                if members is not None:
                    ranked = [(o, score) for o, score in ranked if o in members]
                if len(ranked) >= limit or len(hits) < fetch:
                    return ranked[:limit]
                fetch *= OVERFETCH

    def _filter_clauses(self, selection: Selection) -> list[tuple[tantivy.Occur, tantivy.Query]]:
        # Each clause scores nothing, so the scores are the words' alone.
        filters = [
            tantivy.Query.term_set_query(
                self._schema, FACET_FIELD, [facet_token(facet, value) for value in values]
            )
            for facet, values in selection.chosen.items()
            if values
        ]
        if selection.place_codes:
            # A place named in the words: a condition of its own beside the areas chosen.
            filters.append(
                tantivy.Query.term_set_query(
                    self._schema,
                    FACET_FIELD,
                    [facet_token("locality", code) for code in selection.place_codes],
                )
            )
        if selection.max_price_pence is not None:
            filters.append(
                tantivy.Query.range_query(
                    self._schema,
                    PRICE_FIELD,
                    tantivy.FieldType.Unsigned,
                    0,
                    selection.max_price_pence,
                )
            )
        return [(tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters]

    def documents(self, ordinals: Sequence[int]) -> list[ListingDocument]:
        with _reading(self.folder):
            return [
                ListingDocument.from_json(
                    bytes(self._searcher.doc(self._address(o))["payload"][0]).decode("utf-8")
                )
                for o in ordinals
            ]

    def words(self) -> dict[str, int]:
        with _reading(self.folder):
            return dict(self._searcher.terms_with_prefix(SPELL_FIELD, ""))

    def common_tokens(self) -> list[str]:
        # A listing counts once per field that holds the token: near enough for a threshold.
        held: dict[str, int] = {}
        with _reading(self.folder):
            for name in TEXT_FIELDS:
                for token, count in self._searcher.terms_with_prefix(name, ""):
                    held[token] = held.get(token, 0) + count
        enough = max(1, int(self.size * COMMON_TOKEN_SHARE))
        common = sorted((t for t, n in held.items() if n >= enough), key=lambda t: (-held[t], t))
        return common[:COMMON_TOKENS_AT_MOST]

    def close(self) -> None:
        # Tantivy frees its files when the searcher is dropped; nothing to close by hand.
        self._live = {}


class TantivyEngine(BaseEngine):
    """Search on tantivy: the same behaviour as Whoosh, for directories that outgrow it."""

    name = "tantivy"
    # Tantivy rebuilds the whole catalogue per generation anyway (1-2 s at 100,000 listings);
    # warming adds about a second to that and takes 50-60 ms off each of the first searches.
    warms = True

    def _index(self, folder: Path) -> tantivy.Index:
        with _reading(folder):
            if not tantivy.Index.exists(str(folder)):
                raise IndexCorrupted(f"no tantivy index in {folder}")
            return tantivy.Index.open(str(folder))

    def _open(self, folder: Path) -> Snapshot:
        ix = self._index(folder)
        if ix.schema != tantivy_schema():
            raise IndexCorrupted(f"the tantivy index in {folder} has another schema (older?)")
        return TantivySnapshot(folder, ix, ix.schema, self.segment_parts)

    def _write(self, folder: Path, upserts: list[PreparedDocument], deletes: list[str]) -> None:
        ix = self._index(folder)
        with _reading(folder):
            writer = ix.writer(heap_size=WRITE_HEAP_BYTES, num_threads=1)
            try:
                for document in upserts:
                    writer.delete_documents_by_term("id", document.id)
                    writer.add_document(_document_of(document))
                for listing_id in deletes:
                    writer.delete_documents_by_term("id", listing_id)
                writer.commit()
            except BaseException:
                writer.rollback()
                raise
            finally:
                writer.wait_merging_threads()

    def _build(
        self, folder: Path, documents: Iterable[PreparedDocument], progress: Progress | None
    ) -> int:
        ix = tantivy.Index(tantivy_schema(), path=str(folder), reuse=False)
        writer = ix.writer(heap_size=BUILD_HEAP_BYTES)
        count = 0
        try:
            for count, document in enumerate(documents, start=1):
                writer.add_document(_document_of(document))
                if progress is not None and count % PROGRESS_EVERY == 0:
                    progress(count)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.wait_merging_threads()
        # Make sure the folder's metadata is on disk before the swap points readers at it.
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if progress is not None:
            progress(count)
        return count


def facet_token(facet: str, value: str) -> str:
    """The token a listing carries for one value of a facet (values never hold spaces)."""
    return f"{facet}:{value}".replace(" ", "_")


def _document_of(document: PreparedDocument) -> tantivy.Document:
    row = json.loads(document.row)
    facets = " ".join(
        facet_token(facet, value) for facet, pairs in row["facets"].items() for value, _ in pairs
    )
    indexed = tantivy.Document(
        id=document.id,
        payload=document.payload.encode("utf-8"),
        row=document.row.encode("utf-8"),
        **{SPELL_FIELD: document.spell, FACET_FIELD: facets},
        **document.fields,
    )
    indexed.add_unsigned(PRICE_FIELD, row["price"])
    return indexed
