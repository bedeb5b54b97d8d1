"""Retention (`marketplace/retention.py`, `flask retention run`): each kind of record is kept
inside its period and deleted or anonymised after it, nothing else is touched, the ledger is
never deleted and still verifies, a dry run changes nothing and a second run does nothing more.

The world: Margaret (tests/orders/fixtures.py) had one order delivered, invoiced and paid and
one declined, and her budget was then closed; Aled has a budget still open.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import retention
from marketplace.accounts import sessions
from marketplace.accounts.models import PasswordResetToken, SignInSession, SignUpRequest, User
from marketplace.accounts.passwords import verify_password
from marketplace.api.idempotency import IdempotencyRecord
from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget, revise_stream
from marketplace.budgets.closing import close_period, preview_close
from marketplace.budgets.models import (
    FunderKind,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
    StreamRevision,
)
from marketplace.config import ConfigurationError, load_config
from marketplace.extensions import db
from marketplace.ledger.models import LedgerAccount, Transfer
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import (
    Delivery,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from marketplace.people.models import Person, PersonDetailsChange, SupportPlan
from marketplace.retention import REMOVED_TEXT, RetentionPolicy, years_before
from marketplace.types import utcnow
from providers.models import OrganisationStatusChange, StaffInvitation
from providers.registration import ProviderRegistration
from providers.search_log import SearchLogEntry
from tests.conftest import PASSWORD, sign_in
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import OCCASIONS, TODAY, World, assert_ledger_verifies

NOTE = "Missed: she was in hospital with a fall"
DECLINED_BECAUSE = "Margaret's road is outside our area"


@dataclass
class Finished:
    """Margaret's world after her budget closed, and the moment it closed."""

    world: World
    paid: Order
    declined: Order
    closed_at: datetime

    def policy(self, app: Flask) -> RetentionPolicy:
        return RetentionPolicy.from_config(app.config)

    def anonymised_from(self, app: Flask) -> datetime:
        """The first moment her details are past the retention period."""
        years = app.config["RETENTION_CLOSED_BUDGET_YEARS"]
        return self.closed_at.replace(year=self.closed_at.year + years) + timedelta(seconds=1)


@pytest.fixture
def finished(session: Session, world: World) -> Finished:
    person = world.person
    person.preferred_name = "Maggie"
    person.date_of_birth = date(1941, 3, 2)
    person.email = "margaret@example.org"
    person.phone = "01438 555 123"
    person.case_reference = "HCC-000123"
    person.address_line_1 = "4 Orchard Way"
    person.town = "Stevenage"
    person.postcode = "SG1 2AB"
    person.communication_needs = "Hard of hearing: text first"
    person.key_safe_code = "4412"
    person.access_notes = "Side gate, then the back door"
    session.add(PersonDetailsChange(person_id=person.id, fields=["key_safe_code"]))

    paid = checkout.place_order(
        session, person, world.service, world.schedule(), by=world.citizen, today=TODAY,
        placement_key="paid",
    )  # fmt: skip
    life.accept(session, paid, by=world.staff)
    for day in OCCASIONS:
        deliveries.record_delivery(
            session, paid, by=world.staff, delivered_on=day, units=2 if day != OCCASIONS[-1] else 0,
            note=NOTE if day == OCCASIONS[-1] else "", today=date(2026, 7, 6),
        )  # fmt: skip
    invoice = invoicing.raise_invoice(
        session, paid, paid.cycles[0], by=world.staff, today=date(2026, 7, 6)
    )
    invoicing.settle_invoice(session, invoice, by=world.officer)
    declined = checkout.place_order(
        session, person, world.service, world.schedule(weeks=None), by=world.citizen,
        today=TODAY, placement_key="declined",
    )  # fmt: skip
    life.decline(session, declined, by=world.staff, reason=DECLINED_BECAUSE)
    session.add(
        Notification(user_id=world.citizen.id, kind=NotificationKind.INVOICE_SETTLED, title="Paid")
    )
    budget = world.budget
    revise_stream(
        session, budget.streams[-1], amount_pence=budget.streams[-1].amount_pence + 10_00,
        reason="More help after her fall", key="revise",
    )  # fmt: skip
    close_period(
        session, budget, expected_unspent_pence=preview_close(session, budget).unspent_pence
    )
    session.commit()
    assert paid.status is OrderStatus.COMPLETED
    assert declined.status is OrderStatus.DECLINED
    assert budget.closed_at is not None
    return Finished(world, paid, declined, budget.closed_at)


