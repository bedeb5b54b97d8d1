"""Keeps each machine's search index in step with the shared database.

Every change to a listing (or to what a listing shows: its organisation, its venues) writes a
row to `search_outbox` in the same transaction, at flush. After the request commits, the local
index applies the outbox rows it has not seen; `flask search sync` does the same from a
scheduler, so a machine whose index was offline catches up, and `flask search reindex` rebuilds
from scratch. A rolled-back change never reaches the index: its outbox rows roll back with it.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, overload

from flask import Flask, current_app
from sqlalchemy import BigInteger, Integer, event, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, selectinload

from marketplace.cqc.checks import Verified, verified_location, verified_locations
from marketplace.cqc.models import CqcLocation
from marketplace.extensions import Model, db
from marketplace.formatting import LONDON
from marketplace.types import UTCDateTime, utcnow
from providers.models import (
    Location,
    Organisation,
    Service,
    ServiceAtLocation,
    service_is_public,
)
from providers.reference_data import gazetteer_data, taxonomy_data
from search import (
    CategoryTree,
    Gazetteer,
    ListingDocument,
    SearchEngine,
    SearchQuery,
    open_engine,
)
from search.analysis import tokenize

# On PostgreSQL a transaction that took its outbox id early may commit after a later one was
# applied, and must not be skipped: ids missing below the highest applied one are looked for
# again at every sync for this long after they were first seen missing.
REREAD_WINDOW = timedelta(minutes=5)
_DUE = "search_sync_due"
# Listings read from the database at a time when applying outbox rows: PostgreSQL takes at
# most 65,535 parameters a statement, and a machine catching up after a national directory's
# bulk load has 100,000 listings to apply (`flask search sync` failed there).
APPLY_BATCH = 1000


class SearchOutboxEntry(Model):
    """One listing whose search document must be refreshed (or removed)."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    service_id: Mapped[uuid.UUID] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _touched_services(session: Session) -> set[uuid.UUID]:
    touched: set[uuid.UUID] = set()
    cqc_location_ids: set[str] = set()
    for thing in (*session.new, *session.dirty, *session.deleted):
        if isinstance(thing, Service):
            if thing.id is None:
                thing.id = uuid.uuid4()
            touched.add(thing.id)
        elif isinstance(thing, ServiceAtLocation):
            if thing.service_id is not None:
                touched.add(thing.service_id)
            elif thing.service is not None and thing.service.id is not None:
                touched.add(thing.service.id)
        elif isinstance(thing, Organisation) and thing.id is not None:
            touched.update(service.id for service in thing.services if service.id is not None)
        elif isinstance(thing, CqcLocation):
            cqc_location_ids.add(thing.location_id)
        elif isinstance(thing, Location) and thing.id is not None:
            touched.update(
                db.session.scalars(
                    select(ServiceAtLocation.service_id).where(
                        ServiceAtLocation.location_id == thing.id
                    )
                )
            )
    # A CQC import changes the rating search shows for the listings naming a location; a
    # first import adds tens of thousands, so they are looked up in slices.
    named = sorted(cqc_location_ids)
    for start in range(0, len(named), 500):
        touched.update(
            db.session.scalars(
                select(Service.id).where(Service.cqc_location_id.in_(named[start : start + 500]))
            )
        )
    return touched


@event.listens_for(Session, "before_flush")
def _write_outbox(session: Session, _context: Any, _instances: Any) -> None:
    with session.no_autoflush:
        touched = _touched_services(session)
    if touched:
        session.add_all(SearchOutboxEntry(service_id=service_id) for service_id in touched)
        session.info[_DUE] = True


def _cqc_rating(service: Service, verified: Verified | None) -> str | None:
    # The CQC's word from its directory, never the rating the provider typed.
    location = verified_location(service, verified)
    return location.rating.value if location is not None and location.rating else None


