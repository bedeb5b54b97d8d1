"""Two people editing one self-assessment at the same moment (issue 20's fault), each in its
own thread, app context, session and connection as two requests are: both saves were drawn
from the same revision, so the database takes one and refuses the other (StaleAnswers), and
the answer kept is the one that was taken; two sends at once make one referral. On SQLite and,
under scripts/with-postgres.sh, PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.referrals import assessments
from marketplace.referrals.models import Indication, Referral, SelfAssessment
from tests.ledger.threads import engine_options
from tests.referrals.factories import NOW, answers, make_assessment, make_ras_version


def _at_once(app: Flask, step: Callable[[int], None], *refusals: type[Exception]) -> list[str]:
    barrier = threading.Barrier(2)

    def run(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                step(number)
                db.session.commit()
            except refusals:
                db.session.rollback()
                return "refused"
            except BaseException:
                db.session.rollback()
                raise
            return "saved"

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(run, range(2)))


def test_two_saves_of_one_revision_at_once_keep_one_and_refuse_the_other(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        assessment = make_assessment(db.session, make_ras_version(db.session), {"who": "family"})
        db.session.commit()
        assessment_id, seen = assessment.id, assessment.revision
    names = ["Sam Jones, daughter", "Chris Jones, son"]

    def save(number: int) -> None:
        found = db.session.get_one(SelfAssessment, assessment_id)
        assessments.save_answer(
            db.session, found, "who_name", names[number], revision_seen=seen, now=NOW
        )

    outcomes = _at_once(app, save, assessments.StaleAnswers)

    assert sorted(outcomes) == ["refused", "saved"]
    with app.app_context():
        kept = db.session.get_one(SelfAssessment, assessment_id)
        assert kept.answers["who_name"] == names[outcomes.index("saved")]
        assert kept.revision == seen + 1


def test_two_sends_at_once_make_one_referral(make_app: Callable[..., Flask]) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        assessment = make_assessment(
            db.session, make_ras_version(db.session), answers(urgency="soon")
        )
        db.session.commit()
        assessment_id, seen = assessment.id, assessment.revision

    def send(_number: int) -> None:
        found = db.session.get_one(SelfAssessment, assessment_id)
        assessments.submit(db.session, found, revision_seen=seen, now=NOW)

    outcomes = _at_once(app, send, assessments.StaleAnswers, assessments.AlreadySent)

    assert sorted(outcomes) == ["refused", "saved"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 1
        assert db.session.scalar(select(func.count()).select_from(Indication)) == 1
