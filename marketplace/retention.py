"""Retention: what is deleted or anonymised, and when.

One run (`flask retention run`, daily) applies the schedule below and says how many rows of
each kind it changed. Rules only: it flushes and never commits (the command commits once, or
rolls back for a dry run). Safe to run twice: each step selects only what is past its time and
not yet done.

- **People** whose budgets are all closed, the last more than `closed_budget_years` ago, with
  no open order, no unpaid invoice and no sign-in within that time, are anonymised: names,
  contact details, case reference, communication needs and the encrypted key safe code and
  access notes are removed, as are the words they, their provider and officers wrote about them
  (support plan outcomes, delivery notes, reasons on the order timeline and for changes to
  their budget), their basket, their inbox and their login's email, name and password. Their
  money trail stays: budgets, streams, instalments, orders, cycles, deliveries' dates and
  units, invoices and every ledger transfer, so statements, order pages and `flask ledger
  verify` read as before.
- **Sign-in sessions** that can never be used again (signed out, idle or too old).
- **Idempotency-Keys** first used more than 24 hours ago (the API's promise).
- **Search log** entries older than `search_log_days`.
- **Notifications** (the in-app inbox) older than `notification_days`.
- **Links** (password resets, sign-ups, provider registrations, staff invitations) used,
  revoked or expired more than `expired_link_days` ago.

Never deleted: the ledger (money is kept for the statutory period and longer: this job never
touches it), and the audit entries that explain it (order events, organisation status changes,
person details changes), which are kept as long as the ledger.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, or_, select, update

from marketplace import ledger
from marketplace.accounts import sessions
from marketplace.accounts.models import PasswordResetToken, SignInSession, SignUpRequest, User
from marketplace.accounts.sessions import SessionLimits
from marketplace.api import idempotency
from marketplace.budgets.models import BudgetStatus, FundingStream, PersonalBudget, StreamRevision
from marketplace.notifications.models import Notification
from marketplace.orders.models import (
    BasketItem,
    Delivery,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from marketplace.people.models import Person, SupportPlan
from marketplace.types import Session, utcnow
from providers.models import StaffInvitation
from providers.registration import ProviderRegistration
from providers.search_log import SearchLogEntry

# What replaces words written about an anonymised person, so an auditor reading the timeline
# sees that a reason was given and when, without what it said.
REMOVED_TEXT = "Removed after the retention period"
ANONYMISED_NAME = "Anonymised person"
# Not a hash of anything: no password verifies against it (argon2 refuses it as a hash).
NO_PASSWORD = "!"  # noqa: S105

OPEN_ORDER_STATUSES = tuple(status for status in OrderStatus if status.is_open)


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of record is kept (the settings in marketplace/config.py)."""

    closed_budget_years: int
    search_log_days: int
    notification_days: int
    expired_link_days: int
    session_limits: SessionLimits

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetentionPolicy:
        return cls(
            closed_budget_years=int(config["RETENTION_CLOSED_BUDGET_YEARS"]),
            search_log_days=int(config["RETENTION_SEARCH_LOG_DAYS"]),
            notification_days=int(config["RETENTION_NOTIFICATION_DAYS"]),
            expired_link_days=int(config["RETENTION_EXPIRED_LINK_DAYS"]),
            session_limits=SessionLimits(
                idle=config["SESSION_IDLE_TIMEOUT"], absolute=config["SESSION_ABSOLUTE_TIMEOUT"]
            ),
        )


# The kinds a run reports, in the order it reports them, with the words it prints.
KINDS: dict[str, str] = {
    "people": "people anonymised (every budget closed longer ago than the retention period)",
    "sign_in_sessions": "sign-in sessions ended or expired",
    "idempotency_keys": "API Idempotency-Keys older than 24 hours",
    "search_log": "search log entries past their period",
    "notifications": "notifications past their period",
    "password_reset_tokens": "password reset links used or expired",
    "sign_up_requests": "sign-ups confirmed or expired",
    "provider_registrations": "provider registrations confirmed or expired",
    "staff_invitations": "staff invitations accepted, revoked or expired",
}


@dataclass
class RetentionReport:
    """How many rows of each kind (`KINDS`) one run anonymised or deleted."""

    now: datetime
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def years_before(moment: datetime, years: int) -> datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def run(session: Session, policy: RetentionPolicy, now: datetime | None = None) -> RetentionReport:
    """Apply the whole schedule as of `now`; flushes, never commits. What it removes is
    described in this module's docstring; it never touches the ledger or the audit entries."""
    now = now or utcnow()
    # One writer at a time on SQLite; on PostgreSQL the people are locked as they are chosen.
    ledger.begin_immediate(session)
    report = RetentionReport(now=now)
    report.counts["people"] = len(
        anonymise_finished_people(session, years_before(now, policy.closed_budget_years), now)
    )
    report.counts["sign_in_sessions"] = sessions.prune(policy.session_limits, now)
    report.counts["idempotency_keys"] = idempotency.prune(session, now)
    report.counts["search_log"] = _deleted(
        session,
        delete(SearchLogEntry).where(
            SearchLogEntry.searched_at < now - timedelta(days=policy.search_log_days)
        ),
    )
    report.counts["notifications"] = _deleted(
        session,
        delete(Notification).where(
            Notification.created_at < now - timedelta(days=policy.notification_days)
        ),
    )
    links_cutoff = now - timedelta(days=policy.expired_link_days)
    for kind, model, done_columns in (
        ("password_reset_tokens", PasswordResetToken, ("used_at",)),
        ("sign_up_requests", SignUpRequest, ("used_at",)),
        ("provider_registrations", ProviderRegistration, ("used_at",)),
        ("staff_invitations", StaffInvitation, ("accepted_at", "revoked_at")),
    ):
        finished = [model.expires_at < links_cutoff] + [
            getattr(model, column) < links_cutoff for column in done_columns
        ]
        report.counts[kind] = _deleted(session, delete(model).where(or_(*finished)))
    session.flush()
    return report


