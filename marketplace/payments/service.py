"""The money side of card payments: what Stripe's word does to our records and the ledger.

Plain rules on the facts Stripe gave (an intent's id, amount, currency and metadata): no
Stripe, no Flask. Each takes the session first, flushes and never commits.

Card money reaches the ledger once, on Stripe's word: `payment_succeeded` pays it from the
Stripe clearing account into the person's own-funds stream, holds the order's card share
from there (the budget streams' part was held when the order was placed), and sends the
order on. Everything here is safe to repeat and to run at once in two processes: a step
takes the order's lock (when there is an order), then the payment's row lock, then reads
the payment again, and does nothing when Stripe's word was already taken.

Locks are taken in one order, the order's first (as every order step does), then the
payment row, then the ledger's accounts, so two steps cannot deadlock.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.models import BudgetStatus, PersonalBudget, StreamKind
from marketplace.budgets.own_funds import (
    create_self_funded_budget,
    is_self_funded,
    is_self_funder,
    open_own_funds_stream,
    pay_in,
)
from marketplace.budgets.queries import budgets_of, current_budget
from marketplace.formatting import LONDON
from marketplace.ledger import LedgerAccount
from marketplace.ledger.transactions import dialect_name
from marketplace.orders import life
from marketplace.orders.errors import InvalidOrder, InvalidTransition
from marketplace.orders.locks import lock_order
from marketplace.orders.models import CycleState, Order, OrderCycle, OrderStatus
from marketplace.orders.on_behalf import check_may_pay
from marketplace.payments.mandates import CycleCharge
from marketplace.payments.models import (
    CLEARING_ACCOUNT_CODE,
    CURRENCY,
    WAITING,
    CardPayment,
    CardPaymentStatus,
    CardPurpose,
    idempotency_key_for,
)
from marketplace.people.models import Person
from marketplace.types import Session, utcnow

# How long an order may wait for its card payment before it is cancelled, unless the app's
# PAYMENT_EXPIRY_MINUTES says otherwise: long enough to fetch a card and pass 3-D Secure,
# short enough that the budget money it holds is not tied up for a day.
DEFAULT_EXPIRY = timedelta(minutes=60)

# Stripe's intent statuses, as our payment's.
_INTENT_STATUSES = {
    "processing": CardPaymentStatus.PROCESSING,
    "requires_action": CardPaymentStatus.REQUIRES_ACTION,
    "requires_confirmation": CardPaymentStatus.CREATED,
    "requires_payment_method": CardPaymentStatus.CREATED,
}


class Result(enum.StrEnum):
    CREDITED = "credited"  # the money is in the ledger and the order sent on
    ALREADY = "already"  # Stripe's word was taken before: nothing changed
    FAILED = "failed"  # recorded as failed; the order can be paid again or cancelled
    MISMATCHED = "mismatched"  # an amount or currency other than ours: flagged, not credited
    REFUND_DUE = "refund_due"  # paid for an order no longer waiting: owed back to the card
    NOT_FOUND = "not_found"  # no payment of ours (yet): the webhook should answer so Stripe retries


@dataclass(frozen=True)
class PaymentOutcome:
    result: Result
    payment: CardPayment | None = None

    @property
    def changed(self) -> bool:
        return self.result not in (Result.ALREADY, Result.NOT_FOUND)


def clearing_account(session: Session) -> LedgerAccount:
    """The Stripe clearing account (unguarded), made if there is none yet."""
    return ledger.open_account(
        session, code=CLEARING_ACCOUNT_CODE, name="Card payments (Stripe clearing)", guarded=False
    )


def start_order_payment(session: Session, order: Order, *, by: User) -> CardPayment:
    """The card payment for the order's card share: the one still waiting for Stripe if there
    is one (a second tab or a reload goes on with it, so the person is charged once), else a
    new one (after a failed attempt). Its id gives the PaymentIntent's idempotency key.

    Raises NotYours when `by` may not pay by card for the person (someone acting for them
    needs a live consent covering payment, read afresh), InvalidTransition when the order is
    not awaiting payment. A new payment names who started it and the consent they acted under.
    """
    lock_order(session, order)
    consent = check_may_pay(session, by, order.person)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(
            f"An order that is {order.status.label.lower()} is not awaiting payment",
            status=order.status.value,
            move="pay",
        )
    waiting = session.scalars(
        select(CardPayment)
        .where(CardPayment.order_id == order.id, CardPayment.status.in_(WAITING))
        .order_by(CardPayment.created_at)
    ).first()
    if waiting is not None:
        return waiting
    payment_id = uuid.uuid4()
    payment = CardPayment(
        id=payment_id,
        person_id=order.person_id,
        order_id=order.id,
        purpose=CardPurpose.ORDER,
        amount_pence=order.card_pence,
        currency=CURRENCY,
        status=CardPaymentStatus.CREATED,
        idempotency_key=idempotency_key_for(payment_id),
        started_by_id=by.id,
        consent_id=consent.id if consent is not None else None,
    )
    session.add(payment)
    session.flush()
    return payment


def start_top_up(
    session: Session,
    person: Person,
    *,
    amount_pence: int,
    by: User,
    today: date,
    top_ups_allowed: bool,
) -> CardPayment:
    """A card payment of `amount_pence` into the person's own-funds stream, for no order in
    particular: for a self-funder's account, or (where the council allows top-ups,
    CARD_TOP_UPS_ALLOWED) a budget holder's budget. The money is paid in when Stripe confirms
    (`payment_succeeded`), into the budget open then. A self-funder with no open account has
    one opened (as checkout opens it for their first order).

    Raises NotYours (someone acting for the person needs a live consent covering payment),
    InvalidTransfer (not whole pence), InvalidOrder (no open budget, or the council does not
    take top-ups by card). The payment names who started it and the consent they acted under.
    """
    consent = check_may_pay(session, by, person)
    ledger.check_amount_pence(amount_pence)
    budget = _open_budget(session, person, today)
    if budget is None and is_self_funder(session, person):
        # A self-funder's account is opened by their first payment, as checkout does.
        budget = create_self_funded_budget(session, person, today=today)
    if budget is None:
        raise InvalidOrder(
            "There is no open account to pay into",
            fields={"amount": "There is no open account to pay into"},
        )
    if not (top_ups_allowed or is_self_funded(budget)):
        raise InvalidOrder(
            "Your council does not take top-ups by card",
            fields={"amount": "Your council does not take top-ups by card"},
        )
    payment_id = uuid.uuid4()
    payment = CardPayment(
        id=payment_id,
        person_id=person.id,
        order_id=None,
        purpose=CardPurpose.TOP_UP,
        amount_pence=amount_pence,
        currency=CURRENCY,
        status=CardPaymentStatus.CREATED,
        idempotency_key=idempotency_key_for(payment_id),
        started_by_id=by.id,
        consent_id=consent.id if consent is not None else None,
    )
    session.add(payment)
    session.flush()
    return payment


TOP_UPS_NOT_TAKEN = (
    "Your council does not take money by card for your budget. Ask your social worker if "
    "your budget does not cover your care."
)


def top_up_refusal(
    session: Session, person: Person, *, today: date, top_ups_allowed: bool
) -> str | None:
    """Why the person cannot add money to their account by card today, in words for them, or
    None when they can (`start_top_up`'s own rule: an open budget, and either a self-funder's
    account or a council that takes top-ups by card; a self-funder with none may, as their
    payment opens one)."""
    return top_up_refusal_among(
        budgets_of(session, person), today=today, top_ups_allowed=top_ups_allowed
    )


def top_up_refusal_among(
    budgets: Sequence[PersonalBudget], *, today: date, top_ups_allowed: bool
) -> str | None:
    """`top_up_refusal` from the person's budgets already loaded with their streams
    (`budgets_of`), so a page that shows them asks nothing more of the database."""
    budget = next(
        (
            each
            for each in budgets
            if each.status is BudgetStatus.OPEN and each.starts_on <= today <= each.ends_on
        ),
        None,
    )
    if budget is None:
        # A self-funder (no budget with anyone else's money in it, ever) may: their first
        # payment opens their account (`start_top_up`).
        if all(stream.kind is StreamKind.OWN_FUNDS for each in budgets for stream in each.streams):
            return None
        return "You have no open budget to add money to."
    if not (top_ups_allowed or is_self_funded(budget)):
        return TOP_UPS_NOT_TAKEN
    return None


def _open_budget(session: Session, person: Person, today: date) -> PersonalBudget | None:
    """The person's budget open today, if any."""
    budget = current_budget(session, person, today)
    if budget is None or budget.status is not BudgetStatus.OPEN:
        return None
    return budget if budget.starts_on <= today <= budget.ends_on else None


