"""Support plan review dates by the council's rules (issue 20 item 5, VISITS): the yearly
review (PLAN_REVIEW_MONTHS), sooner for a person's first plan (FIRST_PLAN_REVIEW_WEEKS), the
first plan after leaving hospital (HOSPITAL_REVIEW_WEEKS) and at the end of life
(END_OF_LIFE_REVIEW_WEEKS); the soonest rule that applies wins.

Kept apart from `plan_reviews` (booking review visits) so that `people.plans.approve_plan`
reads only the people's and referrals' tables, not the rest of the front door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import exists, select

from marketplace.people.models import SupportPlan
from marketplace.referrals.models import Referral, Urgency
from marketplace.types import Session


def review_due_after(approved_on: date, months: int) -> date:
    """`people.plans.review_due_after` (read when called: plans reads this module)."""
    from marketplace.people.plans import review_due_after as months_after

    return months_after(approved_on, months)


@dataclass(frozen=True)
class ReviewRules:
    """The council's review rules (marketplace/config.py; docs/configuration.md)."""

    review_months: int = 12
    first_plan_weeks: int = 8
    hospital_weeks: int = 6
    end_of_life_weeks: int = 4
    book_days_ahead: int = 28

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReviewRules:
        defaults = cls()
        return cls(
            review_months=config.get("PLAN_REVIEW_MONTHS", defaults.review_months),
            first_plan_weeks=config.get("FIRST_PLAN_REVIEW_WEEKS", defaults.first_plan_weeks),
            hospital_weeks=config.get("HOSPITAL_REVIEW_WEEKS", defaults.hospital_weeks),
            end_of_life_weeks=config.get("END_OF_LIFE_REVIEW_WEEKS", defaults.end_of_life_weeks),
            book_days_ahead=config.get("REVIEW_BOOKING_DAYS_AHEAD", defaults.book_days_ahead),
        )


def rules_in_force(review_months: int | None = None) -> ReviewRules:
    """The app's rules (its defaults outside an app), with `review_months` if given (the
    caller's PLAN_REVIEW_MONTHS, as `plans.approve_plan` is passed it)."""
    rules = ReviewRules.from_config(current_app.config) if has_app_context() else ReviewRules()
    if review_months is None:
        return rules
    return ReviewRules(
        review_months=review_months,
        first_plan_weeks=rules.first_plan_weeks,
        hospital_weeks=rules.hospital_weeks,
        end_of_life_weeks=rules.end_of_life_weeks,
        book_days_ahead=rules.book_days_ahead,
    )


def _referrals_of(session: Session, plan: SupportPlan) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral).where(
                (Referral.person_id == plan.person_id) | (Referral.support_plan_id == plan.id)
            )
        )
    )


def at_end_of_life(session: Session, plan: SupportPlan) -> bool:
    """Whether the person said in a self-assessment that they have a terminal illness."""
    return any(
        "end_of_life" in (referral.assessment.answers.get("conditions") or [])
        for referral in _referrals_of(session, plan)
    )


def _approved_before(session: Session, plan: SupportPlan, since: datetime | None = None) -> bool:
    earlier = select(SupportPlan.id).where(
        SupportPlan.person_id == plan.person_id,
        SupportPlan.id != plan.id,
        SupportPlan.approved_at.is_not(None),
    )
    if since is not None:
        earlier = earlier.where(SupportPlan.approved_at >= since)
    return session.scalar(select(exists(earlier))) or False


def review_rules_applying(
    session: Session, plan: SupportPlan, *, approved_on: date, rules: ReviewRules
) -> list[tuple[date, str]]:
    """Each rule that applies to `plan` approved on `approved_on`: (its review date, why),
    the default first."""
    applying = [(review_due_after(approved_on, rules.review_months), "the yearly review")]
    if not _approved_before(session, plan):
        applying.append(
            (approved_on + timedelta(weeks=rules.first_plan_weeks), "a first plan's early review")
        )
    for referral in _referrals_of(session, plan):
        if referral.urgency is Urgency.LEAVING_HOSPITAL and not _approved_before(
            session, plan, since=referral.received_at
        ):
            applying.append(
                (
                    approved_on + timedelta(weeks=rules.hospital_weeks),
                    "an early review after leaving hospital",
                )
            )
            break
    if at_end_of_life(session, plan):
        applying.append(
            (approved_on + timedelta(weeks=rules.end_of_life_weeks), "a review at the end of life")
        )
    return applying


def review_due_on(
    session: Session, plan: SupportPlan, *, approved_on: date, rules: ReviewRules
) -> date:
    """The day `plan`, approved on `approved_on`, is due its review: the soonest of the rules
    that apply (see the module's docstring)."""
    return min(review_rules_applying(session, plan, approved_on=approved_on, rules=rules))[0]


def why_due(session: Session, plan: SupportPlan, rules: ReviewRules) -> str:
    """Which rule set the plan's review date (for the council's pages)."""
    if plan.approved_at is None:
        return ""
    applying = review_rules_applying(
        session, plan, approved_on=plan.approved_at.date(), rules=rules
    )
    return min(applying)[1]


def next_review_after(
    session: Session, plan: SupportPlan, *, reviewed_on: date, rules: ReviewRules
) -> date:
    """The next review after one done on `reviewed_on`: the yearly one, or sooner at the end
    of life (a first plan's and a hospital discharge's early reviews are done by then)."""
    yearly = review_due_after(reviewed_on, rules.review_months)
    if at_end_of_life(session, plan):
        return min(yearly, reviewed_on + timedelta(weeks=rules.end_of_life_weeks))
    return yearly