def document_for(service: Service, verified: Verified | None = None) -> ListingDocument:
    """What search knows of a public listing. Many at once pass `verified`, their CQC
    locations looked up together (`verified_locations`); one alone looks its own up."""
    venues = [link.location for link in service.locations]
    located = next((venue for venue in venues if venue.latitude is not None), None)
    confirmed = service.capacity_confirmed_at.astimezone(LONDON).date()
    return ListingDocument(
        id=str(service.id),
        name=service.name,
        description=service.description,
        provider_name=service.organisation.name,
        category_codes=tuple(term.code for term in service.taxonomy_terms),
        category_names=tuple(term.name for term in service.taxonomy_terms),
        locality_codes=tuple(locality.code for locality in service.localities),
        delivery_modes=tuple(service.delivery_modes),
        price_pence=service.price_pence,
        price_unit=service.price_unit.value,
        availability=service.capacity_status.value,
        earliest_start=service.earliest_start,
        accepts_personal_budgets=service.accepts_personal_budgets,
        languages=tuple(service.languages),
        accessibility=tuple(service.accessibility),
        cqc_rating=_cqc_rating(service, verified),
        last_confirmed=confirmed,
        latitude=located.latitude if located else None,
        longitude=located.longitude if located else None,
        conditions=tuple(str(c) for c in (service.eligibility or {}).get("conditions", [])),
        for_carers=bool((service.eligibility or {}).get("carers")),
    )


def _with_everything(query: Any) -> Any:
    return query.options(
        selectinload(Service.organisation),
        selectinload(Service.taxonomy_terms),
        selectinload(Service.localities),
        selectinload(Service.locations).selectinload(ServiceAtLocation.location),
    )


def _public(query: Any) -> Any:
    return query.join(Organisation).where(service_is_public())


def public_documents() -> Iterator[ListingDocument]:
    """Every public listing as a document, for a rebuild."""
    services = list(db.session.scalars(_with_everything(_public(select(Service)))))
    verified = verified_locations(services)
    for service in services:
        yield document_for(service, verified)


