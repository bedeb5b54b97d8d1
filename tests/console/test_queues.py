"""The council's work queues (issue 19, QUEUES): every queue lists what waits in it, oldest
first, and nothing decided; each decision from a queue's page is logged (who, when, why, how
long it waited) with the applicant told, and a refusal needs its reason; the overview and
the dashboard give each queue's count and oldest wait; CSV of both tabs.

The clock is Monday 6 July 2026 (London), after the orders' first four weeks."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.console import queues, review_dates
from marketplace.console.models import QueueDecision
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders.models import OrderStatus
from marketplace.payments.mismatches import MismatchKind, PaymentMismatch
from marketplace.people import plans
from marketplace.people.models import PlanStatus, SupportPlan
from providers import listing_reports, listings
from providers.models import (
    ListingReport,
    ListingReportStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    ServiceStatus,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.conftest import sign_in
from tests.council.test_decisions import _draft, _invoiced, _outside_plan
from tests.orders.fixtures import AFTER_THE_SCHEDULE, World
from tests.test_statements_per_page import counting

NOW = AFTER_THE_SCHEDULE
TODAY = NOW.date()


def _labels(session: Session, name: str) -> list[str]:
    return [item.label for item in queues.items(session, queues.QUEUES[name], TODAY)]


def _report(
    session: Session, world: World, *, reporter: User | None = None, email: str = ""
) -> ListingReport:
    report = listing_reports.report_listing(
        session,
        world.service,
        reason="closed",
        details="The phone number is dead and the office is empty.",
        reporter=reporter,
        reporter_email=email,
    )
    session.commit()
    return report


def _overdue_plan(session: Session, world: World, *, due: date) -> SupportPlan:
    plan = plans.approved_plan(session, world.person)
    assert plan is not None
    plan.review_due_on = due
    session.commit()
    return plan


def _mismatch(session: Session, *, resolved: bool, key: str) -> PaymentMismatch:
    mismatch = PaymentMismatch(
        key=key,
        kind=MismatchKind.AMOUNTS_DIFFER,
        detail=f"Stripe has 10.00, we have 9.00 ({key})",
        found_at=NOW - timedelta(days=2),
        resolved_at=NOW if resolved else None,
    )
    session.add(mismatch)
    session.commit()
    return mismatch


def _officer_client(app: Flask, officer: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, officer)
    return client


def _decisions(session: Session, queue: str) -> list[QueueDecision]:
    return list(
        session.scalars(
            select(QueueDecision)
            .where(QueueDecision.queue == queue)
            .order_by(QueueDecision.decided_at)
        )
    )


# What each queue lists ---------------------------------------------------------------------


@pytest.mark.usefixtures("after_the_schedule")
def test_each_queue_lists_what_waits_oldest_first_and_nothing_decided(
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    older = make_organisation("Older Pending Care", OrganisationStatus.PENDING)
    older.created_at = NOW - timedelta(days=9)
    newer = make_organisation("Newer Pending Care", OrganisationStatus.PENDING)
    newer.created_at = NOW - timedelta(days=1)
    make_organisation("Approved Care", OrganisationStatus.APPROVED)
    make_organisation("Rejected Care", OrganisationStatus.REJECTED)
    brokerage = make_organisation("Pending Brokers", OrganisationStatus.PENDING)
    brokerage.kind = OrganisationKind.BROKERAGE
    session.commit()
    open_report = _report(session, world)
    dismissed = _report(session, world)
    dismissed.status = ListingReportStatus.DISMISSED
    newcomer = make_user(Role.CITIZEN)
    assert newcomer.person is not None
    newcomer.person.full_name = "Nell Newcomer"
    _draft(session, newcomer.person, newcomer)
    _invoiced(session, world, "ready", queried=False)
    held = _invoiced(session, world, "held", queried=True)
    outside = _outside_plan(session, world)
    _mismatch(session, resolved=False, key="open")
    _mismatch(session, resolved=True, key="done")
    _overdue_plan(session, world, due=TODAY - timedelta(days=3))
    session.commit()

    assert _labels(session, "providers") == ["Older Pending Care", "Newer Pending Care"]
    assert _labels(session, "brokerages") == ["Pending Brokers"]
    assert [
        i.subject_id for i in queues.items(session, queues.QUEUES["listing_reports"], TODAY)
    ] == [open_report.id]
    assert _labels(session, "support_plans") == ["Nell Newcomer"]
    assert _labels(session, "orders") == [outside.reference]
    assert _labels(session, "invoices") == [held.invoices[0].reference]
    (queried,) = queues.items(session, queues.QUEUES["invoices"], TODAY)
    assert queried.link_id == held.id  # its order's page, where the query is
    assert [
        i.detail for i in queues.items(session, queues.QUEUES["payment_mismatches"], TODAY)
    ] == ["Stripe has 10.00, we have 9.00 (open)"]
    assert _labels(session, "reviews_due") == [world.person.full_name]
    assert _labels(session, "variations") == []
    assert _labels(session, "reviews") == []
    # Each item waits from when it entered the queue.
    (provider_wait, _) = queues.items(session, queues.QUEUES["providers"], TODAY)
    assert provider_wait.waiting_since == NOW - timedelta(days=9)
    (review_due,) = queues.items(session, queues.QUEUES["reviews_due"], TODAY)
    assert review_due.waiting_since == datetime(2026, 7, 3, tzinfo=UTC)
    # The overview's counts and oldest waits are read from the same rows.
    summary = {s.queue.name: s for s in queues.summaries(session, TODAY)}
    assert summary["providers"].count == 2
    assert summary["providers"].oldest_since == NOW - timedelta(days=9)
    assert summary["variations"].count == 0
    assert summary["variations"].oldest_since is None
    for name, queue in queues.QUEUES.items():
        assert (
            summary[name].count
            == queues.count(session, queue, TODAY)
            == len(queues.all_items(session, queue, TODAY))
        )


@pytest.mark.usefixtures("after_the_schedule")
def test_a_plan_due_today_or_later_is_not_overdue_and_a_superseded_one_never(
    session: Session, world: World
) -> None:
    plan = _overdue_plan(session, world, due=TODAY)
    assert _labels(session, "reviews_due") == []
    plan.review_due_on = TODAY - timedelta(days=1)
    plan.status = PlanStatus.SUPERSEDED
    plan.superseded_at = NOW
    session.commit()
    assert _labels(session, "reviews_due") == []


def test_a_review_falls_due_the_same_day_months_later_or_the_months_last_day() -> None:
    assert plans.review_due_after(date(2026, 7, 6), 12) == date(2027, 7, 6)
    assert plans.review_due_after(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert plans.review_due_after(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert plans.review_due_after(date(2026, 11, 30), 3) == date(2027, 2, 28)


# The pages ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("after_the_schedule")
def test_the_overview_and_dashboard_show_each_queue_with_its_count_and_oldest_wait(
    app: Flask, session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    pending = make_organisation("Waiting Care", OrganisationStatus.PENDING)
    pending.created_at = NOW - timedelta(days=5)
    session.commit()
    council = _officer_client(app, world.officer)
    for path in ("/council/queues", "/council/"):
        page = council.get(path).get_data(as_text=True)
        row = re.search(
            r'href="/council/queues/providers">Providers awaiting approval</a></th>\s*'
            r"<td[^>]*>(\d+)</td>\s*<td[^>]*>([^<]+)</td>",
            page,
        )
        assert row is not None, path
        assert row.groups() == ("1", "5 days")
    assert 'href="/council/queues"' in council.get("/council/").get_data(as_text=True)


@pytest.mark.usefixtures("after_the_schedule")
def test_a_queue_page_lists_its_items_with_their_wait_and_links_to_decide_each(
    app: Flask, session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    pending = make_organisation("Waiting Care", OrganisationStatus.PENDING)
    pending.created_at = NOW - timedelta(hours=5)
    session.commit()
    council = _officer_client(app, world.officer)
    page = council.get("/council/queues/providers").get_data(as_text=True)
    assert f'href="/council/providers/{pending.id}">Waiting Care' in page
    assert "5 hours" in page
    waiting = list(
        csv.reader(
            io.StringIO(council.get("/council/queues/providers/waiting.csv").get_data(as_text=True))
        )
    )
    assert waiting[0][:4] == [
        "Providers awaiting approval",
        "CQC provider ID",
        "Waiting since",
        "Hours waited",
    ]
    assert waiting[1][0] == "Waiting Care"
    assert waiting[1][3] == "5"
    assert council.get("/council/queues/nonsense").status_code == 404


# Decisions from the existing pages are logged ---------------------------------------------


@pytest.mark.usefixtures("after_the_schedule")
def test_approving_and_rejecting_registrations_is_logged_with_the_wait_and_the_staff_told(
    app: Flask,
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    provider = make_organisation("Waiting Care", OrganisationStatus.PENDING)
    provider.created_at = NOW - timedelta(days=3)
    brokerage = make_organisation("Waiting Brokers", OrganisationStatus.PENDING)
    brokerage.kind = OrganisationKind.BROKERAGE
    brokerage.created_at = NOW - timedelta(days=1)
    session.commit()
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    council = _officer_client(app, world.officer)

    refused = council.post(f"/council/providers/{brokerage.id}", data={"decision": "rejected"})
    assert refused.status_code == 400
    assert "govuk-error-summary" in refused.get_data(as_text=True)
    assert _decisions(session, "brokerages") == []

    assert (
        council.post(f"/council/providers/{provider.id}", data={"decision": "approved"}).status_code
        == 302
    )
    assert (
        council.post(
            f"/council/providers/{brokerage.id}",
            data={"decision": "rejected", "reason": "No safeguarding policy"},
        ).status_code
        == 302
    )
    (approved,) = _decisions(session, "providers")
    assert (approved.subject_id, approved.decision, approved.decided_by_id) == (
        provider.id,
        "approved",
        world.officer.id,
    )
    assert approved.waiting_since == NOW - timedelta(days=3)
    assert int(queues.waited(approved) // 3600) == 72
    assert "1" in approved.told
    (rejected,) = _decisions(session, "brokerages")
    assert (rejected.decision, rejected.reason) == ("rejected", "No safeguarding policy")
    assert any(m.to == staff.email for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]))
    decided = council.get("/council/queues/brokerages?tab=decided").get_data(as_text=True)
    assert "No safeguarding policy" in decided
    assert "24 hours" in decided
    rows = list(
        csv.reader(
            io.StringIO(
                council.get("/council/queues/brokerages/decided.csv").get_data(as_text=True)
            )
        )
    )
    assert rows[1][:3] == ["Waiting Brokers", "rejected", "No safeguarding policy"]
    assert rows[1][6] == "24"


@pytest.mark.usefixtures("after_the_schedule")
def test_approving_a_plan_sets_its_review_date_logs_it_and_emails_the_person(
    app: Flask, session: Session, world: World
) -> None:
    app.config["PLAN_REVIEW_MONTHS"] = 6
    _draft(session, world.person, world.citizen)
    draft = plans.draft_of(session, world.person)
    assert draft is not None
    council = _officer_client(app, world.officer)
    answer = council.post(
        f"/council/people/{world.person.id}/plan/approve",
        data={"plan_id": str(draft.id), "drafted_at": draft.drafted_at.isoformat()},
    )
    assert answer.status_code == 302
    session.expire_all()
    approved = session.get(SupportPlan, draft.id)
    assert approved is not None
    assert approved.status is PlanStatus.APPROVED
    assert approved.review_due_on == date(2027, 1, 6)
    (logged,) = _decisions(session, "support_plans")
    assert (logged.subject_id, logged.decision, logged.waiting_since) == (
        draft.id,
        "approved",
        draft.drafted_at,
    )
    assert logged.told == "person (email, 1)"
    mail = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == world.citizen.email
    ]
    assert any("6 January 2027" in m.body for m in mail)


@pytest.mark.usefixtures("after_the_schedule")
def test_approving_and_refusing_orders_outside_a_plan_is_logged_and_a_refusal_needs_a_reason(
    app: Flask, session: Session, world: World
) -> None:
    outside = _outside_plan(session, world)
    council = _officer_client(app, world.officer)
    empty = council.post(f"/council/orders/{outside.id}/refuse", data={"refuse-reason": ""})
    assert empty.status_code == 400
    assert "govuk-error-summary" in empty.get_data(as_text=True)
    assert _decisions(session, "orders") == []
    refused = council.post(
        f"/council/orders/{outside.id}/refuse", data={"refuse-reason": "Not eligible"}
    )
    assert refused.status_code == 302
    (logged,) = _decisions(session, "orders")
    assert (logged.decision, logged.reason, logged.waiting_since) == (
        "refused",
        "Not eligible",
        outside.placed_at,
    )
    session.expire_all()
    assert outside.status is OrderStatus.CANCELLED
    told = session.scalars(
        select(Notification).where(Notification.user_id == world.citizen.id)
    ).all()
    assert any("not approved" in n.title for n in told)


@pytest.mark.usefixtures("after_the_schedule")
def test_resolving_a_mismatch_is_logged(app: Flask, session: Session, world: World) -> None:
    mismatch = _mismatch(session, resolved=False, key="open")
    council = _officer_client(app, world.officer)
    empty = council.post(f"/council/payments/mismatches/{mismatch.id}", data={"reason": ""})
    assert empty.status_code == 400
    assert _decisions(session, "payment_mismatches") == []
    done = council.post(
        f"/council/payments/mismatches/{mismatch.id}", data={"reason": "Refunded at Stripe"}
    )
    assert done.status_code == 302
    (logged,) = _decisions(session, "payment_mismatches")
    assert (logged.decision, logged.reason) == ("resolved", "Refunded at Stripe")
    assert logged.waiting_since == NOW - timedelta(days=2)


# Listing reports -------------------------------------------------------------------------


@pytest.mark.usefixtures("after_the_schedule")
def test_upholding_a_report_can_unpublish_the_listing_and_tells_provider_and_reporter(
    app: Flask, session: Session, world: World, make_user: Callable[..., User]
) -> None:
    reporter = make_user(Role.CITIZEN)
    report = _report(session, world, reporter=reporter)
    officers_told = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.LISTING_REPORTED)
    ).all()
    assert [n.user_id for n in officers_told] == [world.officer.id]
    council = _officer_client(app, world.officer)
    page = council.get(f"/council/listing-reports/{report.id}").get_data(as_text=True)
    assert "The phone number is dead" in page

    no_reason = council.post(
        f"/council/listing-reports/{report.id}", data={"decision": "upheld_and_hidden"}
    )
    assert no_reason.status_code == 400
    assert "govuk-error-summary" in no_reason.get_data(as_text=True)
    assert _decisions(session, "listing_reports") == []

    done = council.post(
        f"/council/listing-reports/{report.id}",
        data={"decision": "upheld_and_hidden", "reason": "Confirm you still trade"},
    )
    assert done.status_code == 302
    session.expire_all()
    assert report.status is ListingReportStatus.UPHELD
    assert world.service.status is ServiceStatus.DRAFT
    (logged,) = _decisions(session, "listing_reports")
    assert (logged.decision, logged.reason, logged.waiting_since) == (
        "upheld_and_hidden",
        "Confirm you still trade",
        report.reported_at,
    )
    assert logged.told == "provider (1), reporter (inbox)"
    staff_told = session.scalars(
        select(Notification).where(
            Notification.user_id == world.staff.id,
            Notification.kind == NotificationKind.LISTING_REPORT_DECIDED,
        )
    ).one()
    assert "Confirm you still trade" in staff_told.body
    assert staff_told.link == f"/provider/services/{world.service.id}"
    reporter_told = session.scalars(
        select(Notification).where(Notification.user_id == reporter.id)
    ).one()
    assert "asked the provider to correct it" in reporter_told.title
    again = council.post(
        f"/council/listing-reports/{report.id}", data={"decision": "dismissed", "reason": "x"}
    )
    assert again.status_code == 409
    assert "already upheld" in again.get_data(as_text=True)
    assert len(_decisions(session, "listing_reports")) == 1


@pytest.mark.usefixtures("after_the_schedule")
def test_dismissing_a_report_emails_a_reporter_who_was_not_signed_in(
    app: Flask, session: Session, world: World
) -> None:
    report = _report(session, world, email="walker@example.org")
    council = _officer_client(app, world.officer)
    done = council.post(
        f"/council/listing-reports/{report.id}",
        data={"decision": "dismissed", "reason": "They answered when we rang"},
    )
    assert done.status_code == 302
    session.expire_all()
    assert report.status is ListingReportStatus.DISMISSED
    assert world.service.status is ServiceStatus.PUBLISHED
    mail = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == "walker@example.org"
    ]
    assert len(mail) == 1
    assert "They answered when we rang" in mail[0].body
    assert _decisions(session, "listing_reports")[0].told == "reporter (email)"


# Overdue reviews -------------------------------------------------------------------------


@pytest.mark.usefixtures("after_the_schedule")
def test_an_overdue_review_booked_leaves_the_queue_until_its_day_and_reviewed_moves_a_year(
    app: Flask, session: Session, world: World
) -> None:
    plan = _overdue_plan(session, world, due=TODAY - timedelta(days=10))
    council = _officer_client(app, world.officer)
    page = council.get("/council/queues/reviews_due").get_data(as_text=True)
    assert f'href="/council/plan-reviews/{plan.id}"' in page
    form = council.get(f"/council/plan-reviews/{plan.id}").get_data(as_text=True)
    seen = re.search(r'name="seen_due_on" type="hidden" value="([^"]+)"', form)
    assert seen is not None
    assert seen.group(1) == "2026-06-26"

    no_date = council.post(
        f"/council/plan-reviews/{plan.id}",
        data={"decision": "review_booked", "seen_due_on": "2026-06-26"},
    )
    assert no_date.status_code == 400
    assert "Enter the date the review is booked for" in no_date.get_data(as_text=True)
    too_far = council.post(
        f"/council/plan-reviews/{plan.id}",
        data={
            "decision": "review_booked",
            "seen_due_on": "2026-06-26",
            "booked_for": ["1", "1", "2027"],
        },
    )
    assert too_far.status_code == 400
    assert _decisions(session, "reviews_due") == []

    booked = council.post(
        f"/council/plan-reviews/{plan.id}",
        data={
            "decision": "review_booked",
            "seen_due_on": "2026-06-26",
            "booked_for": ["20", "7", "2026"],
        },
    )
    assert booked.status_code == 302
    session.expire_all()
    assert plan.review_due_on == date(2026, 7, 20)
    assert _labels(session, "reviews_due") == []
    (logged,) = _decisions(session, "reviews_due")
    assert logged.decision == "review_booked"
    assert logged.waiting_since == datetime(2026, 6, 26, tzinfo=UTC)
    assert logged.told == "person (email, 1)"

    plan.review_due_on = TODAY - timedelta(days=1)
    session.commit()
    review_dates.record_review(
        session,
        plan,
        by=world.officer,
        decision=review_dates.REVIEWED,
        note="",
        today=TODAY,
        review_months=12,
    )
    session.commit()
    assert plan.review_due_on == date(2027, 7, 6)


# Listing reports from the public ------------------------------------------------------------


def test_the_service_page_links_to_the_report_form(client: FlaskClient, world: World) -> None:
    page = client.get(f"/services/{world.service.id}").get_data(as_text=True)
    assert page.count(f'href="/services/{world.service.id}/report"') == 1


@pytest.mark.parametrize(
    ("form", "errors"),
    [
        ({}, ["Select what is wrong with this listing", "Enter what is wrong"]),
        ({"reason": "bogus", "details": "x"}, ["Not a valid choice"]),
        ({"reason": "closed", "details": "x" * 1201}, ["1200 characters or fewer"]),
        (
            {"reason": "closed", "details": "Shut", "email": "not-an-email"},
            ["Enter an email address in the correct format"],
        ),
    ],
)
def test_a_bad_report_shows_the_error_summary_and_saves_nothing(
    client: FlaskClient, session: Session, world: World, form: dict[str, str], errors: list[str]
) -> None:
    answer = client.post(f"/services/{world.service.id}/report", data=form)
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</div>", 2)[0]
    for error in errors:
        assert error in summary
    assert session.scalars(select(ListingReport)).all() == []


def test_anyone_may_report_a_listing_and_the_council_is_told(
    client: FlaskClient, session: Session, world: World
) -> None:
    answer = client.post(
        f"/services/{world.service.id}/report",
        data={"reason": "unsafe", "details": "Carers arrived drunk", "email": "a@example.org"},
    )
    assert answer.status_code == 302
    sent = client.get(answer.location).get_data(as_text=True)
    assert "Report sent" in sent
    assert "We will tell you" in sent
    report = session.scalars(select(ListingReport)).one()
    assert (report.reason, report.reporter_email, report.reported_by_id) == (
        "unsafe",
        "a@example.org",
        None,
    )
    assert session.scalars(
        select(Notification).where(Notification.user_id == world.officer.id)
    ).all()


def test_a_listing_not_shown_to_the_public_cannot_be_reported(
    client: FlaskClient, session: Session, world: World
) -> None:
    world.service.status = ServiceStatus.DRAFT
    session.commit()
    assert client.get(f"/services/{world.service.id}/report").status_code == 404


def test_reports_are_rate_limited_per_address(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_ENABLED=True, LISTING_REPORT_RATE_LIMIT="2 per minute")
    with app.app_context():
        ensure_taxonomy()
        ensure_localities()
        organisation = Organisation(name="Limited Care", status=OrganisationStatus.APPROVED)
        db.session.add(organisation)
        db.session.flush()
        service = listings.create_listing(
            organisation,
            listings.ListingDetails(
                name="Day centre",
                description="Lunch and company.",
                category_codes=["personal-care"],
                price_pence=1500,
                price_unit=PriceUnit.PER_DAY,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        db.session.commit()
        path = f"/services/{service.id}/report"
    client = app.test_client()
    data = {"reason": "closed", "details": "Shut"}
    answers = [client.post(path, data=data).status_code for _ in range(3)]
    assert answers == [302, 302, 429]


def test_people_are_not_asked_for_an_email_once_signed_in(
    client: FlaskClient, world: World, session: Session
) -> None:
    sign_in(client, world.citizen)
    page = client.get(f"/services/{world.service.id}/report").get_data(as_text=True)
    assert 'name="email"' not in page
    assert (
        client.post(
            f"/services/{world.service.id}/report",
            data={"reason": "wrong_details", "details": "Price is wrong", "email": "x@example.org"},
        ).status_code
        == 302
    )
    report = session.scalars(select(ListingReport)).one()
    assert (report.reported_by_id, report.reporter_email) == (world.citizen.id, "")


def _statements(app: Flask, client: FlaskClient, path: str) -> int:
    client.get(path)
    with counting(app) as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.usefixtures("after_the_schedule")
def test_the_queue_pages_read_the_same_statements_however_many_items_wait(
    app: Flask, session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    council = _officer_client(app, world.officer)
    paths = (
        "/council/",
        "/council/queues",
        "/council/queues/listing_reports",
        "/council/queues/listing_reports?tab=decided",
    )

    def decide_one() -> None:
        report = _report(session, world)
        listing_reports.decide_report(
            session, report, by=world.officer, decision=listing_reports.DISMISS, reason="Fine"
        )
        session.commit()

    _report(session, world)
    make_organisation("One Pending", OrganisationStatus.PENDING)
    decide_one()
    session.commit()
    before = [_statements(app, council, path) for path in paths]
    for number in range(3):
        _report(session, world)
        make_organisation(f"Pending {number}", OrganisationStatus.PENDING)
        decide_one()
    session.commit()
    assert [_statements(app, council, path) for path in paths] == before
