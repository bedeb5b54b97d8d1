"""Questions to a provider before buying: a thread of messages about one service between a
person (or someone acting for them) and the service's provider.

A thread belongs to the person it is about. The person asks, or a broker or family member
acting for them under a consent covering "message" asks for them; every message records who
wrote it and, when that was not the person, the consent they wrote under. The provider's staff
answer from the portal. Each side is told in its inbox when the other writes, and by an email
that names the service and links to the thread, never carrying the messages themselves (the
page behind the link checks who is asking). A thread is kept with the order if one follows
(`link_to_order`), and an order's page finds its threads (`threads_about_order`).

Functions flush, never commit.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, Uuid, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.accounts.policy import can, live_consent
from marketplace.accounts.roles import Role
from marketplace.extensions import Model
from marketplace.ledger import begin_immediate
from marketplace.ledger.transactions import dialect_name
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    notify,
    recipients_for_organisation,
    recipients_for_person,
)
from marketplace.people.models import Consent, Person
from marketplace.types import Session, UTCDateTime, string_enum, utcnow
from providers.models import Organisation, Service, service_is_public

if TYPE_CHECKING:
    from marketplace.orders.models import Order

TEXT_MAX_LENGTH = 2000
# Where each side reads a thread: the notifications link there (rules make no URLs).
PERSON_QUESTIONS_PATH = "/my/questions"
PORTAL_QUESTIONS_PATH = "/provider/questions"
# Where someone acting for the person starts acting from, to read the thread as them.
ACTING_HOMES = {Role.BROKER: "/broker/", Role.CITIZEN: "/my/"}


class Side(enum.StrEnum):
    """Who wrote a message, and whose turn it is: the person's side (the person, or someone
    acting for them) or the provider's."""

    PERSON = "person"
    PROVIDER = "provider"


class QuestionRefused(Exception):
    """The message cannot be sent; `message` says why, for the person writing it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QuestionForbidden(QuestionRefused):
    """This user may not write on this thread (or ask for this person)."""


class QuestionThread(Model):
    """A conversation about one service between a person's side and its provider: whose turn
    it is (`waiting_for`), when it last moved, and the order it led to, if any."""

    __tablename__ = "question_threads"
    __table_args__ = (
        # The provider's inbox: its threads waiting for it, newest first.
        Index("ix_question_threads_organisation_waiting", "organisation_id", "waiting_for"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    # The service's provider when the thread began (a service never changes provider): the
    # portal finds its threads by it.
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    started_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    waiting_for: Mapped[Side] = mapped_column(string_enum(Side, "question_waiting_for"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The order placed for this person and service after the thread began (kept with it).
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)

    person: Mapped[Person] = relationship()
    service: Mapped[Service] = relationship()
    organisation: Mapped[Organisation] = relationship()
    started_by: Mapped[User] = relationship()
    messages: Mapped[list[QuestionMessage]] = relationship(
        back_populates="thread", order_by="QuestionMessage.written_at", viewonly=True
    )

    @property
    def unanswered(self) -> bool:
        """True while the provider has not answered the person's side's last message."""
        return self.waiting_for is Side.PROVIDER


class QuestionMessage(Model):
    """One message: its text, its side, who wrote it, and the consent they wrote under when
    they wrote for someone else (a broker, an attorney). Never changed."""

    __tablename__ = "question_messages"
    __table_args__ = (
        CheckConstraint(
            "side = 'person' OR consent_id IS NULL", name="only_the_person_side_writes_for_them"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("question_threads.id"), index=True)
    side: Mapped[Side] = mapped_column(string_enum(Side, "question_side"))
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    thread: Mapped[QuestionThread] = relationship(back_populates="messages")
    author: Mapped[User] = relationship()
    consent: Mapped[Consent | None] = relationship()

    @property
    def written_for_person(self) -> bool:
        """True when someone wrote it for the person under their consent."""
        return self.consent_id is not None


def clean_text(text: str | None) -> str:
    """The message's text, trimmed; raises QuestionRefused if it is empty or too long."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise QuestionRefused("Enter your message")
    if len(cleaned) > TEXT_MAX_LENGTH:
        raise QuestionRefused(f"Your message must be {TEXT_MAX_LENGTH} characters or fewer")
    return cleaned


