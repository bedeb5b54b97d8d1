"""Support plans: drafted by the person or an officer, approved by an officer (superseding
the plan before), and the check a purchase from a budget makes against the approved plan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.config import ConfigurationError, load_config
from marketplace.extensions import db
from marketplace.people import plans
from marketplace.people.errors import PlanConflict, PlanError, PlanForbidden
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.people.plans import PlanItemSpec, PurchaseCheck

CARE = [PlanItemSpec("personal-care", 180_00), PlanItemSpec("day-centres", 55_00)]
MakeUser = Callable[..., User]


@pytest.fixture
def officer(make_user: MakeUser) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def _draft(by: User, citizen: User, items: list[PlanItemSpec] = CARE) -> SupportPlan:
    return plans.draft_plan(
        db.session, citizen.person, by=by, outcomes="  Stay at home.  ", items=items
    )


def test_the_person_drafts_their_own_plan_and_an_officer_approves_it(
    citizen: User, officer: User
) -> None:
    draft = _draft(citizen, citizen)
    db.session.commit()

    assert draft.status is PlanStatus.DRAFT
    assert draft.outcomes == "Stay at home."
    assert draft.drafted_by == citizen
    assert [(i.category_code, i.weekly_amount_pence) for i in draft.items] == [
        ("personal-care", 180_00),
        ("day-centres", 55_00),
    ]
    assert draft.weekly_total_pence == 235_00
    assert plans.approved_plan(db.session, citizen.person) is None

    approved = plans.approve_plan(db.session, draft, by=officer)

    assert approved.status is PlanStatus.APPROVED
    assert approved.approved_by_id == officer.id
    assert approved.approved_at is not None
    assert plans.approved_plan(db.session, citizen.person) == approved
    assert plans.draft_of(db.session, citizen.person) is None


def test_drafting_again_edits_the_draft_even_reusing_its_categories(
    citizen: User, officer: User
) -> None:
    first = _draft(citizen, citizen)
    second = plans.draft_plan(
        db.session,
        citizen.person,
        by=officer,
        outcomes="Get out more.",
        items=[PlanItemSpec("day-centres", 60_00), PlanItemSpec("personal-care", 1)],
    )
    db.session.commit()

    assert second.id == first.id
    assert second.drafted_by == officer
    assert [i.category_code for i in second.items] == ["day-centres", "personal-care"]
    assert len(plans.plan_history(db.session, citizen.person)) == 1


def test_approving_a_new_plan_supersedes_the_one_before(citizen: User, officer: User) -> None:
    old = plans.approve_plan(db.session, _draft(citizen, citizen), by=officer)
    new = plans.approve_plan(
        db.session, _draft(officer, citizen, [PlanItemSpec("meals", 30_00)]), by=officer
    )
    db.session.commit()

    db.session.refresh(old)
    assert old.status is PlanStatus.SUPERSEDED
    assert old.superseded_at is not None
    assert plans.approved_plan(db.session, citizen.person) == new
    assert [p.status for p in plans.plan_history(db.session, citizen.person)] == [
        PlanStatus.APPROVED,
        PlanStatus.SUPERSEDED,
    ]


def test_a_plan_is_approved_once(citizen: User, officer: User) -> None:
    draft = _draft(citizen, citizen)
    plans.approve_plan(db.session, draft, by=officer)

    with pytest.raises(PlanConflict) as refused:
        plans.approve_plan(db.session, draft, by=officer)

    assert refused.value.code == "conflict"
    assert plans.approved_plan(db.session, citizen.person) == draft


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.BROKER, Role.PROVIDER_STAFF, Role.ADMIN])
def test_only_an_officer_approves(
    citizen: User, make_user: MakeUser, officer: User, role: Role
) -> None:
    draft = _draft(citizen, citizen)
    someone = citizen if role is Role.CITIZEN else make_user(role)

    with pytest.raises(PlanForbidden) as refused:
        plans.approve_plan(db.session, draft, by=someone)

    assert refused.value.code == "forbidden"
    assert draft.status is PlanStatus.DRAFT


def test_another_citizen_cannot_draft_someones_plan(citizen: User, make_user: MakeUser) -> None:
    with pytest.raises(PlanForbidden):
        _draft(make_user(Role.CITIZEN), citizen)
    with pytest.raises(PlanForbidden):
        _draft(make_user(Role.BROKER), citizen)
    assert plans.draft_of(db.session, citizen.person) is None


@pytest.mark.parametrize(
    ("outcomes", "items", "field"),
    [
        ("   ", CARE, "outcomes"),
        ("x" * (plans.OUTCOMES_MAX_LENGTH + 1), CARE, "outcomes"),
        ("Stay home", [], "items"),
        ("Stay home", [PlanItemSpec("rocket-rides", 1_00)], "items"),
        ("Stay home", [PlanItemSpec("meals", 1_00), PlanItemSpec("meals", 2_00)], "items"),
        ("Stay home", [PlanItemSpec("meals", -1)], "items"),
        ("Stay home", [PlanItemSpec("meals", 1.5)], "items"),  # type: ignore[arg-type]
        ("Stay home", [PlanItemSpec("meals", plans.WEEKLY_AMOUNT_MAX_PENCE + 1)], "items"),
        ("Stay home", [PlanItemSpec("meals", 1)] * (plans.ITEMS_MAX + 1), "items"),
    ],
)
def test_bad_plans_are_refused_and_nothing_is_written(
    citizen: User, outcomes: str, items: list[PlanItemSpec], field: str
) -> None:
    with pytest.raises(PlanError) as refused:
        plans.draft_plan(db.session, citizen.person, by=citizen, outcomes=outcomes, items=items)

    assert refused.value.code == "validation_error"
    assert refused.value.details["field"] == field
    assert db.session.scalars(select(SupportPlan)).all() == []


def test_the_database_keeps_one_approved_plan_per_person(citizen: User, officer: User) -> None:
    plans.approve_plan(db.session, _draft(citizen, citizen), by=officer)
    second = _draft(citizen, citizen)
    db.session.commit()

    with pytest.raises(IntegrityError), ledger.savepoint(db.session):
        db.session.execute(
            update(SupportPlan)
            .where(SupportPlan.id == second.id)
            .values(
                status=PlanStatus.APPROVED, approved_by_id=officer.id, approved_at=second.created_at
            )
        )


@pytest.mark.parametrize(
    ("codes", "rule", "expected"),
    [
        ({"personal-care", "help-at-home"}, "refuse", PurchaseCheck.ALLOWED),
        ({"personal-care"}, "approval", PurchaseCheck.ALLOWED),
        ({"night-care", "help-at-home"}, "approval", PurchaseCheck.NEEDS_APPROVAL),
        ({"night-care", "help-at-home"}, "refuse", PurchaseCheck.REFUSED),
        ({"clubs"}, "approval", PurchaseCheck.ALLOWED),  # "day-opportunities" covers its kinds
        (set(), "approval", PurchaseCheck.NEEDS_APPROVAL),
    ],
)
def test_purchases_in_the_plan_are_allowed_others_follow_the_council_setting(
    citizen: User, officer: User, codes: set[str], rule: str, expected: PurchaseCheck
) -> None:
    items = [PlanItemSpec("personal-care", 100_00), PlanItemSpec("day-opportunities", 50_00)]
    plans.approve_plan(db.session, _draft(citizen, citizen, items), by=officer)

    assert plans.purchase_check(db.session, citizen.person, codes, rule=rule) == expected
    assert plans.purchase_check(db.session, citizen.person, codes, rule=rule) == expected.value


def test_without_an_approved_plan_every_purchase_follows_the_setting(citizen: User) -> None:
    _draft(citizen, citizen)  # a draft is not in force
    for rule, expected in (("approval", "needs_approval"), ("refuse", "refused")):
        assert plans.purchase_check(db.session, citizen.person, {"personal-care"}, rule=rule) == (
            expected
        )


def test_the_setting_is_read_from_the_environment_and_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert load_config(tmp_path)["OUT_OF_PLAN_PURCHASES"] == "approval"
    monkeypatch.setenv("OUT_OF_PLAN_PURCHASES", " Refuse ")
    assert load_config(tmp_path)["OUT_OF_PLAN_PURCHASES"] == "refuse"
    monkeypatch.setenv("OUT_OF_PLAN_PURCHASES", "shrug")
    with pytest.raises(ConfigurationError, match="OUT_OF_PLAN_PURCHASES"):
        load_config(tmp_path)
