"""Officers read a person's support plan, draft it with them, and approve the draft they read."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.people import plans
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.people.plans import PlanItemSpec


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def _draft(citizen: User) -> SupportPlan:
    draft = plans.draft_plan(
        db.session,
        citizen.person,
        by=citizen,
        outcomes="See my friends on Thursdays.",
        items=[PlanItemSpec("day-centres", 55_00)],
    )
    db.session.commit()
    return draft


def _approval(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*name="(plan_id|drafted_at)"[^>]*value="([^"]*)"', page))


def test_an_officer_approves_the_draft_the_person_wrote(
    officer_client: FlaskClient, citizen: User, officer: User
) -> None:
    draft = _draft(citizen)
    page = _text(officer_client.get(f"/council/people/{citizen.person_id}/plan"))
    assert "See my friends on Thursdays." in page
    assert "Day opportunities: Day centres" in page

    response = officer_client.post(
        f"/council/people/{citizen.person_id}/plan/approve", data=_approval(page)
    )

    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.status is PlanStatus.APPROVED
    assert draft.approved_by_id == officer.id
    assert "support plan is approved" in _text(officer_client.get(response.location))


def test_a_draft_changed_since_it_was_read_is_not_approved(
    officer_client: FlaskClient, citizen: User
) -> None:
    _draft(citizen)
    page = _text(officer_client.get(f"/council/people/{citizen.person_id}/plan"))
    changed = plans.draft_plan(
        db.session,
        citizen.person,
        by=citizen,
        outcomes="Actually, a hot lunch at home.",
        items=[PlanItemSpec("hot-meal-delivery", 30_00)],
    )
    db.session.commit()

    response = officer_client.post(
        f"/council/people/{citizen.person_id}/plan/approve", data=_approval(page)
    )

    assert response.status_code == 409
    assert "The draft has changed since you opened it" in _text(response)
    db.session.refresh(changed)
    assert changed.status is PlanStatus.DRAFT
    # The page shown has the new draft, ready to approve once read.
    assert _approval(_text(response))["drafted_at"] == changed.drafted_at.isoformat()


def test_approving_with_no_draft_is_404_and_with_another_plans_id_409(
    officer_client: FlaskClient, citizen: User
) -> None:
    path = f"/council/people/{citizen.person_id}/plan/approve"
    assert officer_client.post(path, data={}).status_code == 404
    _draft(citizen)
    assert officer_client.post(path, data={"plan_id": "x"}).status_code == 409


def test_an_officer_drafts_a_plan_with_the_person(
    officer_client: FlaskClient, citizen: User, officer: User
) -> None:
    path = f"/council/people/{citizen.person_id}/plan/draft"
    assert officer_client.get(path).status_code == 200

    bad = officer_client.post(path, data={"outcomes": "", "category_1": "meals"})
    good = officer_client.post(
        path,
        data={"outcomes": "Company.", "category_1": "befriending", "amount_1": "0"},
    )

    assert bad.status_code == 400
    assert "Say what you want" in _text(bad)
    assert good.status_code == 400  # not a category
    assert "Choose a category from the list" in _text(good)
    saved = officer_client.post(
        path,
        data={
            "outcomes": "Company.",
            "category_1": "social-activities-and-befriending",
            "amount_1": "0",
        },
    )
    assert saved.status_code == 302
    draft = plans.draft_of(db.session, citizen.person)
    assert draft is not None
    assert draft.drafted_by_id == officer.id
    assert draft.items[0].weekly_amount_pence == 0
