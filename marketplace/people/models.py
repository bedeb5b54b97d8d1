"""People who receive care, and their support plans: records of their own, with or without a
login."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.emailed_links import EmailedLink
from marketplace.encryption import EncryptedText
from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.api_tokens import ApiToken
    from marketplace.accounts.models import User
    from providers.models import Organisation


class ContactMethod(enum.StrEnum):
    """How the person would rather be contacted."""

    PHONE = "phone"
    TEXT = "text"
    EMAIL = "email"
    LETTER = "letter"

    @property
    def label(self) -> str:
        return {
            "phone": "Phone call",
            "text": "Text message",
            "email": "Email",
            "letter": "Letter",
        }[self.value]


class Person(Model):
    """Someone who receives care. The council may hold one with no login at all."""

    __tablename__ = "people"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date | None]
    postcode: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    # The council's own reference for the person in its case-management system (unique when
    # set), so that system can find the person it sent through the API.
    case_reference: Mapped[str | None] = mapped_column(String(50), unique=True)
    # The home address, in GOV.UK's address pattern (the postcode above completes it).
    address_line_1: Mapped[str | None] = mapped_column(String(100))
    address_line_2: Mapped[str | None] = mapped_column(String(100))
    town: Mapped[str | None] = mapped_column(String(60))
    county: Mapped[str | None] = mapped_column(String(60))
    # In the person's words ("uses BSL", "large print", "hard of hearing: text first").
    communication_needs: Mapped[str | None] = mapped_column(String(500))
    preferred_contact: Mapped[ContactMethod | None] = mapped_column(
        string_enum(ContactMethod, "preferred_contact")
    )
    # How to get in: encrypted at rest, and shown only to the provider of an order being
    # delivered (see people/details.py). The column holds a Fernet token, not the text.
    key_safe_code: Mapped[str | None] = mapped_column(EncryptedText)
    access_notes: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the retention job removed the person's details, their money trail kept
    # (marketplace/retention.py); None while they are held.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship(back_populates="person", uselist=False)
    support_plans: Mapped[list[SupportPlan]] = relationship(
        back_populates="person", order_by="SupportPlan.created_at.desc()", viewonly=True
    )
    # Every consent the person (or their attorney) has given, live or not: the policy reads
    # them to decide what a broker or a family member may do for the person.
    consents: Mapped[list[Consent]] = relationship(
        back_populates="person", order_by="Consent.created_at.desc()", viewonly=True
    )

    def __repr__(self) -> str:
        return f"<Person {self.full_name}>"


class PersonDetailsChange(Model):
    """One change to a person's details: who made it, when, and which fields changed. Never
    the values: the record of a key safe code's change must not hold the code."""

    __tablename__ = "person_details_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # None when no user made it (an API token acting for no one, a command).
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The API token the change came through, if any: who made it is on the token.
    token_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_tokens.id"))
    fields: Mapped[list[str]] = mapped_column(JSON)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changed_by: Mapped[User | None] = relationship()
    token: Mapped[ApiToken | None] = relationship()


class PlanStatus(enum.StrEnum):
    """A plan is drafted, approved by an officer, and superseded when a later one is approved."""

    DRAFT = "draft"
    APPROVED = "approved"
    SUPERSEDED = "superseded"


# A person has at most one plan in each of these states at a time: the database says so, so
# two officers approving at once cannot leave two approved plans.
_ONE_PER_PERSON = ("draft", "approved")


