"""Changes to a package (issue 18, VARIATIONS): more or fewer hours, other days, a new price,
a pause (a hospital stay) and a restart, each proposed by one party and accepted by the other.

The parties are the person's side (the person, or whoever acts for them under a consent
covering orders) and the provider's staff (`policy.variation_side`); a change is never
accepted by the side that proposed it. Only the provider proposes a new price, and not to
start sooner than its notice period (`Order.notice_days`) after it is proposed. Where the
council pays (a council or NHS stream in the budget that pays the package, or a reablement
pot), a rise in price, or a change of hours or days that costs more each week, waits for a
council officer's agreement once the other party accepts.

A change takes effect from a day that is today or later and after the last invoiced cycle.
One change waits at a time, and none may start before a change already agreed. On agreement
a `PackageTerms` row is written (and a second for a pause with a known end), and every cycle
still holding its money that ends on or after that day is held again at its cost under the
new terms (`cycle_money.rework_cycle`), per occasion, so a cycle that straddles the day is
priced at the old terms before it and the new from it. Invoiced and settled cycles are never
touched; cycles not yet made are made on the new terms by the daily job. If the budget cannot
cover an increase nothing changes and the acceptance is refused.

Every step takes the order's lock first (`lock_order`), so a change accepted while the other
party cancels the package is decided by whichever came first: cancelling lapses the changes
still waiting (`lapse_pending`), and accepting a lapsed change is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.policy import can, live_consent, variation_side
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.models import PersonalBudget, StreamKind
from marketplace.formatting import london_today, pounds
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    council_officers,
    notify,
    recipients_for_organisation,
    recipients_for_person,
)
from marketplace.orders import cycle_money, events
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderFunding,
    OrderPricing,
    OrderStatus,
    PackageTerms,
    PackageVariation,
    VariationKind,
    VariationParty,
    VariationState,
)
from marketplace.orders.package_terms import cycle_cost, is_package, terms_of, terms_on
from marketplace.orders.variation_terms import (
    change_asked,
    date_problems,
    day_text,
    describe,
    new_terms,
    weekly_change,
)
from marketplace.people import consents
from marketplace.types import Session, utcnow

REASON_MAX_LENGTH = 1000
# A package that may be changed: the provider has accepted it and it is not ending.
OPEN = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
PENDING = (VariationState.PROPOSED, VariationState.AWAITING_COUNCIL)
# The council pays what these streams hold.
COUNCIL_STREAMS = (StreamKind.COUNCIL, StreamKind.NHS)


def pending_of(order: Order) -> list[PackageVariation]:
    """The order's changes waiting for the other party or the council."""
    return [variation for variation in order.variations if variation.state in PENDING]


def variation_of(session: Session, order: Order, variation_id: object) -> PackageVariation | None:
    """One of the order's variations by id (None for another order's, or none)."""
    found = session.get(PackageVariation, variation_id)
    return found if found is not None and found.order_id == order.id else None


def awaiting_council(session: Session) -> Sequence[PackageVariation]:
    """Every change both parties agreed that waits for the council, oldest first."""
    return session.scalars(
        select(PackageVariation)
        .where(PackageVariation.state == VariationState.AWAITING_COUNCIL)
        .order_by(PackageVariation.decided_at)
    ).all()


