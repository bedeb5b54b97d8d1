"""Individual Service Funds (issue 18, item 6): part of a person's budget held by a provider
for them, spent as they agreed together.

The life of a fund, each step one ledger transfer at most (docs/packages.md, "ISF"):

- the person (or someone acting for them with "order" consent) asks a provider to hold an
  amount from one of their budget's streams (`request_isf`): nothing moves yet;
- the provider's staff agree or decline (`decide`); agreeing moves the amount from the
  stream's available money into the fund's own guarded account (code `isf`), once;
- the provider records each thing it spent the money on (`record_spend`): fund -> the
  provider's payee account (code `isf_spend`), never more than the fund holds (the account is
  guarded, so two spends at once cannot overdraw it);
- what is unspent goes back to the stream (`return_unspent`, code `isf_return`): at the end
  of the budget's period (closing calls `close_funds_of_budget` before it returns or carries
  the stream's unspent money), when the council suspends the provider
  (`suspend_funds_of`), or when an officer ends the fund.

To the budget's figures money moved into a fund and not returned is "in Individual Service
Funds" (`Figures.isf_pence`): allocated = committed + spent + available + returned + carried
forward + in ISFs. `flask ledger verify` checks each fund's account holds exactly agreed -
spent - returned (`budgets.verify.check_isfs`).

Plain rules: they flush and never commit; the edge checks who may ask (policy.py).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.allocations import current_status
from marketplace.budgets.errors import BudgetClosed, BudgetError
from marketplace.budgets.funders import payee_account
from marketplace.budgets.models import (
    BudgetStatus,
    FundingStream,
    IndividualServiceFund,
    IsfSpend,
    IsfState,
    PersonalBudget,
)
from marketplace.budgets.rules import TransferCode
from marketplace.formatting import london_today, pounds
from marketplace.ledger import InsufficientFunds, Transfer, TransferKind
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    notify,
    recipients_for_organisation,
    recipients_for_person,
)
from marketplace.people.models import Consent, Person
from marketplace.types import Session, utcnow
from providers.models import Organisation, OrganisationStatus

__all__ = [
    "MAX_FUND_PENCE",
    "IsfLine",
    "IsfRefused",
    "IsfStatement",
    "close_funds_of_budget",
    "decide",
    "fund_accounts_to_lock",
    "funds_of_budget",
    "funds_of_organisation",
    "funds_of_person",
    "isf_statement",
    "open_budget_of",
    "record_spend",
    "request_isf",
    "return_unspent",
    "streams_for_isf",
    "suspend_funds_of",
    "unspent_in_funds",
]

# The most one fund may hold: far above a period's care, well below a mistyped figure.
MAX_FUND_PENCE = 100_000_00
AGREEMENT_MAX = 2000
DESCRIPTION_MAX = 500  # isf_spends.description is String(500)
_REFERENCE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"

# Where each kind of user reads a fund (the notifications' links; the pages are at the edge).
PERSON_PAGE = "/my/isf/{id}"
PROVIDER_PAGE = "/provider/isf/{id}"

_OPEN = (IsfState.REQUESTED, IsfState.AGREED)


class IsfRefused(BudgetError):
    """The fund cannot be asked for, decided, spent from or returned as asked; nothing was
    done. The message is for the person reading the page."""


# --- asking ---------------------------------------------------------------------------------


def streams_for_isf(budget: PersonalBudget) -> list[FundingStream]:
    """The budget's streams that may pay into an ISF, in draw order: those not limited to some
    kinds of care (an NHS stream kept for health care is not), since an ISF's money is spent
    as the person and the provider agree, not on one service."""
    return [
        stream
        for stream in sorted(budget.streams, key=lambda s: s.draw_order)
        if not stream.allowed_category_codes
    ]


def request_isf(
    session: Session,
    *,
    person: Person,
    organisation: Organisation,
    amount_pence: int,
    agreement: str,
    by: User,
    consent: Consent | None = None,
    budget: PersonalBudget | None = None,
    stream: FundingStream | None = None,
    today: date | None = None,
) -> IndividualServiceFund:
    """Ask `organisation` to hold `amount_pence` of the person's open `budget` (by default the
    open one whose period includes `today`, London's today if not given) as an ISF, spent as
    `agreement` says. The money comes from `stream` if given, else from the first stream in
    draw order that may pay into an ISF and has that much available now. Nothing moves until
    the provider agrees; its staff are told.

    Raises IsfRefused (no open budget, an amount not above £0 or above MAX_FUND_PENCE, no
    agreement, a provider not approved, a stream not the budget's or limited to some care, no
    stream with enough money), BudgetClosed.
    """
    agreement = agreement.strip()
    if budget is None:
        budget = open_budget_of(session, person, today or london_today())
        if budget is None:
            raise IsfRefused("There is no open personal budget to take the money from")
    if budget.person_id != person.id:
        raise IsfRefused("That budget is not this person's")
    if current_status(session, budget.id) is not BudgetStatus.OPEN:
        raise BudgetClosed("This budget's period is closed")
    _check_request(amount_pence, agreement, organisation)
    stream = _paying_stream(session, budget, amount_pence, stream)
    fund_id = uuid.uuid4()
    reference = "ISF-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
    account = ledger.open_account(
        session, code=f"isf:{fund_id}", name=f"Individual Service Fund {reference}", guarded=True
    )
    fund = IndividualServiceFund(
        id=fund_id,
        reference=reference,
        person_id=person.id,
        budget_id=budget.id,
        stream_id=stream.id,
        organisation_id=organisation.id,
        account_id=account.id,
        amount_pence=amount_pence,
        agreement=agreement,
        state=IsfState.REQUESTED,
        requested_by_id=by.id,
        consent_id=consent.id if consent is not None else None,
    )
    session.add(fund)
    session.flush()
    notify(
        session,
        recipients_for_organisation(session, organisation.id),
        NotificationKind.ISF_REQUESTED,
        title="Someone has asked you to hold an Individual Service Fund",
        link=PROVIDER_PAGE.format(id=fund.id),
    )
    return fund


def _check_request(amount_pence: int, agreement: str, organisation: Organisation) -> None:
    _check_amount(amount_pence)
    if amount_pence > MAX_FUND_PENCE:
        raise IsfRefused(f"The amount must be {pounds(MAX_FUND_PENCE)} or less", field="amount")
    if not agreement:
        raise IsfRefused("Say how the money will be spent", field="agreement")
    if len(agreement) > AGREEMENT_MAX:
        raise IsfRefused(
            f"Say how the money will be spent in {AGREEMENT_MAX} characters or fewer",
            field="agreement",
        )
    if organisation.status is not OrganisationStatus.APPROVED:
        raise IsfRefused(
            f"{organisation.name} is not approved by the council, so it cannot hold a fund",
            field="organisation",
        )


def _check_amount(amount_pence: int) -> None:
    if isinstance(amount_pence, bool) or not isinstance(amount_pence, int) or amount_pence <= 0:
        raise IsfRefused("The amount must be more than £0.00", field="amount")


def _paying_stream(
    session: Session,
    budget: PersonalBudget,
    amount_pence: int,
    stream: FundingStream | None,
) -> FundingStream:
    """`stream` if it may pay `amount_pence` into an ISF now, else the first that may."""
    allowed = streams_for_isf(budget)
    balances = ledger.balances(session, [s.account_id for s in allowed])
    available = {s.id: balances[s.account_id].available for s in allowed}
    if stream is None:
        found = next((s for s in allowed if available[s.id] >= amount_pence), None)
        if found is None:
            most = max(available.values(), default=0)
            raise IsfRefused(
                f"No part of the budget has {pounds(amount_pence)} to spend now: the most "
                f"one part has is {pounds(most)}",
                field="amount",
            )
        return found
    if stream not in allowed:
        raise IsfRefused(
            "That part of the budget cannot pay into an Individual Service Fund",
            field="stream",
        )
    if available[stream.id] < amount_pence:
        raise IsfRefused(
            f"{stream.kind.label} has {pounds(available[stream.id])} to spend now, "
            f"not {pounds(amount_pence)}",
            field="amount",
        )
    return stream


# --- deciding -------------------------------------------------------------------------------


def decide(
    session: Session,
    fund: IndividualServiceFund,
    *,
    by: User,
    agree: bool,
    reason: str = "",
) -> IndividualServiceFund:
    """The provider's answer. Agreeing moves the fund's amount from its stream's available
    money into the fund's account (one transfer, keyed by the fund: a retried answer moves
    nothing more); declining needs a reason the person reads. The person is told.

    The same answer given twice changes nothing; the other answer after one is refused.
    Raises IsfRefused (not the fund's provider, decided otherwise, the provider not
    approved, a decline without a reason), BudgetClosed, InsufficientFunds (the stream no
    longer has the money: nothing moved, the fund still waits).
    """
    if by.organisation_id != fund.organisation_id:
        raise IsfRefused("Only the provider asked can agree or decline this fund")
    reason = reason.strip()
    stream = session.get_one(FundingStream, fund.stream_id)
    ledger.lock_accounts(session, [stream.account_id, fund.account_id])
    session.refresh(fund)
    wanted = IsfState.AGREED if agree else IsfState.DECLINED
    if fund.state is wanted:
        return fund
    if fund.state is not IsfState.REQUESTED:
        raise IsfRefused(f"This fund is already {fund.state.label.lower()}")
    if not agree and not reason:
        raise IsfRefused("Say why you are declining: the person will read it", field="reason")
    organisation = session.get_one(Organisation, fund.organisation_id)
    if agree and organisation.status is not OrganisationStatus.APPROVED:
        raise IsfRefused(f"{organisation.name} is not approved by the council")
    if current_status(session, fund.budget_id) is not BudgetStatus.OPEN:
        raise BudgetClosed("The budget's period is closed")
    if agree:
        # The provider's payee account exists before its first spend (made here, under the
        # fund's lock, rather than by two spends racing to make it).
        _payee(session, organisation)
        try:
            ledger.transfer(
                session,
                key=f"isf:{fund.id}:agreed",
                debit=stream.account_id,
                credit=fund.account_id,
                amount_pence=fund.amount_pence,
                code=TransferCode.ISF,
                description=(
                    f"Held by {organisation.name} as an Individual Service Fund ({fund.reference})"
                ),
                reference=fund.reference,
            )
        except InsufficientFunds as short:
            raise InsufficientFunds(
                f"The person's budget no longer has {pounds(fund.amount_pence)} to spare "
                f"({stream.kind.label} is {pounds(short.shortfall_pence)} short), so the fund "
                "cannot be agreed now",
                shortfall_pence=short.shortfall_pence,
            ) from short
    fund.state = wanted
    fund.decided_by_id = by.id
    fund.decided_at = utcnow()
    fund.decision_reason = reason
    session.flush()
    notify(
        session,
        recipients_for_person(session, fund.person_id),
        NotificationKind.ISF_DECIDED,
        title=(
            f"{organisation.name} agreed to hold your Individual Service Fund"
            if agree
            else f"{organisation.name} declined your Individual Service Fund"
        ),
        link=PERSON_PAGE.format(id=fund.id),
    )
    return fund


# --- spending -------------------------------------------------------------------------------


def record_spend(
    session: Session,
    fund: IndividualServiceFund,
    *,
    spent_on: date,
    amount_pence: int,
    description: str,
    by: User,
    key: str,
    today: date | None = None,
) -> IsfSpend:
    """The provider records money spent from the fund: one transfer from the fund to the
    provider, never more than the fund holds (its account is guarded, so two spends recorded at
    once cannot both take the last pounds). `key` (made when the form was shown) makes a
    retried form record it once: the same key returns the first spend.

    Raises IsfRefused (not the fund's provider, a fund not agreed or suspended or closed, no
    description, a date in the future or before the budget's period, the key used for another
    spend), InsufficientFunds (more than the fund holds: nothing recorded).
    """
    if by.organisation_id != fund.organisation_id:
        raise IsfRefused("Only the provider holding this fund can record spending from it")
    description = description.strip()
    earlier = session.scalars(select(IsfSpend).where(IsfSpend.key == key)).first()
    if earlier is not None:
        if earlier.fund_id != fund.id or earlier.amount_pence != amount_pence:
            raise IsfRefused("This form was already used for other spending; start again")
        return earlier
    budget = session.get_one(PersonalBudget, fund.budget_id)
    _check_spend(amount_pence, description, spent_on, today=today or london_today(), budget=budget)
    organisation = session.get_one(Organisation, fund.organisation_id)
    # Lock the fund's account, then read its state afresh: a suspension or a return that got
    # there first has ended the spending. The lock comes before the provider's payee account
    # is found (made, the first time): two first spends at once would both make it.
    ledger.lock_accounts(session, [fund.account_id])
    session.refresh(fund)
    payee = _payee(session, organisation)
    if fund.state is not IsfState.AGREED:
        raise IsfRefused(
            f"This fund is {fund.state.label.lower()}: no more spending can be recorded"
        )
    try:
        transfer = ledger.transfer(
            session,
            key=f"isf-spend:{key}",
            debit=fund.account_id,
            credit=payee,
            amount_pence=amount_pence,
            code=TransferCode.ISF_SPEND,
            description=description,
            reference=fund.reference,
        )
    except InsufficientFunds as short:
        held = ledger.balance(session, fund.account_id).available
        raise InsufficientFunds(
            f"The fund holds {pounds(held)}: you cannot record {pounds(amount_pence)}",
            shortfall_pence=short.shortfall_pence,
        ) from short
    spend = IsfSpend(
        fund_id=fund.id,
        spent_on=spent_on,
        amount_pence=amount_pence,
        description=description,
        key=key,
        transfer_id=transfer.id,
        recorded_by_id=by.id,
    )
    session.add(spend)
    session.flush()
    notify(
        session,
        recipients_for_person(session, fund.person_id),
        NotificationKind.ISF_SPENT,
        title=f"{organisation.name} recorded spending from your Individual Service Fund",
        link=PERSON_PAGE.format(id=fund.id),
        email=False,
    )
    return spend


def _check_spend(
    amount_pence: int, description: str, spent_on: date, *, today: date, budget: PersonalBudget
) -> None:
    _check_amount(amount_pence)
    if not description:
        raise IsfRefused("Say what the money was spent on", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise IsfRefused(
            f"Say what it was spent on in {DESCRIPTION_MAX} characters or fewer",
            field="description",
        )
    if spent_on > today:
        raise IsfRefused("The date spent cannot be in the future", field="spent_on")
    if spent_on < budget.starts_on:
        raise IsfRefused(
            f"The date spent must be on or after {budget.starts_on:%-d %B %Y}, when the "
            "budget's period began",
            field="spent_on",
        )


def _payee(session: Session, organisation: Organisation) -> ledger.LedgerAccount:
    """The provider's payee account, the one its orders are paid to too."""
    return payee_account(session, code=f"organisation:{organisation.id}", name=organisation.name)


