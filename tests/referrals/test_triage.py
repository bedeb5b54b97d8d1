"""Triage as a referral arrives (issue 20): answers that show an assessor must visit send the
referral straight to waiting for a visit, so the person can choose a time at once; any other
waits for an officer's first contact. First contact is still recorded, once, on a referral
already waiting for its visit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.referrals import assessments, queue, referral_lists
from marketplace.referrals.models import ReferralStatus
from tests.referrals.factories import NOW, answers, make_ras_version, make_referral

S = ReferralStatus
# No outcome needing help every time, a carer who copes, no hurry: a first contact may do.
LIGHT = answers(
    hygiene="some",
    clothing="some",
    community="some",
    carer_coping="yes",
    urgency="soon",
)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER, email="triage@example.org")


@pytest.mark.parametrize(
    ("changes", "visit"),
    [
        ({}, False),
        ({"hygiene": "lot"}, True),
        ({"caring_child": "unable"}, True),
        ({"carer_coping": "no"}, True),
        ({"urgency": "urgent"}, True),
        ({"urgency": "leaving_hospital"}, True),
        ({"urgency": "routine", "nutrition": "some"}, False),
    ],
)
def test_the_answers_decide_whether_a_visit_is_needed_at_once(
    app: Flask, changes: dict[str, str], visit: bool
) -> None:
    version = make_ras_version(db.session)
    referral = make_referral(db.session, version, {**LIGHT, **changes})

    assert queue.triage(db.session, referral, now=NOW) is visit

    assert referral.status is (S.AWAITING_VISIT if visit else S.RECEIVED)
    kinds = [event.kind for event in referral_lists.timeline(referral, for_person=True)]
    assert kinds == (["received", "visit_needed"] if visit else ["received"])


def test_triage_moves_only_a_referral_just_received(app: Flask, officer: User) -> None:
    version = make_ras_version(db.session)
    referral = make_referral(db.session, version, answers(hygiene="lot"))
    queue.record_first_contact(db.session, referral, by=officer, how="phone", note="", now=NOW)

    assert queue.triage(db.session, referral, now=NOW) is False
    assert referral.status is S.IN_CONTACT


def test_sending_an_assessment_triages_its_referral(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    for key, value in answers(urgency="urgent").items():
        assessments.save_answer(
            db.session, assessment, key, value, revision_seen=assessment.revision, now=NOW
        )

    referral = assessments.submit(
        db.session, assessment, revision_seen=assessment.revision, now=NOW
    )

    assert referral.status is S.AWAITING_VISIT


def test_first_contact_with_a_referral_waiting_for_its_visit_is_recorded_once(
    app: Flask, officer: User
) -> None:
    version = make_ras_version(db.session)
    referral = make_referral(db.session, version, answers(hygiene="unable"))
    queue.triage(db.session, referral, now=NOW)
    assert queue.may_record_contact(referral)

    called = NOW + timedelta(hours=3)
    queue.record_first_contact(
        db.session, referral, by=officer, how="phone", note="Talked it through", now=called
    )

    assert referral.status is S.AWAITING_VISIT
    assert referral.first_contact_at == called
    assert not queue.may_record_contact(referral)
    with pytest.raises(queue.ReferralMoveRefused):
        queue.record_first_contact(db.session, referral, by=officer, how="phone", note="", now=NOW)
    contacts = [
        e for e in referral_lists.timeline(referral, for_person=False) if e.kind == "first_contact"
    ]
    assert len(contacts) == 1


def test_a_referral_with_a_visit_booked_is_assessed_by_the_visit_not_by_hand(
    app: Flask, officer: User
) -> None:
    from marketplace.referrals import visits
    from marketplace.referrals.models import VisitStatus
    from tests.referrals.factories import make_assessor, make_slots

    version = make_ras_version(db.session)
    referral = make_referral(db.session, version, answers(hygiene="unable"))
    queue.triage(db.session, referral, now=NOW)
    slot = make_slots(db.session, make_assessor(db.session, officer), NOW + timedelta(days=1))[0]
    visit = visits.book(db.session, referral, slot, by=officer, now=NOW)

    with pytest.raises(queue.ReferralError, match="record what happened at the visit"):
        queue.mark_assessed(db.session, referral, by=officer, note="", now=NOW)
    assert referral.status is S.VISIT_BOOKED

    after = slot.starts_at + timedelta(hours=2)
    visits.record_outcome(db.session, visit, outcome="done", by=officer, note="", now=after)
    assert visit.status is VisitStatus.DONE
    assert referral.status is S.ASSESSED
