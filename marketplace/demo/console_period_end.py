"""The demo's budgets whose period has ended and that no one has closed yet (issue 19, CLOSE),
so that the demo officer can close periods in bulk with a preview: three people of the county
with a half-year budget that ended a week ago.

- Joan Whitaker (Stevenage) has his next half-year's budget: by the carry-forward rule his
  unspent money goes into it.
- Dennis Okafor (St Albans) has council and NHS money and no next budget: it goes back to
  each funder.
- Ravi Patel (Watford) still has £45 committed to a purchase not yet paid: his period cannot
  close yet, and the preview says why.

Dated from the day asked for, so the demo works on any day. Adds its own people, budgets (in
the pots of the financial years they start in: the year's pot is opened and funded only if
`seed_budgets` has not) and one commitment; changes nothing the county already has.
Idempotent: the people are found by name, the budgets by person and start date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace.budgets import funders as funding
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import (
    Funder,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.spending import reserve
from marketplace.demo.budgets_seed import COUNCIL, FUNDER_KINDS, ICB, POT_FUNDING_PENCE
from marketplace.formatting import LONDON
from marketplace.people.models import Person
from marketplace.types import Session

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

# Half a year each, ending a week before the day seeded.
ENDED_DAYS_AGO = 7
PERIOD_DAYS = 182
PEOPLE = {
    "Joan Whitaker": "SG1 3AB",
    "Dennis Okafor": "AL1 2CD",
    "Ravi Patel": "WD17 1EF",
}
COMMITTED_PENCE = 45_00


def seed_period_end(session: Session, today: date | None = None) -> SeedReport:
    """The three people and their budgets (see the module's docstring), dated from `today`
    (London; default the real today). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    ends_on = today - timedelta(days=ENDED_DAYS_AGO)
    ended = (ends_on - timedelta(days=PERIOD_DAYS - 1), ends_on)
    following = (ends_on + timedelta(days=1), ends_on + timedelta(days=PERIOD_DAYS))
    people_tally, budget_tally = Tally("people"), Tally("personal budgets")
    people = {}
    for name, postcode in PEOPLE.items():
        person = session.scalar(select(Person).where(Person.full_name == name))
        if person is None:
            person = Person(full_name=name, postcode=postcode)
            session.add(person)
            session.flush()
            people_tally.created.append(person)
        else:
            people_tally.existing += 1
        people[name] = person

    def budget(name: str, period: tuple[date, date], **pence: int) -> PersonalBudget | None:
        person = people[name]
        found = session.scalar(
            select(PersonalBudget).where(
                PersonalBudget.person_id == person.id, PersonalBudget.starts_on == period[0]
            )
        )
        if found is not None:
            budget_tally.existing += 1
            return None
        year = financial_year_of(period[0])
        pots = {
            StreamKind.COUNCIL: _pot(session, COUNCIL, year),
            StreamKind.NHS: _pot(session, ICB, year),
        }
        made = create_budget(
            session,
            person=person,
            starts_on=period[0],
            ends_on=period[1],
            frequency=PaymentFrequency.ANNUAL,
            streams=[
                StreamSpec(StreamKind(kind), amount, pot=pots.get(StreamKind(kind)))
                for kind, amount in pence.items()
            ],
            today=period[0],
        )
        budget_tally.created.append(made)
        return made

    budget("Joan Whitaker", ended, client_contribution=260_00, council=2_600_00)
    budget("Joan Whitaker", following, client_contribution=260_00, council=2_600_00)
    budget("Dennis Okafor", ended, council=1_950_00, nhs=1_300_00)
    ravis = budget("Ravi Patel", ended, council=1_560_00)
    if ravis is not None:
        payee = funding.payee_account(session, code="demo-day-centre", name="Lea Valley Day Centre")
        reserve(
            session,
            ravis,
            amount_pence=COMMITTED_PENCE,
            category_codes={"day-centres"},
            payee=payee,
            key=f"demo:period-end:{ravis.id}",
            description="Day centre, last week of the period (not yet invoiced)",
        )
    session.flush()
    return SeedReport([people_tally, budget_tally])


def _pot(session: Session, funder_name: str, year: int) -> FunderPot:
    """The funder's budgets pot for the year, opened and funded if the budgets step has not."""
    funder = session.scalar(select(Funder).where(Funder.name == funder_name))
    if funder is None:
        funder = funding.create_funder(session, name=funder_name, kind=FUNDER_KINDS[funder_name])
    pot = session.scalar(
        select(FunderPot).where(
            FunderPot.funder_id == funder.id,
            FunderPot.financial_year == year,
            FunderPot.purpose == PotPurpose.BUDGETS,
        )
    )
    if pot is None:
        pot = funding.open_pot(session, funder, year)
        funding.fund_pot(
            session,
            pot,
            amount_pence=POT_FUNDING_PENCE[funder_name],
            key=f"demo:funding:{funder.id}:{year}",
            description=f"{funder.name}: marketplace budget for {year}/{(year + 1) % 100:02d}",
        )
    return pot
