"""Column types shared by every part of the app."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, TypeAlias

from sqlalchemy import DateTime, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import scoped_session
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, aware, in UTC (pass the function, never its result, as a default)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back as an aware datetime.

    PostgreSQL keeps the zone; SQLite does not, so values are normalised to UTC on the way in
    and marked as UTC on the way out. Naive datetimes are refused rather than guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def string_enum(enum_class: type[enum.Enum], name: str) -> Enum:
    """An enum column stored as its values' strings, guarded by a named CHECK constraint.

    Strings rather than a native PostgreSQL ENUM so that adding a value is an ordinary
    migration on both databases.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=20,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
        name=name,
    )


# What the rules take as `session`: a plain SQLAlchemy session, or Flask-SQLAlchemy's
# `db.session`, the scoped session that passes each call on to the request's own session.
Session: TypeAlias = OrmSession | scoped_session[Any]
