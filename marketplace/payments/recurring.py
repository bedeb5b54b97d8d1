"""Recurring care paid by card: a saved card, the person's agreement, and each invoicing
cycle's card share charged off-session before the cycle starts.

How it goes:
1. The person's order of recurring care has a card share and awaits payment. Instead of
   paying it all now, they save a card: `begin_card_setup` makes (once) their Stripe
   Customer and a SetupIntent, and records what they are agreeing to (a `CardMandate`:
   the order, the amount each cycle, how many days before a cycle it is charged). Stripe's
   card element confirms the SetupIntent in the browser (`confirmCardSetup`, 3-D Secure
   included).
2. `card_saved` takes Stripe's word (the SetupIntent as we retrieve it, never the
   browser's): the mandate is active, with when and how the person agreed, and the order
   goes to the provider (`life.card_agreed`) with no card share held yet.
3. `charge_due_cycles` (the `flask payments charge-cycles` job) charges each cycle starting
   within a few days whose card share is not paid: one `CardPayment` of purpose `cycle` per
   attempt, claimed and committed before Stripe is asked, its PaymentIntent's idempotency
   key derived from the cycle and the attempt (`cycle-charge:<cycle>:<attempt>`). Stripe's
   success is taken by `service.payment_succeeded`, as for any card payment (the money in
   the own-funds stream, then held for the cycle: `life.cycle_paid`).
4. A declined charge (or one the bank wants the person present for) tells the person and
   the provider; the cycle waits for payment. The person can pay it now
   (`charge_cycle_now`, the same card), save another card (a new mandate, and the job
   tries again), or stop paying by card (`stop_paying_by_card`: the order is cancelled as
   far as its notice period allows).

Rules take the session first, flush and never commit, except the two that talk to Stripe
between steps (`charge_due_cycles`, `charge_cycle_now`), which commit through the `commit`
they are given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.formatting import pounds
from marketplace.notifications.models import NotificationKind
from marketplace.orders import events, life
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderCycle,
    OrderStatus,
    ScheduleKind,
)
from marketplace.payments import service
from marketplace.payments.errors import CardDeclined, StripeUnavailable
from marketplace.payments.gateway import CardSetup, StripeGateway
from marketplace.payments.mandates import (
    CardMandate,
    CycleCharge,
    MandateStatus,
    StripeCustomer,
    cycle_charge_key,
)
from marketplace.payments.models import (
    CURRENCY,
    WAITING,
    CardPayment,
    CardPaymentStatus,
    CardPurpose,
)
from marketplace.types import Session, utcnow

# A cycle's card share is charged this many days before the cycle starts (unless the app's
# CARD_CHARGE_DAYS_BEFORE says otherwise): time for a failed charge to be put right before
# the first visit of the cycle.
DEFAULT_CHARGE_DAYS_BEFORE = 3
# A charge claimed but not answered for this long was left by a worker that died: the next
# run asks Stripe again with the same idempotency key (Stripe answers with the same intent).
IN_FLIGHT = timedelta(minutes=15)

# Order statuses in which cycles are charged: sent to the provider and not ended.
_CHARGED_WHILE = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)

CARD_ELEMENT = "online, card element (confirmCardSetup)"
CHARGE_FAILED_EVENT = "card_charge_failed"


def pays_by_saved_card(order: Order) -> bool:
    """Whether the order may be paid cycle by cycle with a saved card: recurring care with a
    card share."""
    return order.schedule_kind is ScheduleKind.RECURRING and order.card_pence > 0


def agreement_terms(order: Order, *, charge_days_before: int) -> str:
    """What the person agrees to, in the words the page shows and the mandate keeps."""
    cycles = [cycle for cycle in order.cycles if order.card_share_of(cycle)]
    amounts = sorted({order.card_share_of(cycle) for cycle in cycles})
    each = " or ".join(pounds(amount) for amount in amounts) if amounts else pounds(0)
    return (
        f"I agree that {each} is taken from this card for each of the {len(cycles)} "
        f"invoicing periods of order {order.reference} ({order.service_name}) that my card "
        f"pays for, {charge_days_before} days before each period starts, "
        f"{pounds(order.card_pence)} in all, until the order ends or I stop paying by card."
    )


def customer_of(session: Session, person_id: uuid.UUID) -> str | None:
    """The person's Stripe Customer id, if they have one."""
    row = session.get(StripeCustomer, person_id)
    return None if row is None else row.stripe_customer_id


