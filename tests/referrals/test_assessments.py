"""The self-assessment's rules (issue 20, JOURNEY): starting, saving each kind of answer,
refusing bad answers and stale revisions, sending, and the come-back-later link."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people.models import Person
from marketplace.referrals import assessments
from marketplace.referrals import questions as q
from marketplace.referrals.models import (
    AssessmentStatus,
    CompletedBy,
    Indication,
    Referral,
    SelfAssessment,
)
from tests.referrals.factories import COMPLETE_ANSWERS, NOW, answers, make_ras_version


def _answer_all(assessment: SelfAssessment, given: dict[str, Any] = COMPLETE_ANSWERS) -> None:
    """Answer every asked question through the rules, in order, as the pages do."""
    while (question := q.next_unanswered(assessment.answers)) is not None:
        assessments.save_answer(
            db.session,
            assessment,
            question.key,
            given[question.key],
            revision_seen=assessment.revision,
            now=NOW,
        )


def test_start_keeps_the_current_version_and_refuses_without_one(app: Flask) -> None:
    with pytest.raises(assessments.NoRasVersion):
        assessments.start(db.session, by=None, now=NOW)
    make_ras_version(db.session)
    newest = make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    assert assessment.ras_version_id == newest.id
    assert assessment.status is AssessmentStatus.IN_PROGRESS
    assert assessment.revision == 0
    assert assessment.last_question == "who"
    make_ras_version(db.session)
    db.session.refresh(assessment)
    assert assessment.ras_version_id == newest.id


def test_saving_moves_the_revision_and_the_last_question(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    later = NOW + timedelta(minutes=3)
    assessments.save_answer(db.session, assessment, "who", "family", revision_seen=0, now=later)
    assert assessment.revision == 1
    assert assessment.updated_at == later
    assert assessment.last_question == "who_name"
    assert assessment.completed_by is CompletedBy.FAMILY
    assessments.save_answer(
        db.session, assessment, "who_name", "  Sam Jones, daughter ", revision_seen=1, now=later
    )
    assert assessment.completed_by_name == "Sam Jones, daughter"
    assert assessment.last_question == "full_name"
    assert [question.key for question in assessments.questions_to_ask(assessment)][:2] == [
        "full_name",
        "postcode",
    ]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("who", None, "Select who is filling in this form"),
        ("who", "neighbour", "Select who is filling in this form"),
        ("hygiene", "", "Select how much help is needed with maintaining personal hygiene"),
        ("full_name", "   ", "Enter the person's full name"),
        ("full_name", "x" * 201, "Name must be 200 characters or fewer"),
        ("postcode", "", "Enter a postcode"),
        ("postcode", "NOT A CODE", "Enter a real postcode, like SG1 1AA"),
        ("contact", {"email": "", "phone": ""}, "Enter an email address or a phone number"),
        ("contact", {"email": "alex.example.org", "phone": ""}, "correct format"),
        ("contact", {"email": "", "phone": "call me"}, "Enter a phone number"),
        ("conditions", ["dementia", "made_up"], "Choose only from the options given"),
        ("conditions", "dementia", "Choose only from the options given"),
        ("in_your_words", "y" * 1201, "What would help most must be 1200 characters or fewer"),
    ],
)
def test_a_bad_answer_is_refused_and_changes_nothing(
    app: Flask, key: str, value: Any, message: str
) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment)
    before = (dict(assessment.answers), assessment.revision, assessment.updated_at)
    with pytest.raises(assessments.AnswerRefused) as refused:
        assessments.save_answer(
            db.session,
            assessment,
            key,
            value,
            revision_seen=assessment.revision,
            now=NOW + timedelta(hours=1),
        )
    assert message in refused.value.message
    db.session.refresh(assessment)
    assert (assessment.answers, assessment.revision, assessment.updated_at) == before


def test_answers_are_stored_tidy(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment, answers(postcode="sg11aa", conditions=["physical", "dementia"]))
    assert assessment.answers["postcode"] == "SG1 1AA"
    # Checkboxes in the question's order, whatever order they came in.
    assert assessment.answers["conditions"] == ["dementia", "physical"]
    assert assessment.last_question == assessments.CHECK_ANSWERS
    assert assessments.problems(assessment.answers) == {}


def test_a_date_question_takes_a_real_date_only() -> None:
    question = q.Question("left_on", "When did they leave?", "date", short="Date left")
    assert assessments.clean_answer(question, "2026-02-28") == "2026-02-28"
    with pytest.raises(assessments.AnswerRefused, match="Date left must be a real date"):
        assessments.clean_answer(question, "2026-02-30")


def test_an_answer_that_stops_a_question_being_asked_drops_its_answer(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment, answers(who="family", who_name="Sam Jones, daughter"))
    assert assessment.completed_by_name == "Sam Jones, daughter"
    assessments.save_answer(
        db.session, assessment, "who", "person", revision_seen=assessment.revision, now=NOW
    )
    assert "who_name" not in assessment.answers
    assert assessment.completed_by is CompletedBy.PERSON
    assert assessment.completed_by_name is None
    # And one that makes a question asked leaves it to ask.
    assessments.save_answer(
        db.session, assessment, "carer_support", "none", revision_seen=assessment.revision, now=NOW
    )
    assert "carer_coping" not in assessment.answers
    assessments.save_answer(
        db.session, assessment, "carer_support", "daily", revision_seen=assessment.revision, now=NOW
    )
    assert [question.key for question in assessments.questions_to_ask(assessment)] == [
        "carer_coping"
    ]


def test_the_second_save_of_one_revision_is_refused_and_nothing_is_lost(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment)
    seen = assessment.revision
    assessments.save_answer(
        db.session, assessment, "hygiene", "unable", revision_seen=seen, now=NOW
    )
    with pytest.raises(assessments.StaleAnswers):
        assessments.save_answer(
            db.session, assessment, "hygiene", "none", revision_seen=seen, now=NOW
        )
    db.session.refresh(assessment)
    assert assessment.answers["hygiene"] == "unable"
    assert assessment.revision == seen + 1


def test_the_database_refuses_a_save_from_a_revision_it_no_longer_has(app: Flask) -> None:
    """The object in hand says revision N, but another request has already saved N: the
    UPDATE's WHERE finds no row, and nothing is written."""
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    db.session.commit()
    seen = assessment.revision
    db.session.execute(
        update(SelfAssessment)
        .where(SelfAssessment.id == assessment.id)
        .values(revision=seen + 1, answers={"who": "broker"})
    )
    with pytest.raises(assessments.StaleAnswers):
        assessments.save_answer(
            db.session, assessment, "who", "person", revision_seen=seen, now=NOW
        )
    db.session.refresh(assessment)
    assert assessment.answers == {"who": "broker"}


