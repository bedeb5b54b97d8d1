"""Turning a referral into a person's record, a draft support plan and a personal budget
(REFERRALS, issue 20 item 4), keeping the answers: the person's name, postcode and contact
from them, the plan's outcomes in their own words with the needs they told us about, and the
weekly amount and funding streams the officer agrees beside the indication.

All of it or none: the record, the plan and the budget are made in one savepoint, so a pot
that cannot cover a stream leaves no person or plan behind. Rules only: flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets import queries as budget_queries
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.models import FunderPot, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.formatting import pounds
from marketplace.people import plans, records
from marketplace.people.errors import PlanError
from marketplace.people.models import Person, SupportPlan
from marketplace.referrals import questions
from marketplace.referrals.models import Referral, ReferralStatus, SelfAssessment
from marketplace.referrals.queue import (
    ReferralError,
    contact_email,
    decide,
    lock,
    move,
    tell_person,
)
from marketplace.types import Session


@dataclass(frozen=True)
class WeeklyStream:
    """One funding stream the officer agrees: its kind, its weekly share in pence, and the
    pot it comes from (council and NHS streams)."""

    kind: StreamKind
    weekly_pence: int
    pot: FunderPot | None = None


@dataclass(frozen=True)
class Conversion:
    """What a conversion made; `account_uses_contact_email` says an account already has the
    answers' contact address (the officer may invite the person to claim the record, never
    link it by the address alone)."""

    referral: Referral
    person: Person
    plan: SupportPlan
    budget: PersonalBudget
    account_uses_contact_email: bool


def default_outcomes(assessment: SelfAssessment) -> str:
    """The plan's outcomes as the answers give them: the person's own words first, then each
    need they told us about in the words they chose, then the help they already have."""
    answers = assessment.answers
    lines: list[str] = []
    own_words = str(answers.get("in_your_words") or "").strip()
    if own_words:
        lines += ["In their own words:", own_words, ""]
    levels = dict(questions.NEED_LEVELS)
    needs = [
        f"- {title}: {levels.get(answers.get(key, ''), '')}"
        for key, title, _words in questions.OUTCOMES
        if answers.get(key) not in (None, "none")
    ]
    if needs:
        lines += ["What they need help with:", *needs, ""]
    carers = dict(questions.CARER_SUPPORT).get(answers.get("carer_support", ""))
    if carers:
        coping = dict(questions.CARER_COPING).get(answers.get("carer_coping", ""))
        lines.append(f"Help from family and friends: {carers}" + (f" ({coping})" if coping else ""))
    return "\n".join(lines).strip()


def weeks_amount(weekly_pence: int, starts_on: date, ends_on: date) -> int:
    """A weekly amount over the period, whole pence (rounded down): weekly times days over 7."""
    days = (ends_on - starts_on).days + 1
    return weekly_pence * days // 7


def account_with_email(session: Session, email: str | None) -> User | None:
    """The account whose sign-in address is `email` (any case), if there is one."""
    if not email:
        return None
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def convert(
    session: Session,
    referral: Referral,
    *,
    by: User,
    weekly_budget_pence: int,
    streams: Sequence[WeeklyStream],
    starts_on: date,
    ends_on: date,
    frequency: PaymentFrequency,
    outcomes: str,
    plan_category: str,
    now: datetime,
    today: date,
) -> Conversion:
    """Make the person's record (or use the one the assessment already names), a draft
    support plan (the outcomes, one category at the weekly amount) and a personal budget
    (each stream's weekly share over the period) from the referral; link them on it, set the
    assessment's person, and tell the person.

    Raises ReferralError (a weekly amount that is not whole pence above 0, streams that do
    not add up to it, a period that overlaps the person's open budget; and the plan's and the
    budget's own refusals, a pot that cannot cover its stream among them: `field` says which)
    or ReferralMoveRefused (it is waiting for a visit, or decided). Nothing is made then."""
    if type(weekly_budget_pence) is not int or not 0 < weekly_budget_pence <= (
        plans.WEEKLY_AMOUNT_MAX_PENCE
    ):
        raise ReferralError(
            f"Enter a weekly budget from £0.01 to {pounds(plans.WEEKLY_AMOUNT_MAX_PENCE)}",
            field="weekly_budget",
        )
    given = [stream for stream in streams if stream.weekly_pence]
    if sum(stream.weekly_pence for stream in given) != weekly_budget_pence:
        raise ReferralError(
            f"The streams' weekly amounts must add up to the weekly budget, "
            f"{pounds(weekly_budget_pence)}",
            field="streams",
        )
    if ends_on < starts_on:
        raise ReferralError("The period must end on or after its start", field="ends_on")
    lock(session, referral)
    assessment = referral.assessment
    answers = assessment.answers
    with ledger.savepoint(session):
        move(
            session,
            referral,
            ReferralStatus.CONVERTED,
            by=by,
            kind="converted",
            note=f"Support is being arranged: a weekly budget of {pounds(weekly_budget_pence)}",
            now=now,
        )
        person = assessment.person or _new_person(session, answers)
        overlapping = budget_queries.overlapping_budget(session, person, starts_on, ends_on)
        if overlapping is not None:
            raise ReferralError(
                f"{person.full_name} already has an open budget from "
                f"{overlapping.starts_on:%-d %B %Y} to {overlapping.ends_on:%-d %B %Y}",
                field="starts_on",
            )
        try:
            plan = plans.draft_plan(
                session,
                person,
                by=by,
                outcomes=outcomes,
                items=[plans.PlanItemSpec(plan_category, weekly_budget_pence)],
            )
        except PlanError as refused:
            field = "outcomes" if refused.details.get("field") == "outcomes" else "plan_category"
            raise ReferralError(_capital(str(refused)), field=field) from refused
        try:
            budget = create_budget(
                session,
                person=person,
                starts_on=starts_on,
                ends_on=ends_on,
                frequency=frequency,
                streams=[
                    StreamSpec(
                        stream.kind,
                        weeks_amount(stream.weekly_pence, starts_on, ends_on),
                        pot=stream.pot,
                    )
                    for stream in given
                ],
                today=today,
            )
        except ledger.InsufficientFunds as refused:
            available = refused.details.get("available_pence", 0)
            raise ReferralError(
                f"A pot has only {pounds(available)} unallocated: choose smaller amounts or "
                "another pot",
                field="streams",
            ) from refused
        except (BudgetError, ledger.InvalidTransfer) as refused:
            message = getattr(refused, "message", None) or str(refused)
            raise ReferralError(_capital(message), field="streams") from refused
        assessment.person_id = person.id
        referral.person_id = person.id
        referral.support_plan_id = plan.id
        referral.budget_id = budget.id
        referral.decided_at = now
        referral.first_contact_at = referral.first_contact_at or now
        session.flush()
    told = tell_person(
        session,
        referral,
        title="The council is arranging your support",
        body=f"Your referral {referral.reference} has become a support plan and a personal "
        f"budget of {pounds(weekly_budget_pence)} a week (a draft until an officer approves "
        "it). The council will be in touch to agree your plan with you.",
    )
    decide(
        session,
        referral,
        by=by,
        decision="converted",
        reason=f"Weekly budget {pounds(weekly_budget_pence)}",
        told=told,
        now=now,
    )
    return Conversion(
        referral=referral,
        person=person,
        plan=plan,
        budget=budget,
        account_uses_contact_email=person.user is None
        and account_with_email(session, contact_email(assessment)) is not None,
    )


def _new_person(session: Session, answers: dict[str, object]) -> Person:
    contact = answers.get("contact") or {}
    assert isinstance(contact, dict)
    postcode = str(answers.get("postcode") or "").strip().upper() or None
    return records.create_person(
        session,
        full_name=str(answers.get("full_name") or "").strip() or "Name not given",
        postcode=postcode,
        email=(str(contact.get("email") or "").strip().lower() or None),
        phone=(str(contact.get("phone") or "").strip() or None),
    )


def _capital(message: str) -> str:
    return message[:1].upper() + message[1:]
