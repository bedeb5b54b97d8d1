"""Support plans: drafted by the person (or an officer with them), approved by an officer,
and the check every purchase from a personal budget makes against the approved plan.

A person has at most one draft and at most one approved plan at a time. Drafting again edits
the draft; approving it supersedes the plan approved before. Functions flush, never commit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import council_officers, notify
from marketplace.people.errors import PlanConflict, PlanError, PlanForbidden
from marketplace.people.models import Person, PlanStatus, SupportPlan, SupportPlanItem
from marketplace.types import Session, utcnow
from providers.models import TaxonomyTerm

OUTCOMES_MAX_LENGTH = 5000
ITEMS_MAX = 30
# £5,000 a week for one category: more is a typing slip, not a plan.
WEEKLY_AMOUNT_MAX_PENCE = 500_000


class PurchaseCheck(enum.StrEnum):
    """What a purchase from a personal budget may do, given the person's approved plan."""

    ALLOWED = "allowed"
    NEEDS_APPROVAL = "needs_approval"
    REFUSED = "refused"


class OutOfPlanRule(enum.StrEnum):
    """The council's setting OUT_OF_PLAN_PURCHASES: what happens to a purchase outside the plan."""

    APPROVAL = "approval"
    REFUSE = "refuse"


# The setting's default (marketplace/config.py): what a rule assumes when its caller, a test or
# a command, gives no setting. The pages and the API pass the app's own.
DEFAULT_OUT_OF_PLAN_RULE = OutOfPlanRule.APPROVAL


@dataclass(frozen=True)
class PlanItemSpec:
    """One category asked for (a taxonomy term's code) and its weekly amount in pence."""

    category_code: str
    weekly_amount_pence: int


def approved_plan(session: Session, person: Person) -> SupportPlan | None:
    """The person's plan in force, if an officer has approved one."""
    return _plan_in(session, person, PlanStatus.APPROVED)


def draft_of(session: Session, person: Person) -> SupportPlan | None:
    """The person's plan being drafted, if there is one."""
    return _plan_in(session, person, PlanStatus.DRAFT)


def plan_history(session: Session, person: Person) -> list[SupportPlan]:
    """Every plan of the person, newest first."""
    return list(
        session.scalars(
            select(SupportPlan)
            .where(SupportPlan.person_id == person.id)
            .order_by(SupportPlan.created_at.desc())
        )
    )


def _plan_in(session: Session, person: Person, status: PlanStatus) -> SupportPlan | None:
    return session.scalars(
        select(SupportPlan).where(SupportPlan.person_id == person.id, SupportPlan.status == status)
    ).first()


def draft_plan(
    session: Session,
    person: Person,
    *,
    by: User,
    outcomes: str,
    items: Sequence[PlanItemSpec],
) -> SupportPlan:
    """Write the person's draft plan: the outcomes in their words and the categories and weekly
    amounts asked for. Edits the draft if there is one (whoever began it), else starts one and
    tells the council officers (but the one drafting) that it waits for their approval.

    Raises PlanForbidden (only the person or a council officer drafts), PlanError (no outcomes,
    no items, an unknown or repeated category, an amount that is not whole pence from 0 to the
    maximum; `details["field"]` says which), PlanConflict (someone else began a draft at the
    same moment: try again).
    """
    if not can(by, "draft_support_plan", person):
        raise PlanForbidden("only the person or a council officer can draft their support plan")
    outcomes = outcomes.strip()
    if not outcomes:
        raise PlanError("say what the person wants their care to help with", field="outcomes")
    if len(outcomes) > OUTCOMES_MAX_LENGTH:
        raise PlanError(
            f"outcomes must be {OUTCOMES_MAX_LENGTH} characters or fewer", field="outcomes"
        )
    _check_items(session, items)
    with ledger.savepoint(session):
        plan = draft_of(session, person)
        started = plan is None
        if plan is None:
            plan = SupportPlan(person=person, status=PlanStatus.DRAFT, outcomes=outcomes)
            session.add(plan)
        else:
            # Cleared and flushed first: the new items may reuse the old ones' categories, and
            # the unique (plan, category) must not see both at once.
            plan.items.clear()
            session.flush()
        plan.outcomes = outcomes
        plan.drafted_by = by
        plan.drafted_at = utcnow()
        plan.items.extend(
            SupportPlanItem(
                category_code=spec.category_code,
                weekly_amount_pence=spec.weekly_amount_pence,
                position=position,
            )
            for position, spec in enumerate(items)
        )
        try:
            session.flush()
        except IntegrityError as error:
            raise PlanConflict("someone else began a draft at the same time: try again") from error
        if started:
            _tell_council_of_draft(session, plan, by)
    return plan


