"""A person's personal budgets as the pages find them, and the pots an officer allocates from.

Reads only: the rules that change budgets are beside this module in `marketplace.budgets`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import inspect, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.budgets.models import (
    BudgetStatus,
    Funder,
    FunderKind,
    FunderPot,
    FundingStream,
    Instalment,
    PersonalBudget,
    PotPurpose,
)
from marketplace.people.models import Person
from marketplace.types import Session


def budgets_of(session: Session, person: Person) -> list[PersonalBudget]:
    """Every budget of the person, the latest period first."""
    return list(
        session.scalars(
            select(PersonalBudget)
            .where(PersonalBudget.person_id == person.id)
            .order_by(PersonalBudget.starts_on.desc(), PersonalBudget.created_at.desc())
            .options(selectinload(PersonalBudget.streams))
        )
    )


def current_budget(session: Session, person: Person, today: date) -> PersonalBudget | None:
    """The budget to show first: the open one whose period includes today, else the open one
    that starts soonest after today, else the latest one."""
    return current_among(budgets_of(session, person), today)


def current_among(budgets: Sequence[PersonalBudget], today: date) -> PersonalBudget | None:
    """`current_budget` among the person's budgets as `budgets_of` gives them (for a page
    that shows them all too, so reads them once)."""
    open_ones = [b for b in budgets if b.status is BudgetStatus.OPEN]
    for budget in open_ones:
        if budget.starts_on <= today <= budget.ends_on:
            return budget
    coming = sorted((b for b in open_ones if b.starts_on > today), key=lambda b: b.starts_on)
    if coming:
        return coming[0]
    return budgets[0] if budgets else None


def ended_awaiting_close(session: Session, today: date) -> list[PersonalBudget]:
    """Every budget whose period ended before `today` and that no officer has closed yet,
    the longest-ended first, with its person."""
    return list(
        session.scalars(
            select(PersonalBudget)
            .where(PersonalBudget.status == BudgetStatus.OPEN, PersonalBudget.ends_on < today)
            .order_by(PersonalBudget.ends_on, PersonalBudget.id)
            .options(selectinload(PersonalBudget.person))
        )
    )


def budget_of(session: Session, person: Person, budget_id: uuid.UUID) -> PersonalBudget | None:
    """The person's budget with this id; None if there is none, or it is someone else's."""
    budget = session.get(PersonalBudget, budget_id)
    if budget is None or budget.person_id != person.id:
        return None
    return budget


def stream_of(budget: PersonalBudget, stream_id: uuid.UUID) -> FundingStream | None:
    """The budget's funding stream with this id; None if it belongs to another budget."""
    return next((stream for stream in budget.streams if stream.id == stream_id), None)


def overlapping_budget(
    session: Session, person: Person, starts_on: date, ends_on: date
) -> PersonalBudget | None:
    """An open budget of the person whose period overlaps these dates, if there is one."""
    return session.scalars(
        select(PersonalBudget).where(
            PersonalBudget.person_id == person.id,
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.starts_on <= ends_on,
            PersonalBudget.ends_on >= starts_on,
        )
    ).first()


def next_budget(session: Session, budget: PersonalBudget) -> PersonalBudget | None:
    """The person's open budget that starts soonest after this one: where money is carried."""
    return session.scalars(
        select(PersonalBudget)
        .where(
            PersonalBudget.person_id == budget.person_id,
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.starts_on > budget.starts_on,
            PersonalBudget.id != budget.id,
        )
        .order_by(PersonalBudget.starts_on)
    ).first()


def pots_for_year(session: Session, financial_year: int) -> list[FunderPot]:
    """Every funder's pot for the financial year, the council's first, then by funder name."""
    pots = session.scalars(
        select(FunderPot)
        .join(Funder)
        .where(FunderPot.financial_year == financial_year)
        .order_by(Funder.name)
        # The pot's lines with it (issue 19): the funders' page and the budget form name them.
        .options(selectinload(FunderPot.funder), selectinload(FunderPot.lines))
    )
    return sorted(pots, key=lambda pot: pot.funder.kind is not FunderKind.COUNCIL)


def pots_to_allocate_from(session: Session, years: list[int]) -> list[FunderPot]:
    """The pots of these financial years, for an officer choosing where a stream comes from
    (not a reablement pot: REABLEMENT, issue 18; its money pays episodes, never budgets)."""
    return [
        pot
        for year in years
        for pot in pots_for_year(session, year)
        if pot.purpose is PotPurpose.BUDGETS
    ]


def pot_by_id(session: Session, pot_id: uuid.UUID) -> FunderPot | None:
    """The pot with this id, if there is one."""
    return session.get(FunderPot, pot_id)


def with_instalments(session: Session, budget: PersonalBudget) -> None:
    """Give the budget's streams their instalments, which its forecast counts, from one
    statement instead of one a stream (a closed budget's forecast counts none; streams that
    have theirs already keep them)."""
    streams = [s for s in budget.streams if "instalments" in inspect(s).unloaded]
    if budget.status is BudgetStatus.CLOSED or not streams:
        return
    by_stream: dict[uuid.UUID, list[Instalment]] = defaultdict(list)
    for instalment in session.scalars(
        select(Instalment)
        .where(Instalment.stream_id.in_([stream.id for stream in streams]))
        .order_by(Instalment.number)
    ):
        by_stream[instalment.stream_id].append(instalment)
    for stream in streams:
        set_committed_value(stream, "instalments", by_stream[stream.id])
