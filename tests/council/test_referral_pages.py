"""The council's referral pages (REFERRALS, issue 20): the list (most urgent and oldest first,
the count in each status, a status filter), a referral's page (the answers, the indication and
its workings, who filled it in, the timeline), each action's form with its error summary, a
step refused when another officer has just taken one, converting from the form, and who may
see any of it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import FunderPot, StreamKind
from marketplace.console.models import QueueDecision
from marketplace.extensions import db
from marketplace.referrals.models import Referral, ReferralStatus
from tests.citizens.helpers import YEAR, funded_pots
from tests.conftest import sign_in
from tests.referrals.factories import NOW, answers, make_ras_version, make_referral

S = ReferralStatus


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    return found.group(1) if found else ""


@pytest.fixture
def referral(app: Flask) -> Referral:
    made = make_referral(
        db.session,
        make_ras_version(db.session, config={}),
        answers(who="family", who_name="Sam Example, daughter", urgency="urgent"),
    )
    db.session.commit()
    return made


def test_the_list_is_most_urgent_first_with_counts_and_a_filter(
    officer_client: FlaskClient, app: Flask
) -> None:
    version = make_ras_version(db.session, config={})
    make_referral(db.session, version, answers(full_name="Rita Routine"), sent_at=NOW)
    hospital = make_referral(
        db.session,
        version,
        answers(full_name="Harold Hospital", urgency="leaving_hospital"),
        sent_at=NOW + timedelta(days=1),
    )
    hospital.status = S.CLOSED
    db.session.commit()
    page = officer_client.get("/council/referrals").get_data(as_text=True)
    assert page.index("Harold Hospital") < page.index("Rita Routine")
    assert "Received (1)" in page
    assert "Closed (1)" in page
    assert "All (2)" in page
    closed = officer_client.get("/council/referrals?status=closed").get_data(as_text=True)
    assert "Harold Hospital" in closed
    assert "Rita Routine" not in closed


def test_a_referral_page_shows_answers_indication_who_and_timeline(
    officer_client: FlaskClient, referral: Referral
) -> None:
    page = officer_client.get(f"/council/referrals/{referral.id}").get_data(as_text=True)
    assert "Alex Example" in page
    assert "Sam Example, daughter" in page  # who filled it in
    assert "I need someone to help me every time" in page  # an answer, in its words
    assert "£200 to £260 a week" in page
    # The workings, named by the version that made them.
    assert f"version {referral.assessment.ras_version.number}," in page.lower()
    assert "Received" in page
    assert 'id="referral-timeline"' in page
    assert "Resolve at first contact" in page


def test_resolving_from_the_form_decides_it_and_bad_input_shows_an_error_summary(
    officer_client: FlaskClient, referral: Referral
) -> None:
    url = f"/council/referrals/{referral.id}/resolve"
    token = _csrf(officer_client.get(url).get_data(as_text=True))
    bad = officer_client.post(url, data={"csrf_token": token, "how": "advice", "note": ""})
    assert bad.status_code == 400
    assert "There is a problem" in bad.get_data(as_text=True)
    assert "Enter what the person was given or told" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get_one(Referral, referral.id).status is S.RECEIVED
    good = officer_client.post(
        url, data={"csrf_token": token, "how": "advice", "note": "Told about day centres"}
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get_one(Referral, referral.id).status is S.RESOLVED
    (logged,) = db.session.scalars(select(QueueDecision)).all()
    assert (logged.queue, logged.decision) == ("referrals", "resolved")
    # Once decided, a second officer's step is refused in words, and nothing changes.
    again = officer_client.post(
        f"/council/referrals/{referral.id}/close",
        data={"csrf_token": token, "reason": "withdrawn"},
    )
    assert again.status_code == 409
    assert "cannot now be closed" in again.get_data(as_text=True)


@pytest.mark.parametrize("action", ["contact", "visit-needed", "close"])
def test_each_action_moves_the_referral(
    officer_client: FlaskClient, referral: Referral, action: str
) -> None:
    url = f"/council/referrals/{referral.id}/{action}"
    token = _csrf(officer_client.get(url).get_data(as_text=True))
    data = {"csrf_token": token, "how": "phone", "reason": "withdrawn", "note": "Noted"}
    assert officer_client.post(url, data=data).status_code == 302
    db.session.expire_all()
    expected = {"contact": S.IN_CONTACT, "visit-needed": S.AWAITING_VISIT, "close": S.CLOSED}
    assert db.session.get_one(Referral, referral.id).status is expected[action]


def test_converting_from_the_form_makes_record_plan_and_budget(
    officer_client: FlaskClient, referral: Referral, reference_data: None
) -> None:
    pots: dict[StreamKind, FunderPot] = funded_pots()
    url = f"/council/referrals/{referral.id}/convert"
    form = officer_client.get(url).get_data(as_text=True)
    assert "£200 to £260 a week" in form  # the indication beside the amount
    assert "Help getting washed and dressed in the mornings" in form  # outcomes prefilled
    data = {
        "csrf_token": _csrf(form),
        "weekly_budget": "230",
        "council_weekly": "200",
        "council_pot": str(pots[StreamKind.COUNCIL].id),
        "contribution_weekly": "20",
        "starts_on": ["1", "4", str(YEAR)],
        "ends_on": ["31", "3", str(YEAR + 1)],
        "frequency": "four_weekly",
        "plan_category": "personal-care",
        "outcomes": "Help getting washed and dressed in the mornings, and getting out.",
    }
    short = officer_client.post(url, data=data)
    assert short.status_code == 400  # £200 + £20 is not £230
    assert "must add up to the weekly budget" in short.get_data(as_text=True)
    made = officer_client.post(url, data={**data, "contribution_weekly": "30"})
    assert made.status_code == 302, made.get_data(as_text=True)
    db.session.expire_all()
    converted = db.session.get_one(Referral, referral.id)
    assert converted.status is S.CONVERTED
    assert converted.person.full_name == "Alex Example"
    assert converted.budget is not None
    assert converted.support_plan is not None


@pytest.mark.parametrize("role", [Role.PROVIDER_STAFF, Role.CITIZEN, Role.BROKER])
def test_only_officers_see_referrals(
    client: FlaskClient, make_user: Callable[..., User], referral: Referral, role: Role
) -> None:
    sign_in(client, make_user(role))
    for url in (
        "/council/referrals",
        f"/council/referrals/{referral.id}",
        f"/council/referrals/{referral.id}/convert",
    ):
        assert client.get(url).status_code in (403, 404)


def test_a_referral_that_does_not_exist_is_not_found(officer_client: FlaskClient) -> None:
    assert officer_client.get(f"/council/referrals/{NOW.date()}").status_code == 404
