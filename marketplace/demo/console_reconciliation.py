"""The demo's pot lines (issue 19, RECON): the NHS funder's pot for the year split into
"Continuing healthcare" and "Section 117 aftercare", each with its plan and cost centre, and
two people of the county whose NHS money is drawn for one of them, so the demo officer's
reconciliation goes from the ICB's lines to each person and to the penny.

- Grace Whitfield (Stevenage): continuing healthcare, £9,100 for the year, with £240 of care
  held for a purchase not yet invoiced.
- Tom Ellery (Watford): section 117 aftercare, £5,200 for the year.

Dated from the day asked for (the financial year it falls in). Adds its own lines, people and
budgets (in the ICB's pot for the year: opened and funded only if the budgets step has not);
changes nothing the county already has. Idempotent: lines by pot and name, people by name,
budgets by person and start date.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from marketplace.budgets import funders as funding
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import FunderPotLine, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.pot_lines import add_pot_line
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.spending import reserve
from marketplace.demo.budgets_seed import ICB
from marketplace.demo.console_period_end import _pot
from marketplace.formatting import LONDON
from marketplace.people.models import Person
from marketplace.types import Session

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport

# name -> (cost centre, planned pence for the year)
LINES = {
    "Continuing healthcare": ("ICB-CHC-01", 1_500_000_00),
    "Section 117 aftercare": ("ICB-S117-02", 600_000_00),
}
# name -> (postcode, line, NHS pence for the year)
PEOPLE = {
    "Grace Whitfield": ("SG2 8AB", "Continuing healthcare", 9_100_00),
    "Tom Ellery": ("WD18 0CD", "Section 117 aftercare", 5_200_00),
}
HELD_PENCE = 240_00


def seed_reconciliation(session: Session, today: date | None = None) -> SeedReport:
    """The ICB pot's two lines and the two people's budgets (see the module's docstring), for
    the financial year of `today` (London; default the real today). Flushes, never commits."""
    from marketplace.demo.seed import SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    year = financial_year_of(today)
    pot = _pot(session, ICB, year)
    line_tally = Tally("pot lines")
    people_tally, budget_tally = Tally("people"), Tally("personal budgets")
    lines: dict[str, FunderPotLine] = {}
    for name, (cost_centre, planned) in LINES.items():
        line = session.scalar(
            select(FunderPotLine).where(FunderPotLine.pot_id == pot.id, FunderPotLine.name == name)
        )
        if line is None:
            line = add_pot_line(
                session, pot, name=name, cost_centre=cost_centre, planned_pence=planned
            )
            line_tally.created.append(line)
        else:
            line_tally.existing += 1
        lines[name] = line
    starts_on = date(year, 4, 1)
    for name, (postcode, line_name, pence) in PEOPLE.items():
        person = session.scalar(select(Person).where(Person.full_name == name))
        if person is None:
            person = Person(full_name=name, postcode=postcode)
            session.add(person)
            session.flush()
            people_tally.created.append(person)
        else:
            people_tally.existing += 1
        found = session.scalar(
            select(PersonalBudget).where(
                PersonalBudget.person_id == person.id, PersonalBudget.starts_on == starts_on
            )
        )
        if found is not None:
            budget_tally.existing += 1
            continue
        budget = create_budget(
            session,
            person=person,
            starts_on=starts_on,
            ends_on=date(year + 1, 3, 31),
            frequency=PaymentFrequency.MONTHLY,
            streams=[StreamSpec(StreamKind.NHS, pence, pot=pot, pot_line=lines[line_name])],
            today=today,
        )
        budget_tally.created.append(budget)
        if name == "Grace Whitfield":
            payee = funding.payee_account(
                session, code="demo-community-nursing", name="Herts Community Nursing"
            )
            reserve(
                session,
                budget,
                amount_pence=HELD_PENCE,
                category_codes={"personal-care"},
                payee=payee,
                key=f"demo:reconciliation:{budget.id}",
                description="Personal care, this month (not yet invoiced)",
            )
    session.flush()
    return SeedReport([line_tally, people_tally, budget_tally])