def _deleted(session: Session, statement: Any) -> int:
    result = session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


def finished_people(session: Session, cutoff: datetime) -> list[Person]:
    """The people not yet anonymised with at least one budget, every budget closed before
    `cutoff`, no open order, no unpaid invoice, and no login used (or made) since `cutoff`.
    Locked for update on PostgreSQL, so two runs at once anonymise each person once."""
    budgets = PersonalBudget
    not_closed_long_ago = exists().where(
        budgets.person_id == Person.id,
        or_(
            budgets.status != BudgetStatus.CLOSED,
            budgets.closed_at.is_(None),
            budgets.closed_at >= cutoff,
        ),
    )
    open_order = exists().where(Order.person_id == Person.id, Order.status.in_(OPEN_ORDER_STATUSES))
    unpaid_invoice = exists().where(
        Invoice.order_id == Order.id,
        Order.person_id == Person.id,
        Invoice.status == InvoiceStatus.RAISED,
    )
    recent_login = exists().where(
        User.person_id == Person.id,
        or_(
            User.last_signed_in_at >= cutoff,
            and_(User.last_signed_in_at.is_(None), User.created_at >= cutoff),
        ),
    )
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.anonymised_at.is_(None),
                exists().where(budgets.person_id == Person.id),
                ~not_closed_long_ago,
                ~open_order,
                ~unpaid_invoice,
                ~recent_login,
            )
            .order_by(Person.created_at, Person.id)
            .with_for_update(of=Person)
        )
    )


def anonymise_finished_people(session: Session, cutoff: datetime, now: datetime) -> list[Person]:
    """Anonymise every one of `finished_people(cutoff)`; returns them."""
    people = finished_people(session, cutoff)
    for person in people:
        anonymise_person(session, person, now)
    return people


def anonymise_person(session: Session, person: Person, now: datetime) -> None:
    """Remove what names or describes `person`, keeping every figure of their money trail.

    Kept: the person's row and id (their budgets, orders and ledger accounts point at it), the
    budgets, streams, instalments, support plan categories and amounts, orders with their
    schedules and prices, cycles, deliveries' dates and units, invoices, every ledger transfer,
    and the audit entries (who did what when); the free-text reasons on their orders and
    budget revisions are replaced by `REMOVED_TEXT`. The ledger's rows are never rewritten.
    Their login (if any) is closed and stripped of email, name and password.
    """
    person.full_name = f"{ANONYMISED_NAME} {str(person.id)[:8]}"
    for column in (
        "preferred_name",
        "date_of_birth",
        "postcode",
        "email",
        "phone",
        "case_reference",
        "address_line_1",
        "address_line_2",
        "town",
        "county",
        "communication_needs",
        "preferred_contact",
        "key_safe_code",
        "access_notes",
    ):
        setattr(person, column, None)
    person.anonymised_at = now

    orders_of_person = select(Order.id).where(Order.person_id == person.id)
    session.execute(
        update(SupportPlan)
        .where(SupportPlan.person_id == person.id, SupportPlan.outcomes != "")
        .values(outcomes=REMOVED_TEXT)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.order_id.in_(orders_of_person), Delivery.note != "")
        .values(note=REMOVED_TEXT)
    )
    session.execute(
        update(Delivery)
        .where(Delivery.order_id.in_(orders_of_person), Delivery.query_reason.is_not(None))
        .values(query_reason=REMOVED_TEXT)
    )
    session.execute(
        update(OrderEvent)
        .where(OrderEvent.order_id.in_(orders_of_person), OrderEvent.reason != "")
        .values(reason=REMOVED_TEXT)
    )
    session.execute(
        update(StreamRevision)
        .where(
            StreamRevision.stream_id.in_(
                select(FundingStream.id)
                .join(PersonalBudget, PersonalBudget.id == FundingStream.budget_id)
                .where(PersonalBudget.person_id == person.id)
            ),
            StreamRevision.reason != "",
        )
        .values(reason=REMOVED_TEXT)
    )
    session.execute(delete(BasketItem).where(BasketItem.person_id == person.id))

    user = session.scalar(select(User).where(User.person_id == person.id))
    if user is not None:
        _close_login(session, user)
    session.flush()


def _close_login(session: Session, user: User) -> None:
    """Close an anonymised person's login: no email, name or password, signed out everywhere,
    its inbox and reset links gone. The row stays: orders and timelines name it as the actor."""
    user.email = f"anonymised-{user.id.hex}@anonymised.invalid"
    user.full_name = ANONYMISED_NAME
    user.password_hash = NO_PASSWORD
    user.active = False
    user.login_id = uuid.uuid4().hex
    session.execute(delete(SignInSession).where(SignInSession.user_id == user.id))
    session.execute(delete(Notification).where(Notification.user_id == user.id))
    session.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
