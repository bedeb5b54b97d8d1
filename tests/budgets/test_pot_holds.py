"""Pots in `flask ledger verify` (issue 18): a reablement pot pays its episodes' cycles
straight from the pot, so holds on it (and their posting or voiding) are expected; a budgets
pot still never holds anything."""

from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets import funders
from marketplace.budgets.models import FunderPot, PotPurpose
from marketplace.budgets.rules import TransferCode
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import LedgerAccount


def _hold(session: Session, pot: FunderPot, payee: LedgerAccount, key: str) -> ledger.Transfer:
    held = ledger.transfer(
        session,
        key=key,
        debit=pot.account_id,
        credit=payee,
        amount_pence=100_00,
        code=TransferCode.COMMITMENT,
        reference=key,
        pending=True,
    )
    session.commit()
    return held


def _pot_problems(session: Session) -> list[str]:
    problems, _ = check_budgets(session)
    return [problem for problem in problems if problem.startswith("pot ")]


def test_a_reablement_pot_may_hold_post_and_void(
    session: Session, council_pot: FunderPot, payee: LedgerAccount
) -> None:
    reablement = funders.open_pot(session, council_pot.funder, 2026, PotPurpose.REABLEMENT)
    funders.fund_pot(session, reablement, amount_pence=10_000_00, key="fund:reablement:2026")
    posted = _hold(session, reablement, payee, "cycle:1")
    voided = _hold(session, reablement, payee, "cycle:2")
    ledger.post_pending(session, posted, key="cycle:1:invoice", amount_pence=60_00)
    ledger.void_pending(session, voided, key="cycle:2:released")
    _hold(session, reablement, payee, "cycle:3")
    session.commit()

    assert _pot_problems(session) == []


def test_a_budgets_pot_never_holds(
    session: Session, council_pot: FunderPot, payee: LedgerAccount
) -> None:
    _hold(session, council_pot, payee, "stray-hold")

    assert _pot_problems(session) == [
        f"pot {council_pot.label}: holds are not made on pots (stray-hold)"
    ]
