"""The council's work queues in one place (issue 19, item 1): everything waiting for an
officer's decision, each queue with its count, its items oldest first with how long each has
waited (from when it entered the queue), and where it is decided.

A queue is one `WorkQueue` entry in `QUEUES`: its name (the `QueueDecision.queue` value its
decisions are recorded under), its title, and `waiting`, one SELECT of the items waiting as
rows of (subject id, link id, label, detail, waiting since). The count, the oldest wait and
the pages are all read from that one SELECT, so they cannot disagree. Adding a queue (the
front door's referrals, issue 20) is adding one entry here; the pages, the overview and the
dashboard list it without any other change (docs/work-queues.md).

Every decision taken from a queue is recorded with `queue_log.record_decision` in the same
request as the decision itself; `decisions` reads them back for the queue's "Decided" tab.

Rules only: they read and never write, except `lock_for_decision`, which takes a subject's
write lock so that two officers deciding the same item at once decide it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import joinedload

from marketplace import ledger
from marketplace.console.models import QueueDecision
from marketplace.extensions import Model
from marketplace.orders.models import (
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
    OutcomeRecord,
    OutcomeStatus,
    PackageVariation,
    VariationState,
)
from marketplace.payments.mismatches import PaymentMismatch
from marketplace.people.models import Person, PlanStatus, SupportPlan
from marketplace.referrals.models import (  # REFERRALS (issue 20)
    LIVE_VISIT_STATUSES,
    Referral,
    ReferralStatus,
    Visit,
)
from marketplace.types import Session
from providers.models import (
    ListingReport,
    ListingReportStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    ReviewStatus,
    Service,
    ServiceReview,
)

# A queue's SELECT: (subject_id, link_id, label, detail, waiting_since), any order.
Waiting = Callable[[date], Select[*tuple[Any, ...]]]


@dataclass(frozen=True)
class WorkQueue:
    """One kind of thing waiting for an officer.

    `decide_endpoint` is the page where one item is decided, reached with
    `{decide_arg: link id}`; `list_endpoint` the existing page that lists them all (None where
    the queue's own page is the list). `permission` is the action an officer needs to see it.
    """

    name: str
    title: str
    item_word: str  # "provider", for "3 providers": the overview's words
    waiting: Waiting
    decide_endpoint: str
    decide_arg: str
    permission: str
    decisions_taken: tuple[str, ...]
    list_endpoint: str | None = None
    detail_heading: str = "Details"


@dataclass(frozen=True)
class QueueItem:
    """One waiting item as the queue lists it."""

    subject_id: uuid.UUID
    link_id: uuid.UUID
    label: str
    detail: str
    waiting_since: datetime


@dataclass(frozen=True)
class QueueSummary:
    """A queue's count and its oldest item's wait, for the overview."""

    queue: WorkQueue
    count: int
    oldest_since: datetime | None


def _at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _organisations(kind: OrganisationKind) -> Waiting:
    def waiting(_today: date) -> Select[*tuple[Any, ...]]:
        # Waiting since it registered: only a registration waits as "pending" (a rejected or
        # suspended organisation is decided, and comes back only by an officer's choice).
        return select(
            Organisation.id,
            Organisation.id,
            Organisation.name,
            func.coalesce(Organisation.cqc_provider_id, literal("Not regulated")),
            Organisation.created_at,
        ).where(Organisation.status == OrganisationStatus.PENDING, Organisation.kind == kind)

    return waiting


def _listing_reports(_today: date) -> Select[*tuple[Any, ...]]:
    return (
        select(
            ListingReport.id,
            ListingReport.id,
            Service.name,
            ListingReport.reason,
            ListingReport.reported_at,
        )
        .join(Service, Service.id == ListingReport.service_id)
        .where(ListingReport.status == ListingReportStatus.OPEN)
    )


def _support_plans(_today: date) -> Select[*tuple[Any, ...]]:
    return (
        select(
            SupportPlan.id,
            SupportPlan.person_id,
            Person.full_name,
            func.coalesce(Person.case_reference, literal("")),
            SupportPlan.drafted_at,
        )
        .join(Person, Person.id == SupportPlan.person_id)
        .where(SupportPlan.status == PlanStatus.DRAFT)
    )


def _orders(_today: date) -> Select[*tuple[Any, ...]]:
    return select(Order.id, Order.id, Order.reference, Order.service_name, Order.placed_at).where(
        Order.status == OrderStatus.AWAITING_APPROVAL
    )


_QUERY_EVENTS = ("delivery_queried", "outcome_queried")


def _queried_invoices(_today: date) -> Select[*tuple[Any, ...]]:
    # Held as invoicing.held_by_query holds it: a queried delivery, or a queried outcome record.
    queried_delivery = exists().where(
        Delivery.invoice_id == Invoice.id, Delivery.status == DeliveryStatus.QUERIED
    )
    queried_outcome = exists().where(
        OutcomeRecord.invoice_id == Invoice.id, OutcomeRecord.status == OutcomeStatus.QUERIED
    )
    # Waiting since the query: its order's latest query, or the invoice, raised after it.
    last_query = (
        select(func.max(OrderEvent.happened_at))
        .where(OrderEvent.order_id == Invoice.order_id, OrderEvent.kind.in_(_QUERY_EVENTS))
        .scalar_subquery()
    )
    since = case((last_query > Invoice.raised_at, last_query), else_=Invoice.raised_at)
    return (
        # Linked to its order's page, where the queried deliveries and their reasons are.
        select(Invoice.id, Invoice.order_id, Invoice.reference, Organisation.name, since)
        .join(Organisation, Organisation.id == Invoice.organisation_id)
        .where(
            Invoice.status == InvoiceStatus.RAISED,
            or_(queried_delivery, queried_outcome),
        )
    )


def _mismatches(_today: date) -> Select[*tuple[Any, ...]]:
    return select(
        PaymentMismatch.id,
        PaymentMismatch.id,
        PaymentMismatch.kind,
        PaymentMismatch.detail,
        PaymentMismatch.found_at,
    ).where(PaymentMismatch.resolved_at.is_(None))


def _variations(_today: date) -> Select[*tuple[Any, ...]]:
    # Waiting for the council since the other party accepted it (its `decided_at`).
    return (
        select(
            PackageVariation.id,
            PackageVariation.id,
            Order.reference,
            PackageVariation.kind,
            func.coalesce(PackageVariation.decided_at, Order.placed_at),
        )
        .join(Order, Order.id == PackageVariation.order_id)
        .where(PackageVariation.state == VariationState.AWAITING_COUNCIL)
    )


def _reviews(_today: date) -> Select[*tuple[Any, ...]]:
    # The same rows as providers.reviews.reviews_to_moderate, counted and paged here.
    return (
        select(
            ServiceReview.id,
            ServiceReview.id,
            Service.name,
            Organisation.name,
            ServiceReview.written_at,
        )
        .join(Service, Service.id == ServiceReview.service_id)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(ServiceReview.status == ReviewStatus.PENDING)
    )


def plans_overdue_condition(today: date) -> ColumnElement[bool]:
    """An approved plan whose review date has passed (a plan due today is not yet overdue)."""
    return and_(SupportPlan.status == PlanStatus.APPROVED, SupportPlan.review_due_on < today)


def _reviews_due(today: date) -> Select[*tuple[Any, ...]]:
    # Overdue since the day after it was due: waiting "since" its review date.
    return (
        select(
            SupportPlan.id,
            SupportPlan.id,
            Person.full_name,
            func.coalesce(Person.case_reference, literal("")),
            SupportPlan.review_due_on,
        )
        .join(Person, Person.id == SupportPlan.person_id)
        .where(plans_overdue_condition(today))
    )


def _referrals(_today: date) -> Select[*tuple[Any, ...]]:
    # REFERRALS (issue 20): waiting since it was received; one waiting for a visit is the
    # officer's only while no visit is offered or booked for it.
    live_visit = exists().where(
        Visit.referral_id == Referral.id, Visit.status.in_(LIVE_VISIT_STATUSES)
    )
    return select(
        Referral.id, Referral.id, Referral.reference, Referral.urgency, Referral.received_at
    ).where(
        or_(
            Referral.status.in_(
                (ReferralStatus.RECEIVED, ReferralStatus.IN_CONTACT, ReferralStatus.ASSESSED)
            ),
            and_(Referral.status == ReferralStatus.AWAITING_VISIT, ~live_visit),
        )
    )


QUEUES: dict[str, WorkQueue] = {
    queue.name: queue
    for queue in (
        WorkQueue(
            name="providers",
            title="Providers awaiting approval",
            item_word="provider",
            waiting=_organisations(OrganisationKind.PROVIDER),
            decide_endpoint="council.provider",
            decide_arg="organisation_id",
            permission="review_providers",
            decisions_taken=("approved", "rejected"),
            detail_heading="CQC provider ID",
        ),
        WorkQueue(
            name="brokerages",
            title="Brokerages awaiting approval",
            item_word="brokerage",
            waiting=_organisations(OrganisationKind.BROKERAGE),
            decide_endpoint="council.provider",
            decide_arg="organisation_id",
            permission="review_providers",
            decisions_taken=("approved", "rejected"),
            detail_heading="CQC provider ID",
        ),
        WorkQueue(
            name="listing_reports",
            title="Listings reported by the public",
            item_word="report",
            waiting=_listing_reports,
            decide_endpoint="council.listing_report",
            decide_arg="report_id",
            permission="decide_listing_reports",
            decisions_taken=("upheld", "upheld_and_hidden", "dismissed"),
            detail_heading="Reason",
        ),
        WorkQueue(
            name="support_plans",
            title="Draft support plans",
            item_word="plan",
            waiting=_support_plans,
            decide_endpoint="council.support_plan",
            decide_arg="person_id",
            permission="approve_support_plan",
            decisions_taken=("approved",),
            list_endpoint="council.plans_to_approve",
            detail_heading="Case reference",
        ),
        WorkQueue(
            name="orders",
            title="Orders outside a support plan awaiting approval",
            item_word="order",
            waiting=_orders,
            decide_endpoint="council.order",
            decide_arg="order_id",
            permission="approve_order",
            decisions_taken=("approved", "refused"),
            detail_heading="Service",
        ),
        WorkQueue(
            name="invoices",
            title="Invoices held by a query",
            item_word="invoice",
            waiting=_queried_invoices,
            decide_endpoint="council.order",
            decide_arg="order_id",
            permission="settle_invoice",
            decisions_taken=("settled",),
            list_endpoint="council.invoices",
            detail_heading="Provider",
        ),
        WorkQueue(
            name="payment_mismatches",
            title="Card payment mismatches to resolve",
            item_word="mismatch",
            waiting=_mismatches,
            decide_endpoint="council.payment_mismatch",
            decide_arg="mismatch_id",
            permission="reconcile_payments",
            decisions_taken=("resolved",),
            list_endpoint="council.payment_mismatches",
            detail_heading="What differs",
        ),
        WorkQueue(
            name="variations",
            title="Changes to packages waiting for the council",
            item_word="change",
            waiting=_variations,
            decide_endpoint="council.variation",
            decide_arg="variation_id",
            permission="council_decide_variation",
            decisions_taken=("agreed", "refused"),
            list_endpoint="council.variations_queue",
            detail_heading="Kind of change",
        ),
        # REVIEWS (issue 19): decided on the reviews' own moderation page, which records its
        # decisions under "reviews" (providers/reviews.py).
        WorkQueue(
            name="reviews",
            title="Reviews waiting for moderation",
            item_word="review",
            waiting=_reviews,
            decide_endpoint="council.moderate_review",
            decide_arg="review_id",
            permission="moderate_reviews",
            decisions_taken=("published", "rejected"),
            list_endpoint="council.reviews_queue",
            detail_heading="Provider",
        ),
        WorkQueue(
            name="reviews_due",
            title="Support plan reviews overdue",
            item_word="plan review",
            waiting=_reviews_due,
            decide_endpoint="council.plan_review_due",
            decide_arg="plan_id",
            permission="approve_support_plan",
            decisions_taken=("review_booked", "reviewed"),
            detail_heading="Case reference",
        ),
        # REFERRALS (issue 20): referrals waiting for an officer (received, in contact,
        # assessed, or waiting for a visit with none booked), decided on the referral's page,
        # which records its decisions under "referrals" (marketplace/referrals/queue.py).
        WorkQueue(
            name="referrals",
            title="Referrals waiting for an officer",
            item_word="referral",
            waiting=_referrals,
            decide_endpoint="council.referral",
            decide_arg="referral_id",
            permission="manage_referrals",
            decisions_taken=("resolved", "visit_needed", "assessed", "converted", "closed"),
            list_endpoint="council.referrals",
            detail_heading="Urgency",
        ),
    )
}


def queue_named(name: str) -> WorkQueue | None:
    return QUEUES.get(name)


def summaries(
    session: Session, today: date, queues: list[WorkQueue] | None = None
) -> list[QueueSummary]:
    """Each queue's count and its oldest item's waiting-since, in the registry's order: one
    statement for all of them (a UNION ALL of each queue's count and minimum), so the
    dashboard and the overview do not grow by a statement with each queue added."""
    chosen = queues if queues is not None else list(QUEUES.values())
    if not chosen:
        return []
    parts = []
    for index, queue in enumerate(chosen):
        rows = queue.waiting(today).subquery()
        parts.append(
            select(
                literal(index).label("queue_index"),
                func.count().label("waiting"),
                # As text: the queues' waits are timestamps and (a review due) dates, which
                # SQLite returns as their text; _as_moment reads either.
                type_coerce(func.min(rows.c[4]), String).label("oldest"),
            ).select_from(rows)
        )
    found = {row.queue_index: row for row in session.execute(union_all(*parts))}
    return [
        QueueSummary(
            queue=queue,
            count=found[index].waiting,
            oldest_since=_as_moment(found[index].oldest),
        )
        for index, queue in enumerate(chosen)
    ]


def count(session: Session, queue: WorkQueue, today: date) -> int:
    rows = queue.waiting(today).subquery()
    return session.scalar(select(func.count()).select_from(rows)) or 0


def items(
    session: Session, queue: WorkQueue, today: date, *, page: int = 1, per_page: int = 50
) -> list[QueueItem]:
    """One page of the queue's items, the longest waiting first (ties by id, so pages never
    overlap)."""
    rows = queue.waiting(today).subquery()
    found = session.execute(
        select(rows).order_by(rows.c[4], rows.c[0]).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return [
        QueueItem(
            subject_id=row[0],
            link_id=row[1],
            label=str(row[2]),
            detail=_words(row[3]),
            waiting_since=_as_moment(row[4]),  # type: ignore[arg-type]
        )
        for row in found
    ]


def all_items(session: Session, queue: WorkQueue, today: date) -> list[QueueItem]:
    """Every item of the queue, for its CSV."""
    return items(session, queue, today, page=1, per_page=10_000)


def decisions(
    session: Session, queue: WorkQueue, *, page: int = 1, per_page: int = 50
) -> list[QueueDecision]:
    """The queue's recorded decisions, the newest first, with who took each."""
    return list(
        session.scalars(
            select(QueueDecision)
            .where(QueueDecision.queue == queue.name)
            .order_by(QueueDecision.decided_at.desc(), QueueDecision.id)
            .offset((page - 1) * per_page)
            .limit(per_page)
            .options(joinedload(QueueDecision.decided_by))
        )
    )


def decision_count(session: Session, queue: WorkQueue) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(QueueDecision).where(QueueDecision.queue == queue.name)
        )
        or 0
    )