def propose(
    session: Session,
    order: Order,
    *,
    by: User,
    party: VariationParty,
    kind: VariationKind,
    effective_from: date,
    units_per_occasion: int | None = None,
    days: Sequence[str] | None = None,
    unit_price_pence: int | None = None,
    resumes_on: date | None = None,
    reason: str = "",
    today: date | None = None,
) -> PackageVariation:
    """Propose a change to an open package for the other party to accept, and tell them.

    Raises NotYours when `by` does not speak for `party` (or a price change not from the
    provider), InvalidTransition when the package cannot be changed now (not accepted, ending,
    a change already waiting) and InvalidOrder (with `fields`) for a change that is wrong in
    itself: a day in the past or inside an invoiced cycle, a new price sooner than the notice
    period, terms that change nothing."""
    lock_order(session, order)
    today = today or london_today()
    if variation_side(by, order) != party.value:
        raise NotYours("You cannot propose changes to this package")
    _check_open(order)
    if pending_of(order):
        raise InvalidTransition(
            "A change to this package is already waiting to be agreed: "
            f"{describe(pending_of(order)[0])}. Wait for it to be decided, or withdraw it"
        )
    if kind is VariationKind.SCHEDULE and order.pricing is OrderPricing.OUTCOMES:
        # An outcome order is one agreed amount a week: its hours and days are the provider's
        # to arrange. It changes by a new price (a new weekly amount) or a pause.
        raise InvalidOrder(
            "Care bought for outcomes has no hours or days to change: ask for a new weekly "
            "amount, or a pause",
            fields={"kind": "Care bought for outcomes changes by its weekly amount or a pause"},
        )
    reason = _reason(reason)
    problems = date_problems(order, effective_from, today)
    if problems:
        raise InvalidOrder(next(iter(problems.values())), fields=problems)
    change = change_asked(
        order,
        party,
        kind,
        effective_from,
        today,
        units_per_occasion,
        list(days) if days else None,
        unit_price_pence,
        resumes_on,
    )
    consent = live_consent(by, order.person, "order") if party is VariationParty.PERSON else None
    variation = PackageVariation(
        order=order,
        kind=kind,
        state=VariationState.PROPOSED,
        proposed_by_party=party,
        proposed_by_id=by.id,
        consent_id=consent.id if consent is not None and not _is_self(by, order) else None,
        effective_from=effective_from,
        units_per_occasion=change.units_per_occasion,
        days=change.days,
        unit_price_pence=change.unit_price_pence,
        resumes_on=change.resumes_on,
        reason=reason,
    )
    session.add(variation)
    session.flush()
    summary = describe(variation)
    events.record(
        session,
        order,
        "variation_proposed",
        by=by,
        reason=reason,
        variation=str(variation.id),
        change=summary,
        party=party.value,
    )
    _tell(
        session,
        order,
        _other(party),
        NotificationKind.VARIATION_PROPOSED,
        f"A change to order {order.reference} is proposed: {summary}",
    )
    return variation


def accept(
    session: Session, variation: PackageVariation, *, by: User, today: date | None = None
) -> None:
    """The other party accepts the change. Where the council pays for a rise it then waits for
    an officer (AWAITING_COUNCIL); otherwise it takes effect (see `_apply`).

    Raises NotYours (the proposer's side, or no party), InvalidTransition (not waiting for the
    other party: decided, withdrawn or lapsed; the package cancelled or ended), InvalidOrder
    (its start has passed or is inside an invoiced cycle) and InsufficientFunds or
    BudgetClosed when the budget cannot cover an increase: then nothing changes."""
    order = variation.order
    lock_order(session, order)
    session.refresh(variation)
    today = today or london_today()
    if not can(by, "decide_variation", variation):
        raise NotYours("Only the other party can accept this change")
    _check_waiting(variation, VariationState.PROPOSED)
    _check_open(order)
    _check_still_possible(order, variation, today)
    variation.decided_by_id = by.id
    variation.decided_at = utcnow()
    summary = describe(variation)
    if _needs_council(order, variation):
        variation.state = VariationState.AWAITING_COUNCIL
        events.record(
            session,
            order,
            "variation_accepted",
            by=by,
            variation=str(variation.id),
            change=summary,
            awaiting_council=True,
        )
        notify(
            session,
            council_officers(session),
            NotificationKind.VARIATION_COUNCIL,
            title=f"A change to order {order.reference} needs the council's agreement",
            order_id=order.id,
        )
        _tell(
            session,
            order,
            variation.proposed_by_party,
            NotificationKind.VARIATION_DECIDED,
            f"The change to order {order.reference} was accepted; the council will now decide",
        )
        return
    _apply(session, order, variation)
    events.record(
        session,
        order,
        "variation_accepted",
        by=by,
        variation=str(variation.id),
        change=summary,
    )
    _tell(
        session,
        order,
        variation.proposed_by_party,
        NotificationKind.VARIATION_DECIDED,
        f"The change to order {order.reference} was agreed: {summary}",
    )


def decline(session: Session, variation: PackageVariation, *, by: User, reason: str) -> None:
    """The other party declines the change (a reason is required), and the proposer is told."""
    order = variation.order
    lock_order(session, order)
    session.refresh(variation)
    if not can(by, "decide_variation", variation):
        raise NotYours("Only the other party can decline this change")
    _check_waiting(variation, VariationState.PROPOSED)
    reason = _reason(reason, required=True)
    variation.state = VariationState.DECLINED
    variation.decided_by_id = by.id
    variation.decided_at = utcnow()
    variation.decision_reason = reason
    events.record(
        session,
        order,
        "variation_declined",
        by=by,
        reason=reason,
        variation=str(variation.id),
        change=describe(variation),
    )
    _tell(
        session,
        order,
        variation.proposed_by_party,
        NotificationKind.VARIATION_DECIDED,
        f"The change to order {order.reference} was declined",
    )


