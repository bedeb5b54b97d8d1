"""Closing a budget's period: a preview, then the same plan confirmed.

What is unspent in each stream (its available balance, after any instalments still to come
are released) either goes back where it came from (the funder's pot, or the person) or is
carried forward into the matching stream of the person's next budget, as the council chooses,
each as one ledger transfer. A period with money still committed cannot be closed: those
purchases must first be spent or released.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets.allocations import current_status, release_instalment
from marketplace.budgets.errors import BudgetClosed, CloseRefused
from marketplace.budgets.models import (
    BudgetStatus,
    FundingStream,
    Instalment,
    PersonalBudget,
)
from marketplace.budgets.rules import TransferCode
from marketplace.types import Session, utcnow


class CloseChoice(enum.StrEnum):
    RETURN = "return"
    CARRY_FORWARD = "carry_forward"


@dataclass(frozen=True)
class CloseLine:
    """What closing does to one stream."""

    stream: FundingStream
    choice: CloseChoice
    unspent_pence: int  # available now plus instalments still to come
    committed_pence: int
    destination: FundingStream | None  # the next budget's stream, when carried forward
    problem: str | None


@dataclass(frozen=True)
class ClosePreview:
    budget: PersonalBudget
    lines: list[CloseLine]

    @property
    def unspent_pence(self) -> int:
        return sum(line.unspent_pence for line in self.lines)

    @property
    def problems(self) -> list[str]:
        return [line.problem for line in self.lines if line.problem]


def preview_close(
    session: Session,
    budget: PersonalBudget,
    *,
    choices: Mapping[uuid.UUID, CloseChoice] | None = None,
    next_budget: PersonalBudget | None = None,
) -> ClosePreview:
    """What closing the period would move, stream by stream; changes nothing.

    `choices` maps a stream id to return or carry forward (return when absent). A line has a
    `problem` when closing cannot go ahead: money still committed, or nowhere to carry to.
    """
    choices = choices or {}
    lines = []
    for stream in budget.streams:
        choice = CloseChoice(choices.get(stream.id, CloseChoice.RETURN))
        held = ledger.balance(session, stream.account_id)
        to_come = ledger.balance(session, stream.unreleased_account_id).posted
        destination = None
        problem = None
        if held.debits_pending:
            problem = f"{stream.kind.label}: {held.debits_pending}p is still committed"
        elif choice is CloseChoice.CARRY_FORWARD:
            destination = _matching_stream(stream, next_budget)
            if destination is None:
                problem = f"{stream.kind.label}: the next budget has no stream to carry into"
        lines.append(
            CloseLine(
                stream,
                choice,
                held.available + to_come,
                held.debits_pending,
                destination,
                problem,
            )
        )
    return ClosePreview(budget, lines)


def close_period(
    session: Session,
    budget: PersonalBudget,
    *,
    choices: Mapping[uuid.UUID, CloseChoice] | None = None,
    next_budget: PersonalBudget | None = None,
    expected_unspent_pence: int | None = None,
) -> ClosePreview:
    """Close the budget's period as previewed: release what is still to come, then move each
    stream's unspent money back or forward, and mark the budget closed. Returns the plan done.

    Pass the preview's `unspent_pence` as `expected_unspent_pence` to refuse if anything has
    moved since the preview. Raises BudgetClosed, CloseRefused (a problem in the preview, or
    the figures changed since it).
    """
    accounts = [a for s in budget.streams for a in (s.unreleased_account_id, s.account_id)]
    accounts += [s.source_account_id for s in budget.streams]
    if next_budget is not None:
        accounts += [s.account_id for s in next_budget.streams]
    ledger.lock_accounts(session, accounts)
    if current_status(session, budget.id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is already closed")
    if next_budget is not None and (
        next_budget.person_id != budget.person_id
        or next_budget.starts_on <= budget.starts_on
        or current_status(session, next_budget.id) is BudgetStatus.CLOSED
    ):
        raise CloseRefused("money can only be carried into the same person's next open budget")
    plan = preview_close(session, budget, choices=choices, next_budget=next_budget)
    if plan.problems:
        raise CloseRefused("the period cannot be closed yet", problems=plan.problems)
    if expected_unspent_pence is not None and expected_unspent_pence != plan.unspent_pence:
        raise CloseRefused(
            "the budget has changed since the preview; preview again",
            expected_pence=expected_unspent_pence,
            unspent_pence=plan.unspent_pence,
        )
    with ledger.savepoint(session):
        for line in plan.lines:
            _close_stream(session, line)
        budget.status = BudgetStatus.CLOSED
        budget.closed_at = utcnow()
        session.flush()
    return plan


def _close_stream(session: Session, line: CloseLine) -> None:
    stream = line.stream
    to_come = session.scalars(
        select(Instalment)
        .where(Instalment.stream_id == stream.id, Instalment.released.is_(False))
        .order_by(Instalment.number)
    ).all()
    for instalment in to_come:
        release_instalment(session, instalment)
    if line.unspent_pence == 0:
        return
    if line.destination is None:
        ledger.transfer(
            session,
            key=f"close:{stream.id}",
            debit=stream.account_id,
            credit=stream.source_account_id,
            amount_pence=line.unspent_pence,
            code=TransferCode.RETURN,
            description="Unspent at the end of the period, returned",
        )
        return
    ledger.transfer(
        session,
        key=f"close:{stream.id}",
        debit=stream.account_id,
        credit=line.destination.account_id,
        amount_pence=line.unspent_pence,
        code=TransferCode.CARRY_FORWARD,
        description="Unspent at the end of the period, carried forward",
    )
    line.destination.amount_pence += line.unspent_pence


def _matching_stream(
    stream: FundingStream, next_budget: PersonalBudget | None
) -> FundingStream | None:
    """The next budget's stream of the same kind (and, for a funder's, the same funder)."""
    if next_budget is None:
        return None
    for candidate in next_budget.streams:
        if candidate.kind is not stream.kind:
            continue
        if stream.pot is None or (
            candidate.pot is not None and candidate.pot.funder_id == stream.pot.funder_id
        ):
            return candidate
    return None