def _tell_council_of_draft(session: Session, plan: SupportPlan, by: User) -> None:
    # Once, when the draft is begun: edits to it wait under the same notification, and the
    # council overview counts the drafts. The officer who began it needs no telling.
    notify(
        session,
        [officer for officer in council_officers(session) if officer.id != by.id],
        NotificationKind.SUPPORT_PLAN_DRAFTED,
        title="A support plan has been drafted and is waiting for approval",
        link=f"/council/people/{plan.person_id}/plan",
    )


def _check_items(session: Session, items: Sequence[PlanItemSpec]) -> None:
    if not items:
        raise PlanError("a plan needs at least one category of support", field="items")
    if len(items) > ITEMS_MAX:
        raise PlanError(f"a plan has at most {ITEMS_MAX} categories", field="items")
    codes = [spec.category_code for spec in items]
    known = set(session.scalars(select(TaxonomyTerm.code).where(TaxonomyTerm.code.in_(codes))))
    seen: set[str] = set()
    for index, spec in enumerate(items):
        if spec.category_code not in known:
            raise PlanError(
                "choose a category from the list",
                field="items",
                index=index,
                category=spec.category_code,
            )
        if spec.category_code in seen:
            raise PlanError(
                "each category can be in the plan only once", field="items", index=index
            )
        seen.add(spec.category_code)
        amount = spec.weekly_amount_pence
        if type(amount) is not int or not 0 <= amount <= WEEKLY_AMOUNT_MAX_PENCE:
            raise PlanError(
                f"a weekly amount is whole pence from 0 to {WEEKLY_AMOUNT_MAX_PENCE}",
                field="items",
                index=index,
            )