# --- returning ------------------------------------------------------------------------------


def return_unspent(
    session: Session,
    fund: IndividualServiceFund,
    *,
    by: User | None,
    why: str,
    state: IsfState = IsfState.CLOSED,
) -> Transfer | None:
    """End the fund: what it holds goes back to its stream (one transfer, keyed by the fund,
    with `why` as its reason), and it becomes `state` (CLOSED, or SUSPENDED when its provider
    was suspended). A fund never agreed just ends. Returns the transfer, None if nothing was
    held; a fund already ended changes nothing.

    Raises IsfRefused (no reason given), BudgetClosed (the budget closed with the fund
    still open: only a bug does that, and verify reports it).
    """
    why = why.strip()
    if not why:
        raise IsfRefused("Say why the fund is ending", field="why")
    stream = session.get_one(FundingStream, fund.stream_id)
    ledger.lock_accounts(session, [stream.account_id, fund.account_id])
    session.refresh(fund)
    if fund.state not in _OPEN:
        return None
    moved = None
    held = ledger.balance(session, fund.account_id).available
    if held:
        if current_status(session, fund.budget_id) is not BudgetStatus.OPEN:
            raise BudgetClosed("The budget's period is closed: its funds should have ended")
        moved = ledger.transfer(
            session,
            key=f"isf:{fund.id}:returned",
            debit=fund.account_id,
            credit=stream.account_id,
            amount_pence=held,
            code=TransferCode.ISF_RETURN,
            description=f"Unspent money back from Individual Service Fund {fund.reference}",
            reason=why,
            reference=fund.reference,
        )
    fund.state = state
    fund.closed_at = utcnow()
    if fund.decided_at is None:
        fund.decision_reason = why
    session.flush()
    return moved