class SupportPlan(Model):
    """What the person wants from their care (in their own words) and the categories and
    weekly amounts agreed for it."""

    __tablename__ = "support_plans"
    __table_args__ = (
        CheckConstraint(
            "(status = 'draft' AND approved_at IS NULL AND approved_by_id IS NULL) OR "
            "(status <> 'draft' AND approved_at IS NOT NULL AND approved_by_id IS NOT NULL)",
            name="approved_plans_name_their_approver",
        ),
        CheckConstraint(
            "(status = 'superseded') = (superseded_at IS NOT NULL)",
            name="superseded_plans_say_when",
        ),
        *(
            Index(
                f"uq_support_plans_one_{status}_per_person",
                "person_id",
                unique=True,
                sqlite_where=text(f"status = '{status}'"),
                postgresql_where=text(f"status = '{status}'"),
            )
            for status in _ONE_PER_PERSON
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[PlanStatus] = mapped_column(
        Enum(
            PlanStatus,
            native_enum=False,
            length=20,
            create_constraint=True,
            values_callable=lambda members: [m.value for m in members],
            name="plan_status",
        ),
        default=PlanStatus.DRAFT,
    )
    # The outcomes the person wants, as they put them: never rewritten into the council's words.
    outcomes: Mapped[str] = mapped_column(Text)
    drafted_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the plan is next to be reviewed (issue 19's queue of overdue reviews; issue 20
    # schedules them): set when it is approved.
    review_due_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship(back_populates="support_plans")
    drafted_by: Mapped[User] = relationship(foreign_keys=[drafted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    items: Mapped[list[SupportPlanItem]] = relationship(
        back_populates="plan", order_by="SupportPlanItem.position", cascade="all, delete-orphan"
    )

    @property
    def weekly_total_pence(self) -> int:
        return sum(item.weekly_amount_pence for item in self.items)

    @property
    def category_codes(self) -> set[str]:
        return {item.category_code for item in self.items}


class SupportPlanItem(Model):
    """One agreed category of support (a taxonomy term) and how much a week it may cost."""

    __tablename__ = "support_plan_items"
    __table_args__ = (
        UniqueConstraint("plan_id", "category_code"),
        CheckConstraint("weekly_amount_pence >= 0", name="weekly_amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("support_plans.id"), index=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("taxonomy_terms.code"))
    weekly_amount_pence: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(default=0)

    plan: Mapped[SupportPlan] = relationship(back_populates="items")


class ConsentScope(enum.StrEnum):
    """What a consent lets its holder do for the person. The policy maps each action on a
    person to one scope (marketplace/accounts/policy.py)."""

    SEE = "see"
    PLAN = "plan"
    SHORTLIST = "shortlist"
    ORDER = "order"
    PAY = "pay"
    MESSAGE = "message"

    @property
    def label(self) -> str:
        return {
            "see": "See their budget and orders",
            "plan": "Draft their support plan",
            "shortlist": "Shortlist services for them",
            "order": "Place and cancel orders for them",
            "pay": "Pay by card for them",
            "message": "Talk to providers for them",
        }[self.value]


class Authority(enum.StrEnum):
    """On what authority a consent rests: the person's own word, or a legal authority held by
    whoever gave it (an attorney under a lasting power of attorney, or a deputy appointed by
    the Court of Protection). A family member acting under a lasting power of attorney holds
    a consent of the second kind, granted to their own account."""

    PERSON = "person"
    LPA_HEALTH_WELFARE = "lpa_health_welfare"
    LPA_PROPERTY_FINANCE = "lpa_property_finance"
    DEPUTY = "deputy"

    @property
    def label(self) -> str:
        return {
            "person": "Given by the person",
            "lpa_health_welfare": "Lasting power of attorney (health and welfare)",
            "lpa_property_finance": "Lasting power of attorney (property and financial affairs)",
            "deputy": "Deputy appointed by the Court of Protection",
        }[self.value]

    @property
    def is_legal(self) -> bool:
        """An attorney's or deputy's authority (a document proves it), not the person's word."""
        return self is not Authority.PERSON


class Consent(Model):
    """A person's recorded permission for a brokerage (any of its brokers) or one other account
    (a family member) to act for them: who gave it and on what authority, what it covers, from
    when until when, and whether it was revoked. Never deleted: a revoked or expired consent
    is part of the record of who acted and why they could."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint(
            "(brokerage_id IS NULL) <> (grantee_user_id IS NULL)",
            name="consent_to_a_brokerage_or_an_account",
        ),
        CheckConstraint("ends_at > starts_at", name="consent_ends_after_it_starts"),
        CheckConstraint(
            "authority = 'person' OR document_reference IS NOT NULL",
            name="legal_authority_has_a_document",
        ),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by_name IS NULL)", name="revocations_say_by_whom"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # Exactly one grantee: a brokerage (organisation of kind "brokerage"), or one user.
    brokerage_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id"), index=True
    )
    grantee_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"), index=True)
    # ConsentScope values.
    scopes: Mapped[list[str]] = mapped_column(JSON)
    authority: Mapped[Authority] = mapped_column(string_enum(Authority, "consent_authority"))
    # Who gave it, as a name: the person, or their attorney or deputy.
    given_by_name: Mapped[str] = mapped_column(String(200))
    # The lasting power of attorney's or the court order's reference (required for those).
    document_reference: Mapped[str | None] = mapped_column(String(100))
    # Who recorded it: the person (or attorney) online, a broker from a signed form, an officer.
    recorded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    revoked_by_name: Mapped[str | None] = mapped_column(String(200))
    # When its holders and the person were told it ends soon (once: consents.remind_expiring).
    expiry_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship(back_populates="consents")
    brokerage: Mapped[Organisation | None] = relationship()
    grantee_user: Mapped[User | None] = relationship(foreign_keys=[grantee_user_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def is_live(self, at: datetime) -> bool:
        return self.revoked_at is None and self.starts_at <= at < self.ends_at

    def held_by(self, user: Any) -> bool:
        """True if `user` (a User or an API token's principal) is this consent's grantee: a
        broker of its brokerage while the council approves it (a suspended brokerage acts for
        no one, and its consents, kept, hold again once it is approved again), or the account
        it was granted to."""
        if self.brokerage_id is not None:
            return (
                getattr(user, "role", None) == "broker"
                and getattr(user, "organisation_id", None) == self.brokerage_id
                # OrganisationStatus.APPROVED, by value: providers' models import this module.
                and getattr(getattr(user, "organisation", None), "status", None) == "approved"
            )
        return getattr(user, "id", None) == self.grantee_user_id

    def covers(self, scope: ConsentScope | str) -> bool:
        return str(scope) in self.scopes

    @property
    def grantee_name(self) -> str:
        if self.brokerage is not None:
            return self.brokerage.name
        return self.grantee_user.full_name if self.grantee_user else ""


class Client(Model):
    """A person on a brokerage's caseload. Being on it gives no access by itself: only a live
    consent does (the policy). A person with no account may be a client, and may later claim
    their record (`RecordClaim`)."""

    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("brokerage_id", "person_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    brokerage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    added_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
    brokerage: Mapped[Organisation] = relationship()
    added_by: Mapped[User] = relationship()


class ClientNote(Model):
    """A broker's note about a client. The client (and their attorney) can read every note:
    people have a right to see what is written about them. Notes are never changed."""

    __tablename__ = "client_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    brokerage_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    written_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    written_by: Mapped[User] = relationship()
    brokerage: Mapped[Organisation] = relationship()


class RecordClaim(EmailedLink, Model):
    """An invitation, emailed to a person with no account, to claim their record: following
    the link makes a citizen account linked to the person (`accounts.service.begin_sign_up`
    and `follow_sign_up_link` start and finish it, as for any sign-up)."""

    __tablename__ = "record_claims"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    invited_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))

    email_column = "email"