def record_intent(session: Session, payment: CardPayment, *, intent_id: str, status: str) -> None:
    """Remember the PaymentIntent Stripe made for the payment, and where it stands (3-D Secure
    to do, processing). Stripe's final word is taken only by `payment_succeeded` and
    `payment_failed`; this never moves money. Raises ValueError for a payment already tied
    to another intent."""
    _lock_payment(session, payment)
    if payment.stripe_payment_intent_id not in (None, intent_id):
        raise ValueError(f"card payment {payment.id} belongs to another PaymentIntent")
    payment.stripe_payment_intent_id = intent_id
    if payment.status in WAITING and status in _INTENT_STATUSES:
        payment.status = _INTENT_STATUSES[status]
    session.flush()


def payment_succeeded(
    session: Session,
    *,
    intent_id: str,
    amount_pence: int,
    currency: str,
    metadata: Mapping[str, str],
    now: datetime | None = None,
) -> PaymentOutcome:
    """Take Stripe's word that a PaymentIntent succeeded.

    Finds our payment by the intent's id, or by metadata["card_payment_id"] (the webhook may
    come before we stored the id). Then, once only: an amount or currency other than ours is
    flagged MISMATCHED and not credited; a payment for an order no longer awaiting payment
    (cancelled or expired meanwhile, or paid by another payment), or a top-up with no open
    budget to go into, is marked REFUND_DUE, owed back in full; a top-up is paid into the
    own-funds stream of the budget open on the day; otherwise the money is paid from the
    Stripe clearing account into the person's own-funds stream, the order's card share held
    from it, and the order sent on (`life.paid`). A second call, or ten, change nothing
    (Result.ALREADY); so does a success after the payment's money was refunded. NOT_FOUND
    when no payment of ours matches: our row may not be committed yet, so the caller should
    let Stripe deliver it again.
    """
    now = now or utcnow()
    payment = _find(session, intent_id, metadata)
    if payment is None:
        return PaymentOutcome(Result.NOT_FOUND)
    order = payment.order
    if order is not None:
        lock_order(session, order)
    _lock_payment(session, payment)
    if payment.status.settled:
        return PaymentOutcome(Result.ALREADY, payment)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent_id
    payment.confirmed_at = now
    if amount_pence != payment.amount_pence or currency.lower() != payment.currency:
        payment.status = CardPaymentStatus.MISMATCHED
        payment.received_amount_pence = amount_pence
        payment.received_currency = currency.lower()
        session.flush()
        return PaymentOutcome(Result.MISMATCHED, payment)
    cycle = _cycle_paid_for(session, payment)
    budget = (
        _open_budget(session, payment.person, now.astimezone(LONDON).date())
        if order is None
        else (order.budget if _cycle_still_payable(order, cycle) else None)
        if cycle is not None
        else order.budget
        if order.status is OrderStatus.AWAITING_PAYMENT
        else None
    )
    if budget is None:
        payment.status = CardPaymentStatus.REFUND_DUE
        payment.refund_due_pence = payment.amount_pence
        session.flush()
        return PaymentOutcome(Result.REFUND_DUE, payment)
    stream = open_own_funds_stream(session, budget)
    clearing = clearing_account(session)
    ledger.lock_accounts(session, [clearing.id, stream.account_id])
    key = f"card-payment:{payment.id}"
    with ledger.savepoint(session):
        pay_in(
            session,
            stream,
            source=clearing,
            amount_pence=payment.amount_pence,
            key=key,
            description=(
                "Top-up by card"
                if order is None
                else f"Card payment for order {order.reference}"
                + (f", cycle {cycle.number}" if cycle is not None else "")
            ),
        )
        if order is not None and cycle is not None:
            life.cycle_paid(session, order, cycle, stream=stream)
        elif order is not None:
            life.paid(session, order, stream=stream)
    payment.transfer_key = key
    payment.status = CardPaymentStatus.SUCCEEDED
    session.flush()
    return PaymentOutcome(Result.CREDITED, payment)