def begin_card_setup(
    session: Session,
    order: Order,
    *,
    by: User,
    gateway: StripeGateway,
    charge_days_before: int = DEFAULT_CHARGE_DAYS_BEFORE,
) -> tuple[CardMandate, CardSetup]:
    """Start saving a card for the order's cycles: the person's Stripe Customer (made once,
    with an idempotency key from the person, so two tabs make one), a SetupIntent for it,
    and the mandate that records what they are agreeing to (not yet agreed). A mandate
    still being set up for the order is gone on with (one SetupIntent however many tabs).

    Raises NotYours, InvalidTransition (the order is not waiting for its card share to be
    agreed or its card changed), InvalidOrder (not recurring care with a card share),
    StripeUnavailable.
    """
    if not can(by, "pay_by_card_for", order.person):
        raise NotYours("You cannot pay for this order")
    if not pays_by_saved_card(order):
        raise InvalidOrder("Only recurring care with a card share is paid with a saved card")
    if order.status is not OrderStatus.AWAITING_PAYMENT and order.status not in _CHARGED_WHILE:
        raise InvalidTransition(
            f"An order that is {order.status.label.lower()} is not paid by card any more",
            status=order.status.value,
            move=life.Move.CARD_AGREED.value,
        )
    waiting = setting_up_mandate(session, order)
    if waiting is not None:
        # A reload, or a second tab: go on with the card being saved, unless Stripe has
        # finished with it (saved: the caller takes its word; cancelled: start again).
        setup = gateway.retrieve_setup_intent(waiting.stripe_setup_intent_id)
        if setup.status != "canceled":
            return waiting, setup
        waiting.status = MandateStatus.ABANDONED
    customer_id = customer_of(session, order.person_id)
    if customer_id is None:
        customer_id = gateway.create_customer(
            idempotency_key=f"stripe-customer-{order.person_id}",
            metadata={"person_id": str(order.person_id)},
        )
        session.merge(StripeCustomer(person_id=order.person_id, stripe_customer_id=customer_id))
        session.flush()
    mandate_id = uuid.uuid4()
    setup = gateway.create_setup_intent(
        customer_id=customer_id,
        idempotency_key=f"card-mandate-{mandate_id}",
        metadata={
            "card_mandate_id": str(mandate_id),
            "order_reference": order.reference,
            "person_id": str(order.person_id),
        },
    )
    mandate = CardMandate(
        id=mandate_id,
        person_id=order.person_id,
        order_id=order.id,
        status=MandateStatus.SETTING_UP,
        stripe_customer_id=customer_id,
        stripe_setup_intent_id=setup.id,
        amount_per_cycle_pence=max(
            (order.card_share_of(cycle) for cycle in order.cycles), default=0
        ),
        charge_days_before=charge_days_before,
        terms=agreement_terms(order, charge_days_before=charge_days_before),
    )
    session.add(mandate)
    session.flush()
    return mandate, setup


def setting_up_mandate(session: Session, order: Order) -> CardMandate | None:
    """The order's newest mandate still waiting for its card (a reload of the card page goes
    on with it), if any."""
    return session.scalars(
        select(CardMandate)
        .where(CardMandate.order_id == order.id, CardMandate.status == MandateStatus.SETTING_UP)
        .order_by(CardMandate.created_at.desc())
    ).first()


