"""What waits for a council officer's decision: one count for each kind, for the overview.

Each count is of the very rows the page it links to lists, so the overview and the lists
cannot disagree. Rules only: they read and never write.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from marketplace.cqc import checks
from marketplace.orders import invoicing
from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.queries import invoices_to_settle
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.types import Session
from providers.directory_summary import kept
from providers.models import Organisation, OrganisationStatus


@dataclass(frozen=True)
class DecisionsWaiting:
    """How many of each thing wait for an officer."""

    providers: int  # registered, waiting for approval
    support_plans: int  # drafts, waiting for approval
    orders: int  # over or outside a support plan, waiting for approval
    invoices: int  # raised, not held by a query: ready to pay
    # Listings whose CQC location ID is unknown, deregistered or rated otherwise than claimed.
    cqc_listings: int = 0

    @property
    def total(self) -> int:
        return self.providers + self.support_plans + self.orders + self.invoices + self.cqc_listings


def _count(session: Session, model: type, *conditions: object) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def decisions_waiting(session: Session) -> DecisionsWaiting:
    """Every count of things waiting for a council officer's decision, as of now."""
    return DecisionsWaiting(
        providers=_count(session, Organisation, Organisation.status == OrganisationStatus.PENDING),
        support_plans=_count(session, SupportPlan, SupportPlan.status == PlanStatus.DRAFT),
        orders=_count(session, Order, Order.status == OrderStatus.AWAITING_APPROVAL),
        invoices=sum(
            1 for invoice in invoices_to_settle(session) if not invoicing.held_by_query(invoice)
        ),
        # Every CQC-linked listing read and checked, so kept until the directory changes (a
        # listing's or an organisation's CQC details, or an import of the CQC's directory,
        # all write outbox rows): it grew the overview with the directory (docs/performance.md).
        cqc_listings=kept("cqc listing flags", lambda: len(checks.listing_flags())),
    )


def drafts_to_approve(session: Session) -> list[SupportPlan]:
    """Every draft support plan, oldest first, with its person."""
    return list(
        session.scalars(
            select(SupportPlan)
            .where(SupportPlan.status == PlanStatus.DRAFT)
            .order_by(SupportPlan.drafted_at, SupportPlan.id)
            .options(joinedload(SupportPlan.person), joinedload(SupportPlan.drafted_by))
        )
    )