@pytest.fixture
def aled(session: Session, make_budget, make_user) -> Person:  # type: ignore[no-untyped-def]
    """Another person whose budget is open (made as Margaret's is, so it starts the same day)."""
    other = Person(full_name="Aled Hughes", email="aled@example.org", key_safe_code="9090")
    session.add(other)
    session.flush()
    budget = make_budget(council=500_00)
    budget.person_id = other.id
    session.commit()
    return other


def _money(session: Session) -> tuple[object, ...]:
    """Every figure of the money trail: transfers, balances, orders, invoices, deliveries."""
    return (
        tuple(
            session.execute(select(func.count(Transfer.id), func.sum(Transfer.amount_pence))).one()
        ),
        sorted(
            session.execute(
                select(
                    LedgerAccount.code,
                    LedgerAccount.debits_posted,
                    LedgerAccount.credits_posted,
                    LedgerAccount.debits_pending,
                    LedgerAccount.credits_pending,
                )
            ).all()
        ),
        sorted(session.execute(select(Order.reference, Order.total_pence, Order.status)).all()),
        sorted(session.execute(select(Invoice.reference, Invoice.amount_pence)).all()),
        sorted(session.execute(select(Delivery.delivered_on, Delivery.units)).all()),
        session.scalar(select(func.count(OrderEvent.id))),
        session.scalar(select(func.count(PersonDetailsChange.id))),
        session.scalar(select(func.count(OrganisationStatusChange.id))),
        session.scalar(select(func.count(PersonalBudget.id))),
    )


def _run(session: Session, app: Flask, now: datetime) -> retention.RetentionReport:
    report = retention.run(session, RetentionPolicy.from_config(app.config), now)
    session.commit()
    session.expire_all()
    return report


def test_a_person_is_kept_inside_the_period_and_anonymised_after_it_money_trail_kept(
    app: Flask, session: Session, finished: Finished, aled: Person
) -> None:
    world = finished.world
    person_id, citizen_id = world.person.id, world.citizen.id
    money = _money(session)
    after = finished.anonymised_from(app)

    inside = _run(session, app, after - timedelta(seconds=2))

    assert inside.counts["people"] == 0
    person = session.get(Person, person_id)
    assert person is not None
    assert person.full_name == "Margaret Okafor"
    assert person.key_safe_code == "4412"
    assert person.anonymised_at is None

    report = _run(session, app, after)

    assert report.counts["people"] == 1
    person = session.get(Person, person_id)
    assert person is not None
    assert person.full_name == f"Anonymised person {str(person_id)[:8]}"
    assert person.anonymised_at == after
    for column in (
        "preferred_name", "date_of_birth", "email", "phone", "case_reference", "address_line_1",
        "town", "postcode", "communication_needs", "key_safe_code", "access_notes",
    ):  # fmt: skip
        assert getattr(person, column) is None, column
    citizen = session.get(User, citizen_id)
    assert citizen is not None
    assert not citizen.active
    assert citizen.email.endswith("@anonymised.invalid")
    assert citizen.full_name != "Margaret"
    assert not verify_password(citizen.password_hash, PASSWORD)
    assert session.scalar(select(func.count()).where(Notification.user_id == citizen_id)) == 0
    # The words written about her are gone; that they were written, and when, is kept.
    plan = session.scalar(select(SupportPlan).where(SupportPlan.person_id == person_id))
    assert plan is not None
    assert plan.outcomes == REMOVED_TEXT
    assert plan.items
    notes = session.scalars(select(Delivery.note).where(Delivery.note != "")).all()
    assert notes == [REMOVED_TEXT]
    reasons = session.scalars(select(OrderEvent.reason).where(OrderEvent.reason != "")).all()
    assert reasons == [REMOVED_TEXT]
    assert session.scalars(select(StreamRevision.reason)).all() == [REMOVED_TEXT]
    # Every figure of the money trail and every audit entry is as it was; the ledger verifies.
    assert _money(session) == money
    assert_ledger_verifies(session)
    # Nothing of Aled's is touched: his budget is open.
    other = session.get(Person, aled.id)
    assert other is not None
    assert (other.full_name, other.email, other.key_safe_code) == (
        "Aled Hughes", "aled@example.org", "9090",
    )  # fmt: skip
    assert other.anonymised_at is None