@dataclass(frozen=True)
class CardPlan:
    """What the order's page shows of paying cycle by cycle with a saved card."""

    mandate: CardMandate | None
    waiting: list[OrderCycle]  # cycles whose charge failed: waiting for payment
    paid: list[OrderCycle]  # cycles whose card share was charged
    upcoming: list[OrderCycle]  # cycles with a card share still to charge


def card_plan(session: Session, order: Order) -> CardPlan | None:
    """The order's card plan, None unless it is recurring care with a card share."""
    if not pays_by_saved_card(order):
        return None
    waiting, paid, upcoming = [], [], []
    for cycle in order.cycles:
        if not order.card_share_of(cycle):
            continue
        if life.cycle_card_held(order, cycle):
            paid.append(cycle)
        elif cycle.state is CycleState.HELD and cycle_waits_for_payment(session, order, cycle):
            waiting.append(cycle)
        elif cycle.state is CycleState.HELD:
            upcoming.append(cycle)
    return CardPlan(active_mandate(session, order), waiting, paid, upcoming)


def cycle_of(session: Session, order: Order, cycle_id: uuid.UUID) -> OrderCycle | None:
    """The order's cycle of that id, None when it is not this order's."""
    cycle = session.get(OrderCycle, cycle_id)
    return cycle if cycle is not None and cycle.order_id == order.id else None


def mandate_of(session: Session, order: Order, mandate_id: uuid.UUID) -> CardMandate | None:
    """The order's mandate of that id, None when it is not this order's."""
    mandate = session.get(CardMandate, mandate_id)
    return mandate if mandate is not None and mandate.order_id == order.id else None


def mandate_for_setup(session: Session, setup_id: str) -> CardMandate | None:
    return session.scalars(
        select(CardMandate).where(CardMandate.stripe_setup_intent_id == setup_id)
    ).first()


def active_mandate(session: Session, order: Order) -> CardMandate | None:
    """The agreement the order's cycles are charged under now, if any."""
    return session.scalars(
        select(CardMandate)
        .where(CardMandate.order_id == order.id, CardMandate.status == MandateStatus.ACTIVE)
        .order_by(CardMandate.agreed_at.desc())
    ).first()


def card_saved(
    session: Session,
    mandate: CardMandate,
    *,
    setup: CardSetup,
    by: User,
    how: str = CARD_ELEMENT,
    now: datetime | None = None,
) -> bool:
    """Take Stripe's word on the mandate's SetupIntent (`setup`, as we retrieved it): when it
    succeeded, the card is saved and the agreement given (when, by whom, how), any earlier
    card for the order is replaced, and an order awaiting payment goes to the provider.
    Returns whether this call made the mandate active; a second call changes nothing. A
    SetupIntent cancelled at Stripe abandons the mandate; any other status changes nothing
    yet (3-D Secure still to do)."""
    if setup.id != mandate.stripe_setup_intent_id:
        raise ValueError("the SetupIntent is not this mandate's")
    order = mandate.order
    lock_order(session, order)
    session.refresh(mandate)
    if mandate.status is not MandateStatus.SETTING_UP:
        return False
    if setup.status == "canceled":
        mandate.status = MandateStatus.ABANDONED
        session.flush()
        return False
    if setup.status != "succeeded" or setup.payment_method is None:
        return False
    if order.status is not OrderStatus.AWAITING_PAYMENT and order.status not in _CHARGED_WHILE:
        mandate.status = MandateStatus.ABANDONED
        session.flush()
        return False
    now = now or utcnow()
    for earlier in session.scalars(
        select(CardMandate).where(
            CardMandate.order_id == order.id,
            CardMandate.status == MandateStatus.ACTIVE,
            CardMandate.id != mandate.id,
        )
    ):
        earlier.status = MandateStatus.REPLACED
        earlier.ended_at = now
    mandate.status = MandateStatus.ACTIVE
    mandate.stripe_payment_method_id = setup.payment_method
    mandate.agreed_at = now
    mandate.agreed_by_id = by.id
    mandate.agreed_how = how[:200]
    if order.status is OrderStatus.AWAITING_PAYMENT:
        life.card_agreed(session, order)
        # The order's one-off payment, if the person had started one, is not wanted now.
        service.stop_stale_payments(session)
    else:
        events.record(session, order, "card_changed", by=by)
    session.flush()
    return True


