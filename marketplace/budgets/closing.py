"""Closing a budget's period: a preview, then the same plan confirmed.

What is unspent in each stream (its available balance, after any instalments still to come
are released) either goes back where it came from (the funder's pot, or the person) or is
carried forward into the matching stream of the person's next budget, as the council chooses,
each as one ledger transfer. A period with money still committed cannot be closed: those
purchases must first be spent or released (the preview names each one held).

Ongoing packages (issue 18) do not hold a period open: a package's cycles are each paid by
the budget whose period contains the cycle's first day, so its cycles after this period are
(or will be) held by the person's next budget, and closing leaves them alone. The caller says
which packages carry on past the period (`carrying_on`, found by
`marketplace.orders.package_periods.carrying_on`, as this layer knows no orders) and the
preview says into which budget each goes. A package that carries on when the person has no
open budget for the day after the period is a problem: the close is refused until the council
sets up the next budget (or the package ends), so that closing never leaves ongoing care with
nothing to pay for it unnoticed (docs/packages.md, "Periods").
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets import isf
from marketplace.budgets.allocations import current_status, release_instalment
from marketplace.budgets.errors import BudgetClosed, CloseRefused
from marketplace.budgets.models import (
    BudgetStatus,
    FundingStream,
    Instalment,
    PersonalBudget,
)
from marketplace.budgets.rules import TransferCode
from marketplace.formatting import pounds
from marketplace.ledger import Transfer, TransferKind
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
    # What the committed money is held for, one description per hold still pending ("Order
    # ORD-1234: Home care, cycle 43"), oldest first.
    held_for: tuple[str, ...] = ()
    # ISF: the part of `unspent_pence` that the stream's open Individual Service Funds give
    # back first at the close.
    from_funds_pence: int = 0


@dataclass(frozen=True)
class CarryingOn:
    """An ongoing package of the person's that goes on after the period: its order's
    reference and service, and the open budget whose period contains the day after this one
    ends (None: there is none yet), with how many of its cycles that budget already holds."""

    reference: str
    service_name: str
    next_budget: PersonalBudget | None
    cycles_held_there: int = 0

    def problem(self, budget: PersonalBudget) -> str | None:
        if self.next_budget is not None:
            return None
        after = budget.ends_on + timedelta(days=1)
        return (
            f"Order {self.reference} ({self.service_name}) carries on after "
            f"{budget.ends_on:%-d %B %Y}, and there is no open budget for the person from "
            f"{after:%-d %B %Y} to pay for it. Set up the next budget first, or end the package"
        )


@dataclass(frozen=True)
class ClosePreview:
    budget: PersonalBudget
    lines: list[CloseLine]
    carrying_on: list[CarryingOn] = field(default_factory=list)

    @property
    def unspent_pence(self) -> int:
        return sum(line.unspent_pence for line in self.lines)

    @property
    def from_funds_pence(self) -> int:
        """ISF: what comes back from Individual Service Funds, within `unspent_pence`."""
        return sum(line.from_funds_pence for line in self.lines)

    @property
    def problems(self) -> list[str]:
        return [line.problem for line in self.lines if line.problem] + [
            problem
            for package in self.carrying_on
            if (problem := package.problem(self.budget)) is not None
        ]

    @property
    def first_day_after(self) -> date:
        return self.budget.ends_on + timedelta(days=1)


def preview_close(
    session: Session,
    budget: PersonalBudget,
    *,
    choices: Mapping[uuid.UUID, CloseChoice] | None = None,
    next_budget: PersonalBudget | None = None,
    carrying_on: Sequence[CarryingOn] = (),
) -> ClosePreview:
    """What closing the period would move, stream by stream; changes nothing.

    `choices` maps a stream id to return or carry forward (return when absent). A line has a
    `problem` when closing cannot go ahead: money still committed (named in `held_for`), or
    nowhere to carry to. `carrying_on` are the person's packages that go on after the period:
    one with no next budget to pay for it is a problem too.
    """
    choices = choices or {}
    lines = []
    for stream in budget.streams:
        choice = CloseChoice(choices.get(stream.id, CloseChoice.RETURN))
        held = ledger.balance(session, stream.account_id)
        to_come = ledger.balance(session, stream.unreleased_account_id).posted
        destination = None
        problem = None
        held_for: tuple[str, ...] = ()
        from_funds = isf.unspent_in_funds(session, stream)  # ISF
        if held.debits_pending:
            held_for = _held_for(session, stream)
            problem = f"{stream.kind.label}: {pounds(held.debits_pending)} is still committed" + (
                f" ({'; '.join(held_for)})" if held_for else ""
            )
        elif choice is CloseChoice.CARRY_FORWARD:
            destination = _matching_stream(stream, next_budget)
            if destination is None:
                problem = f"{stream.kind.label}: the next budget has no stream to carry into"
        lines.append(
            CloseLine(
                stream,
                choice,
                # ISF: what the stream's open Individual Service Funds hold comes back to it
                # first at the close (budgets/isf.py), so it is unspent money too.
                held.available + to_come + from_funds,
                held.debits_pending,
                destination,
                problem,
                held_for,
                from_funds,
            )
        )
    return ClosePreview(budget, lines, list(carrying_on))


def _held_for(session: Session, stream: FundingStream) -> tuple[str, ...]:
    """The description of each hold on the stream not yet paid or released, oldest first
    (holds without one are counted in the amount, not named)."""
    pending = session.scalars(
        select(Transfer)
        .where(
            Transfer.debit_account_id == stream.account_id,
            Transfer.kind == TransferKind.PENDING,
        )
        .order_by(Transfer.created_at, Transfer.idempotency_key)
    ).all()
    return tuple(
        transfer.description
        for transfer in pending
        if transfer.resolution is None and transfer.description
    )


def close_period(
    session: Session,
    budget: PersonalBudget,
    *,
    choices: Mapping[uuid.UUID, CloseChoice] | None = None,
    next_budget: PersonalBudget | None = None,
    expected_unspent_pence: int | None = None,
    carrying_on: Sequence[CarryingOn] = (),
) -> ClosePreview:
    """Close the budget's period as previewed: release what is still to come, then move each
    stream's unspent money back or forward, and mark the budget closed. Returns the plan done.

    Pass the preview's `unspent_pence` as `expected_unspent_pence` to refuse if anything has
    moved since the preview, and the packages that go on after the period as `carrying_on`
    (`marketplace.orders.package_periods.carrying_on`): their later cycles are the next
    budget's and are left alone. Raises BudgetClosed, CloseRefused (a problem in the preview,
    such as a package with no next budget to carry on into, or the figures changed since it).
    """
    accounts = [a for s in budget.streams for a in (s.unreleased_account_id, s.account_id)]
    accounts += [s.source_account_id for s in budget.streams]
    if next_budget is not None:
        accounts += [s.account_id for s in next_budget.streams]
    accounts += isf.fund_accounts_to_lock(session, budget)  # ISF: the open funds' accounts
    ledger.lock_accounts(session, accounts)
    if current_status(session, budget.id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is already closed")
    if next_budget is not None and (
        next_budget.person_id != budget.person_id
        or next_budget.starts_on <= budget.starts_on
        or current_status(session, next_budget.id) is BudgetStatus.CLOSED
    ):
        raise CloseRefused("money can only be carried into the same person's next open budget")
    plan = preview_close(
        session, budget, choices=choices, next_budget=next_budget, carrying_on=carrying_on
    )
    if plan.problems:
        raise CloseRefused("the period cannot be closed yet", problems=plan.problems)
    if expected_unspent_pence is not None and expected_unspent_pence != plan.unspent_pence:
        raise CloseRefused(
            "the budget has changed since the preview; preview again",
            expected_pence=expected_unspent_pence,
            unspent_pence=plan.unspent_pence,
        )
    with ledger.savepoint(session):
        # ISF: each open Individual Service Fund first returns what it holds to its stream.
        isf.close_funds_of_budget(session, budget, why="The budget's period ended")
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


def carry_where_possible(
    budget: PersonalBudget, next_budget: PersonalBudget | None
) -> dict[uuid.UUID, CloseChoice]:
    """The choices that carry each stream forward where the next budget has a stream like it
    and return it otherwise (issue 19's period end in bulk, under the council's rule "carry
    forward where there is a next budget")."""
    return {
        stream.id: CloseChoice.CARRY_FORWARD
        if _matching_stream(stream, next_budget) is not None
        else CloseChoice.RETURN
        for stream in budget.streams
    }


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