def test_running_twice_anonymises_no_one_twice(
    app: Flask, session: Session, finished: Finished
) -> None:
    after = finished.anonymised_from(app)
    assert _run(session, app, after).counts["people"] == 1
    money = _money(session)

    again = _run(session, app, after + timedelta(days=1))

    assert again.total == 0
    person = session.get(Person, finished.world.person.id)
    assert person is not None
    assert person.anonymised_at == after
    assert _money(session) == money


@pytest.mark.parametrize("what", ["open order", "recent sign-in", "another budget open"])
def test_a_person_still_in_touch_is_kept(
    app: Flask, session: Session, finished: Finished, make_budget, what: str
) -> None:  # type: ignore[no-untyped-def]
    world = finished.world
    after = finished.anonymised_from(app)
    if what == "open order":
        session.execute(
            Order.__table__.update()
            .where(Order.id == finished.declined.id)
            .values(status=OrderStatus.PLACED.value)
        )
    elif what == "recent sign-in":
        world.citizen.last_signed_in_at = after - timedelta(days=30)
    else:
        make_budget(council=100_00)
    session.commit()

    assert _run(session, app, after).counts["people"] == 0
    person = session.get(Person, world.person.id)
    assert person is not None
    assert person.email == "margaret@example.org"


def test_old_orders_pages_still_show_after_anonymising(
    app: Flask, session: Session, finished: Finished
) -> None:
    world = finished.world
    _run(session, app, finished.anonymised_from(app))
    paid = session.get(Order, finished.paid.id)
    assert paid is not None
    invoice = paid.invoices[0]
    assert invoice.status is InvoiceStatus.SETTLED

    council = app.test_client()
    sign_in(council, world.officer)
    provider = app.test_client()
    sign_in(provider, world.staff)
    pages = {
        council: [
            f"/council/orders/{paid.id}",
            f"/council/orders/{finished.declined.id}",
            f"/council/people/{world.person.id}",
            f"/council/people/{world.person.id}/budgets/{world.budget.id}/statement",
            "/council/orders",
            "/council/people",
        ],
        provider: [f"/provider/orders/{paid.id}", "/provider/orders"],
    }
    for client, paths in pages.items():
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            text = response.get_data(as_text=True)
            assert "Margaret" not in text, path
            assert "4412" not in text, path
    order_page = council.get(f"/council/orders/{paid.id}").get_data(as_text=True)
    assert paid.reference in order_page
    assert invoice.reference in order_page
    assert "Anonymised person" in order_page
    person_page = council.get(f"/council/people/{world.person.id}").get_data(as_text=True)
    assert "This person's details were removed on" in person_page


def test_the_anonymised_citizen_is_signed_out_and_cannot_sign_in_again(
    app: Flask, session: Session, finished: Finished
) -> None:
    email = finished.world.citizen.email
    before = app.test_client()
    sign_in(before, finished.world.citizen)
    assert before.get("/my/orders").status_code == 200

    _run(session, app, finished.anonymised_from(app))

    assert before.get("/my/orders").status_code == 302
    again = app.test_client()
    refused = again.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert refused.status_code != 302
    assert again.get("/my/orders").status_code == 302