def stop_paying_by_card(
    session: Session, order: Order, *, by: User, today: date, now: datetime | None = None
) -> date | None:
    """The person stops paying the order's cycles by card: the mandate ends, and the order
    is cancelled as far as its notice period allows (`life.cancel`: all of it before it
    starts, else the visits from the first day the notice allows). Cycles charged already
    are delivered; unpaid cycles before that day still wait for payment. Returns what
    `life.cancel` returns. Raises NotYours, InvalidTransition."""
    if not can(by, "place_order_for", order.person):
        raise NotYours("You cannot change how this order is paid")
    lock_order(session, order)
    cancelled_from = life.cancel(
        session, order, by=by, today=today, reason="Stopped paying by card"
    )
    now = now or utcnow()
    for mandate in session.scalars(
        select(CardMandate).where(
            CardMandate.order_id == order.id,
            CardMandate.status.in_((MandateStatus.ACTIVE, MandateStatus.SETTING_UP)),
        )
    ):
        mandate.status = MandateStatus.STOPPED
        mandate.ended_at = now
    session.flush()
    return cancelled_from


# --- charging cycles --------------------------------------------------------------------


def charges_of_cycle(session: Session, cycle: OrderCycle) -> list[CycleCharge]:
    """The attempts to charge the cycle, the first first."""
    return list(
        session.scalars(
            select(CycleCharge)
            .where(CycleCharge.cycle_id == cycle.id)
            .order_by(CycleCharge.attempt)
            .execution_options(populate_existing=True)
        )
    )


def cycle_waits_for_payment(session: Session, order: Order, cycle: OrderCycle) -> bool:
    """Whether the cycle's card share is due and unpaid because its last charge failed: the
    cycle waits for the person (pay now, another card, or stop paying by card) and is not
    delivered against."""
    if not order.card_share_of(cycle) or life.cycle_card_held(order, cycle):
        return False
    charges = charges_of_cycle(session, cycle)
    return bool(charges) and charges[-1].card_payment.status is CardPaymentStatus.FAILED


def due_cycles(session: Session, *, today: date, days_ahead: int) -> list[OrderCycle]:
    """Cycles starting by `today + days_ahead` (or already started) whose card share is not
    paid, of orders paid by a saved card and sent to the provider, oldest first."""
    candidates = session.scalars(
        select(OrderCycle)
        .join(Order, OrderCycle.order_id == Order.id)
        .where(
            Order.status.in_(_CHARGED_WHILE),
            Order.card_pence > 0,
            OrderCycle.state == CycleState.HELD,
            OrderCycle.starts_on <= today + timedelta(days=days_ahead),
            select(CardMandate.id)
            .where(CardMandate.order_id == Order.id, CardMandate.status == MandateStatus.ACTIVE)
            .exists(),
        )
        .order_by(OrderCycle.starts_on, OrderCycle.id)
    ).all()
    return [
        cycle
        for cycle in candidates
        if cycle.order.card_share_of(cycle) and not life.cycle_card_held(cycle.order, cycle)
    ]


@dataclass(frozen=True)
class ChargeRequest:
    """What to ask Stripe for one claimed charge (read in the claim's transaction)."""

    card_payment_id: uuid.UUID
    key: str
    amount_pence: int
    customer_id: str
    payment_method: str
    metadata: dict[str, str]


