"""Setting up a personal budget, releasing its instalments, and revising its streams.

Every movement of money is a ledger transfer: a stream's allocation comes out of its funder's
pot (or the person's own money) into the stream's unreleased account; each instalment moves
from there into the stream's available account on its date; a revision moves the difference
either way, with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, select

from marketplace import ledger
from marketplace.budgets.errors import BudgetClosed, BudgetError
from marketplace.budgets.funders import contributions_account
from marketplace.budgets.models import (
    BudgetStatus,
    FunderPot,
    FunderPotLine,
    FundingStream,
    Instalment,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
    StreamRevision,
)
from marketplace.budgets.rules import (
    DEFAULT_ALLOWED_CATEGORY_CODES,
    DEFAULT_DRAW_ORDER,
    TransferCode,
    financial_year_of,
)
from marketplace.budgets.schedule import instalment_dates, split_evenly
from marketplace.formatting import pounds
from marketplace.ledger import LedgerAccount, Transfer
from marketplace.ledger.transfers import REASON_LENGTH
from marketplace.people.models import Person
from marketplace.types import Session


@dataclass(frozen=True)
class StreamSpec:
    """One funding stream asked for: its kind, whole amount for the period, and the pot it
    comes from (council and NHS streams only). Draw order and allowed categories default by
    kind when None (see `rules`: the NHS stream pays for health-related categories only)."""

    kind: StreamKind
    amount_pence: int
    pot: FunderPot | None = None
    draw_order: int | None = None
    allowed_category_codes: Collection[str] | None = None
    # Issue 19: the line of the pot the stream is drawn for (None: the pot as a whole).
    pot_line: FunderPotLine | None = None

    @property
    def position(self) -> int:
        return self.draw_order if self.draw_order is not None else DEFAULT_DRAW_ORDER[self.kind]


def create_budget(
    session: Session,
    *,
    person: Person,
    starts_on: date,
    ends_on: date,
    frequency: PaymentFrequency,
    streams: Sequence[StreamSpec],
    today: date,
) -> PersonalBudget:
    """Give `person` a budget for the period, allocating each stream out of its source, and
    release the instalments already due by `today`.

    Raises BudgetError (bad period, no streams, a stream without the right pot, two streams in
    one draw position), the ledger's InvalidTransfer (an amount that is not whole positive
    pence) and InsufficientFunds (a pot cannot cover its streams; nothing is recorded).
    """
    if ends_on < starts_on:
        raise BudgetError("the period must end on or after its start")
    if not streams:
        raise BudgetError("a budget needs at least one funding stream")
    if len({spec.position for spec in streams}) != len(streams):
        raise BudgetError("two funding streams cannot share a draw order")
    budget = PersonalBudget(
        id=uuid.uuid4(), person=person, starts_on=starts_on, ends_on=ends_on, frequency=frequency
    )
    dates = instalment_dates(starts_on, ends_on, frequency)
    with ledger.savepoint(session):
        session.add(budget)
        for spec in streams:
            _add_stream(session, budget, spec, dates)
        _release_new_budget(session, budget, today)
    return budget


def _release_new_budget(session: Session, budget: PersonalBudget, today: date) -> None:
    """Release the instalments of a budget made in this transaction that are due by `today`,
    in the order `release_due_instalments` would. No other transaction can see the budget
    yet, so none can have released them: no stream lock and no second read of each flag. The
    flags are set once every transfer is made, and flushed together."""
    due = session.scalars(_due_by(today).where(FundingStream.budget_id == budget.id)).all()
    released = [(instalment, _release_transfer(session, instalment)) for instalment in due]
    for instalment, transfer in released:
        if transfer is not None:
            instalment.released_transfer = transfer
        instalment.released = True
    session.flush()


def _add_stream(
    session: Session, budget: PersonalBudget, spec: StreamSpec, dates: list[date]
) -> FundingStream:
    ledger.check_amount_pence(spec.amount_pence)
    funder_kind = spec.kind.funder_kind
    if funder_kind is None:
        if spec.pot is not None:
            raise BudgetError(f"a {spec.kind} stream is paid by the person, not from a pot")
        source = contributions_account(session, budget.person.id)
    else:
        if spec.pot is None or spec.pot.funder.kind is not funder_kind:
            raise BudgetError(f"a {spec.kind} stream needs a pot of a {funder_kind} funder")
        if spec.pot.financial_year != financial_year_of(budget.starts_on):
            raise BudgetError(
                "the pot must be for the financial year in which the budget starts",
                financial_year=financial_year_of(budget.starts_on),
            )
        source = spec.pot.account
    if spec.pot_line is not None and (spec.pot is None or spec.pot_line.pot_id != spec.pot.id):
        raise BudgetError("a stream's pot line must be a line of the pot it comes from")
    allowed = (
        DEFAULT_ALLOWED_CATEGORY_CODES[spec.kind]
        if spec.allowed_category_codes is None
        else spec.allowed_category_codes
    )
    stream_id = uuid.uuid4()
    # The stream's two accounts are as new as its id, so no account has their codes yet:
    # made here and flushed with the stream, not looked up and flushed one at a time by
    # `ledger.open_account`.
    unreleased = LedgerAccount(
        id=uuid.uuid4(),
        code=f"stream:{stream_id}:unreleased",
        name=f"{spec.kind.label} (to come)",
        guarded=True,
    )
    available = LedgerAccount(
        id=uuid.uuid4(),
        code=f"stream:{stream_id}:available",
        name=f"{spec.kind.label} (available)",
        guarded=True,
    )
    session.add_all([unreleased, available])
    stream = FundingStream(
        id=stream_id,
        budget=budget,
        kind=spec.kind,
        pot=spec.pot,
        pot_line=spec.pot_line,
        amount_pence=spec.amount_pence,
        draw_order=spec.position,
        allowed_category_codes=None if allowed is None else sorted(set(allowed)),
        source_account=source,
        unreleased_account=unreleased,
        account=available,
    )
    session.add(stream)
    for number, (due_on, share) in enumerate(
        zip(dates, split_evenly(spec.amount_pence, len(dates)), strict=True), start=1
    ):
        stream.instalments.append(Instalment(number=number, due_on=due_on, amount_pence=share))
    session.flush()
    ledger.transfer(
        session,
        key=f"allocation:{stream.id}",
        debit=source,
        credit=stream.unreleased_account,
        amount_pence=spec.amount_pence,
        code=TransferCode.ALLOCATION,
        description=f"{spec.kind.label} allocation for {budget.starts_on:%-d %B %Y} "
        f"to {budget.ends_on:%-d %B %Y}",
    )
    return stream


def release_due_instalments(
    session: Session, today: date, *, budget: PersonalBudget | None = None
) -> list[Instalment]:
    """Release every instalment due on or before `today` (of one budget, or of all open ones)
    into its stream's available balance. Returns those released by this call.

    Safe to run twice, or in two processes at once: each release is a ledger transfer keyed by
    its instalment, so a second run records nothing.
    """
    query = _due_by(today)
    if budget is not None:
        query = query.where(FundingStream.budget_id == budget.id)
    return [
        instalment
        for instalment in session.scalars(query).all()
        if release_instalment(session, instalment)
    ]


def _due_by(today: date) -> Select[Instalment]:
    """The instalments of open budgets due by `today` and not yet released, oldest first."""
    return (
        select(Instalment)
        .join(FundingStream)
        .join(PersonalBudget)
        .where(
            Instalment.due_on <= today,
            Instalment.released.is_(False),
            PersonalBudget.status == BudgetStatus.OPEN,
        )
        .order_by(Instalment.due_on, Instalment.number)
    )


def release_instalment(session: Session, instalment: Instalment) -> bool:
    """Move one instalment into its stream's available balance (nothing if it is nil).
    Returns False if another process released it first: the money moves once either way, and
    the caller's count of what it released is then true too."""
    stream = instalment.stream
    # Another scheduler may have released it since it was read: take the stream's lock, then
    # read the flag again.
    ledger.lock_accounts(session, [stream.account_id])
    session.refresh(instalment, attribute_names=["released"])
    if instalment.released:
        return False
    transfer = _release_transfer(session, instalment)
    if transfer is not None:
        instalment.released_transfer = transfer
    instalment.released = True
    session.flush()
    return True


