"""The person's own money paid in by card: their own-funds stream, and a self-funder's account.

Card money joins the ledger the way every other stream's money does: it is allocated into a
funding stream (the person's own funds), and purchases are held and spent from there, so the
same figures, statements and checks cover it. The difference is where it comes from: not a
funder's pot nor the person's assessed contribution, but the Stripe clearing account, on
Stripe's word, one transfer per confirmed payment (`pay_in`).

A self-funder (a person with no personal budget from a funder) gets a self-funded account on
their first card purchase: a personal budget with one own-funds stream, allocated nothing up
front and only what their card payments bring in, for `SELF_FUNDED_PERIOD`. See
docs/decisions.md, "Card money and the ledger".
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.funders import contributions_account
from marketplace.budgets.models import (
    BudgetStatus,
    FundingStream,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.rules import (
    DEFAULT_ALLOWED_CATEGORY_CODES,
    DEFAULT_DRAW_ORDER,
    SELF_FUNDED_PERIOD,
    TransferCode,
)
from marketplace.ledger import LedgerAccount, Transfer
from marketplace.people.models import Person
from marketplace.types import Session


def is_self_funded(budget: PersonalBudget) -> bool:
    """Whether the budget is a self-funder's account: only the person's own money in it."""
    return bool(budget.streams) and all(s.kind is StreamKind.OWN_FUNDS for s in budget.streams)


def is_self_funder(session: Session, person: Person) -> bool:
    """Whether the person pays for their own care: no budget with anyone else's money in it,
    ever (a person between two council budgets is not a self-funder)."""
    kinds = session.scalars(
        select(FundingStream.kind)
        .join(PersonalBudget)
        .where(PersonalBudget.person_id == person.id)
        .distinct()
    ).all()
    return all(kind is StreamKind.OWN_FUNDS for kind in kinds)


def own_funds_stream(budget: PersonalBudget) -> FundingStream | None:
    """The budget's own-funds stream (the one card money is paid into), if it has one."""
    return next((s for s in budget.streams if s.kind is StreamKind.OWN_FUNDS), None)


def open_own_funds_stream(session: Session, budget: PersonalBudget) -> FundingStream:
    """The budget's own-funds stream, added (allocated nothing yet) if it has none: drawn
    last, after every other stream, so card money pays only what the budget does not.

    Raises BudgetError for a closed budget.
    """
    stream = own_funds_stream(budget)
    if stream is not None:
        return stream
    if budget.status is not BudgetStatus.OPEN:
        raise BudgetError("a closed budget takes no more money")
    last = max((s.draw_order for s in budget.streams), default=0)
    position = max(DEFAULT_DRAW_ORDER[StreamKind.OWN_FUNDS], last + 10)
    stream_id = uuid.uuid4()
    label = StreamKind.OWN_FUNDS.label
    stream = FundingStream(
        id=stream_id,
        budget=budget,
        kind=StreamKind.OWN_FUNDS,
        pot=None,
        amount_pence=0,
        draw_order=position,
        allowed_category_codes=DEFAULT_ALLOWED_CATEGORY_CODES[StreamKind.OWN_FUNDS],
        source_account=contributions_account(session, budget.person_id),
        unreleased_account=ledger.open_account(
            session, code=f"stream:{stream_id}:unreleased", name=f"{label} (to come)", guarded=True
        ),
        account=ledger.open_account(
            session, code=f"stream:{stream_id}:available", name=f"{label} (available)", guarded=True
        ),
    )
    session.add(stream)
    session.flush()
    return stream


def create_self_funded_budget(session: Session, person: Person, *, today: date) -> PersonalBudget:
    """A self-funder's account from `today`: one own-funds stream, allocated nothing, to which
    each confirmed card payment is paid in. Flushes; the caller commits."""
    budget = PersonalBudget(
        id=uuid.uuid4(),
        person=person,
        starts_on=today,
        ends_on=today + SELF_FUNDED_PERIOD,
        frequency=PaymentFrequency.ANNUAL,
    )
    session.add(budget)
    session.flush()
    open_own_funds_stream(session, budget)
    return budget


def provisional_self_funded_budget(person: Person, *, today: date) -> PersonalBudget:
    """The account a self-funder's first purchase would make, to price it against: the same
    period, open, no streams (so nothing in it), never added to the session (only the
    person's id is set, so nothing cascades it in)."""
    return PersonalBudget(
        id=uuid.uuid4(),
        person_id=person.id,
        starts_on=today,
        ends_on=today + SELF_FUNDED_PERIOD,
        frequency=PaymentFrequency.ANNUAL,
        status=BudgetStatus.OPEN,
    )


def pay_in(
    session: Session,
    stream: FundingStream,
    *,
    source: LedgerAccount,
    amount_pence: int,
    key: str,
    description: str,
) -> Transfer:
    """Pay money confirmed at the card processor into an own-funds stream: one transfer from
    `source` (the Stripe clearing account) into the stream's available balance, its allocation
    growing by as much (the stream's amount is what has been allocated to it).

    Replaying `key` returns the first transfer and changes nothing. The caller holds the
    stream's lock (`ledger.lock_accounts`). Raises BudgetError (not an own-funds stream, or a
    closed budget) and the ledger's InvalidTransfer and IdempotencyConflict.
    """
    earlier = ledger.find_transfer(session, key)
    if earlier is not None:
        return ledger.transfer(
            session,
            key=key,
            debit=source,
            credit=stream.account_id,
            amount_pence=amount_pence,
            code=TransferCode.CARD_PAYMENT,
            description=description,
        )
    if stream.kind is not StreamKind.OWN_FUNDS:
        raise BudgetError("card money is paid into the person's own-funds stream only")
    if stream.budget.status is not BudgetStatus.OPEN:
        raise BudgetError("a closed budget takes no more money")
    made = ledger.transfer(
        session,
        key=key,
        debit=source,
        credit=stream.account_id,
        amount_pence=amount_pence,
        code=TransferCode.CARD_PAYMENT,
        description=description,
    )
    stream.amount_pence += amount_pence
    session.flush()
    return made