def search_engine(app: Flask | None = None) -> SearchEngine:
    """This process's engine for the app's index folder (opened once, on first use)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state = app.extensions["search"]
    if state.get("engine") is None:
        county = gazetteer_data()
        taxonomy = taxonomy_data()
        state["engine"] = open_engine(
            app.config["SEARCH_ENGINE"],
            Path(app.config["SEARCH_INDEX_PATH"]),
            gazetteer=Gazetteer.from_county(county),
            categories=CategoryTree.from_terms(taxonomy["terms"]),
            source=lambda: list(public_documents()),
            writer_timeout=app.config["SEARCH_WRITER_TIMEOUT"],
        )
    return state["engine"]


def _cursor_file(app: Flask) -> Path:
    return Path(app.config["SEARCH_INDEX_PATH"]) / f"applied-{app.config['SEARCH_ENGINE']}.json"


@dataclass(frozen=True)
class Gap:
    """Outbox ids `low` to `high` (both included) not seen though a higher one was: taken by
    transactions not yet committed (or rolled back, and never to come)."""

    low: int
    high: int
    noticed_at: datetime


@dataclass(frozen=True)
class Cursor:
    """What this machine's index has applied: every outbox row up to `outbox_id` except those
    in `gaps`, which are applied when they appear (a row that committed late, under a lower
    id) until the gap is older than REREAD_WINDOW.

    Only the gaps are read again, not every recent row: after a council loads 100,000 listings
    at once, every sync for the next five minutes read all of their rows to find none new
    (at 10,000, the feed's search: p50 184 ms then, 72 ms without the re-reading)."""

    outbox_id: int = 0
    gaps: tuple[Gap, ...] = ()

    def after(self, read: Iterable[int], now: datetime) -> Cursor:
        """The cursor once the rows `read` for this cursor are applied."""
        seen = sorted(set(read))
        gaps = [gap for old in self.gaps for gap in _without(old, seen)]
        highest = self.outbox_id
        for row_id in seen:
            if row_id > highest + 1:
                gaps.append(Gap(highest + 1, row_id - 1, now))
            highest = max(highest, row_id)
        return Cursor(highest, tuple(gaps))

    def expired(self, now: datetime) -> Cursor:
        kept = tuple(gap for gap in self.gaps if now - gap.noticed_at < REREAD_WINDOW)
        return self if kept == self.gaps else Cursor(self.outbox_id, kept)


def _without(gap: Gap, seen: Sequence[int]) -> Iterator[Gap]:
    """What is left of `gap` once the ids `seen` (sorted) have appeared in it."""
    low = gap.low
    for row_id in seen[bisect_left(seen, gap.low) : bisect_right(seen, gap.high)]:
        if row_id > low:
            yield Gap(low, row_id - 1, gap.noticed_at)
        low = row_id + 1
    if low <= gap.high:
        yield Gap(low, gap.high, gap.noticed_at)


def _read_cursor(app: Flask) -> Cursor:
    try:
        saved = json.loads(_cursor_file(app).read_text())
        outbox_id = int(saved["outbox_id"])
        if "gaps" not in saved:  # written before gaps: every id of its window not applied
            applied = {int(i) for i in saved.get("applied", ())}
            return Cursor(min(applied, default=outbox_id + 1) - 1).after(
                sorted(applied | {outbox_id}), utcnow()
            )
        gaps = tuple(
            Gap(int(low), int(high), datetime.fromisoformat(noticed))
            for low, high, noticed in saved["gaps"]
        )
        return Cursor(outbox_id, gaps)
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return Cursor()


def _write_cursor(app: Flask, cursor: Cursor) -> None:
    path = _cursor_file(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    gaps = [[gap.low, gap.high, gap.noticed_at.isoformat()] for gap in cursor.gaps]
    temporary.write_text(json.dumps({"outbox_id": cursor.outbox_id, "gaps": gaps}))
    temporary.replace(path)


def unapplied(cursor: Cursor) -> list[tuple[int, uuid.UUID]]:
    """The outbox rows above the cursor or in its gaps: (id, service id)."""
    wanted = SearchOutboxEntry.id > cursor.outbox_id
    # Most gaps are one id (a rolled-back change); those go in one IN list, so that a busy
    # hour's hundreds of gaps do not make a statement of hundreds of ORs.
    singles = [gap.low for gap in cursor.gaps if gap.low == gap.high]
    if singles:
        wanted = wanted | SearchOutboxEntry.id.in_(singles)
    for gap in cursor.gaps:
        if gap.low != gap.high:
            wanted = wanted | SearchOutboxEntry.id.between(gap.low, gap.high)
    rows = db.session.execute(
        select(SearchOutboxEntry.id, SearchOutboxEntry.service_id).where(wanted)
    )
    return [(row_id, service_id) for row_id, service_id in rows]


@contextmanager
def _machine_lock(app: Flask, *, wait: bool) -> Iterator[bool]:
    """Hold this machine's sync lock (shared by every worker using the index folder) while
    catching up, so that a change is applied once per machine rather than once per worker.
    Yields whether the lock is held: without `wait`, False when another worker is syncing."""
    folder = Path(app.config["SEARCH_INDEX_PATH"])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"sync-{app.config['SEARCH_ENGINE']}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply(engine: SearchEngine, service_ids: Iterable[uuid.UUID]) -> tuple[int, int]:
    """Refresh these listings in the index: public ones indexed, the rest removed."""
    wanted = sorted(set(service_ids))
    if not wanted:
        return 0, 0
    documents = []
    found: set[uuid.UUID] = set()
    for start in range(0, len(wanted), APPLY_BATCH):
        batch = wanted[start : start + APPLY_BATCH]
        query = _with_everything(_public(select(Service))).where(Service.id.in_(batch))
        services = list(db.session.scalars(query))
        verified = verified_locations(services)
        for service in services:
            documents.append(document_for(service, verified))
            found.add(service.id)
    gone = set(wanted) - found
    engine.index_documents(documents)
    engine.delete(str(service_id) for service_id in gone)
    return len(documents), len(gone)


def sync(app: Flask | None = None, *, wait: bool = True) -> tuple[int, int]:
    """Apply every outbox row this machine's index has not applied yet, once: a row applied
    by any worker of the machine is not applied again, even while it is in the re-read window.
    Without `wait`, returns at once if another worker is syncing (it will apply what there
    is). Safe to run at any time. Returns (listings refreshed, listings removed)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    engine = search_engine(app)
    with _machine_lock(app, wait=wait) as held:
        if not held:
            return 0, 0
        read = _read_cursor(app)
        now = utcnow()
        cursor = read.expired(now)
        rows = unapplied(cursor)
        if not rows:
            if cursor != read:
                _write_cursor(app, cursor)
            return 0, 0
        result = apply(engine, {service_id for _, service_id in rows})
        _write_cursor(app, cursor.after((row_id for row_id, _ in rows), now))
        return result


def sync_if_stale(app: Flask, max_age_seconds: float | None = None) -> None:
    """Catch up with other machines' changes before a search, at most every
    SEARCH_SYNC_SECONDS (not waiting for another worker of this machine that is already
    catching up)."""
    if max_age_seconds is None:
        max_age_seconds = float(app.config.get("SEARCH_SYNC_SECONDS", 0.5))
    state = app.extensions["search"]
    now = time.monotonic()
    if now - state.get("synced_at", float("-inf")) >= max_age_seconds:
        sync(app, wait=False)
        state["synced_at"] = now


class RankedIds(Sequence[uuid.UUID]):
    """Listing ids, best first, read as UUIDs only when asked for: a caller that shows one
    page of 5,000 matches parses 50 (parsing them all took 16 ms of a 63 ms feed search at
    66,000 listings)."""

    def __init__(self, ids: list[str]) -> None:
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> uuid.UUID: ...

    @overload
    def __getitem__(self, index: slice) -> list[uuid.UUID]: ...

    def __getitem__(self, index: int | slice) -> uuid.UUID | list[uuid.UUID]:
        if isinstance(index, slice):
            return [uuid.UUID(found) for found in self._ids[index]]
        return uuid.UUID(self._ids[index])


def matching_ids(
    words: str, app: Flask | None = None, limit: int = 5000, log_source: str | None = None
) -> Sequence[uuid.UUID]:
    """Ids of every public listing the engine finds for `words`, best first (at most `limit`).

    With `log_source`, the search goes into the council's search log.
    """
    from providers.search_log import record_search

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    sync_if_stale(app)
    engine = search_engine(app)
    # A page of one: its hit (snippets and all) goes unused, and the total, the places and
    # the facets the log keeps are the same for any page.
    query = SearchQuery(words=words, per_page=1, as_of=utcnow().date())
    # One ranking gives the search to log (as the search page logs it) and every match.
    results, ranked = engine.search_and_rank(query, limit)
    if log_source:
        record_search(query, results, source=log_source)
    if words.strip() and not results.words_used and not results.places and not tokenize(words):
        # No word at all (punctuation, say): nothing, not "everything". Words the engine
        # leaves out as too common to tell listings apart ("care") give everything, as they
        # do on the search page.
        return []
    return RankedIds(ranked)


def reindex(app: Flask | None = None, progress: Any = None) -> int:
    """Rebuild the whole index from the database into a new folder, then swap it in."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    engine = search_engine(app)
    newest = db.session.scalar(select(func.max(SearchOutboxEntry.id))) or 0
    documents = list(public_documents())
    engine.rebuild(documents, progress=progress) if progress else engine.rebuild(documents)
    _write_cursor(app, Cursor(newest))
    return len(documents)


def warm(app: Flask) -> None:
    """Open this process's engine and ready the current generation (catalogue, orders, common
    tokens), as the first search would: about 3 s at 100,000 listings that no person waits for."""
    with app.app_context():
        try:
            sync(app, wait=False)
            search_engine(app).current_view()
        finally:
            db.session.remove()


def warm_in_background(app: Flask) -> threading.Thread:
    """Warm the index in a thread of its own while the worker starts serving (searches that
    come first wait on the engine's lock, then use what it made). Call it in each worker
    process, not before a fork: `wsgi.py` does, under gunicorn without --preload."""
    thread = threading.Thread(target=warm, args=(app,), name="search-warm", daemon=True)
    thread.start()
    return thread


def init_app(app: Flask) -> None:
    """Open the index lazily, and catch up after every request that changed a listing."""
    app.extensions["search"] = {"engine": None}

    @app.teardown_request
    def sync_after_commit(error: BaseException | None) -> None:
        if error is None and db.session.info.pop(_DUE, False):
            try:
                sync(app)
            finally:
                db.session.rollback()


@event.listens_for(Session, "after_rollback")
def _nothing_due_after_rollback(session: Session) -> None:
    session.info.pop(_DUE, None)