def test_who_answers_is_recorded_from_the_signed_in_account(
    app: Flask, make_user: Callable[..., User]
) -> None:
    make_ras_version(db.session)
    broker = make_user(Role.BROKER)
    assessment = assessments.start(db.session, by=broker, now=NOW)
    assessments.save_answer(db.session, assessment, "who", "broker", revision_seen=0, now=NOW)
    assert assessment.user_id == broker.id
    assert assessment.person_id is None

    citizen = make_user(Role.CITIZEN)
    person = Person(full_name="Alex Example")
    db.session.add(person)
    db.session.flush()
    citizen.person_id = person.id
    own = assessments.start(db.session, by=None, now=NOW)
    assessments.save_answer(db.session, own, "who", "person", revision_seen=0, now=NOW, by=citizen)
    assert own.user_id == citizen.id
    assert own.person_id == citizen.person_id
    assessments.save_answer(db.session, own, "who", "family", revision_seen=1, now=NOW, by=citizen)
    assert own.person_id is None


def test_submit_makes_the_indication_the_referral_and_tells_officers(
    app: Flask, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment)
    sent_at = NOW + timedelta(minutes=15)
    referral = assessments.submit(
        db.session, assessment, revision_seen=assessment.revision, now=sent_at
    )
    assert isinstance(referral, Referral)
    assert referral.assessment_id == assessment.id
    assert assessment.status is AssessmentStatus.SUBMITTED
    assert assessment.submitted_at == sent_at
    indication = db.session.scalars(
        select(Indication).where(Indication.assessment_id == assessment.id)
    ).one()
    assert indication.ras_version_id == assessment.ras_version_id
    told = db.session.scalars(select(Notification).where(Notification.user_id == officer.id)).all()
    assert [n.kind for n in told] == [NotificationKind.REFERRAL_RECEIVED]
    assert referral.reference in told[0].title
    # Sent: no answer changes, and it cannot be sent twice.
    with pytest.raises(assessments.AlreadySent):
        assessments.save_answer(
            db.session, assessment, "hygiene", "none", revision_seen=assessment.revision, now=NOW
        )
    with pytest.raises(assessments.AlreadySent):
        assessments.submit(db.session, assessment, revision_seen=assessment.revision, now=NOW)