def close_funds_of_budget(session: Session, budget: PersonalBudget, *, why: str) -> int:
    """At the end of the budget's period: every fund still open returns what it holds to its
    stream (before the stream's own unspent money is returned or carried forward) and
    closes. Returns the pence returned. The caller holds the accounts'
    locks (`fund_accounts_to_lock`)."""
    returned = 0
    for fund in funds_of_budget(session, budget, open_only=True):
        moved = return_unspent(session, fund, by=None, why=why)
        returned += moved.amount_pence if moved is not None else 0
    return returned


def suspend_funds_of(
    session: Session, organisation: Organisation, *, by: User, why: str
) -> list[IndividualServiceFund]:
    """The council suspended `organisation`: each of its open funds is suspended (no more
    spending), and what it holds goes back to the person's budget at once. Each person is
    told. Returns the funds suspended."""
    funds = funds_of_organisation(session, organisation, open_only=True)
    for fund in funds:
        return_unspent(
            session,
            fund,
            by=by,
            why=f"{organisation.name} was suspended by the council: {why}",
            state=IsfState.SUSPENDED,
        )
        notify(
            session,
            recipients_for_person(session, fund.person_id),
            NotificationKind.ISF_DECIDED,
            title=(
                f"Your Individual Service Fund with {organisation.name} has stopped: "
                "what was left is back in your budget"
            ),
            link=PERSON_PAGE.format(id=fund.id),
        )
    return funds