def waited(decision: QueueDecision) -> float:
    """How long the decided item had waited, in seconds."""
    return max((decision.decided_at - decision.waiting_since).total_seconds(), 0.0)


def lock_for_decision(session: Session, subject: Model) -> None:
    """Take the subject's write lock until the request's transaction ends and read it again:
    a second officer deciding the same item at once waits here, then sees the first's
    decision and is refused by the rules' own checks (SQLite: the one write lock, taken by
    BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE on its row)."""
    ledger.begin_immediate(session)
    session.refresh(subject, with_for_update=True)


def _as_moment(value: object) -> datetime | None:
    """A waiting-since as an aware UTC moment: a date (a review due) is its midnight, and a
    SQLite aggregate gives back a naive datetime or its text."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return _at_midnight(value)
    text = str(value)
    if len(text) == 10:
        return _at_midnight(date.fromisoformat(text))
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _words(value: object) -> str:
    """An enum value as words ("wrong_details" -> "Wrong details")."""
    text = str(getattr(value, "value", value) or "")
    return text.replace("_", " ").capitalize() if text.islower() and " " not in text else text


def waited_words(since: datetime | None, now: datetime) -> str:
    """How long since `since`, in the words a list shows: "under an hour", "5 hours",
    "3 days", "6 weeks" (whole units, rounded down)."""
    if since is None:
        return ""
    hours = int(max((now - since).total_seconds(), 0) // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour{'' if hours == 1 else 's'}"
    days = hours // 24
    if days < 28:
        return f"{days} days"
    return f"{days // 7} weeks"