def withdraw(session: Session, variation: PackageVariation, *, by: User, reason: str = "") -> None:
    """Whoever proposed the change (their side) withdraws it before it is in force."""
    order = variation.order
    lock_order(session, order)
    session.refresh(variation)
    if variation_side(by, order) != variation.proposed_by_party.value:
        raise NotYours("Only the side that proposed this change can withdraw it")
    if variation.state not in PENDING:
        raise InvalidTransition(
            f"This change is {variation.state.label.lower()}: it cannot be withdrawn"
        )
    reason = _reason(reason)
    variation.state = VariationState.WITHDRAWN
    events.record(
        session,
        order,
        "variation_withdrawn",
        by=by,
        reason=reason,
        variation=str(variation.id),
        change=describe(variation),
    )
    _tell(
        session,
        order,
        _other(variation.proposed_by_party),
        NotificationKind.VARIATION_DECIDED,
        f"The proposed change to order {order.reference} was withdrawn",
    )


def council_decide(
    session: Session,
    variation: PackageVariation,
    *,
    by: User,
    agree: bool,
    reason: str = "",
    today: date | None = None,
) -> None:
    """A council officer agrees (the change takes effect, as on acceptance) or refuses (a
    reason is required) a change both parties accepted; both parties are told.

    Raises as `accept` does, and NotYours for anyone but an officer."""
    order = variation.order
    lock_order(session, order)
    session.refresh(variation)
    today = today or london_today()
    if not can(by, "council_decide_variation", variation):
        raise NotYours("Only a council officer can decide this")
    _check_waiting(variation, VariationState.AWAITING_COUNCIL)
    reason = _reason(reason, required=not agree)
    summary = describe(variation)
    if agree:
        _check_open(order)
        _check_still_possible(order, variation, today)
        _apply(session, order, variation)
    else:
        variation.state = VariationState.DECLINED
        variation.decision_reason = reason
    variation.council_decided_by_id = by.id
    variation.council_decided_at = utcnow()
    events.record(
        session,
        order,
        "variation_council_agreed" if agree else "variation_council_refused",
        by=by,
        reason=reason,
        variation=str(variation.id),
        change=summary,
    )
    title = (
        f"The council agreed the change to order {order.reference}: {summary}"
        if agree
        else f"The council did not agree the change to order {order.reference}"
    )
    for party in (VariationParty.PERSON, VariationParty.PROVIDER):
        _tell(session, order, party, NotificationKind.VARIATION_DECIDED, title)


def lapse_pending(session: Session, order: Order, *, by: User | None, why: str) -> int:
    """Every change still waiting on the order lapses (it was cancelled or ended); both
    parties are told. Returns how many lapsed. The caller holds the order's lock."""
    lapsed = 0
    for variation in pending_of(order):
        variation.state = VariationState.LAPSED
        events.record(
            session,
            order,
            "variation_lapsed",
            by=by,
            reason=why,
            variation=str(variation.id),
            change=describe(variation),
        )
        lapsed += 1
    if lapsed:
        for party in (VariationParty.PERSON, VariationParty.PROVIDER):
            _tell(
                session,
                order,
                party,
                NotificationKind.VARIATION_DECIDED,
                f"A proposed change to order {order.reference} lapsed: {why}",
            )
    return lapsed