def unspent_in_funds(session: Session, stream: FundingStream) -> int:
    """What the open funds paid from `stream` hold now: it comes back to the stream at the
    close, so a close's preview counts it as unspent."""
    funds = session.scalars(
        select(IndividualServiceFund).where(
            IndividualServiceFund.stream_id == stream.id,
            IndividualServiceFund.state.in_(_OPEN),
        )
    ).all()
    if not funds:
        return 0
    balances = ledger.balances(session, [fund.account_id for fund in funds])
    return sum(balances[fund.account_id].available for fund in funds)


def fund_accounts_to_lock(session: Session, budget: PersonalBudget) -> list[uuid.UUID]:
    """The accounts of the budget's open funds, for a close to lock with its streams'."""
    return [fund.account_id for fund in funds_of_budget(session, budget, open_only=True)]


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IsfLine:
    """One movement of the fund's money, with the fund's balance after it."""

    at: datetime
    what: str
    description: str
    in_pence: int
    out_pence: int
    balance_pence: int
    spent_on: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class IsfStatement:
    fund: IndividualServiceFund
    lines: list[IsfLine]
    agreed_pence: int
    spent_pence: int
    returned_pence: int

    @property
    def balance_pence(self) -> int:
        return self.agreed_pence - self.spent_pence - self.returned_pence