def test_submit_refuses_a_stale_check_or_missing_answers(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    _answer_all(assessment, answers(carer_support="none", carer_coping=None))
    checked = assessment.revision
    assessments.save_answer(
        db.session, assessment, "carer_support", "most", revision_seen=checked, now=NOW
    )
    with pytest.raises(assessments.StaleAnswers):
        assessments.submit(db.session, assessment, revision_seen=checked, now=NOW)
    with pytest.raises(assessments.NotComplete) as not_complete:
        assessments.submit(db.session, assessment, revision_seen=assessment.revision, now=NOW)
    assert list(not_complete.value.problems) == ["carer_coping"]
    assert assessment.status is AssessmentStatus.IN_PROGRESS
    assert db.session.scalars(select(Referral)).all() == []


def test_the_resume_link_works_until_it_expires_or_is_replaced(app: Flask) -> None:
    make_ras_version(db.session)
    assessment = assessments.start(db.session, by=None, now=NOW)
    paths: list[str] = []

    def link_path(token: str) -> str:
        paths.append(token)
        return f"/self-assessment/resume/{token}"

    with pytest.raises(assessments.AnswerRefused):
        assessments.send_resume_link(
            db.session, assessment, email="not-an-email", now=NOW, link_path=link_path
        )
    expires = assessments.send_resume_link(
        db.session, assessment, email="sam@example.org", now=NOW, link_path=link_path
    )
    db.session.commit()
    first = paths[-1]
    assert expires == NOW + timedelta(days=app.config["FRONT_DOOR_RESUME_DAYS"])
    # Only the hash is kept; the token is in the email.
    assert assessment.resume_token_hash == hashlib.sha256(first.encode()).hexdigest()
    mail = [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == "sam@example.org"]
    assert first in mail[0].body
    assert assessments.follow_resume_link(db.session, first, now=NOW).id == assessment.id

    with pytest.raises(assessments.ResumeLinkRefused) as expired:
        assessments.follow_resume_link(db.session, first, now=expires)
    assert expired.value.reason == "expired"

    assessments.send_resume_link(
        db.session, assessment, email="sam@example.org", now=NOW, link_path=link_path
    )
    with pytest.raises(assessments.ResumeLinkRefused) as replaced:
        assessments.follow_resume_link(db.session, first, now=NOW)
    assert replaced.value.reason == "unknown"
    assert assessments.follow_resume_link(db.session, paths[-1], now=NOW).id == assessment.id

    _answer_all(assessment)
    assessments.submit(db.session, assessment, revision_seen=assessment.revision, now=NOW)
    with pytest.raises(assessments.ResumeLinkRefused) as sent:
        assessments.follow_resume_link(db.session, paths[-1], now=NOW)
    assert sent.value.reason == "sent"


def test_the_demo_seed_leaves_assessments_stopped_at_their_questions(app: Flask) -> None:
    from marketplace.demo.front_door_assessments import seed_assessments

    assert seed_assessments(db.session).tallies[0].created == []  # no version yet: nothing
    make_ras_version(db.session)
    assert len(seed_assessments(db.session).tallies[0].created) == 3
    again = seed_assessments(db.session).tallies[0]
    assert (again.created, again.existing) == ([], 3)
    stopped = {
        row.answers["full_name"]: row.last_question for row in db.session.query(SelfAssessment)
    }
    assert stopped == {
        "Peter Lawson": "toileting",
        "Doreen Mills": "hygiene",
        "Kwame Asante": "savings",
    }