@pytest.fixture
def records(session: Session, make_user, make_organisation) -> Iterator[datetime]:  # type: ignore[no-untyped-def]
    """One of each short-lived kind just inside its period and one just past it, as of the
    returned moment (a year from now), under the default settings."""
    now = utcnow().replace(microsecond=0) + timedelta(days=365)
    user = make_user()
    organisation = make_organisation("Hitchin Helpers")
    day = timedelta(days=1)
    for age in (timedelta(days=729), timedelta(days=731)):
        session.add(SearchLogEntry(searched_at=now - age, source="web", words="help", results=1))
    for age in (timedelta(days=364), timedelta(days=366)):
        session.add(
            Notification(
                user_id=user.id, kind=NotificationKind.LISTING_STALE_SOON, title="x",
                created_at=now - age,
            )
        )  # fmt: skip
    for age in (timedelta(hours=23), timedelta(hours=25)):
        session.add(
            IdempotencyRecord(
                principal=f"user:{user.id}", key=str(uuid.uuid4()), method="POST", path="/x",
                body_sha256="0" * 64, created_at=now - age,
            )
        )  # fmt: skip
    # Links: each kind once used or expired 6 days ago (kept) and 8 days ago (deleted).
    for n, age in enumerate((6 * day, 8 * day)):
        at = now - age
        session.add(
            PasswordResetToken(
                user_id=user.id, token_hash=f"r{n}".ljust(64, "0"), created_at=at - day,
                expires_at=at,
            )
        )  # fmt: skip
        session.add(
            SignUpRequest(
                email=f"new{n}@example.org", full_name="New", password_hash="!",
                token_hash=f"s{n}".ljust(64, "0"), created_at=at - day, expires_at=at + day,
                used_at=at,
            )
        )  # fmt: skip
        session.add(
            ProviderRegistration(
                owner_email=f"owner{n}@example.org", owner_name="Owner", password_hash="!",
                details={}, token_hash=f"p{n}".ljust(64, "0"), created_at=at - day,
                expires_at=at,
            )
        )  # fmt: skip
        session.add(
            StaffInvitation(
                organisation_id=organisation.id, email=f"staff{n}@example.org",
                token_hash=f"i{n}".ljust(64, "0"), invited_by_id=user.id, created_at=at - day,
                expires_at=at + 2 * day, revoked_at=at,
            )
        )  # fmt: skip
    # Sign-in sessions: one in use, one signed out.
    sessions.open_session(user, now - timedelta(minutes=5))
    ended = sessions.open_session(user, now - timedelta(minutes=5))
    sessions.end_session(ended, now - timedelta(minutes=1))
    session.commit()
    with time_machine.travel(now, tick=False):
        yield now


def test_each_short_lived_kind_is_kept_inside_its_period_and_deleted_after(
    app: Flask, session: Session, records: datetime
) -> None:
    report = _run(session, app, records)

    assert report.counts == {
        "people": 0,
        "sign_in_sessions": 1,
        "idempotency_keys": 1,
        "search_log": 1,
        "notifications": 1,
        "password_reset_tokens": 1,
        "sign_up_requests": 1,
        "provider_registrations": 1,
        "staff_invitations": 1,
    }
    for model in (
        SignInSession, IdempotencyRecord, SearchLogEntry, Notification, PasswordResetToken,
        SignUpRequest, ProviderRegistration, StaffInvitation,
    ):  # fmt: skip
        assert session.scalar(select(func.count()).select_from(model)) == 1, model
    assert session.scalar(select(SignInSession.ended_at)) is None
    assert _run(session, app, records).total == 0


def test_the_periods_come_from_the_settings(
    app: Flask, session: Session, records: datetime
) -> None:
    app.config["RETENTION_SEARCH_LOG_DAYS"] = 700
    app.config["RETENTION_EXPIRED_LINK_DAYS"] = 30

    report = _run(session, app, records)

    assert report.counts["search_log"] == 2
    assert report.counts["password_reset_tokens"] == 0


def test_years_before_keeps_the_day_or_the_28th_of_february() -> None:
    moment = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert years_before(moment, 6) == datetime(2022, 2, 28, 12, 0, tzinfo=UTC)
    assert years_before(datetime(2026, 12, 3, tzinfo=UTC), 6) == datetime(2020, 12, 3, tzinfo=UTC)