def isf_statement(session: Session, fund: IndividualServiceFund) -> IsfStatement:
    """The fund as its ledger account tells it, oldest first: the money agreed into it, each
    spend (with the day it was spent and what on), what went back; and the totals. The person,
    the provider and the council all read this."""
    transfers = session.scalars(
        select(Transfer)
        .where(
            or_(
                Transfer.debit_account_id == fund.account_id,
                Transfer.credit_account_id == fund.account_id,
            ),
            Transfer.kind == TransferKind.POSTED,
        )
        .order_by(Transfer.created_at, Transfer.idempotency_key)
    ).all()
    spent_on = {spend.transfer_id: spend.spent_on for spend in fund.spends}
    totals = {TransferCode.ISF: 0, TransferCode.ISF_SPEND: 0, TransferCode.ISF_RETURN: 0}
    balance = 0
    lines = []
    for transfer in transfers:
        inflow = transfer.credit_account_id == fund.account_id
        amount = transfer.amount_pence
        balance += amount if inflow else -amount
        code = TransferCode(transfer.code)
        totals[code] = totals.get(code, 0) + amount
        lines.append(
            IsfLine(
                at=transfer.created_at,
                what=_WORDS[code],
                description=transfer.description,
                in_pence=amount if inflow else 0,
                out_pence=0 if inflow else amount,
                balance_pence=balance,
                spent_on=spent_on.get(transfer.id),
                reason=transfer.reason,
            )
        )
    return IsfStatement(
        fund,
        lines,
        agreed_pence=totals[TransferCode.ISF],
        spent_pence=totals[TransferCode.ISF_SPEND],
        returned_pence=totals[TransferCode.ISF_RETURN],
    )