def review_due_after(approved_on: date, months: int) -> date:
    """The day a plan approved on `approved_on` is due its review, `months` later (the same
    day of the month, or the month's last day when it has no such day: 31 January + 1 month
    is 28 or 29 February)."""
    month_index = approved_on.month - 1 + months
    year, month = approved_on.year + month_index // 12, month_index % 12 + 1
    for day in (approved_on.day, 30, 29, 28):
        try:
            return date(year, month, min(approved_on.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


def approve_plan(
    session: Session,
    plan: SupportPlan,
    *,
    by: User,
    now: datetime | None = None,
    review_months: int = 12,
) -> SupportPlan:
    """Approve a draft plan: it comes into force, and the plan approved before is superseded.
    Its review is due `review_months` after approval (the council's PLAN_REVIEW_MONTHS), or
    sooner by the council's review rules (`referrals.plan_reviews`); the work queues list it
    once that day has passed.

    Raises PlanForbidden (only a council officer approves), PlanConflict (the plan is not a
    draft any more, for instance another officer has just approved it; nothing changes).
    """
    if not can(by, "approve_support_plan", plan.person):
        raise PlanForbidden("only a council officer can approve a support plan")
    now = now or utcnow()
    # VISITS (issue 20): the council's review rules may bring the review sooner (a first
    # plan, leaving hospital, the end of life); read before the earlier plan is superseded.
    from marketplace.referrals import review_rules

    review_due_on = review_rules.review_due_on(
        session, plan, approved_on=now.date(), rules=review_rules.rules_in_force(review_months)
    )
    with ledger.savepoint(session):
        # Two conditional updates rather than read-then-write: the second finds the draft
        # still a draft or changes nothing, so two officers approving at once cannot both win,
        # and the savepoint undoes the first if the second finds nothing.
        session.execute(
            update(SupportPlan)
            .where(
                SupportPlan.person_id == plan.person_id,
                SupportPlan.status == PlanStatus.APPROVED,
            )
            .values(status=PlanStatus.SUPERSEDED, superseded_at=now)
        )
        approved = session.execute(
            update(SupportPlan)
            .where(SupportPlan.id == plan.id, SupportPlan.status == PlanStatus.DRAFT)
            .values(
                status=PlanStatus.APPROVED,
                approved_by_id=by.id,
                approved_at=now,
                review_due_on=review_due_on,  # VISITS (issue 20)
            )
        )
        if approved.rowcount != 1:
            raise PlanConflict("this plan is no longer a draft", plan_id=str(plan.id))
    session.refresh(plan)
    return plan


def purchase_check(
    session: Session,
    person: Person,
    category_codes: Collection[str],
    *,
    rule: OutOfPlanRule | str,
) -> PurchaseCheck:
    """Whether a purchase from the person's budget in these categories is in their plan.

    In the plan (one of the codes, or a parent of one, is an approved plan's category):
    `allowed`. Otherwise, or when no plan is approved, the council's rule decides (`rule`, the
    app's OUT_OF_PLAN_PURCHASES, passed in by the edge): `needs_approval` ("approval") or
    `refused` ("refuse"). A self-funder paying with their own money needs no check.
    """
    plan = approved_plan(session, person)
    if plan is not None and plan_allows(plan, with_parents(session, category_codes)):
        return PurchaseCheck.ALLOWED
    return outside_plan(rule)


def plan_allows(plan: SupportPlan, category_codes_and_parents: Collection[str]) -> bool:
    """Whether the plan has a category among these (the purchase's codes with their
    parents): `purchase_check` for a plan in hand."""
    return not plan.category_codes.isdisjoint(category_codes_and_parents)


def outside_plan(rule: OutOfPlanRule | str) -> PurchaseCheck:
    """What the council's rule (its setting OUT_OF_PLAN_PURCHASES) does to a purchase the plan
    does not cover, in its category or in its amount: `needs_approval` or `refused`."""
    return (
        PurchaseCheck.NEEDS_APPROVAL
        if OutOfPlanRule(rule) is OutOfPlanRule.APPROVAL
        else PurchaseCheck.REFUSED
    )


def plan_item_covering(
    session: Session, person: Person, category_codes: Collection[str]
) -> SupportPlanItem | None:
    """The approved plan's item a purchase in these categories counts against: one for a
    category of its own, else one for a parent category (the most generous, if several)."""
    plan = approved_plan(session, person)
    if plan is None:
        return None
    return item_covering(plan, category_codes, lambda: with_parents(session, category_codes))


def item_covering(
    plan: SupportPlan,
    category_codes: Collection[str],
    and_parents: Callable[[], Collection[str]],
) -> SupportPlanItem | None:
    """`plan_item_covering` for a plan in hand; `and_parents` gives the codes with their
    parents, asked only when no item is for one of the codes themselves."""
    own = set(category_codes)
    covering = [item for item in plan.items if item.category_code in own]
    if not covering:
        wider = and_parents()
        covering = [item for item in plan.items if item.category_code in wider]
    return max(covering, key=lambda item: item.weekly_amount_pence, default=None)


def with_parents(session: Session, category_codes: Collection[str]) -> set[str]:
    """The codes and the codes of their parent categories (a plan of "Help at home" covers
    "Personal care")."""
    codes = set(category_codes)
    if not codes:
        return codes
    parents = session.scalars(
        select(TaxonomyTerm.code).where(
            TaxonomyTerm.id.in_(
                select(TaxonomyTerm.parent_id).where(
                    TaxonomyTerm.code.in_(codes), TaxonomyTerm.parent_id.is_not(None)
                )
            )
        )
    )
    return codes | set(parents)
