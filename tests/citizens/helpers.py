"""Budgets for the page tests: pots for the financial year we are in (pages offer the pots
of today's year), and a budget for a person."""

from __future__ import annotations

from datetime import date, datetime

from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import (
    Funder,
    FunderKind,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.queries import budgets_of
from marketplace.budgets.rules import financial_year_of
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.people.models import Person

TODAY = datetime.now(LONDON).date()
YEAR = financial_year_of(TODAY)
YEAR_START = date(YEAR, 4, 1)
YEAR_END = date(YEAR + 1, 3, 31)
COUNCIL = "Hertfordshire County Council"
ICB = "Hertfordshire and West Essex Integrated Care Board"


def funded_pots(
    council_pence: int = 100_000_00, nhs_pence: int = 50_000_00
) -> dict[StreamKind, FunderPot]:
    """The council's and the ICB's pots for this year, funded once (made if missing)."""
    pots = {}
    for name, kind, stream, amount in (
        (COUNCIL, FunderKind.COUNCIL, StreamKind.COUNCIL, council_pence),
        (ICB, FunderKind.NHS, StreamKind.NHS, nhs_pence),
    ):
        funder = db.session.query(Funder).filter_by(name=name).one_or_none()
        funder = funder or funders.create_funder(db.session, name=name, kind=kind)
        pot = funders.open_pot(db.session, funder, YEAR)
        funders.fund_pot(db.session, pot, amount_pence=amount, key=f"fund:{funder.id}:{YEAR}")
        pots[stream] = pot
    db.session.commit()
    return pots


def give_budget(
    person: Person,
    pots: dict[StreamKind, FunderPot],
    *,
    frequency: PaymentFrequency = PaymentFrequency.FOUR_WEEKLY,
    starts_on: date = YEAR_START,
    ends_on: date = YEAR_END,
    **amounts: int,
) -> PersonalBudget:
    """A committed budget for the person, streams given in pence by kind."""
    budget = create_budget(
        db.session,
        person=person,
        starts_on=starts_on,
        ends_on=ends_on,
        frequency=frequency,
        streams=[
            StreamSpec(StreamKind(kind), pence, pot=pots.get(StreamKind(kind)))
            for kind, pence in amounts.items()
        ],
        today=TODAY,
    )
    db.session.commit()
    return budget


def budget_of(person: Person) -> PersonalBudget:
    """The person's budget, given (council and client contribution) if they have none."""
    existing = budgets_of(db.session, person)
    if existing:
        return existing[0]
    return give_budget(person, funded_pots(), council=13_000_00, client_contribution=1_300_00)


def officers_budget_path(person: Person) -> str:
    """Where an officer finds the person's budget (given if they have none)."""
    return f"/council/people/{person.id}/budgets/{budget_of(person).id}"