def ask(
    session: Session, *, person: Person, service: Service, by: User, text: str
) -> QuestionThread:
    """Start a thread about `service` for `person`, with `by`'s first message, and tell the
    provider's staff (and the person, if someone else asked for them). Raises QuestionForbidden
    unless `by` may ask for the person, QuestionRefused if the service is not listed publicly
    or the text is empty or too long."""
    _check_may_ask(by, person)
    if not _is_public(session, service.id):
        raise QuestionRefused("You can only ask about a service listed in the directory")
    cleaned = clean_text(text)
    now = utcnow()
    thread = QuestionThread(
        person_id=person.id,
        service_id=service.id,
        organisation_id=service.organisation_id,
        started_by_id=by.id,
        waiting_for=Side.PROVIDER,
        created_at=now,
        last_message_at=now,
    )
    session.add(thread)
    session.flush()
    _add_person_side_message(session, thread, by, cleaned, now)
    _tell_provider(session, thread, f"A question about {service.name}", by=by)
    return thread


def follow_up(session: Session, thread: QuestionThread, *, by: User, text: str) -> QuestionMessage:
    """Add a message from the person's side to `thread` (the person, or someone acting for them
    under a consent covering "message") and tell the provider's staff. Raises as `ask` does."""
    _check_may_ask(by, thread.person)
    cleaned = clean_text(text)
    _lock(session, thread)
    now = utcnow()
    message = _add_person_side_message(session, thread, by, cleaned, now)
    thread.waiting_for = Side.PROVIDER
    thread.last_message_at = now
    session.flush()
    _tell_provider(session, thread, f"A new message about {thread.service.name}", by=by)
    return message


def answer(session: Session, thread: QuestionThread, *, by: User, text: str) -> QuestionMessage:
    """Add the provider's answer to `thread`, written by `by` (its staff), and tell the
    person's side: the person's own account, and everyone who wrote for them on the thread.
    Raises QuestionForbidden unless `by` answers for the thread's provider, QuestionRefused if
    the text is empty or too long."""
    if not can(by, "answer_questions", thread.organisation):
        raise QuestionForbidden("You cannot answer questions for this provider")
    cleaned = clean_text(text)
    _lock(session, thread)
    now = utcnow()
    message = QuestionMessage(
        thread_id=thread.id, side=Side.PROVIDER, author_id=by.id, text=cleaned, written_at=now
    )
    session.add(message)
    thread.waiting_for = Side.PERSON
    thread.last_message_at = now
    session.flush()
    session.expire(thread, ["messages"])
    _tell_person_side(session, thread)
    return message


def threads_of(session: Session, person: Person) -> list[QuestionThread]:
    """The person's threads, the most recently active first."""
    return list(
        session.scalars(
            select(QuestionThread)
            .where(QuestionThread.person_id == person.id)
            .order_by(QuestionThread.last_message_at.desc())
        )
    )


def thread_of(session: Session, person: Person, thread_id: uuid.UUID) -> QuestionThread | None:
    """The person's thread with this id; None if there is none or it is someone else's."""
    return session.scalar(
        select(QuestionThread).where(
            QuestionThread.id == thread_id, QuestionThread.person_id == person.id
        )
    )


def unanswered_for(session: Session, person: Person) -> list[QuestionThread]:
    """The person's threads waiting for the provider's answer, the longest waiting first (for
    the broker's caseload)."""
    return list(
        session.scalars(
            select(QuestionThread)
            .where(
                QuestionThread.person_id == person.id,
                QuestionThread.waiting_for == Side.PROVIDER,
            )
            .order_by(QuestionThread.last_message_at)
        )
    )


def threads_for_organisation(session: Session, organisation: Organisation) -> list[QuestionThread]:
    """The provider's threads: those waiting for its answer first (the longest waiting first),
    then the rest, the most recently active first."""
    threads = session.scalars(
        select(QuestionThread)
        .where(QuestionThread.organisation_id == organisation.id)
        .order_by(QuestionThread.last_message_at.desc())
    )
    waiting: list[QuestionThread] = []
    rest: list[QuestionThread] = []
    for thread in threads:
        (waiting if thread.unanswered else rest).append(thread)
    return list(reversed(waiting)) + rest


def organisation_thread(
    session: Session, organisation: Organisation, thread_id: uuid.UUID
) -> QuestionThread | None:
    """The provider's thread with this id; None if there is none or it is another's."""
    return session.scalar(
        select(QuestionThread).where(
            QuestionThread.id == thread_id, QuestionThread.organisation_id == organisation.id
        )
    )


def waiting_count(session: Session, organisation: Organisation) -> int:
    """How many of the provider's threads wait for its answer."""
    return len(
        session.scalars(
            select(QuestionThread.id).where(
                QuestionThread.organisation_id == organisation.id,
                QuestionThread.waiting_for == Side.PROVIDER,
            )
        ).all()
    )