def test_the_command_dry_run_changes_nothing_then_the_run_and_ledger_verify(
    app: Flask, session: Session, finished: Finished
) -> None:
    runner = app.test_cli_runner()
    money = _money(session)
    with time_machine.travel(finished.anonymised_from(app) + timedelta(days=1), tick=False):
        dry = runner.invoke(args=["retention", "run", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "dry run: nothing changed" in dry.output
        assert "       1  people anonymised" in dry.output
        session.expire_all()
        person = session.get(Person, finished.world.person.id)
        assert person is not None
        assert person.full_name == "Margaret Okafor"
        assert person.key_safe_code == "4412"

        real = runner.invoke(args=["retention", "run"])
        assert real.exit_code == 0, real.output
        assert "       1  people anonymised" in real.output
        # The dry run said what the run then did, kind by kind.
        assert real.output.splitlines()[1:] == dry.output.splitlines()[1:]

        again = runner.invoke(args=["retention", "run"])
        assert "       0  in all" in again.output

        verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    session.expire_all()
    person = session.get(Person, finished.world.person.id)
    assert person is not None
    assert person.anonymised_at is not None
    assert _money(session) == money


def test_the_cutoff_for_people_is_whole_years_after_the_last_close(
    app: Flask, finished: Finished
) -> None:
    years = app.config["RETENTION_CLOSED_BUDGET_YEARS"]
    assert years == 6
    assert years_before(finished.anonymised_from(app), years) > finished.closed_at


def test_the_privacy_notice_says_the_configured_periods(app: Flask) -> None:
    app.config["RETENTION_CLOSED_BUDGET_YEARS"] = 8
    app.config["RETENTION_NOTIFICATION_DAYS"] = 90

    page = app.test_client().get("/privacy").get_data(as_text=True)

    assert "closed for 8 years" in page
    assert "deleted after 90 days" in page
    assert "30 minutes without use" in page


@pytest.mark.parametrize("value", ["0", "-3", "six"])
def test_a_retention_period_must_be_a_whole_number_of_at_least_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str
) -> None:
    monkeypatch.setenv("RETENTION_SEARCH_LOG_DAYS", value)
    with pytest.raises(ConfigurationError, match="RETENTION_SEARCH_LOG_DAYS"):
        load_config(tmp_path)


def test_two_machines_running_it_at_once_anonymise_each_person_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(4))
    with app.app_context():
        session = db.session
        council = funders.create_funder(session, name="Council", kind=FunderKind.COUNCIL)
        pot = funders.open_pot(session, council, 2026)
        funders.fund_pot(session, pot, amount_pence=1_000_00, key="fund")
        people = [Person(full_name=f"Joan Hart {n}", phone="01438 000 000") for n in range(3)]
        session.add_all(people)
        for person in people:
            budget = create_budget(
                session,
                person=person,
                starts_on=date(2026, 4, 1),
                ends_on=date(2027, 3, 31),
                frequency=PaymentFrequency.ANNUAL,
                streams=[StreamSpec(StreamKind.COUNCIL, 100_00, pot=pot)],
                today=date(2026, 4, 1),
            )
            close_period(session, budget)
        session.add(SearchLogEntry(searched_at=utcnow(), source="web", words="x", results=0))
        session.commit()
        later = utcnow() + timedelta(days=7 * 366)
        policy = RetentionPolicy.from_config(app.config)
    reports: list[retention.RetentionReport] = []

    outcomes = run_together(
        app, 4, lambda _: reports.append(retention.run(db.session, policy, later))
    )

    assert outcomes == ["ok"] * 4
    assert sum(report.counts["people"] for report in reports) == 3
    assert sum(report.counts["search_log"] for report in reports) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Person.anonymised_at.is_(None))) == 0
        assert db.session.scalar(select(func.count()).where(Person.phone.is_not(None))) == 0
        verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
        assert verified.exit_code == 0, verified.output
