"""People who receive care, and their support plans: records of their own, with or without a
login."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

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

from marketplace.encryption import EncryptedText
from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.api_tokens import ApiToken
    from marketplace.accounts.models import User


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
