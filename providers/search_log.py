"""What people search for, kept without personal data, so the council can see what people look
for and cannot find. No user, session, address or time finer than the minute is recorded.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import Model, db
from marketplace.types import UTCDateTime, utcnow
from search import SearchQuery, SearchResults

MAX_WORDS = 200


class SearchLogEntry(Model):
    """One search: its words, filters, recognised places and how many services it found."""

    __tablename__ = "search_log"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    searched_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    source: Mapped[str] = mapped_column(String(10))
    words: Mapped[str] = mapped_column(String(MAX_WORDS))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    places: Mapped[list[str]] = mapped_column(JSON, default=list)
    results: Mapped[int]
    # How many of those could start now (capacity not full), for "found nothing available"
    # (issue 19's market insight); None for searches logged before it was counted.
    available: Mapped[int | None]


def available_count(query: SearchQuery, results: SearchResults) -> int:
    """How many of a search's results are accepting new clients (not full, no waiting list):
    the availability facet's count for "accepting", which counts the results under every other
    filter; none when the search chose only other availabilities."""
    chosen = query.filters.availability
    if chosen and "accepting" not in chosen:
        return 0
    return next(
        (
            count.count
            for count in results.facets.get("availability", ())
            if count.value == "accepting"
        ),
        0,
    )


def record_search(query: SearchQuery, results: SearchResults, *, source: str) -> SearchLogEntry:
    """Log one search (flushes; the request commits it). Only the first page of a search counts."""
    filters = {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in vars(query.filters).items()
        if value not in ((), None, False)
    }
    entry = SearchLogEntry(
        searched_at=utcnow().replace(second=0, microsecond=0),
        source=source,
        # PostgreSQL's text cannot hold NUL, and control characters are never meaningful here.
        words="".join(c for c in query.words if c.isprintable())[:MAX_WORDS],
        filters=filters,
        places=sorted({code for place in results.places for code in place.codes}),
        results=results.total,
        available=available_count(query, results),
    )
    db.session.add(entry)
    db.session.flush()
    return entry
