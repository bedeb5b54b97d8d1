"""ISF (issue 18): two spends recorded from one fund at once, each on its own connection,
cannot together take more than the fund holds; and a spend racing the provider's suspension
either lands before the fund's money goes back or is refused. On SQLite and on PostgreSQL
(TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from flask import Flask

from marketplace import ledger
from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders, isf
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import (
    FunderKind,
    IndividualServiceFund,
    IsfState,
    PaymentFrequency,
    StreamKind,
)
from marketplace.extensions import db
from marketplace.people.models import Person
from providers.models import Organisation, OrganisationStatus
from tests.ledger.threads import engine_options, run_together
from tests.packages.isf_fixtures import assert_all_verifies

TODAY = date(2026, 6, 1)


def _fund(
    app: Flask, amount_pence: int, *, agree: bool = True
) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A fund of `amount_pence` (agreed unless told): its id, its provider's staff's and an
    officer's."""
    with app.app_context():
        session = db.session
        council = funders.create_funder(session, name="Council", kind=FunderKind.COUNCIL)
        pot = funders.open_pot(session, council, 2026)
        funders.fund_pot(session, pot, amount_pence=10_000_00, key="fund")
        person = Person(full_name="Joan Hart")
        session.add(person)
        budget = create_budget(
            session,
            person=person,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
            frequency=PaymentFrequency.ANNUAL,
            streams=[StreamSpec(StreamKind.COUNCIL, 1_000_00, pot=pot)],
            today=date(2026, 4, 1),
        )
        provider = Organisation(name="Care Co", status=OrganisationStatus.APPROVED)
        session.add(provider)
        session.flush()
        citizen = accounts.create_user(
            email="joan@example.org",
            full_name="Joan Hart",
            password="correct horse battery staple",
            role=Role.CITIZEN,
            person=person,
        )
        staff = accounts.create_user(
            email="staff@example.org",
            full_name="Sam Staff",
            password="correct horse battery staple",
            role=Role.PROVIDER_STAFF,
            organisation_id=provider.id,
        )
        officer = accounts.create_user(
            email="officer@example.org",
            full_name="Olu Officer",
            password="correct horse battery staple",
            role=Role.COUNCIL_OFFICER,
        )
        fund = isf.request_isf(
            session,
            person=person,
            budget=budget,
            organisation=provider,
            amount_pence=amount_pence,
            agreement="Swimming and the bus fare there",
            by=citizen,
        )
        if agree:
            isf.decide(session, fund, by=staff, agree=True)
        session.commit()
        return fund.id, staff.id, officer.id


def _spend(fund_id: uuid.UUID, staff_id: uuid.UUID, pence: int, key: str) -> None:
    isf.record_spend(
        db.session,
        db.session.get_one(IndividualServiceFund, fund_id),
        spent_on=TODAY,
        amount_pence=pence,
        description="Swimming",
        by=db.session.get_one(User, staff_id),
        key=key,
        today=TODAY,
    )


def test_two_spends_at_once_never_take_more_than_the_fund_holds(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    fund_id, staff_id, _ = _fund(app, 100_00)

    outcomes = run_together(app, 2, lambda n: _spend(fund_id, staff_id, 60_00, f"form-{n}"))

    assert sorted(outcomes) == ["insufficient_funds", "ok"]
    with app.app_context():
        fund = db.session.get_one(IndividualServiceFund, fund_id)
        assert len(fund.spends) == 1
        assert ledger.balance(db.session, fund.account_id).posted == 40_00
        assert_all_verifies(db.session)


def test_a_spend_racing_the_suspension_lands_first_or_is_refused(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    fund_id, staff_id, officer_id = _fund(app, 100_00)
    refused: list[str] = []

    def act(number: int) -> None:
        if number == 0:
            fund = db.session.get_one(IndividualServiceFund, fund_id)
            provider = db.session.get_one(Organisation, fund.organisation_id)
            isf.suspend_funds_of(
                db.session, provider, by=db.session.get_one(User, officer_id), why="Concerns"
            )
            return
        try:
            _spend(fund_id, staff_id, 30_00, "form-1")
        except isf.IsfRefused as refusal:
            refused.append(refusal.message)

    assert run_together(app, 2, act) == ["ok", "ok"]
    with app.app_context():
        fund = db.session.get_one(IndividualServiceFund, fund_id)
        assert fund.state is IsfState.SUSPENDED
        assert ledger.balance(db.session, fund.account_id).posted == 0
        # Either the spend landed before the money went back, or it was refused: never both.
        assert len(fund.spends) + len(refused) == 1
        assert_all_verifies(db.session)


def test_the_provider_agreeing_twice_at_once_moves_the_money_once(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    fund_id, staff_id, _ = _fund(app, 100_00, agree=False)

    def agree(_: int) -> None:
        isf.decide(
            db.session,
            db.session.get_one(IndividualServiceFund, fund_id),
            by=db.session.get_one(User, staff_id),
            agree=True,
        )

    assert run_together(app, 2, agree) == ["ok", "ok"]
    with app.app_context():
        fund = db.session.get_one(IndividualServiceFund, fund_id)
        assert fund.state is IsfState.AGREED
        assert ledger.balance(db.session, fund.account_id).posted == 100_00
        assert_all_verifies(db.session)
