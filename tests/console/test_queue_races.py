"""Two officers deciding the same work-queue item at the same moment (issue 19, QUEUES): each
in its own thread, app context, session and connection; one decision is made and logged, and
the second officer is refused in words. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.console import review_dates
from marketplace.console.models import QueueDecision
from marketplace.extensions import db
from marketplace.people.models import Person, PlanStatus, SupportPlan
from providers import listing_reports, listings
from providers.models import (
    ListingReport,
    ListingReportStatus,
    Organisation,
    OrganisationStatus,
    PriceUnit,
    ServiceStatus,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.conftest import PASSWORD, sign_in
from tests.ledger.threads import engine_options

TODAY = date(2026, 7, 6)


def _officers(count: int) -> list[User]:
    officers = [
        accounts.create_user(
            email=f"officer{number}@example.org",
            full_name=f"Officer {number}",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        for number in range(count)
    ]
    db.session.commit()
    return officers


def _together(count: int, attempt: Callable[[int], str]) -> list[str]:
    barrier = threading.Barrier(count)

    def run(number: int) -> str:
        barrier.wait(timeout=30)
        return attempt(number)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(run, range(count)))


def test_two_officers_deciding_one_report_at_once_decide_it_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        ensure_taxonomy()
        ensure_localities()
        organisation = Organisation(name="Raced Care", status=OrganisationStatus.APPROVED)
        db.session.add(organisation)
        db.session.flush()
        service = listings.create_listing(
            organisation,
            listings.ListingDetails(
                name="Visits",
                description="Help at home.",
                category_codes=["personal-care"],
                price_pence=2000,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        report = listing_reports.report_listing(
            db.session,
            service,
            reason="closed",
            details="Shut",
            reporter=None,
            reporter_email="a@example.org",
        )
        officer_ids = [officer.id for officer in _officers(2)]
        report_id = report.id

    def decide(number: int) -> str:
        with app.app_context():
            try:
                listing_reports.decide_report(
                    db.session,
                    db.session.get_one(ListingReport, report_id),
                    by=db.session.get_one(User, officer_ids[number]),
                    decision=listing_reports.DISMISS if number else listing_reports.UPHOLD,
                    reason=f"Officer {number} decided",
                )
                db.session.commit()
            except listing_reports.ReportAlreadyDecided as refused:
                db.session.rollback()
                return "refused" if "already" in str(refused) else str(refused)
            except BaseException:
                db.session.rollback()
                raise
            return "decided"

    assert _together(2, decide) == ["decided", "refused"]
    with app.app_context():
        (logged,) = db.session.scalars(select(QueueDecision)).all()
        decided = db.session.get_one(ListingReport, report_id)
        assert decided.status is not ListingReportStatus.OPEN
        assert decided.decision_reason == logged.reason
        assert logged.decided_by_id == decided.decided_by_id


def test_two_officers_approving_one_provider_at_once_approve_it_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        organisation = Organisation(name="Raced Care", status=OrganisationStatus.PENDING)
        db.session.add(organisation)
        db.session.commit()
        organisation_id = organisation.id
        officers = _officers(2)
        clients = []
        for officer in officers:
            client = app.test_client()
            sign_in(client, officer)
            clients.append(client)

    def approve(number: int) -> str:
        answer = clients[number].post(
            f"/council/providers/{organisation_id}", data={"decision": "approved"}
        )
        if answer.status_code == 302:
            return "decided"
        assert answer.status_code == 400
        assert "Another officer has just made Raced Care approved" in answer.get_data(as_text=True)
        return "refused"

    assert _together(2, approve) == ["decided", "refused"]
    with app.app_context():
        (logged,) = db.session.scalars(select(QueueDecision)).all()
        assert (logged.queue, logged.decision) == ("providers", "approved")
        changes = db.session.get_one(Organisation, organisation_id)
        assert changes.status is OrganisationStatus.APPROVED


def test_two_officers_recording_one_overdue_review_at_once_record_it_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    with app.app_context():
        officer_ids = [officer.id for officer in _officers(2)]
        person = Person(full_name="Ada Raced")
        db.session.add(person)
        db.session.flush()
        plan = SupportPlan(
            person_id=person.id,
            status=PlanStatus.APPROVED,
            outcomes="Stay at home.",
            drafted_by_id=officer_ids[0],
            approved_by_id=officer_ids[0],
            approved_at=datetime(2025, 7, 1, tzinfo=UTC),
            review_due_on=TODAY - timedelta(days=5),
        )
        db.session.add(plan)
        db.session.commit()
        plan_id = plan.id

    def record(number: int) -> str:
        with app.app_context():
            try:
                review_dates.record_review(
                    db.session,
                    db.session.get_one(SupportPlan, plan_id),
                    by=db.session.get_one(User, officer_ids[number]),
                    decision=review_dates.REVIEWED if number else review_dates.BOOKED,
                    note="",
                    today=TODAY,
                    review_months=12,
                    booked_for=TODAY + timedelta(days=7),
                    seen_due_on=TODAY - timedelta(days=5),
                )
                db.session.commit()
            except review_dates.ReviewAlreadyRecorded:
                db.session.rollback()
                return "refused"
            except BaseException:
                db.session.rollback()
                raise
            return "decided"

    assert _together(2, record) == ["decided", "refused"]
    with app.app_context():
        (logged,) = db.session.scalars(select(QueueDecision)).all()
        plan = db.session.get_one(SupportPlan, plan_id)
        expected = TODAY + timedelta(days=7) if logged.decision == "review_booked" else None
        assert plan.review_due_on == (expected or date(2027, 7, 6))
