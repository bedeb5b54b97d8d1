"""Shortlists: the services a person (or a broker for them) is thinking of buying, and the
person's approval of the ones they choose.

A person has one shortlist. They keep it themselves, or a broker acting for them under a
consent covering "shortlist" builds it, with a note on each choice saying why, and shares it.
The person (or their attorney) then approves the services they choose. Every change to the
list bumps its `version`; an approval names the version its approver was shown, and is
refused if the list has changed since, so nobody approves a list they have not seen.

An approval is what lets a broker order a service for the person (`approved_choice`, asked
by checkout); it is never deleted, only withdrawn when its service leaves the list, so it
stays on the record. Anonymous visitors keep a list of service ids in their browser session
(the edge does); `move_from_visit` puts it into their account when they sign in. Functions
flush, never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    Uuid,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, live_consent
from marketplace.extensions import Model
from marketplace.ledger.transactions import savepoint
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify, recipients_for_person
from marketplace.people.models import Consent, Person
from marketplace.types import Session, UTCDateTime, utcnow
from providers.models import Organisation, Service, service_is_public

# More than this is a search, not a shortlist; it also bounds what a browser session holds.
ITEMS_MAX = 30
NOTE_MAX_LENGTH = 1000
# Where the citizen's (or acting broker's) shortlist page is: notifications link to it.
SHORTLIST_PATH = "/my/shortlist"


class ShortlistRefused(Exception):
    """The change asked for breaks a rule; `message` says which, for the person."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ShortlistForbidden(ShortlistRefused):
    """This user may not change, or approve, this person's shortlist."""


class ShortlistChanged(ShortlistRefused):
    """The shortlist changed after the approver opened it: they must look again."""

    def __init__(self) -> None:
        super().__init__("This shortlist changed since you opened it: look again")


class Shortlist(Model):
    """A person's shortlist: its version (bumped on every change to its items or notes), when
    it was last shared with them and the version shared, and the version they last answered."""

    __tablename__ = "shortlists"
    __table_args__ = (
        CheckConstraint("version >= 1", name="version_counts_from_one"),
        CheckConstraint(
            "(shared_at IS NULL) = (shared_version IS NULL)", name="shares_say_which_version"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), unique=True)
    version: Mapped[int] = mapped_column(default=1)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_version: Mapped[int | None]
    shared_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    shared_by: Mapped[User | None] = relationship(foreign_keys=[shared_by_id])
    items: Mapped[list[ShortlistItem]] = relationship(
        back_populates="shortlist",
        order_by="ShortlistItem.added_at",
        cascade="all, delete-orphan",
    )


class ShortlistItem(Model):
    """A service on a shortlist, who put it there, and the note on it (a broker's reason)."""

    __tablename__ = "shortlist_items"
    __table_args__ = (UniqueConstraint("shortlist_id", "service_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    shortlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shortlists.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(NOTE_MAX_LENGTH))
    note_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    shortlist: Mapped[Shortlist] = relationship(back_populates="items")
    service: Mapped[Service] = relationship()
    note_by: Mapped[User | None] = relationship(foreign_keys=[note_by_id])
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id])