def payment_failed(
    session: Session, *, intent_id: str, reason: str, metadata: Mapping[str, str]
) -> PaymentOutcome:
    """Take Stripe's word that an attempt to pay failed (declined, 3-D Secure failed,
    abandoned): the payment is FAILED with Stripe's reason, and the order stays awaiting
    payment, to be paid again or cancelled. Once Stripe's final word was taken (a success
    came first: events arrive out of order), or we stopped asking, it changes nothing."""
    payment = _find(session, intent_id, metadata)
    if payment is None:
        return PaymentOutcome(Result.NOT_FOUND)
    if payment.order is not None:
        lock_order(session, payment.order)
    _lock_payment(session, payment)
    if payment.status not in WAITING:
        return PaymentOutcome(Result.ALREADY, payment)
    if payment.stripe_payment_intent_id is None:
        payment.stripe_payment_intent_id = intent_id
    payment.status = CardPaymentStatus.FAILED
    payment.failure_reason = reason[:1000]
    session.flush()
    return PaymentOutcome(Result.FAILED, payment)


def expire_unpaid_orders(
    session: Session, *, now: datetime, older_than: timedelta = DEFAULT_EXPIRY
) -> list[Order]:
    """Cancel every order placed more than `older_than` before `now` that still awaits its
    card payment: its budget money released, the person told, its waiting payments stopped
    (a success Stripe reports after this is owed back: `payment_succeeded`). Returns the
    orders it cancelled; safe to run twice or in two processes at once."""
    cutoff = now - older_than
    due = session.scalars(
        select(Order)
        .where(Order.status == OrderStatus.AWAITING_PAYMENT, Order.placed_at < cutoff)
        .order_by(Order.placed_at, Order.id)
    ).all()
    expired = []
    for order in due:
        lock_order(session, order)
        if life.expire(session, order):
            _stop_waiting(session, order, why="Order cancelled: not paid in time")
            expired.append(order)
    session.flush()
    return expired


