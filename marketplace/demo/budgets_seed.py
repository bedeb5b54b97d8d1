"""The `flask seed-demo` step for personal budgets: the two Hertfordshire funders and their
pots for the current financial year, and Dorothy Pearce (the demo citizen) with an approved
support plan and a four-weekly budget of council, NHS and client-contribution money, its
instalments released on their dates up to today. What the budget paid for is told by the
orders step (`orders_seed`), through real orders and invoices, so that every payment on
Dorothy's statement is an invoice in a provider's portal.

Idempotent like every step: funders are found by name, pots by funder and year, the budget by
person and start date, the plan by person, and every ledger transfer has a fixed idempotency
key, so a second run creates nothing. The instalments are released only with the budget they
belong to; after that, by `flask ledger release-instalments`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from marketplace import mail
from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.budgets import funders as funding
from marketplace.budgets.allocations import StreamSpec, create_budget, release_due_instalments
from marketplace.budgets.models import (
    Funder,
    FunderKind,
    FunderPot,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.schedule import instalment_dates
from marketplace.extensions import db
from marketplace.formatting import LONDON
from marketplace.ledger import transfers as ledger_transfers
from marketplace.notifications.models import Notification
from marketplace.people import plans
from marketplace.people.models import Person, SupportPlan
from marketplace.types import utcnow

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport, Tally

COUNCIL = "Hertfordshire County Council"
ICB = "Hertfordshire and West Essex Integrated Care Board"
# What each funder puts on the marketplace for the year (one transfer is at most £10m).
POT_FUNDING_PENCE = {COUNCIL: 9_500_000_00, ICB: 2_400_000_00}
FUNDER_KINDS = {COUNCIL: FunderKind.COUNCIL, ICB: FunderKind.NHS}

CITIZEN_EMAIL = "citizen@demo.example.org"
OFFICER_EMAIL = "council@demo.example.org"

# Dorothy's streams for the year, in pence (13 four-weekly instalments each).
STREAMS_PENCE = {
    StreamKind.COUNCIL: 14_300_00,
    StreamKind.NHS: 3_900_00,
    StreamKind.CLIENT_CONTRIBUTION: 1_560_00,
}
OUTCOMES = (
    "I want to stay living in my own home, where I have been for forty years.\n\n"
    "I need help getting washed and dressed in the mornings, and someone to check I have "
    "taken my tablets. I don't want to be rushed.\n\n"
    "I'd like to get out of the house at least once a week and see people: I used to love "
    "the day centre and the singing.\n\n"
    "I want to stop falling. My daughter worries about me on the stairs."
)
PLAN_ITEMS = (
    plans.PlanItemSpec("personal-care", 236_25),
    plans.PlanItemSpec("day-centres", 58_00),
    plans.PlanItemSpec("hot-meal-delivery", 29_00),
    plans.PlanItemSpec("falls-prevention", 12_00),
)


def seed_budgets(today: date | None = None) -> SeedReport:
    """Funders, pots, Dorothy's plan and budget with its instalments released up to `today`
    (in London; default the real today). Raises SeedOrderError if the users are not seeded."""
    # Imported here: seed.py lists this step in its STEPS, so it imports this module.
    from marketplace.demo.seed import SeedOrderError, SeedReport, Tally

    today = today or datetime.now(LONDON).date()
    year = financial_year_of(today)
    citizen, officer = _user(CITIZEN_EMAIL), _user(OFFICER_EMAIL)
    person = citizen.person
    if person is None:
        raise SeedOrderError(f"{CITIZEN_EMAIL} has no person record: seed users first")
    funder_tally, pot_tally = Tally("funders"), Tally("funder pots")
    pots: dict[str, FunderPot] = {}
    for name, kind in FUNDER_KINDS.items():
        funder = db.session.scalar(select(Funder).where(Funder.name == name))
        if funder is None:
            funder = funding.create_funder(db.session, name=name, kind=kind)
            funder_tally.created.append(funder)
        else:
            funder_tally.existing += 1
        pots[name] = _pot(funder, year, pot_tally)
    plan_tally = Tally("support plans")
    if plans.approved_plan(db.session, person) is None:
        plan_tally.created.append(_approved_plan(person, citizen, officer, year))
    else:
        plan_tally.existing += 1
    budget_tally = Tally("personal budgets")
    starts_on = date(year, 4, 1)
    budget = db.session.scalar(
        select(PersonalBudget).where(
            PersonalBudget.person_id == person.id, PersonalBudget.starts_on == starts_on
        )
    )
    if budget is None:
        budget_tally.created.append(_budget_with_instalments(person, pots, starts_on, today))
    else:
        budget_tally.existing += 1
    return SeedReport([funder_tally, pot_tally, plan_tally, budget_tally])


def _pot(funder: Funder, year: int, tally: Tally) -> FunderPot:
    existing = db.session.scalar(
        select(FunderPot).where(FunderPot.funder_id == funder.id, FunderPot.financial_year == year)
    )
    if existing is not None:
        tally.existing += 1
        return existing
    pot = funding.open_pot(db.session, funder, year)
    # Before the year's first allocation, made at 6am on 1 April.
    with _ledger_clock(_at(date(year, 4, 1), 5)):
        funding.fund_pot(
            db.session,
            pot,
            amount_pence=POT_FUNDING_PENCE[funder.name],
            key=f"demo:funding:{funder.id}:{year}",
            description=f"{funder.name}: marketplace budget for {year}/{(year + 1) % 100:02d}",
        )
    tally.created.append(pot)
    return pot


def _user(email: str) -> User:
    from marketplace.demo.seed import SeedOrderError

    user = accounts.user_by_email(email)
    if user is None:
        raise SeedOrderError(f"{email} is missing: seed users first")
    return user


def _approved_plan(person: Person, citizen: User, officer: User, year: int) -> SupportPlan:
    """Dorothy's plan as she wrote it, approved by the demo officer before her budget began.

    History is not news: what the rules tell the council and Dorothy about it is dated when it
    happened and read, and the emails they queue are dropped."""
    now = utcnow()
    queued = len(db.session.info.get(mail._PENDING, []))
    drafted = _at(date(year, 3, 18), 11)
    approved = drafted + timedelta(days=6)
    draft = plans.draft_plan(
        db.session, person, by=citizen, outcomes=OUTCOMES, items=list(PLAN_ITEMS)
    )
    draft.created_at = draft.drafted_at = drafted
    _as_read_history(now, drafted, approved)
    plan = plans.approve_plan(db.session, draft, by=officer, now=approved)
    _as_read_history(now, approved, approved + timedelta(hours=3))
    del db.session.info.get(mail._PENDING, [])[queued:]
    return plan


def _as_read_history(since: datetime, happened: datetime, read: datetime) -> None:
    """Date the notifications made from `since` on at `happened`, read at `read`."""
    db.session.flush()
    db.session.execute(
        update(Notification)
        .where(Notification.created_at >= since)
        .values(created_at=happened, read_at=read)
    )


def _budget_with_instalments(
    person: Person, pots: dict[str, FunderPot], starts_on: date, today: date
) -> PersonalBudget:
    ends_on = date(starts_on.year + 1, 3, 31)
    # Nothing happens later than now, nor after the day asked for.
    cutoff = min(datetime.now(UTC), _at(today + timedelta(days=1), 0))
    with _ledger_clock(_at(starts_on, 6)):
        budget = create_budget(
            db.session,
            person=person,
            starts_on=starts_on,
            ends_on=ends_on,
            frequency=PaymentFrequency.FOUR_WEEKLY,
            streams=[
                StreamSpec(StreamKind.COUNCIL, STREAMS_PENCE[StreamKind.COUNCIL], pots[COUNCIL]),
                StreamSpec(StreamKind.NHS, STREAMS_PENCE[StreamKind.NHS], pots[ICB]),
                StreamSpec(
                    StreamKind.CLIENT_CONTRIBUTION, STREAMS_PENCE[StreamKind.CLIENT_CONTRIBUTION]
                ),
            ],
            today=starts_on,
        )
    for due_on in instalment_dates(starts_on, ends_on, PaymentFrequency.FOUR_WEEKLY):
        if _at(due_on, 6) > cutoff:
            break
        with _ledger_clock(_at(due_on, 6)):
            release_due_instalments(db.session, due_on, budget=budget)
    return budget


def _at(day: date, hour: int) -> datetime:
    """A moment on a London day, in UTC as the ledger stores it."""
    return datetime.combine(day, time(hour), tzinfo=LONDON).astimezone(UTC)


@contextmanager
def _ledger_clock(moment: datetime) -> Iterator[None]:
    """Record the ledger's transfers as made at `moment`.

    The demo's history is written in one run, today, but should read as if it happened on its
    dates (statements, the forecast and the alerts all go by them). The ledger stamps each
    transfer with its own clock, `transfers.utcnow`, so the seed sets that clock for the
    length of each past event. Only the seed does this; nothing else may.
    """
    clock = ledger_transfers.utcnow
    ledger_transfers.utcnow = lambda: moment
    try:
        yield
    finally:
        ledger_transfers.utcnow = clock