_WORDS = {
    TransferCode.ISF: "Agreed: moved from the budget into the fund",
    TransferCode.ISF_SPEND: "Spent",
    TransferCode.ISF_RETURN: "Unspent money returned to the budget",
}


def open_budget_of(session: Session, person: Person, today: date) -> PersonalBudget | None:
    """The person's open budget whose period includes `today`, if any: what a fund comes from."""
    return session.scalars(
        select(PersonalBudget).where(
            PersonalBudget.person_id == person.id,
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.starts_on <= today,
            PersonalBudget.ends_on >= today,
        )
    ).first()


def funds_of_person(session: Session, person: Person) -> list[IndividualServiceFund]:
    """The person's funds, newest first."""
    return list(
        session.scalars(
            select(IndividualServiceFund)
            .where(IndividualServiceFund.person_id == person.id)
            .order_by(IndividualServiceFund.created_at.desc())
        )
    )


def funds_of_organisation(
    session: Session, organisation: Organisation, *, open_only: bool = False
) -> list[IndividualServiceFund]:
    """The funds asked of or held by the organisation, newest first."""
    query = select(IndividualServiceFund).where(
        IndividualServiceFund.organisation_id == organisation.id
    )
    if open_only:
        query = query.where(IndividualServiceFund.state.in_(_OPEN))
    return list(session.scalars(query.order_by(IndividualServiceFund.created_at.desc())))


def funds_of_budget(
    session: Session, budget: PersonalBudget, *, open_only: bool = False
) -> list[IndividualServiceFund]:
    query = select(IndividualServiceFund).where(IndividualServiceFund.budget_id == budget.id)
    if open_only:
        query = query.where(IndividualServiceFund.state.in_(_OPEN))
    return list(session.scalars(query.order_by(IndividualServiceFund.created_at)))


def all_funds(session: Session) -> list[IndividualServiceFund]:
    """Every fund, newest first (the council's list)."""
    return list(
        session.scalars(
            select(IndividualServiceFund).order_by(IndividualServiceFund.created_at.desc())
        )
    )


def fund_by_id(session: Session, fund_id: uuid.UUID) -> IndividualServiceFund | None:
    return session.get(IndividualServiceFund, fund_id)
