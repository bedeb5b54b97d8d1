"""Finding people: the council's list of the people it supports, searched by name."""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_, select

from marketplace.people.models import Person
from marketplace.types import Session

SEARCH_LIMIT = 100


def find_people(session: Session, name: str = "", *, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People whose full or preferred name contains `name` (any case), by name; everyone when
    `name` is empty. At most `limit` of them."""
    query = select(Person).order_by(func.lower(Person.full_name), Person.id).limit(limit)
    words = name.split()
    for word in words:
        # Each word must appear somewhere, so "dot pearce" finds Dorothy "Dot" Pearce.
        pattern = "%" + _escape_like(word.lower()) + "%"
        query = query.where(
            or_(
                func.lower(Person.full_name).like(pattern, escape="\\"),
                func.lower(func.coalesce(Person.preferred_name, "")).like(pattern, escape="\\"),
            )
        )
    return list(session.scalars(query))


def person_by_id(session: Session, person_id: uuid.UUID) -> Person | None:
    """The person with this id, if there is one."""
    return session.get(Person, person_id)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
