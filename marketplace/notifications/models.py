"""A message to one user in their in-app inbox."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow


class NotificationKind(enum.StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_NEEDS_APPROVAL = "order_needs_approval"
    ORDER_APPROVED = "order_approved"
    ORDER_ACCEPTED = "order_accepted"
    ORDER_DECLINED = "order_declined"
    ORDER_CANCELLED = "order_cancelled"
    DELIVERY_TO_CONFIRM = "delivery_to_confirm"
    DELIVERY_QUERIED = "delivery_queried"
    INVOICE_RAISED = "invoice_raised"
    INVOICE_SETTLED = "invoice_settled"
    BUDGET_NEARLY_SPENT = "budget_nearly_spent"
    # The council's decisions waiting (orders above), and the provider's listing to confirm.
    PROVIDER_REGISTERED = "provider_registered"
    SUPPORT_PLAN_DRAFTED = "support_plan_drafted"
    LISTING_STALE_SOON = "listing_stale_soon"
    CARD_REFUNDED = "card_refunded"  # unspent card money back on the card (Stripe confirmed)
    # A recurring cycle's charge to the saved card was declined: the cycle waits for payment.
    CARD_CHARGE_FAILED = "card_charge_failed"
    # Consents (issue 17): given to a brokerage or an account, withdrawn, about to end.
    CONSENT_GIVEN = "consent_given"
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_EXPIRING = "consent_expiring"
    # Acting on behalf (issue 17): a broker or attorney placed an order for the person.
    ORDER_PLACED_FOR_YOU = "order_placed_for_you"
    # Shortlists (issue 17): a broker sent the person a shortlist; the person approved from it.
    SHORTLIST_SHARED = "shortlist_shared"
    SHORTLIST_APPROVED = "shortlist_approved"
    # Questions (issue 17): a question (or a follow-up) for the provider; the provider's answer.
    QUESTION_ASKED = "question_asked"
    QUESTION_ANSWERED = "question_answered"
    # Ongoing care (issue 18): a package cycle its budget cannot cover; a package carried into
    # a new budget period; a variation proposed, waiting for the council, decided; a
    # reablement episode started or ended; a week's outcomes to confirm; an ISF asked for,
    # decided, spent from.
    PACKAGE_SHORTFALL = "package_shortfall"
    PACKAGE_CARRIED = "package_carried"
    VARIATION_PROPOSED = "variation_proposed"
    VARIATION_COUNCIL = "variation_council"
    VARIATION_DECIDED = "variation_decided"
    REABLEMENT_STARTED = "reablement_started"
    REABLEMENT_ENDED = "reablement_ended"
    OUTCOMES_TO_CONFIRM = "outcomes_to_confirm"
    ISF_REQUESTED = "isf_requested"
    ISF_DECIDED = "isf_decided"
    ISF_SPENT = "isf_spent"
    # OUTCOMES (issue 18): a provider answered "no" to a safety check the council set.
    SAFETY_CHECK_MISSED = "safety_check_missed"
    # The council's console (issue 19): a listing reported; the report decided; a review to
    # moderate, published or not, replied to; a remittance issued to a provider; a budget
    # period closed in a period-end run.
    LISTING_REPORTED = "listing_reported"
    LISTING_REPORT_DECIDED = "report_decided"
    REVIEW_TO_MODERATE = "review_to_moderate"
    REVIEW_DECIDED = "review_decided"
    REVIEW_REPLIED = "review_replied"
    REMITTANCE_ISSUED = "remittance_issued"
    PERIOD_CLOSED = "period_closed"
    # The front door (issue 20): a referral received (to the council) or moved on (to the
    # person and whoever filled it in); an assessment or review visit booked, moved,
    # cancelled, offered from a freed slot, or coming up soon.
    REFERRAL_RECEIVED = "referral_received"
    REFERRAL_UPDATED = "referral_updated"
    VISIT_BOOKED = "visit_booked"
    VISIT_MOVED = "visit_moved"
    VISIT_CANCELLED = "visit_cancelled"
    VISIT_OFFERED = "visit_offered"
    VISIT_REMINDER = "visit_reminder"


class Notification(Model):
    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(
        string_enum(NotificationKind, "notification_kind")
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    # A path inside the site (never an absolute address) to what it is about. An order's
    # notifications store the order instead, and each reader's page for it is linked at the
    # edge (marketplace/links.py); rows written before keep the path they stored.
    link: Mapped[str | None] = mapped_column(String(300))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
