"""The audit log: an append-only record of every action taken on someone's behalf and of every
read of a person's record by staff (who, for whom, what, when, from where).

An entry is never changed or removed, and three things hold that: the ORM refuses to flush an
update or a delete of one (`AuditEntryIsFinal`, from the mapper's events) and refuses an ORM
`update()`/`delete()` statement on the table; and the database itself refuses any UPDATE or
DELETE of a row with a trigger, on SQLite and on PostgreSQL (migration e7f8a9b0c1d2), so not
even a hand-written SQL statement can rewrite the record. The retention job never touches it.

Plain rules: no Flask here. The Flask hook that writes an entry for each request made while
acting for someone is `marketplace/pages/audit_hooks.py`.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid, event, func, or_, select
from sqlalchemy.orm import Mapped, ORMExecuteState, mapped_column, relationship
from sqlalchemy.orm import Session as OrmSession

from marketplace.accounts.models import User
from marketplace.extensions import Model
from marketplace.people.models import Person
from marketplace.types import Session, UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.api_tokens import ApiToken
    from marketplace.people.models import Consent

# What the database answers an UPDATE or DELETE of an entry with (the migration's triggers).
APPEND_ONLY = "audit entries are append-only: they are never changed or removed"

WHAT_LENGTH = 300
PATH_LENGTH = 500


class AuditEntryIsFinal(Exception):
    """Something tried to change or remove an audit entry."""


class AuditAction(enum.StrEnum):
    """What the request did: read (a GET or HEAD) or asked to change something (any other)."""

    VIEWED = "viewed"
    CHANGED = "changed"

    @property
    def label(self) -> str:
        return {"viewed": "Looked at", "changed": "Changed or sent"}[self.value]


class AuditEntry(Model):
    """One thing done to or read about a person's record by someone else: an officer, a broker
    or an attorney acting for them, or a machine holding an API token."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_person_id_at", "person_id", "at"),
        Index("ix_audit_entries_actor_id_at", "actor_id", "at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Who: None only for an API token acting for no one (the token names its holder).
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    token_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_tokens.id"))
    # For whom, and under which consent (None for an officer, who needs none).
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    action: Mapped[AuditAction] = mapped_column(string_enum(AuditAction, "audit_action"))
    # What: the page in words ("Your budget"), and the address asked for.
    what: Mapped[str] = mapped_column(String(WHAT_LENGTH))
    path: Mapped[str | None] = mapped_column(String(PATH_LENGTH))
    # How the request ended (HTTP status): 400 and above did not happen (refused, not found,
    # a form with errors), and the entry says it was tried.
    status_code: Mapped[int | None] = mapped_column(Integer)
    # From where: the address the request came from.
    ip: Mapped[str | None] = mapped_column(String(45))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    person: Mapped[Person] = relationship(foreign_keys=[person_id])
    consent: Mapped[Consent | None] = relationship(foreign_keys=[consent_id])
    token: Mapped[ApiToken | None] = relationship(foreign_keys=[token_id])

    @property
    def succeeded(self) -> bool:
        return self.status_code is None or self.status_code < 400

    def __repr__(self) -> str:
        return f"<AuditEntry {self.action.value} {self.what!r} at {self.at:%Y-%m-%d %H:%M}>"


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, entry: AuditEntry) -> None:
    raise AuditEntryIsFinal(APPEND_ONLY)


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, entry: AuditEntry) -> None:
    raise AuditEntryIsFinal(APPEND_ONLY)


@event.listens_for(OrmSession, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """An ORM `update(AuditEntry)` or `delete(AuditEntry)` bypasses the mapper's events."""
    mapper = state.bind_mapper
    if (state.is_update or state.is_delete) and mapper is not None and mapper.class_ is AuditEntry:
        raise AuditEntryIsFinal(APPEND_ONLY)


def record(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    person_id: uuid.UUID,
    action: AuditAction | str,
    what: str,
    consent_id: uuid.UUID | None = None,
    token_id: uuid.UUID | None = None,
    ip: str | None = None,
    path: str | None = None,
    status_code: int | None = None,
) -> AuditEntry:
    """Add one entry to the log (flushed, not committed: it is saved with the caller's
    transaction). Text too long for its column is cut, never refused: the log must not lose
    an entry over its length."""
    entry = AuditEntry(
        actor_id=actor_id,
        person_id=person_id,
        action=AuditAction(action),
        what=_cut(what, WHAT_LENGTH) or "A page",
        path=_cut(path, PATH_LENGTH),
        consent_id=consent_id,
        token_id=token_id,
        ip=_cut(ip, 45),
        status_code=status_code,
    )
    session.add(entry)
    session.flush()
    return entry


def _cut(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    return text if len(text) <= length else text[: length - 1] + "…"


def entries_of(
    session: Session, person: Person, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEntry], int]:
    """The person's entries, newest first, one page of them, and how many there are."""
    query = select(AuditEntry).where(AuditEntry.person_id == person.id)
    return _page(session, query, page=page, per_page=per_page)


@dataclass(frozen=True)
class AuditSearch:
    """What an officer searches the log by: all optional. `person` and `actor` match a name or
    an email address (part of it, any case); dates are London days, `since` to `until`
    inclusive, given as UTC bounds by the caller."""

    person: str = ""
    actor: str = ""
    since: datetime | None = None
    before: datetime | None = None


def search(
    session: Session, wanted: AuditSearch, *, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEntry], int]:
    """Entries matching `wanted`, newest first, one page, and how many match."""
    query = select(AuditEntry)
    if wanted.person.strip():
        pattern = f"%{_escape_like(wanted.person.strip().lower())}%"
        query = query.join(Person, Person.id == AuditEntry.person_id).where(
            or_(
                func.lower(Person.full_name).like(pattern, escape="\\"),
                func.lower(Person.email).like(pattern, escape="\\"),
                func.lower(Person.case_reference).like(pattern, escape="\\"),
            )
        )
    if wanted.actor.strip():
        pattern = f"%{_escape_like(wanted.actor.strip().lower())}%"
        query = query.join(User, User.id == AuditEntry.actor_id).where(
            or_(
                func.lower(User.full_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
    if wanted.since is not None:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.before is not None:
        query = query.where(AuditEntry.at < wanted.before)
    return _page(session, query, page=page, per_page=per_page)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(
    session: Session, query: Any, *, page: int, per_page: int
) -> tuple[list[AuditEntry], int]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total
