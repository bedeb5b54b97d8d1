"""The work queues' log of decisions taken on the council's existing decision pages (issue 19,
QUEUES): approving or rejecting a provider or brokerage, approving a support plan, approving
or refusing an order outside a plan, resolving a card payment mismatch, agreeing or refusing a
change to a package. Each page calls one of these in the same request as the decision itself,
after the rules made it, so the log says who decided what, when, why, how long the item had
waited, and who was told (the rules that decide tell them; plan approval tells the person
here, by email, as nothing told them before).

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.console.queues import lock_for_decision
from marketplace.mail import queue_email
from marketplace.notifications.service import recipients_for_person
from marketplace.orders.models import Order, PackageVariation
from marketplace.payments.mismatches import PaymentMismatch
from marketplace.people.models import SupportPlan
from marketplace.types import Session, utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus

_ORGANISATION_DECISIONS = {
    OrganisationStatus.APPROVED: "approved",
    OrganisationStatus.REJECTED: "rejected",
    OrganisationStatus.SUSPENDED: "suspended",
}


def lock_organisation(session: Session, organisation: Organisation) -> OrganisationStatus:
    """Take the organisation's write lock (two officers deciding it at once decide it once)
    and return its status as it now is, read after the lock."""
    lock_for_decision(session, organisation)
    return organisation.status


def organisation_decided(
    session: Session,
    organisation: Organisation,
    *,
    from_status: OrganisationStatus,
    by: User,
    reason: str,
) -> None:
    """Log a provider's or brokerage's status decision. A registration waited from when it
    was made; a suspension or reinstatement of one already decided did not wait in a queue
    (it waited no time)."""
    now = utcnow()
    record_decision(
        session,
        queue="brokerages" if organisation.kind is OrganisationKind.BROKERAGE else "providers",
        subject_id=organisation.id,
        subject_label=organisation.name,
        decision=_ORGANISATION_DECISIONS.get(organisation.status, organisation.status.value),
        reason=reason,
        waiting_since=organisation.created_at if from_status is OrganisationStatus.PENDING else now,
        decided_by_id=by.id,
        told=f"organisation's staff (email, {len(organisation.staff)})",
        at=now,
    )


def plan_approved(session: Session, plan: SupportPlan, *, by: User) -> None:
    """Log a draft plan's approval and tell the person (by email, to each account of theirs),
    with when their plan is next reviewed."""
    told = 0
    for user in recipients_for_person(session, plan.person_id):
        if not user.active:
            continue
        due = f" Its review is due by {plan.review_due_on:%d %B %Y}." if plan.review_due_on else ""
        queue_email(
            user.email,
            "Your support plan is approved",
            f"The council has approved your support plan: it is in force from today.{due}",
        )
        told += 1
    record_decision(
        session,
        queue="support_plans",
        subject_id=plan.id,
        subject_label=plan.person.full_name,
        decision="approved",
        reason="",
        waiting_since=plan.drafted_at,
        decided_by_id=by.id,
        told=f"person (email, {told})" if told else "",
    )


def order_decided(
    session: Session, order: Order, *, by: User, approved: bool, reason: str = ""
) -> None:
    """Log an officer's approval or refusal of an order outside the person's plan (the orders'
    rules told the person, and on approval the provider)."""
    record_decision(
        session,
        queue="orders",
        subject_id=order.id,
        subject_label=f"{order.reference}: {order.service_name}",
        decision="approved" if approved else "refused",
        reason=reason,
        waiting_since=order.placed_at,
        decided_by_id=by.id,
        told="person and provider (notification)" if approved else "person (notification)",
    )


def mismatch_resolved(session: Session, mismatch: PaymentMismatch, *, by: User) -> None:
    """Log a card payment mismatch resolved (no applicant: it is the council's own books)."""
    record_decision(
        session,
        queue="payment_mismatches",
        subject_id=mismatch.id,
        subject_label=mismatch.kind.label,
        decision="resolved",
        reason=mismatch.resolution,
        waiting_since=mismatch.found_at,
        decided_by_id=by.id,
        told="",
    )


def variation_decided(
    session: Session, variation: PackageVariation, *, by: User, agreed: bool, reason: str
) -> None:
    """Log the council's decision on a change to a package, which waited from when the second
    party accepted it (the variations' rules told both parties)."""
    record_decision(
        session,
        queue="variations",
        subject_id=variation.id,
        subject_label=f"Order {variation.order.reference}: {variation.kind.value} change",
        decision="agreed" if agreed else "refused",
        reason=reason,
        waiting_since=variation.decided_at or variation.order.placed_at,
        decided_by_id=by.id,
        told="person and provider (notification)",
    )