def link_to_order(session: Session, order: Order) -> list[QuestionThread]:
    """Keep the person's threads about the order's service, not yet kept with an order, with
    `order` (checkout calls it when an order is placed). Returns the threads linked."""
    threads = list(
        session.scalars(
            select(QuestionThread).where(
                QuestionThread.person_id == order.person_id,
                QuestionThread.service_id == order.service_id,
                QuestionThread.order_id.is_(None),
            )
        )
    )
    for thread in threads:
        thread.order_id = order.id
    session.flush()
    return threads


def threads_about_order(session: Session, order: Order) -> list[QuestionThread]:
    """The threads kept with `order`, and the person's threads about its service kept with no
    order (asked before checkout linked them, or since), the most recently active first."""
    return list(
        session.scalars(
            select(QuestionThread)
            .where(
                QuestionThread.person_id == order.person_id,
                or_(
                    QuestionThread.order_id == order.id,
                    (QuestionThread.service_id == order.service_id)
                    & QuestionThread.order_id.is_(None),
                ),
            )
            .order_by(QuestionThread.last_message_at.desc())
        )
    )


def _lock(session: Session, thread: QuestionThread) -> None:
    """Take the thread's write lock before writing to it, so that two messages sent at once
    (the person's and the provider's) queue: whose turn it is then always follows the last
    message written. SQLite: its one write lock (BEGIN IMMEDIATE); PostgreSQL: the row's."""
    begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(
            select(QuestionThread.id).where(QuestionThread.id == thread.id).with_for_update()
        ).one()
    session.refresh(thread, ["waiting_for", "last_message_at"])


def _check_may_ask(by: User, person: Person) -> None:
    if not can(by, "ask_provider_for", person):
        raise QuestionForbidden("You cannot ask providers questions for this person")


def _is_public(session: Session, service_id: uuid.UUID) -> bool:
    found = session.scalar(
        select(Service.id).join(Organisation).where(Service.id == service_id, service_is_public())
    )
    return found is not None


def _writes_for_person(by: User, person: Person) -> bool:
    """True when `by` is not the person themself (a broker, an attorney, an officer)."""
    return not (by.role is Role.CITIZEN and by.person_id == person.id)


def _add_person_side_message(
    session: Session, thread: QuestionThread, by: User, text: str, now: datetime
) -> QuestionMessage:
    consent = None
    if _writes_for_person(by, thread.person):
        consent = live_consent(by, thread.person, "message")
    message = QuestionMessage(
        thread_id=thread.id,
        side=Side.PERSON,
        author_id=by.id,
        consent_id=consent.id if consent is not None else None,
        text=text,
        written_at=now,
    )
    session.add(message)
    session.flush()
    session.expire(thread, ["messages"])
    if _writes_for_person(by, thread.person):
        # The person hears that someone asked for them (their own account, if they have one).
        notify(
            session,
            [u for u in recipients_for_person(session, thread.person_id) if u.id != by.id],
            NotificationKind.QUESTION_ASKED,
            title=f"A question was sent for you about {thread.service.name}",
            link=f"{PERSON_QUESTIONS_PATH}/{thread.id}",
        )
    return message


def _tell_provider(session: Session, thread: QuestionThread, title: str, *, by: User) -> None:
    """Tell the provider's staff, but not the writer: a broker asking, for a client, about
    their own brokerage's service is one of its staff."""
    notify(
        session,
        [u for u in recipients_for_organisation(session, thread.organisation_id) if u.id != by.id],
        NotificationKind.QUESTION_ASKED,
        title=title,
        link=f"{PORTAL_QUESTIONS_PATH}/{thread.id}",
    )


def _tell_person_side(session: Session, thread: QuestionThread) -> None:
    """The person's own account links to the thread; each other writer for them (a broker, an
    attorney) to where they choose whom to act for, since the thread's page shows the person
    acted for and they may no longer be acting for them."""
    title = f"{thread.organisation.name} answered about {thread.service.name}"
    own = recipients_for_person(session, thread.person_id)
    notify(
        session,
        own,
        NotificationKind.QUESTION_ANSWERED,
        title=title,
        link=f"{PERSON_QUESTIONS_PATH}/{thread.id}",
    )
    own_ids = {user.id for user in own}
    writers: dict[uuid.UUID, User] = {
        message.author.id: message.author
        for message in thread.messages
        if message.side is Side.PERSON and message.author.id not in own_ids
    }
    for writer in writers.values():
        home = ACTING_HOMES.get(writer.role)
        if home is not None:
            notify(session, [writer], NotificationKind.QUESTION_ANSWERED, title=title, link=home)