def claim_charge(
    session: Session, cycle: OrderCycle, *, now: datetime, retry_failed: bool = False
) -> ChargeRequest | None:
    """Claim the next attempt to charge the cycle's card share, under the order's lock: a
    new `CardPayment` (purpose `cycle`) and `CycleCharge`, whose key (from the cycle and the
    attempt) is the PaymentIntent's idempotency key. The caller commits before asking
    Stripe, so of two workers one claims and the other finds the claim.

    None when there is nothing to charge: paid or in flight (claimed less than IN_FLIGHT
    ago; older, the same attempt is asked again with the same key), no active mandate, or
    the last attempt failed under the current mandate (the cycle waits for the person; with
    `retry_failed`, the person asked to pay it now).
    """
    order = cycle.order
    lock_order(session, order)
    session.refresh(cycle)
    if (
        order.status not in _CHARGED_WHILE
        or cycle.state is not CycleState.HELD
        or life.cycle_card_held(order, cycle)
    ):
        return None
    amount = order.card_share_of(cycle)
    mandate = active_mandate(session, order)
    if not amount or mandate is None or mandate.stripe_payment_method_id is None:
        return None
    charges = charges_of_cycle(session, cycle)
    last = charges[-1] if charges else None
    if last is not None:
        payment = last.card_payment
        session.refresh(payment)
        if payment.status in WAITING:
            if now - payment.created_at < IN_FLIGHT:
                return None
            return _request(last, mandate)
        if payment.status.settled:
            return None
        if payment.status is CardPaymentStatus.FAILED:
            # Stripe's webhook may have said so first (this worker died before it could):
            # the person and the provider are told all the same, once.
            charge_failed(session, payment.id, reason=payment.failure_reason or "Declined")
        if last.mandate_id == mandate.id and not retry_failed:
            return None
    attempt = (last.attempt if last is not None else 0) + 1
    key = cycle_charge_key(cycle.id, attempt)
    payment = CardPayment(
        id=uuid.uuid4(),
        person_id=order.person_id,
        order_id=order.id,
        purpose=CardPurpose.CYCLE,
        amount_pence=amount,
        currency=CURRENCY,
        status=CardPaymentStatus.CREATED,
        idempotency_key=key,
        created_at=now,
    )
    session.add(payment)
    session.flush()
    charge = CycleCharge(
        cycle_id=cycle.id,
        attempt=attempt,
        key=key,
        card_payment_id=payment.id,
        mandate_id=mandate.id,
        created_at=now,
    )
    session.add(charge)
    session.flush()
    return _request(charge, mandate)


def _request(charge: CycleCharge, mandate: CardMandate) -> ChargeRequest:
    payment = charge.card_payment
    assert mandate.stripe_payment_method_id is not None
    return ChargeRequest(
        card_payment_id=payment.id,
        key=charge.key,
        amount_pence=payment.amount_pence,
        customer_id=mandate.stripe_customer_id,
        payment_method=mandate.stripe_payment_method_id,
        metadata={
            **payment.metadata_for_stripe,
            "cycle_id": str(charge.cycle_id),
            "cycle_charge": charge.key,
        },
    )


def charge_failed(session: Session, card_payment_id: uuid.UUID, *, reason: str) -> bool:
    """A charge to the saved card was declined (or needs the person present): the payment is
    FAILED, the cycle waits for payment, and the person and the provider are told, once.
    Returns whether they were told by this call."""
    payment = session.get_one(CardPayment, card_payment_id)
    order = payment.order
    assert order is not None  # a cycle's payment has its order
    lock_order(session, order)
    session.refresh(payment)
    if payment.status in WAITING:
        payment.status = CardPaymentStatus.FAILED
        payment.failure_reason = reason[:1000]
    if payment.status is not CardPaymentStatus.FAILED:
        return False
    charge = session.scalars(
        select(CycleCharge).where(CycleCharge.card_payment_id == payment.id)
    ).one()
    if any(
        event.kind == CHARGE_FAILED_EVENT and event.details.get("charge") == charge.key
        for event in order.events
    ):
        return False
    cycle = charge.cycle
    events.record(
        session,
        order,
        CHARGE_FAILED_EVENT,
        by=None,
        reason=reason[:500],
        charge=charge.key,
        cycle=cycle.number,
        card_pence=payment.amount_pence,
    )
    period = f"{cycle.starts_on:%-d %B} to {cycle.ends_on:%-d %B}"
    events.tell_person(
        session,
        order,
        NotificationKind.CARD_CHARGE_FAILED,
        f"Order {order.reference}: your card was not charged {pounds(payment.amount_pence)} "
        f"for {period}. Pay it, use another card or stop paying by card",
    )
    events.tell_provider(
        session,
        order,
        NotificationKind.CARD_CHARGE_FAILED,
        f"Order {order.reference}: the visits from {cycle.starts_on:%-d %B} are not paid yet",
    )
    session.flush()
    return True