class ShortlistApproval(Model):
    """The person's (or their attorney's) approval of one service on their shortlist: who
    approved it, under which consent if not the person, and the version of the list they saw.
    Withdrawn (never deleted) when the service leaves the list."""

    __tablename__ = "shortlist_approvals"
    __table_args__ = (
        # One approval in force per person and service: approving twice at once keeps one.
        Index(
            "uq_shortlist_approvals_one_live_per_service",
            "person_id",
            "service_id",
            unique=True,
            sqlite_where=text("withdrawn_at IS NULL"),
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    shortlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shortlists.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"))
    shortlist_version: Mapped[int]
    approved_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # The attorney's consent they approved under; None when the person approved themselves.
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    approved_by: Mapped[User] = relationship()
    consent: Mapped[Consent | None] = relationship()


def shortlist_of(session: Session, person: Person) -> Shortlist | None:
    """The person's shortlist, if they have one."""
    return session.scalar(select(Shortlist).where(Shortlist.person_id == person.id))


def _shortlist_for_change(session: Session, person: Person) -> Shortlist:
    """The person's shortlist, made if they have none (two first additions at once make one)."""
    shortlist = shortlist_of(session, person)
    if shortlist is not None:
        return shortlist
    try:
        with savepoint(session):
            shortlist = Shortlist(person_id=person.id, version=1)
            session.add(shortlist)
            session.flush()
    except IntegrityError:
        shortlist = shortlist_of(session, person)
        assert shortlist is not None  # the other request made it
    return shortlist


def _bump(session: Session, shortlist: Shortlist) -> None:
    """Count one more change, in SQL, so two changes at once count two."""
    session.execute(
        update(Shortlist).where(Shortlist.id == shortlist.id).values(version=Shortlist.version + 1)
    )
    session.refresh(shortlist, ["version"])


def _check_may_change(by: User, person: Person) -> None:
    if not can(by, "shortlist_for", person):
        raise ShortlistForbidden("You cannot change this person's shortlist")


def _public_service(session: Session, service_id: uuid.UUID) -> Service | None:
    return session.scalar(
        select(Service).join(Organisation).where(Service.id == service_id, service_is_public())
    )


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise ShortlistRefused(f"The note must be {NOTE_MAX_LENGTH} characters or fewer")
    return note or None


def add(
    session: Session,
    person: Person,
    service_id: uuid.UUID,
    *,
    by: User,
    note: str | None = None,
) -> ShortlistItem:
    """Put a published service on the person's shortlist (the one already there is returned
    as it is), with `by`'s note if given. Raises ShortlistForbidden unless `by` may shortlist
    for the person, ShortlistRefused for a service nobody can buy or a full list."""
    _check_may_change(by, person)
    cleaned = _clean_note(note)
    service = _public_service(session, service_id)
    if service is None:
        raise ShortlistRefused("That service is not in the directory any more")
    shortlist = _shortlist_for_change(session, person)
    for item in shortlist.items:
        if item.service_id == service.id:
            return item
    if len(shortlist.items) >= ITEMS_MAX:
        raise ShortlistRefused(
            f"A shortlist can hold {ITEMS_MAX} services: remove one before adding another"
        )
    item = ShortlistItem(
        service=service,
        note=cleaned,
        note_by_id=by.id if cleaned else None,
        added_by_id=by.id,
    )
    shortlist.items.append(item)
    session.flush()
    _bump(session, shortlist)
    return item


def item_of(session: Session, person: Person, item_id: uuid.UUID) -> ShortlistItem | None:
    """The item with this id on the person's shortlist; None if it is on nobody's, or someone
    else's."""
    return session.scalar(
        select(ShortlistItem)
        .join(Shortlist)
        .where(ShortlistItem.id == item_id, Shortlist.person_id == person.id)
    )


def write_note(session: Session, item: ShortlistItem, note: str | None, *, by: User) -> None:
    """Set (or, empty, clear) the note on a shortlisted service: a change to the list."""
    person = item.shortlist.person
    _check_may_change(by, person)
    item.note = _clean_note(note)
    item.note_by_id = by.id if item.note else None
    session.flush()
    _bump(session, item.shortlist)


def remove(session: Session, item: ShortlistItem, *, by: User) -> None:
    """Take a service off the shortlist, and withdraw any approval of it in force."""
    shortlist = item.shortlist
    _check_may_change(by, shortlist.person)
    session.execute(
        update(ShortlistApproval)
        .where(
            ShortlistApproval.person_id == shortlist.person_id,
            ShortlistApproval.service_id == item.service_id,
            ShortlistApproval.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=utcnow())
    )
    shortlist.items.remove(item)
    session.flush()
    _bump(session, shortlist)


def share(session: Session, shortlist: Shortlist, by: User) -> None:
    """Send the shortlist as it is now to the person to choose from, and tell them. Raises
    ShortlistRefused for an empty list, ShortlistForbidden unless `by` may shortlist for them."""
    person = shortlist.person
    _check_may_change(by, person)
    if not shortlist.items:
        raise ShortlistRefused("Add at least one service before you send the shortlist")
    shortlist.shared_at = utcnow()
    shortlist.shared_version = shortlist.version
    shortlist.shared_by_id = by.id
    session.flush()
    notify(
        session,
        recipients_for_person(session, person.id),
        NotificationKind.SHORTLIST_SHARED,
        title=f"{by.full_name} has sent you a shortlist of services to choose from",
        link=SHORTLIST_PATH,
    )


def approve(
    session: Session,
    shortlist: Shortlist,
    service_ids: Collection[uuid.UUID],
    *,
    seen_version: int,
    by: User,
) -> list[ShortlistApproval]:
    """Approve the chosen services on the person's shortlist, as of `seen_version` (the
    version the approver was shown). Returns the approvals made (a service approved already
    keeps its approval). Raises ShortlistForbidden unless `by` is the person or their
    attorney, ShortlistChanged if the list has changed since `seen_version` (checked in the
    same statement that records the answer, so a change committed meanwhile is seen),
    ShortlistRefused when nothing, or something not on the list, is chosen."""
    person = shortlist.person
    if not can(by, "approve_shortlist", person):
        raise ShortlistForbidden("Only the person, or their attorney, can approve their shortlist")
    on_list = {item.service_id for item in shortlist.items}
    chosen = set(service_ids)
    if not chosen:
        raise ShortlistRefused("Choose at least one service to approve")
    if not chosen <= on_list:
        raise ShortlistChanged()
    now = utcnow()
    answered = session.execute(
        update(Shortlist)
        .where(Shortlist.id == shortlist.id, Shortlist.version == seen_version)
        .values(answered_version=seen_version, answered_at=now)
        .execution_options(synchronize_session=False)
    )
    if answered.rowcount != 1:  # type: ignore[attr-defined]
        raise ShortlistChanged()
    session.refresh(shortlist)
    consent = None if by.person_id == person.id else live_consent(by, person)
    made = []
    for service_id in sorted(chosen):
        if approved_choice(session, person, service_id) is not None:
            continue
        approval = ShortlistApproval(
            shortlist_id=shortlist.id,
            person_id=person.id,
            service_id=service_id,
            shortlist_version=seen_version,
            approved_by_id=by.id,
            consent_id=consent.id if consent else None,
            approved_at=now,
        )
        try:
            with savepoint(session):
                session.add(approval)
                session.flush()
        except IntegrityError:
            continue  # approved at the same moment by someone else: that approval stands
        made.append(approval)
    if shortlist.shared_by is not None and shortlist.shared_by.id != by.id:
        notify(
            session,
            [shortlist.shared_by],
            NotificationKind.SHORTLIST_APPROVED,
            title="A client has approved services on the shortlist you sent",
            link=SHORTLIST_PATH,
        )
    return made


def approved_choice(
    session: Session, person: Person, service_id: uuid.UUID
) -> ShortlistApproval | None:
    """The person's approval in force of this service (what lets a broker order it for them),
    or None."""
    return session.scalar(
        select(ShortlistApproval).where(
            ShortlistApproval.person_id == person.id,
            ShortlistApproval.service_id == service_id,
            ShortlistApproval.withdrawn_at.is_(None),
        )
    )


def approvals_of(session: Session, person: Person) -> dict[uuid.UUID, ShortlistApproval]:
    """The person's approvals in force, by service id."""
    approvals = session.scalars(
        select(ShortlistApproval).where(
            ShortlistApproval.person_id == person.id, ShortlistApproval.withdrawn_at.is_(None)
        )
    )
    return {approval.service_id: approval for approval in approvals}


def approval_history(session: Session, person: Person) -> list[ShortlistApproval]:
    """Every approval the person (or their attorney) made, withdrawn or not, newest first:
    the record of what they agreed to."""
    return list(
        session.scalars(
            select(ShortlistApproval)
            .where(ShortlistApproval.person_id == person.id)
            .order_by(ShortlistApproval.approved_at.desc(), ShortlistApproval.id)
        )
    )


def awaiting_approval(session: Session, person: Person) -> Shortlist | None:
    """The person's shortlist if it was shared with them and they have not answered it since
    (approved from it at the version shared or later), else None."""
    shortlist = shortlist_of(session, person)
    if shortlist is None or shortlist.shared_version is None or not shortlist.items:
        return None
    if shortlist.answered_version is not None and (
        shortlist.answered_version >= shortlist.shared_version
    ):
        return None
    return shortlist


def move_from_visit(
    session: Session, person: Person, service_ids: Iterable[uuid.UUID], *, by: User
) -> int:
    """Put the services a visitor shortlisted before signing in on their own shortlist,
    skipping any no longer in the directory or past the limit. Returns how many were added."""
    added = 0
    for service_id in service_ids:
        shortlist = shortlist_of(session, person)
        already = shortlist is not None and any(
            item.service_id == service_id for item in shortlist.items
        )
        try:
            add(session, person, service_id, by=by)
        except ShortlistRefused:
            continue
        added += 0 if already else 1
    return added