def stop_stale_payments(session: Session) -> list[CardPayment]:
    """Stop every payment still waiting for an order no longer awaiting payment (cancelled
    on its own page, say), so that none lingers as payable. Returns those stopped; a success
    Stripe reports for one later is owed back."""
    stale = session.scalars(
        select(CardPayment)
        .join(Order, CardPayment.order_id == Order.id)
        .where(
            CardPayment.status.in_(WAITING),
            CardPayment.purpose == CardPurpose.ORDER,
            Order.status != OrderStatus.AWAITING_PAYMENT,
        )
        .order_by(CardPayment.created_at, CardPayment.id)
    ).all()
    stopped = []
    for payment in stale:
        order = payment.order
        assert order is not None  # joined on it
        lock_order(session, order)
        if order.status is OrderStatus.AWAITING_PAYMENT:
            continue
        _lock_payment(session, payment)
        if payment.status in WAITING:
            payment.status = CardPaymentStatus.CANCELLED
            payment.failure_reason = "The order is no longer awaiting payment"
            stopped.append(payment)
    session.flush()
    return stopped


def cancel_unpaid_order(
    session: Session, order: Order, *, by: User, today: date, reason: str = ""
) -> None:
    """The person (or an officer) cancels an order awaiting payment: its budget money is
    released and its waiting payments stopped; a success Stripe reports after this is owed
    back. Raises what `life.cancel` raises."""
    lock_order(session, order)
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        raise InvalidTransition(
            "Only an order awaiting payment is cancelled here",
            status=order.status.value,
            move=life.Move.CANCEL.value,
        )
    life.cancel(session, order, by=by, today=today, reason=reason)
    _stop_waiting(session, order, why="Order cancelled before it was paid")


def payments_of_order(session: Session, order: Order) -> list[CardPayment]:
    """The order's card payments, the first first."""
    return list(
        session.scalars(
            select(CardPayment)
            .where(CardPayment.order_id == order.id)
            .order_by(CardPayment.created_at, CardPayment.id)
        )
    )


def _stop_waiting(session: Session, order: Order, *, why: str) -> None:
    for payment in payments_of_order(session, order):
        if payment.status in WAITING:
            _lock_payment(session, payment)
            if payment.status in WAITING:
                payment.status = CardPaymentStatus.CANCELLED
                payment.failure_reason = why


def _cycle_paid_for(session: Session, payment: CardPayment) -> OrderCycle | None:
    """The invoicing cycle a recurring charge (purpose `cycle`) pays for; None for others."""
    if payment.purpose is not CardPurpose.CYCLE:
        return None
    return session.scalars(
        select(OrderCycle)
        .join(CycleCharge, CycleCharge.cycle_id == OrderCycle.id)
        .where(CycleCharge.card_payment_id == payment.id)
    ).one()


def _cycle_still_payable(order: Order, cycle: OrderCycle) -> bool:
    """Whether a cycle's card share can still be taken: the order open and past awaiting
    payment, the cycle still holding money, and its card share not paid by another charge."""
    return (
        order.status.is_open
        and order.status is not OrderStatus.AWAITING_PAYMENT
        and cycle.state is CycleState.HELD
        and not life.cycle_card_held(order, cycle)
    )


def _find(session: Session, intent_id: str, metadata: Mapping[str, str]) -> CardPayment | None:
    """Our payment for a PaymentIntent: by its id, else by the id its metadata names (when
    we have not stored the intent's id yet, or stored no other)."""
    # On SQLite, take the write lock before reading, so what is read is current.
    ledger.begin_immediate(session)
    found = session.scalars(
        select(CardPayment).where(CardPayment.stripe_payment_intent_id == intent_id)
    ).first()
    if found is not None:
        return found
    try:
        payment_id = uuid.UUID(str(metadata.get("card_payment_id", "")))
    except ValueError:
        return None
    payment = session.get(CardPayment, payment_id)
    if payment is None or payment.stripe_payment_intent_id not in (None, intent_id):
        return None
    return payment


def _lock_payment(session: Session, payment: CardPayment) -> None:
    """Hold the payment's row lock until the transaction ends and read it again: SQLite's
    IMMEDIATE transaction, PostgreSQL's SELECT ... FOR UPDATE."""
    ledger.begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(
            select(CardPayment.id).where(CardPayment.id == payment.id).with_for_update()
        ).one()
    session.refresh(payment)