def _release_transfer(session: Session, instalment: Instalment) -> Transfer | None:
    """The ledger transfer that releases the instalment (None for a nil one)."""
    if instalment.amount_pence <= 0:
        return None
    stream = instalment.stream
    return ledger.transfer(
        session,
        key=f"instalment:{instalment.id}",
        debit=stream.unreleased_account_id,
        credit=stream.account_id,
        amount_pence=instalment.amount_pence,
        code=TransferCode.RELEASE,
        description=f"Instalment {instalment.number} of {len(stream.instalments)}, "
        f"due {instalment.due_on:%-d %B %Y}",
    )


def revise_stream(
    session: Session, stream: FundingStream, *, amount_pence: int, reason: str, key: str
) -> StreamRevision | None:
    """Change a stream's whole amount for the period to `amount_pence`, with a reason.

    An increase comes out of the stream's source into the instalments still to come (spread
    evenly) or, when none are left, straight into its available balance. A decrease is taken
    from the latest instalments still to come first, then from what is available; it can
    never take what is committed or spent. Returns the revision (None if the amount is
    unchanged); replaying `key` for the same stream and amount returns the first revision.

    Raises BudgetError (no reason, an amount that is not whole pence, or below what is
    committed and spent, with `minimum_pence`), BudgetClosed, InsufficientFunds (the pot
    cannot cover an increase), IdempotencyConflict (`key` used for another revision).
    """
    if not reason.strip() or len(reason.strip()) > REASON_LENGTH:
        raise BudgetError(f"a revision needs a reason of at most {REASON_LENGTH} characters")
    if type(amount_pence) is not int or not 0 <= amount_pence <= ledger.MAX_AMOUNT_PENCE:
        raise BudgetError("a stream's amount must be a whole number of pence, 0 or more")
    ledger.lock_accounts(
        session, [stream.source_account_id, stream.unreleased_account_id, stream.account_id]
    )
    earlier = session.scalars(
        select(StreamRevision).where(StreamRevision.idempotency_key == key)
    ).first()
    if earlier is not None:
        if (earlier.stream_id, earlier.amount_pence) != (stream.id, amount_pence):
            raise ledger.IdempotencyConflict(
                "this idempotency key was used for a different revision", idempotency_key=key
            )
        return earlier
    # Read again now that the accounts are locked: another revision may have just committed.
    session.refresh(stream)
    if current_status(session, stream.budget_id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is closed")
    change = amount_pence - stream.amount_pence
    if change == 0:
        return None
    to_come = list(
        session.scalars(
            select(Instalment)
            .where(Instalment.stream_id == stream.id, Instalment.released.is_(False))
            .order_by(Instalment.number)
            .execution_options(populate_existing=True)
        )
    )
    revision = StreamRevision(
        stream=stream,
        idempotency_key=key,
        previous_amount_pence=stream.amount_pence,
        amount_pence=amount_pence,
        reason=reason.strip(),
    )
    with ledger.savepoint(session):
        if change > 0:
            _revise_up(session, stream, change, to_come, revision)
        else:
            _revise_down(session, stream, -change, to_come, revision)
        stream.amount_pence = amount_pence
        session.add(revision)
        session.flush()
    return revision


def current_status(session: Session, budget_id: uuid.UUID) -> BudgetStatus:
    """The budget's status as committed now, not as this session last saw it."""
    status = session.scalar(select(PersonalBudget.status).where(PersonalBudget.id == budget_id))
    return BudgetStatus(status)


def _revise_up(
    session: Session,
    stream: FundingStream,
    increase: int,
    to_come: list[Instalment],
    revision: StreamRevision,
) -> None:
    if not to_come:
        _revision(session, stream.source_account_id, stream.account_id, increase, revision, "up")
        return
    _revision(
        session, stream.source_account_id, stream.unreleased_account_id, increase, revision, "up"
    )
    for instalment, share in zip(to_come, split_evenly(increase, len(to_come)), strict=True):
        instalment.amount_pence += share


def _revise_down(
    session: Session,
    stream: FundingStream,
    decrease: int,
    to_come: list[Instalment],
    revision: StreamRevision,
) -> None:
    from_unreleased = min(decrease, sum(i.amount_pence for i in to_come))
    from_available = decrease - from_unreleased
    available = ledger.balance(session, stream.account_id).available
    if from_available > available:
        raise BudgetError(
            "a stream cannot be revised below what is already committed and spent",
            minimum_pence=stream.amount_pence - from_unreleased - available,
        )
    if from_unreleased:
        _revision(
            session,
            stream.unreleased_account_id,
            stream.source_account_id,
            from_unreleased,
            revision,
            "to-come",
        )
        remaining = from_unreleased
        for instalment in reversed(to_come):
            taken = min(remaining, instalment.amount_pence)
            instalment.amount_pence -= taken
            remaining -= taken
    if from_available:
        _revision(
            session,
            stream.account_id,
            stream.source_account_id,
            from_available,
            revision,
            "available",
        )


def _revision(
    session: Session,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    revision: StreamRevision,
    part: str,
) -> Transfer:
    return ledger.transfer(
        session,
        key=f"{revision.idempotency_key}:{part}",
        debit=debit,
        credit=credit,
        amount_pence=amount,
        code=TransferCode.REVISION,
        description=f"Revised from {pounds(revision.previous_amount_pence)} "
        f"to {pounds(revision.amount_pence)}",
        reference=revision.idempotency_key,
        reason=revision.reason,
    )
