"""Fixtures for budgets: two funders with funded 2026/27 pots, a person, a payee, and a
quick way to give the person a budget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import (
    FunderKind,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount
from marketplace.people.models import Person

YEAR_START = date(2026, 4, 1)
YEAR_END = date(2027, 3, 31)


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session


@pytest.fixture
def council_pot(session: Session) -> FunderPot:
    council = funders.create_funder(
        session, name="Hertfordshire County Council", kind=FunderKind.COUNCIL
    )
    pot = funders.open_pot(session, council, 2026)
    funders.fund_pot(session, pot, amount_pence=1_000_000_00, key="fund:council:2026")
    session.commit()
    return pot


@pytest.fixture
def nhs_pot(session: Session) -> FunderPot:
    icb = funders.create_funder(
        session, name="Hertfordshire and West Essex ICB", kind=FunderKind.NHS
    )
    pot = funders.open_pot(session, icb, 2026)
    funders.fund_pot(session, pot, amount_pence=500_000_00, key="fund:icb:2026")
    session.commit()
    return pot


@pytest.fixture
def person(session: Session) -> Person:
    person = Person(full_name="Margaret Okafor")
    session.add(person)
    session.commit()
    return person


@pytest.fixture
def payee(session: Session) -> LedgerAccount:
    account = funders.payee_account(session, code="home-help-ltd", name="Home Help Ltd")
    session.commit()
    return account


MakeBudget = Callable[..., PersonalBudget]


@pytest.fixture
def make_budget(
    session: Session, person: Person, council_pot: FunderPot, nhs_pot: FunderPot
) -> MakeBudget:
    """A committed budget for the person for 2026/27, annual unless told, with the streams
    given in pence by kind (council=..., nhs=..., client_contribution=..., own_funds=...)."""

    def build(
        frequency: PaymentFrequency = PaymentFrequency.ANNUAL,
        today: date = YEAR_START,
        starts_on: date = YEAR_START,
        ends_on: date = YEAR_END,
        **amounts: int,
    ) -> PersonalBudget:
        pots = {StreamKind.COUNCIL: council_pot, StreamKind.NHS: nhs_pot}
        specs = [
            StreamSpec(StreamKind(kind), pence, pot=pots.get(StreamKind(kind)))
            for kind, pence in amounts.items()
        ]
        budget = create_budget(
            session,
            person=person,
            starts_on=starts_on,
            ends_on=ends_on,
            frequency=frequency,
            streams=specs,
            today=today,
        )
        session.commit()
        return budget

    return build
