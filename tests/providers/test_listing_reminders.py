"""A provider is reminded to confirm a listing before it is flagged stale: once per
confirmation, whoever runs the job how often, and never for a listing confirmed lately."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from providers import listings
from providers.models import (
    STALE_AFTER_DAYS,
    Organisation,
    OrganisationStatus,
    Service,
    ServiceStatus,
)
from providers.reminders import REMIND_DAYS_BEFORE, remind_before_stale

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
# Inside the reminder window: flagged stale in a week.
DUE = NOW - timedelta(days=STALE_AFTER_DAYS - 7)
TITLE_DAY = "8 September 2026"


def _confirmed(service: Service, at: datetime) -> Service:
    service.capacity_confirmed_at = at
    db.session.commit()
    return service


def _subjects(app: Flask, to: str) -> list[str]:
    return [m.subject for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == to]


def _run(now: datetime = NOW) -> list[Service]:
    reminded = remind_before_stale(db.session, now=now)
    db.session.commit()
    return reminded


@pytest.fixture
def staff(
    make_user: Callable[..., User], make_organisation: Callable[..., Organisation]
) -> list[User]:
    organisation = make_organisation("Chiltern Home Care")
    return [make_user(Role.PROVIDER_STAFF, organisation=organisation) for _ in range(2)]


def test_the_staff_are_reminded_once_before_the_listing_is_stale(
    app: Flask, staff: list[User], make_listing: Callable[..., Service]
) -> None:
    due = _confirmed(make_listing(staff[0].organisation, name="Morning calls"), DUE)
    title = f"Confirm Morning calls is up to date by {TITLE_DAY}"

    assert _run() == [due]
    assert not due.is_stale(NOW)
    for user in staff:
        assert _subjects(app, user.email) == [title]
        (notification,) = db.session.scalars(
            select(Notification).where(Notification.user_id == user.id)
        )
        assert notification.kind is NotificationKind.LISTING_STALE_SOON
        assert notification.link == f"/provider/services/{due.id}/capacity"

    # Run again, that day and the next: nothing more.
    assert _run() == []
    assert _run(NOW + timedelta(days=1)) == []
    for user in staff:
        assert _subjects(app, user.email) == [title]


def test_no_reminder_for_a_fresh_stale_unpublished_or_hidden_listing(
    app: Flask,
    staff: list[User],
    make_listing: Callable[..., Service],
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    organisation = staff[0].organisation
    # Due in REMIND_DAYS_BEFORE days and a minute: not yet.
    _confirmed(
        make_listing(organisation, name="Fresh"),
        NOW - timedelta(days=STALE_AFTER_DAYS - REMIND_DAYS_BEFORE, minutes=-1),
    )
    _confirmed(make_listing(organisation, name="Yesterday"), NOW - timedelta(days=1))
    _confirmed(make_listing(organisation, name="Already stale"), NOW - timedelta(days=100))
    _confirmed(make_listing(organisation, name="Draft", status=ServiceStatus.DRAFT), DUE)
    pending = make_organisation("Waiting Care", OrganisationStatus.PENDING)
    make_user(Role.PROVIDER_STAFF, organisation=pending)
    _confirmed(make_listing(pending, name="Not public"), DUE)

    assert _run() == []
    assert [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])] == []


def test_a_listing_confirmed_again_is_reminded_again_before_its_next_staleness(
    app: Flask, staff: list[User], make_listing: Callable[..., Service]
) -> None:
    service = _confirmed(make_listing(staff[0].organisation, name="Morning calls"), DUE)
    assert _run() == [service]

    listings.confirm_capacity(service, now=NOW)
    db.session.commit()
    assert _run(NOW + timedelta(days=30)) == [], "confirmed a month ago: fresh"
    later = NOW + timedelta(days=STALE_AFTER_DAYS - 3)
    assert _run(later) == [service]
    assert _run(later) == []
    assert len(_subjects(app, staff[0].email)) == 2


def test_the_daily_job_is_safe_to_run_twice(
    app: Flask, staff: list[User], make_listing: Callable[..., Service]
) -> None:
    now = datetime.now(UTC)
    _confirmed(make_listing(staff[0].organisation), now - timedelta(days=STALE_AFTER_DAYS - 2))
    runner = app.test_cli_runner()

    first = runner.invoke(args=["listings", "remind-stale"])
    second = runner.invoke(args=["listings", "remind-stale"])

    assert first.exit_code == 0, first.output
    assert "Reminded the providers of 1 listings" in first.output
    assert "Reminded the providers of 0 listings" in second.output
    assert len(_subjects(app, staff[0].email)) == 1
    refused = runner.invoke(args=["listings", "remind-stale", "--days-before", "0"])
    assert refused.exit_code != 0