@dataclass
class ChargeReport:
    """What a run of the job did, by card payment id."""

    paid: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    unavailable: list[uuid.UUID] = field(default_factory=list)


def charge_due_cycles(
    session: Session,
    gateway: StripeGateway,
    *,
    today: date,
    days_ahead: int = DEFAULT_CHARGE_DAYS_BEFORE,
    commit: Callable[[], None],
    now: datetime | None = None,
) -> ChargeReport:
    """Charge each due cycle's card share to the saved card, off-session: claim (committed),
    ask Stripe with the claim's key, then take its answer (committed), cycle by cycle.
    Stripe unreachable: the claim stays, and a run after IN_FLIGHT asks again with the same
    key. Safe to run twice, or in two workers at once."""
    report = ChargeReport()
    for cycle_id in [cycle.id for cycle in due_cycles(session, today=today, days_ahead=days_ahead)]:
        commit()
        cycle = session.get_one(OrderCycle, cycle_id)
        request = claim_charge(session, cycle, now=now or utcnow())
        commit()
        if request is not None:
            _charge(session, gateway, request, report)
            commit()
    commit()
    return report


def charge_cycle_now(
    session: Session,
    cycle: OrderCycle,
    *,
    by: User,
    gateway: StripeGateway,
    commit: Callable[[], None],
    now: datetime | None = None,
) -> ChargeReport:
    """The person pays a cycle waiting for payment now, with the saved card (after their
    bank's refusal was put right, say). Raises NotYours."""
    if not can(by, "pay_by_card_for", cycle.order.person):
        raise NotYours("You cannot pay for this order")
    report = ChargeReport()
    request = claim_charge(session, cycle, now=now or utcnow(), retry_failed=True)
    commit()
    if request is not None:
        _charge(session, gateway, request, report)
        commit()
    return report


def _charge(
    session: Session, gateway: StripeGateway, request: ChargeRequest, report: ChargeReport
) -> None:
    try:
        intent = gateway.create_payment_intent(
            amount_pence=request.amount_pence,
            idempotency_key=request.key,
            metadata=request.metadata,
            customer=request.customer_id,
            payment_method=request.payment_method,
            confirm=True,
            off_session=True,
        )
    except CardDeclined as declined:
        charge_failed(session, request.card_payment_id, reason=declined.message)
        report.failed.append(request.card_payment_id)
        return
    except StripeUnavailable:
        report.unavailable.append(request.card_payment_id)
        return
    payment = session.get_one(CardPayment, request.card_payment_id)
    service.record_intent(session, payment, intent_id=intent.id, status=intent.status)
    if intent.status == "succeeded":
        outcome = service.payment_succeeded(
            session,
            intent_id=intent.id,
            amount_pence=intent.amount_pence,
            currency=intent.currency,
            metadata=intent.metadata,
        )
        if outcome.payment is not None and outcome.payment.status.in_ledger:
            report.paid.append(request.card_payment_id)
        return
    # Off-session, a bank that wants the person present (3-D Secure) is a failed charge: the
    # person pays it on the order's page.
    charge_failed(
        session,
        request.card_payment_id,
        reason="Your bank needs you to confirm this payment"
        if intent.status == "requires_action"
        else f"Stripe said {intent.status}",
    )
    report.failed.append(request.card_payment_id)