def _apply(session: Session, order: Order, variation: PackageVariation) -> None:
    """Put the change in force: its terms rows, then every held cycle ending on or after its
    day held again at its cost under the new terms. All or nothing."""
    added = new_terms(order, variation)
    sequence = max((row.sequence for row in order.terms), default=0)
    try:
        with ledger.savepoint(session):
            for offset, terms in enumerate(added, start=1):
                order.terms.append(
                    PackageTerms(
                        order_id=order.id,
                        sequence=sequence + offset,
                        effective_from=terms.effective_from,
                        units_per_occasion=terms.units_per_occasion,
                        days=list(terms.days),
                        unit_price_pence=terms.unit_price_pence,
                        paused=terms.paused,
                        variation_id=variation.id,
                    )
                )
            session.flush()
            for cycle in order.cycles:
                if cycle.state is not CycleState.HELD or cycle.ends_on < variation.effective_from:
                    continue
                cost = cycle_cost(order, cycle.number)
                if (cost.units, cost.amount_pence) != (cycle.units, cycle.amount_pence):
                    cycle_money.rework_cycle(
                        session, order, cycle, units=cost.units, amount_pence=cost.amount_pence
                    )
    except ledger.InsufficientFunds as short:
        session.expire(order)
        raise ledger.InsufficientFunds(
            "The budget cannot cover this change: it needs "
            f"{pounds(short.shortfall_pence)} more than it has available now. Nothing has "
            "changed. Ask the council to review the budget, or propose a smaller change",
            shortfall_pence=short.shortfall_pence,
        ) from short
    except BudgetClosed as closed:
        session.expire(order)
        raise BudgetClosed(
            "The budget that pays for this package is closed, so the change cannot be held. "
            "Nothing has changed"
        ) from closed
    variation.state = VariationState.ACCEPTED


def _needs_council(order: Order, variation: PackageVariation) -> bool:
    """Whether the council must agree: it pays for the package, and the change costs more
    each week than the terms it replaces (a new price: a higher price)."""
    if not _council_pays(order):
        return False
    if variation.kind is VariationKind.PRICE:
        current = terms_on(terms_of(order), variation.effective_from)
        assert current is not None
        return (variation.unit_price_pence or 0) > current.unit_price_pence
    before, after = weekly_change(order, variation)
    return after > before


def _council_pays(order: Order) -> bool:
    """A reablement order, or one whose paying budget has a council or NHS stream."""
    if order.funding is OrderFunding.REABLEMENT:
        return True
    budget = _paying_budget(order)
    return budget is not None and any(stream.kind in COUNCIL_STREAMS for stream in budget.streams)


def _paying_budget(order: Order) -> PersonalBudget | None:
    """The budget paying the package's latest cycle (it carries over), else its own."""
    for cycle in reversed(order.cycles):
        if cycle.budget is not None:
            return cycle.budget
    return order.budget


def _check_open(order: Order) -> None:
    if not is_package(order):
        raise InvalidTransition("Only an ongoing package can be changed this way")
    if order.status not in OPEN or order.cancelled_from is not None:
        raise InvalidTransition(
            "Only a package the provider has accepted, and that is not ending, can be changed",
            status=order.status.value,
        )


def _check_waiting(variation: PackageVariation, state: VariationState) -> None:
    if variation.state is not state:
        raise InvalidTransition(
            f"This change is {variation.state.label.lower()}: it cannot be decided now",
            state=variation.state.value,
        )


def _check_still_possible(order: Order, variation: PackageVariation, today: date) -> None:
    """Its day must still be possible: not past, not inside an invoiced cycle, not before a
    change agreed since it was proposed. A price change keeps its notice from its proposal."""
    problems = date_problems(order, variation.effective_from, today)
    if problems:
        raise InvalidOrder(
            f"This change was to start on {day_text(variation.effective_from)}, which is no longer "
            "possible: withdraw it and propose it again with a later date",
            fields=problems,
        )


def _reason(reason: str, *, required: bool = False) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidOrder("Give a reason", fields={"reason": "Enter a reason"})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidOrder(
            "The reason is too long",
            fields={"reason": f"Reason must be {REASON_MAX_LENGTH} characters or fewer"},
        )
    return reason


def _is_self(user: User, order: Order) -> bool:
    return getattr(user, "person_id", None) == order.person_id


def _other(party: VariationParty) -> VariationParty:
    return VariationParty.PROVIDER if party is VariationParty.PERSON else VariationParty.PERSON


def _tell(
    session: Session, order: Order, party: VariationParty, kind: NotificationKind, title: str
) -> None:
    """Tell one party: the provider's staff, or the person and whoever holds their consent."""
    if party is VariationParty.PROVIDER:
        users = recipients_for_organisation(session, order.organisation_id)
    else:
        users = recipients_for_person(session, order.person_id)
        for consent in consents.consents_of(session, order.person):
            if consents.state_of(consent) is consents.ConsentState.LIVE:
                users += consents.grantee_users(session, consent)
    unique = {user.id: user for user in users}
    notify(session, list(unique.values()), kind, title=title, order_id=order.id)
