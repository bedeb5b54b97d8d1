"""Funders, their pots per financial year, and the accounts of the people who pay in."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import String, select

from marketplace import ledger
from marketplace.budgets.errors import BudgetError
from marketplace.budgets.models import Funder, FunderKind, FunderPot, PotPurpose
from marketplace.types import Session

__all__ = [
    "Funder",
    "all_funders",
    "contributions_account",
    "create_funder",
    "fund_pot",
    "funder_by_id",
    "open_pot",
    "payee_account",
]
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import LedgerAccount, Transfer


def create_funder(session: Session, *, name: str, kind: FunderKind) -> Funder:
    """Make a funder and its (unguarded) ledger account: its own money outside the system.

    Raises BudgetError if a funder has this name already.
    """
    name = name.strip()
    if not name:
        raise BudgetError("a funder needs a name")
    if session.scalar(select(Funder.id).where(Funder.name == name)):
        raise BudgetError(f"there is already a funder called {name}", name=name)
    funder_id = uuid.uuid4()
    account = ledger.open_account(session, code=f"funder:{funder_id}", name=name, guarded=False)
    funder = Funder(id=funder_id, name=name, kind=kind, account=account)
    session.add(funder)
    session.flush()
    return funder


def set_cost_centre(funder: Funder, cost_centre: str) -> None:
    """Set the council's default cost centre for the funder's money in finance files (issue
    19, FINEXPORT): used where the stream's pot line names none; "" for none.

    Raises BudgetError for one longer than the column holds.
    """
    cost_centre = cost_centre.strip()
    limit = cast(String, Funder.__table__.c.cost_centre.type).length or 0
    if len(cost_centre) > limit:
        raise BudgetError(f"a cost centre is at most {limit} characters", cost_centre=cost_centre)
    funder.cost_centre = cost_centre


def open_pot(
    session: Session,
    funder: Funder,
    financial_year: int,
    purpose: PotPurpose = PotPurpose.BUDGETS,
) -> FunderPot:
    """The funder's pot for the financial year starting in April of `financial_year`, for
    `purpose` (personal budgets, or reablement episodes: issue 18), made if it does not exist
    yet. Its account is guarded: nothing is allocated or held that it does not hold."""
    pot = session.scalars(
        select(FunderPot).where(
            FunderPot.funder_id == funder.id,
            FunderPot.financial_year == financial_year,
            FunderPot.purpose == purpose,
        )
    ).first()
    if pot is not None:
        return pot
    # REABLEMENT: a reablement pot's account is its own, beside the budgets pot's.
    reablement = purpose is PotPurpose.REABLEMENT
    account = ledger.open_account(
        session,
        code=f"pot:{funder.id}:{financial_year}" + (":reablement" if reablement else ""),
        name=f"{funder.name} {'reablement ' if reablement else ''}pot "
        f"{financial_year}/{(financial_year + 1) % 100:02d}",
        guarded=True,
    )
    pot = FunderPot(funder=funder, financial_year=financial_year, purpose=purpose, account=account)
    session.add(pot)
    session.flush()
    return pot


def fund_pot(
    session: Session, pot: FunderPot, *, amount_pence: int, key: str, description: str = ""
) -> Transfer:
    """Record the funder putting `amount_pence` into its pot (a ledger transfer).

    Replaying `key` records nothing more. Raises the ledger's InvalidTransfer and
    IdempotencyConflict.
    """
    return ledger.transfer(
        session,
        key=key,
        debit=pot.funder.account_id,
        credit=pot.account_id,
        amount_pence=amount_pence,
        code=TransferCode.FUNDING,
        description=description or f"Funding from {pot.funder.name}",
    )


def contributions_account(session: Session, person_id: uuid.UUID) -> LedgerAccount:
    """The person's own money outside the system, from which their assessed contribution and
    top-ups are allocated and to which unspent amounts of them go back (unguarded)."""
    return ledger.open_account(
        session, code=f"person:{person_id}:contributions", name="Own money", guarded=False
    )


def payee_account(session: Session, *, code: str, name: str) -> LedgerAccount:
    """An account that purchases are paid to (a provider, say), made if it does not exist."""
    return ledger.open_account(session, code=f"payee:{code}", name=name, guarded=False)


def all_funders(session: Session) -> list[Funder]:
    """Every funder, the council's first, then by name."""
    funders = session.scalars(select(Funder).order_by(Funder.name))
    return sorted(funders, key=lambda funder: funder.kind is not FunderKind.COUNCIL)


def funder_by_id(session: Session, funder_id: uuid.UUID) -> Funder | None:
    return session.get(Funder, funder_id)
