"""What the home page and the council's overview say about the whole directory (how many
public services, how many in each top-level category, the county's districts), worked out
once per change to the directory instead of on every request.

Every change that can alter these figures (a listing saved, published or withdrawn, its
categories changed, an organisation approved or suspended) writes a row to the search outbox
in the same transaction (providers/search_index.py), so the outbox's highest id names the
directory's state: the figures are kept, per process, with the position they were counted at,
and counted again when it moves. A transaction that took its outbox id before another's but
committed after it leaves the highest id unchanged, so the figures are also counted again
once they are SUMMARY_MAX_AGE_SECONDS old: a change shows at once, or at worst that much later.
`kept` does the same for any such value (the feed's totals, the council's count of CQC flags).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from flask import current_app
from sqlalchemy import func, select

from marketplace.extensions import db
from providers import directory
from providers.search_index import SearchOutboxEntry

SUMMARY_MAX_AGE_SECONDS = 60.0
_KEY = "kept_per_directory_change"
T = TypeVar("T")


@dataclass(frozen=True)
class CategoryFigure:
    """A top-level category and how many public services sit in it or its kinds."""

    code: str
    name: str
    description: str
    services: int


@dataclass(frozen=True)
class DirectorySummary:
    """The same for everyone: plain values, safe to keep between requests and threads."""

    service_count: int
    categories: tuple[CategoryFigure, ...]
    districts: tuple[str, ...]


def outbox_position() -> int:
    """The search outbox's highest id (0 when empty): one look-up on its primary key."""
    return db.session.scalar(select(func.max(SearchOutboxEntry.id))) or 0


def kept(name: str, work_out: Callable[[], T]) -> T:
    """`work_out()`'s answer, kept per app under `name` with the outbox position it was
    worked out at: worked out again after any change to the directory (or once
    SUMMARY_MAX_AGE_SECONDS old). For plain values that are the same for everyone and follow
    from the directory alone. Kept per app, so tests' apps never share them."""
    position = outbox_position()
    store: dict[str, tuple[int, float, object]] = current_app.extensions.setdefault(_KEY, {})
    now = time.monotonic()
    found = store.get(name)
    if found is not None and found[0] == position and now - found[1] < SUMMARY_MAX_AGE_SECONDS:
        return cast(T, found[2])
    value = work_out()
    # Two threads working it out at once both store a correct answer; the later one stays.
    store[name] = (position, now, value)
    return value


def directory_summary() -> DirectorySummary:
    """The directory's figures as of the last change (see `kept`)."""
    return kept("directory summary", _summary)


def _summary() -> DirectorySummary:
    return DirectorySummary(
        service_count=directory.public_service_count(),
        categories=tuple(
            CategoryFigure(
                count.term.code, count.term.name, count.term.description or "", count.services
            )
            for count in directory.top_category_counts()
        ),
        districts=tuple(district.name for district in directory.districts()),
    )
