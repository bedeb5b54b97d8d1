"""From a basket to orders: what an order would cost and how it would be paid (a quote), and
placing it, which commits the money in the same transaction as the order.

An order's money is held per invoicing cycle (one budget commitment each), so that each
invoice settles its own cycle: posting the delivered amount and releasing the rest. The whole
order is committed when it is placed, out of what the budget has released so far.

Part or all of an order may be paid by card (`CardTerms`): a self-funder pays by card what
their own account does not hold, a budget holder (where the council allows it) what their
budget cannot or may not cover. The budget streams pay first and the card last, so the card
pays the last cycles' money. Such an order is placed awaiting payment: the streams' part is
held at once, the card's only once Stripe confirms (`payments.service.payment_succeeded`).
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets import spending
from marketplace.budgets.allocations import current_status
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.forecast import NEARLY_SPENT_BELOW
from marketplace.budgets.funders import payee_account
from marketplace.budgets.models import BudgetStatus, FundingStream, PersonalBudget
from marketplace.budgets.own_funds import (
    create_self_funded_budget,
    is_self_funder,
    open_own_funds_stream,
    provisional_self_funded_budget,
)
from marketplace.budgets.queries import current_budget
from marketplace.formatting import pounds
from marketplace.ledger import LedgerAccount
from marketplace.notifications.models import NotificationKind
from marketplace.orders import cycle_money, events, on_behalf, package_terms
from marketplace.orders.basket import basket_item_key, basket_of, check_orderable
from marketplace.orders.errors import (
    BasketRefused,
    InsufficientFunds,
    InvalidOrder,
    OutsideSupportPlan,
)
from marketplace.orders.models import (
    BasketItem,
    Order,
    OrderCycle,
    OrderStatus,
    ScheduleKind,
)
from marketplace.orders.plan_amounts import PlanExcess, plan_excess
from marketplace.orders.schedule import (
    CyclePlan,
    Schedule,
    cycles,
    schedule_of,
    validation_problems,
)
from marketplace.people import questions
from marketplace.people.models import Consent, Person
from marketplace.people.plans import (
    DEFAULT_OUT_OF_PLAN_RULE,
    OutOfPlanRule,
    PurchaseCheck,
    approved_plan,
    item_covering,
    outside_plan,
    plan_allows,
    with_parents,
)
from marketplace.types import Session
from providers.models import Organisation, Service

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread


@dataclass(frozen=True)
class CardTerms:
    """Whether the person pays part of an order by card, and why they may: a self-funder
    (no budget with anyone else's money) pays whatever their own account does not hold, and
    no support plan limits what they buy with their own money; a budget holder pays only what
    the budget cannot or may not cover (the council's CARD_TOP_UPS_ALLOWED)."""

    self_funded: bool


def card_terms(
    session: Session, person: Person, *, pay_by_card: bool, top_ups_allowed: bool
) -> CardTerms | None:
    """The person's terms for paying by card, None when they do not (or may not) pay by
    card."""
    if not pay_by_card:
        return None
    if is_self_funder(session, person):
        return CardTerms(self_funded=True)
    return CardTerms(self_funded=False) if top_ups_allowed else None


@dataclass(frozen=True)
class StreamShare:
    stream: FundingStream
    pence: int


@dataclass(frozen=True)
class Quote:
    """What an order would be: its cost, its cycles, and which streams would pay what."""

    person: Person
    service: Service
    schedule: Schedule
    budget: PersonalBudget
    unit_price_pence: int
    cycles: list[CyclePlan]
    shares: list[StreamShare]
    plan_check: PurchaseCheck
    available: dict[uuid.UUID, int] = field(default_factory=dict)
    # Set when the plan covers the category but not the amount (the first week over it).
    plan_excess: PlanExcess | None = None
    # The service's categories and their parents (what stream rules and plans are written in).
    codes: frozenset[str] = frozenset()
    # Paid by card, after the streams' shares: held only once the card payment is confirmed.
    card_pence: int = 0
    # PACKAGES (issue 18): an open-ended schedule is priced for its first `cycles_ahead`
    # cycles, the ones held when it is placed (`marketplace.orders.packages`).
    cycles_ahead: int = 1

    @property
    def total_units(self) -> int:
        return sum(cycle.units for cycle in self.cycles)

    @property
    def total_pence(self) -> int:
        return self.total_units * self.unit_price_pence

    @property
    def weekly_pence(self) -> int:
        return self.schedule.units_per_week * self.unit_price_pence

    @property
    def budget_pence(self) -> int:
        """What the budget's streams pay (the total less the card's share)."""
        return self.total_pence - self.card_pence

    @property
    def category_codes(self) -> list[str]:
        return [term.code for term in self.service.taxonomy_terms]


def category_codes_of(session: Session, service: Service) -> set[str]:
    """The service's categories and their parents: what stream rules and plans are written in."""
    return with_parents(session, [term.code for term in service.taxonomy_terms])


def quote(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    *,
    today: date,
    split: Mapping[uuid.UUID, int] | None = None,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    before: Sequence[Quote] = (),
    card: CardTerms | None = None,
    cycles_ahead: int = 1,
) -> Quote:
    """Price an order and work out how the budget would pay for it, checking every rule that
    placing it would. `before` are the quotes of orders to be placed first (earlier basket
    items): what they take from each stream and count against the plan is taken as done, so
    the quote is what placing it after them would do.
    Raises InvalidOrder, ServiceUnavailable, OutsideSupportPlan or InsufficientFunds (with
    `shortfall_pence`). Records nothing."""
    budget = current_budget(session, person, today)
    return price(
        session,
        person,
        service,
        schedule,
        budget=budget,
        available=None,
        today=today,
        split=split,
        plan_rule=plan_rule,
        before=before,
        card=card,
        cycles_ahead=cycles_ahead,
    )


def price(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    *,
    budget: PersonalBudget | None,
    available: Mapping[uuid.UUID, int] | None,
    today: date,
    split: Mapping[uuid.UUID, int] | None = None,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    before: Sequence[Quote] = (),
    card: CardTerms | None = None,
    cycles_ahead: int = 1,
) -> Quote:
    """`quote`, for a budget already found (the person's current one) and, when given, what
    each of its streams had available before any of `before` (read once for a whole basket,
    under the budget's locks at checkout). With `card`, what the streams cannot (or, with a
    split, do not) pay is the card's share, and a self-funder with no account yet is priced
    against the account their first purchase will make. Records nothing."""
    problems = validation_problems(schedule, today=today)
    if problems:
        raise InvalidOrder("Check the details of the order", fields=problems)
    check_orderable(service, schedule)
    card = _package_card(schedule, card, split)
    if (
        card is not None
        and card.self_funded
        and (budget is None or budget.status is not BudgetStatus.OPEN)
    ):
        budget = provisional_self_funded_budget(person, today=today)
    if budget is None or budget.status is not BudgetStatus.OPEN:
        raise InvalidOrder(
            "There is no open personal budget to pay from",
            fields={"budget": "There is no open personal budget to pay from"},
        )
    check_budget_period(budget, schedule)
    codes = category_codes_of(session, service)
    cycle_days = service.organisation.invoice_cycle.days
    if card is not None and card.self_funded:
        # The support plan governs what public money buys, not the person's own.
        check, excess = PurchaseCheck.ALLOWED, None
    else:
        check, excess = _plan_check(session, person, service, schedule, codes, plan_rule, before)
    plans = cycles(schedule, cycle_days)
    if schedule.open_ended:
        # PACKAGES: the first cycles, held now; each from this budget, so none starting after
        # its period (the daily job holds that one from the next budget).
        plans = [p for p in plans[:cycles_ahead] if p.starts_on <= budget.ends_on]
    streams = list(budget.streams)
    available = dict(
        spending.available_by_stream(session, budget) if available is None else available
    )
    for earlier in before:
        for share in earlier.shares:
            available[share.stream.id] = available.get(share.stream.id, 0) - share.pence
    total = sum(plan.units for plan in plans) * service.price_pence
    card_pence = 0
    if card is not None:
        from_budget = _budget_part(streams, available, total, codes, split)
        card_pence = total - from_budget
        chosen = _paying_shares(streams, available, from_budget, codes, split)
    else:
        chosen = _paying_shares(streams, available, total, codes, split)
    return Quote(
        person=person,
        service=service,
        schedule=schedule,
        budget=budget,
        unit_price_pence=service.price_pence,
        cycles=plans,
        shares=[StreamShare(stream, pence) for stream, pence in chosen],
        plan_check=check,
        available=available,
        plan_excess=excess,
        codes=frozenset(codes),
        card_pence=card_pence,
        cycles_ahead=cycles_ahead,
    )


def _package_card(
    schedule: Schedule, card: CardTerms | None, split: Mapping[uuid.UUID, int] | None
) -> CardTerms | None:
    """PACKAGES: a package is paid from the budget's streams only, in their draw order, cycle
    by cycle (no card share, and no chosen split: its later cycles are drawn so too)."""
    if not schedule.open_ended:
        return card
    if split is not None:
        raise InvalidOrder(
            "An ongoing package is paid from your budget in its usual order",
            fields={"split": "Leave the amounts blank for an ongoing package"},
        )
    return None


def _budget_part(
    streams: Sequence[FundingStream],
    available: Mapping[uuid.UUID, int],
    total: int,
    codes: set[str],
    split: Mapping[uuid.UUID, int] | None,
) -> int:
    """What the streams pay of an order partly paid by card: as much as those that allow
    its category have (or, with a chosen split, what the split gives, at most the total)."""
    if split is not None:
        given = sum(pence for pence in split.values() if isinstance(pence, int))
        if given > total:
            raise InvalidOrder(
                "The split is more than the order costs",
                fields={"split": "The split is more than the order costs"},
            )
        return given
    allowed = sum(max(available.get(s.id, 0), 0) for s in streams if s.allows(codes))
    return min(total, allowed)


def check_budget_period(budget: PersonalBudget, schedule: Schedule) -> None:
    """Refuse a schedule outside the budget's period (a package: one starting outside it; it
    carries on into the next budget)."""
    ends_after = not schedule.open_ended and schedule.ends_on > budget.ends_on
    if schedule.starts_on < budget.starts_on or schedule.starts_on > budget.ends_on or ends_after:
        field_name = "starts_on" if schedule.starts_on < budget.starts_on else "weeks"
        raise InvalidOrder(
            "The order must fall within the budget period",
            fields={
                field_name: (
                    "The care must fall within your budget period, "
                    f"{budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y}"
                )
            },
        )


def _plan_check(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    codes: set[str],
    plan_rule: OutOfPlanRule | str,
    before: Sequence[Quote],
) -> tuple[PurchaseCheck, PlanExcess | None]:
    """Whether the support plan allows the purchase, in its category and in its amount (with
    `before` counted against it); raises OutsideSupportPlan when it is refused."""
    # One look at the plan for both questions (is the category in it, and which item's weekly
    # amount it counts against), as `purchase_check` and `plan_item_covering` ask them; the
    # codes' own parents are read only when the plan has none of the codes themselves.
    plan = approved_plan(session, person)
    wider: list[set[str]] = []

    def and_parents() -> set[str]:
        if not wider:
            wider.append(with_parents(session, codes))
        return wider[0]

    allowed = plan is not None and (plan_allows(plan, codes) or plan_allows(plan, and_parents()))
    check = PurchaseCheck.ALLOWED if allowed else outside_plan(plan_rule)
    excess = None
    if plan is not None and check is PurchaseCheck.ALLOWED:
        covering = item_covering(plan, codes, and_parents)
        if covering is not None:
            excess = plan_excess(
                session,
                person,
                covering,
                schedule,
                service.price_pence,
                alongside=[
                    (earlier.schedule, earlier.unit_price_pence)
                    for earlier in before
                    if covering.category_code in earlier.codes
                ],
            )
            if excess is not None:
                check = outside_plan(plan_rule)
    if check is PurchaseCheck.REFUSED and excess is not None:
        raise OutsideSupportPlan(
            f"{service.name} would bring {excess.category_name.lower()} to "
            f"{pounds(excess.weekly_pence)} in the week of {excess.week_of:%-d %B %Y}, more than "
            f"the {pounds(excess.agreed_pence)} a week your support plan agrees, so it cannot be "
            "bought from your budget. Choose fewer hours, or ask the council to review your plan.",
            service_id=str(service.id),
            week_of=excess.week_of.isoformat(),
            weekly_pence=excess.weekly_pence,
            agreed_pence=excess.agreed_pence,
        )
    if check is PurchaseCheck.REFUSED:
        raise OutsideSupportPlan(
            f"{service.name} is not in your support plan, so it cannot be bought from your "
            "budget. Ask the council to add it to your plan.",
            service_id=str(service.id),
        )
    return check, excess


def _paying_shares(
    streams: Sequence[FundingStream],
    available: Mapping[uuid.UUID, int],
    total: int,
    codes: set[str],
    split: Mapping[uuid.UUID, int] | None,
) -> list[tuple[FundingStream, int]]:
    """`spending.paying_shares`, its refusals in the order's words: a bad split is an
    InvalidOrder on the `split` field, and a shortfall says what is short of what."""
    if total == 0 and split is None:
        return []  # paid by card in full: no stream pays anything
    try:
        return spending.paying_shares(streams, available, total, codes, split)
    except ledger.InvalidTransfer as refusal:
        raise InvalidOrder(refusal.message, fields={"split": refusal.message}) from refusal
    except InsufficientFunds as short:
        stream = next((s for s in streams if str(s.id) == short.details.get("stream_id")), None)
        if split is not None and stream is not None:
            # One stream of a chosen split has too little: name it and what it has, not the
            # budget's whole balance.
            raise InsufficientFunds(
                short.message,
                shortfall_pence=short.shortfall_pence,
                requested_pence=split[stream.id],
                available_pence=available[stream.id],
                stream_id=str(stream.id),
                stream_name=stream.kind.label,
            ) from short
        allowed = sum(available[s.id] for s in streams if s.allows(codes))
        raise InsufficientFunds(
            short.message,
            shortfall_pence=total - allowed if split is None else short.shortfall_pence,
            requested_pence=total,
            available_pence=allowed,
        ) from short


@dataclass(frozen=True)
class BasketLine:
    """One basket item as checkout would place it: its quote, or why it cannot be bought."""

    item: BasketItem
    quote: Quote | None
    refusal: ledger.LedgerError | None


def quote_basket(
    session: Session,
    person: Person,
    items: Sequence[BasketItem],
    *,
    today: date,
    splits: Mapping[uuid.UUID, Mapping[uuid.UUID, int] | None] | None = None,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    card: CardTerms | None = None,
    cycles_ahead: int = 1,
) -> list[BasketLine]:
    """Quote every item in the order checkout places them, each after the items before it
    have drawn on the budget, so the split shown for each is the split it will get (with
    `card`, the card's share last). An item that cannot be bought draws nothing (checkout
    would then place nothing at all). A package is priced for its first `cycles_ahead`
    cycles (the council's PACKAGE_CYCLES_AHEAD). Records nothing."""
    budget = current_budget(session, person, today)
    return _quote_items(
        session,
        person,
        items,
        budget=budget,
        today=today,
        splits=splits,
        plan_rule=plan_rule,
        card=card,
        cycles_ahead=cycles_ahead,
    )


def _quote_items(
    session: Session,
    person: Person,
    items: Sequence[BasketItem],
    *,
    budget: PersonalBudget | None,
    today: date,
    splits: Mapping[uuid.UUID, Mapping[uuid.UUID, int] | None] | None,
    plan_rule: OutOfPlanRule | str,
    card: CardTerms | None = None,
    cycles_ahead: int = 1,
) -> list[BasketLine]:
    """`quote_basket` for a budget already found, its balances read once."""
    available = (
        spending.available_by_stream(session, budget)
        if budget is not None and budget.status is BudgetStatus.OPEN
        else None
    )
    placed_first: list[Quote] = []
    lines = []
    for item in items:
        try:
            priced = price(
                session,
                person,
                item.service,
                schedule_of(item),
                budget=budget,
                available=available,
                today=today,
                split=(splits or {}).get(item.id),
                plan_rule=plan_rule,
                before=placed_first,
                cycles_ahead=cycles_ahead,
                card=card,
            )
        except ledger.LedgerError as refusal:
            lines.append(BasketLine(item, None, refusal))
            continue
        placed_first.append(priced)
        lines.append(BasketLine(item, priced, None))
    return lines


def cycle_splits(quote: Quote) -> list[dict[uuid.UUID, int]]:
    """Spread the order's shares over its cycles: each cycle takes its cost from the streams in
    draw order, as much as each stream's share has left. The card pays after the streams, so
    what a cycle's split leaves of its cost is the card's (`Order.card_share_of`)."""
    left = {share.stream.id: share.pence for share in quote.shares}
    order = [share.stream.id for share in quote.shares]
    splits = []
    for plan in quote.cycles:
        need = plan.units * quote.unit_price_pence
        split: dict[uuid.UUID, int] = {}
        for stream_id in order:
            take = min(need, left[stream_id])
            if take:
                split[stream_id] = take
                left[stream_id] -= take
                need -= take
        splits.append(split)
    return splits


def organisation_payee(session: Session, organisation: Organisation) -> LedgerAccount:
    return payee_account(session, code=f"organisation:{organisation.id}", name=organisation.name)


def lock_budget(session: Session, person: Person, today: date) -> PersonalBudget | None:
    """Find the person's current budget and take its accounts' locks, once, at the start of a
    purchase: a second request for the same person (a double click, another tab) waits here,
    then finds the orders the first one placed. Everything after reads balances nobody else
    can change until the transaction ends. With no budget, the transaction still takes the
    write lock (SQLite), so the placement key is looked up under it."""
    budget = current_budget(session, person, today)
    if budget is not None:
        ledger.lock_accounts(session, [stream.account_id for stream in budget.streams])
    else:
        ledger.begin_immediate(session)
    return budget


def lock_self_funder(session: Session, person: Person, card: CardTerms | None) -> None:
    """Before a self-funder's purchase by card finds their account, take the person's row
    lock (PostgreSQL; SQLite's IMMEDIATE transaction serialises every writer anyway), so two
    first purchases at once make one account: the second waits, then finds it."""
    if card is None or not card.self_funded:
        return
    # SQLite: the write lock first, so the account is looked for after any other first
    # purchase has committed (a read before BEGIN IMMEDIATE would not see it).
    ledger.begin_immediate(session)
    if ledger.transactions.dialect_name(session) != "sqlite":
        session.execute(select(Person.id).where(Person.id == person.id).with_for_update()).one()


def with_account(session: Session, priced: Quote, today: date) -> Quote:
    """The quote on a real budget: a self-funder's first purchase was priced against the
    account it makes (`provisional_self_funded_budget`, never added to the session); it is
    made now, inside the caller's savepoint, once nothing has refused the purchase."""
    if not sa_inspect(priced.budget).transient:
        return priced
    budget = create_self_funded_budget(session, priced.person, today=today)
    ledger.lock_accounts(session, [stream.account_id for stream in budget.streams])
    return replace(priced, budget=budget)


@dataclass
class MoneyLeft:
    """What the budget has left to commit in its period (the budget page's alert), read once
    per checkout and brought down by each order placed."""

    left_pence: int
    whole_pence: int

    @classmethod
    def of(cls, session: Session, budget: PersonalBudget) -> MoneyLeft:
        figures = budget_figures(session, budget).total
        return cls(
            left_pence=figures.available_pence + figures.scheduled_pence,
            whole_pence=(
                figures.allocated_pence + figures.scheduled_pence - figures.gone_at_close_pence
            ),
        )

    @property
    def nearly_spent(self) -> bool:
        """Whether less than NEARLY_SPENT_BELOW of the period's money is left to commit."""
        return self.whole_pence > 0 and (
            Fraction(self.left_pence, self.whole_pence) < NEARLY_SPENT_BELOW
        )


def place_order(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    *,
    by: User,
    today: date,
    placement_key: str,
    split: Mapping[uuid.UUID, int] | None = None,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    pay_by_card: bool = False,
    card_top_ups_allowed: bool = False,
    cycles_ahead: int = 1,
) -> Order:
    """Place an order and commit its money, in the caller's transaction.

    `placement_key` makes it safe to repeat: the same key for the same order returns the order
    placed first and records nothing; for a different order it is refused (IdempotencyConflict).
    With `pay_by_card`, what the budget does not pay is paid by card (see `CardTerms`; a
    budget holder only when `card_top_ups_allowed`): the order is then placed awaiting payment.
    Raises what `quote` raises, and NotYours when `by` may not buy for this person. Someone
    acting under the person's consent (`on_behalf`) needs it live, covering orders, when the
    order is written, and (unless they are the person's attorney) the person's approval of the
    service on a shortlist (NotApproved); the order names the consent and the person is told.
    """
    on_behalf.check_may_order(session, by, person)
    card = card_terms(
        session, person, pay_by_card=pay_by_card, top_ups_allowed=card_top_ups_allowed
    )
    lock_self_funder(session, person, card)
    budget = lock_budget(session, person, today)
    earlier = session.scalar(select(Order).where(Order.placement_key == placement_key))
    if earlier is not None:
        if (
            earlier.person_id != person.id
            or earlier.service_id != service.id
            or earlier.starts_on != schedule.starts_on
            or earlier.units_per_occasion != schedule.units_per_occasion
            or earlier.schedule_kind is not schedule.kind
        ):
            raise ledger.IdempotencyConflict(
                "this key was used for a different order", idempotency_key=placement_key
            )
        return earlier
    # Again under the locks: a consent withdrawn or ended meanwhile refuses it.
    consent = on_behalf.check_may_order(session, by, person)
    if on_behalf.needs_approval(by, person, consent):
        on_behalf.check_approved(session, person, service)
    priced = price(
        session,
        person,
        service,
        schedule,
        budget=budget,
        available=None,
        today=today,
        split=split,
        plan_rule=plan_rule,
        card=card,
        cycles_ahead=cycles_ahead,
    )
    with ledger.savepoint(session):
        priced = with_account(session, priced, today)
        refuse_if_closed(session, priced.budget)
        money = MoneyLeft.of(session, priced.budget)
        return _write_order(
            session, priced, by=by, placement_key=placement_key, money=money, consent=consent
        )


def refuse_if_closed(session: Session, budget: PersonalBudget) -> None:
    """Refuse when the budget was closed after it was found: read again under its locks (the
    council closes a budget under the same locks)."""
    if current_status(session, budget.id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is closed")


def _write_order(
    session: Session,
    priced: Quote,
    *,
    by: User,
    placement_key: str,
    money: MoneyLeft,
    consent: Consent | None = None,
) -> Order:
    """Record a priced order under the budget's locks, inside the caller's savepoint: the
    order, its cycles and the money each holds, then who is told. `money` is brought down by
    the order's cost. `consent` is the one `by` placed it under for the person (None when they
    placed it as themselves). The person's questions to the provider about the service, not
    yet kept with an order, are kept with this one."""
    order = _new_order(session, priced, by=by, placement_key=placement_key, consent=consent)
    _hold_cycles(session, order, priced)
    # The questions asked of the provider about this service before buying are kept with it.
    questions.link_to_order(session, order)
    was_nearly_spent = money.nearly_spent
    money.left_pence -= priced.budget_pence
    _tell_of_order(
        session,
        order,
        priced,
        by=by,
        now_nearly_spent=(not was_nearly_spent) and money.nearly_spent,
        consent=consent,
    )
    return order


def _new_order(
    session: Session,
    priced: Quote,
    *,
    by: User,
    placement_key: str,
    consent: Consent | None = None,
) -> Order:
    """The order row, its prices, schedule and terms fixed as they are today, and the consent
    it was placed under (if any)."""
    service, schedule = priced.service, priced.schedule
    organisation = service.organisation
    order = Order(
        id=uuid.uuid4(),
        reference=new_reference("ORD"),
        placement_key=placement_key,
        person_id=priced.person.id,
        budget_id=priced.budget.id,
        service_id=service.id,
        organisation_id=organisation.id,
        placed_by_id=by.id,
        consent_id=consent.id if consent is not None else None,
        status=(
            OrderStatus.AWAITING_PAYMENT
            if priced.card_pence
            else OrderStatus.AWAITING_APPROVAL
            if priced.plan_check is PurchaseCheck.NEEDS_APPROVAL
            else OrderStatus.PLACED
        ),
        service_name=service.name,
        unit_price_pence=service.price_pence,
        price_unit=service.price_unit,
        category_codes=sorted(priced.codes),
        schedule_kind=schedule.kind,
        units_per_occasion=schedule.units_per_occasion,
        starts_on=schedule.starts_on,
        # PACKAGES: None for a package, "until further notice".
        ends_on=None if schedule.open_ended else schedule.ends_on,
        cycles_ahead=priced.cycles_ahead,
        weeks=schedule.weeks if schedule.kind is ScheduleKind.RECURRING else None,
        days=list(schedule.days),
        total_pence=priced.total_pence,
        card_pence=priced.card_pence,
        invoice_cycle=organisation.invoice_cycle,
        notice_days=organisation.notice_days,
    )
    session.add(order)
    session.flush()
    return order


def _hold_cycles(session: Session, order: Order, priced: Quote) -> None:
    """One cycle per invoicing period, each holding its share of the money (`spending.hold`,
    the shares decided by the quote under the budget's locks). Inside the caller's
    savepoint, so the order and its money are written all or none. A card share is held
    later, when it is paid; each cycle's split shows it on the own-funds stream it will be
    paid into."""
    if priced.schedule.open_ended:
        _hold_package_cycles(session, order, priced)
        return
    payee = organisation_payee(session, priced.service.organisation)
    streams = {share.stream.id: share.stream for share in priced.shares}
    card_stream = open_own_funds_stream(session, priced.budget) if priced.card_pence else None
    for plan, split_of_cycle in zip(priced.cycles, cycle_splits(priced), strict=True):
        amount = plan.units * priced.unit_price_pence
        shown = {str(k): v for k, v in split_of_cycle.items()}
        card = amount - sum(split_of_cycle.values())
        if card_stream is not None and card:
            shown[str(card_stream.id)] = shown.get(str(card_stream.id), 0) + card
        cycle = OrderCycle(
            order_id=order.id,
            budget_id=priced.budget.id,
            number=plan.number,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            units=plan.units,
            amount_pence=plan.units * priced.unit_price_pence,
            commitment_key=f"order:{order.id}:cycle:{plan.number}",
            split=shown,
        )
        session.add(cycle)
        if split_of_cycle:
            spending.hold(
                session,
                [(streams[sid], pence) for sid, pence in split_of_cycle.items()],
                payee=payee,
                key=cycle.commitment_key,
                description=f"Order {order.reference}: {priced.service.name}",
            )
    session.flush()


def _hold_package_cycles(session: Session, order: Order, priced: Quote) -> None:
    """PACKAGES: a package's first terms, and its first cycles, each held from the budget
    (`cycle_money.hold_cycle`, in draw order from what it has released)."""
    session.add(package_terms.first_terms(order))
    for plan in priced.cycles:
        cycle = OrderCycle(
            order_id=order.id,
            budget_id=priced.budget.id,
            number=plan.number,
            starts_on=plan.starts_on,
            ends_on=plan.ends_on,
            units=plan.units,
            amount_pence=plan.units * priced.unit_price_pence,
            commitment_key=f"order:{order.id}:cycle:{plan.number}",
            split={},
        )
        session.add(cycle)
        session.flush()
        cycle_money.hold_cycle(session, order, cycle)
    session.flush()


def _tell_of_order(
    session: Session,
    order: Order,
    priced: Quote,
    *,
    by: User,
    now_nearly_spent: bool,
    consent: Consent | None = None,
) -> None:
    """The order's first timeline entry, and who hears of it: the council when it waits for
    approval, else the provider; the person when it leaves their budget nearly spent, and
    always when someone placed it for them under their consent."""
    excess = priced.plan_excess
    over_plan: dict[str, Any] = (
        {}
        if excess is None
        else {
            "over_plan_week_of": excess.week_of.isoformat(),
            "over_plan_weekly_pence": excess.weekly_pence,
            "plan_weekly_pence": excess.agreed_pence,
        }
    )
    if consent is not None:
        over_plan.update(on_behalf.Placer.of(by, consent).details(consent))
        on_behalf.tell_person_placed_for(session, order, by=by, consent=consent)
    if order.status is OrderStatus.AWAITING_PAYMENT:
        # Nobody is told until it is paid: then the provider, or the council first.
        paying: dict[str, Any] = {"card_pence": order.card_pence, **over_plan}
        if priced.plan_check is PurchaseCheck.NEEDS_APPROVAL:
            paying["needs_approval"] = True  # `life.paid` sends it to the council first
        events.record(session, order, "placed", by=by, to_status=order.status, **paying)
        return
    events.record(session, order, "placed", by=by, to_status=order.status, **over_plan)
    if order.status is OrderStatus.AWAITING_APPROVAL:
        events.tell_council(
            session,
            order,
            NotificationKind.ORDER_NEEDS_APPROVAL,
            f"Order {order.reference} is over a support plan's weekly amount and needs approval"
            if excess is not None
            else f"Order {order.reference} is outside a support plan and needs approval",
        )
    else:
        events.tell_provider(
            session, order, NotificationKind.ORDER_PLACED, f"New order {order.reference}"
        )
    if now_nearly_spent:
        events.tell_person(
            session,
            order,
            NotificationKind.BUDGET_NEARLY_SPENT,
            "Less than a tenth of your budget for this period is left",
        )


def new_reference(prefix: str) -> str:
    return f"{prefix}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def check_out(
    session: Session,
    person: Person,
    item_ids: Sequence[uuid.UUID],
    *,
    by: User,
    today: date,
    splits: Mapping[uuid.UUID, Mapping[uuid.UUID, int]] | None = None,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
    pay_by_card: bool = False,
    card_top_ups_allowed: bool = False,
    cycles_ahead: int = 1,
) -> list[Order]:
    """Order every item the checkout page showed, all or none, and empty them from the basket.

    The budget is found and its accounts locked once, here; every item is then priced on the
    balances read under that lock (each after the items before it, as `quote_basket` shows
    them) before anything is written. If any item cannot be bought, nothing is placed and one
    BasketRefused names each item's problem. Each item's order is keyed by the item, so a
    second submission (a double click, another tab) returns the orders the first placed. An
    item gone from the basket without an order means the basket changed since the page was
    shown: nothing is placed and InvalidOrder says so. Raises NotYours when `by` may not buy
    for this person; the caller's transaction then holds nothing. `pay_by_card` and
    `card_top_ups_allowed` are as for `place_order`: an item whose budget share falls short
    is placed awaiting payment of the rest by card. Someone acting under the person's consent
    is refused as in `place_order` (NotYours; each item the person has not approved is a
    NotApproved in the BasketRefused).
    """
    if not item_ids:
        raise InvalidOrder("Your basket is empty", fields={"basket": "Your basket is empty"})
    card = card_terms(
        session, person, pay_by_card=pay_by_card, top_ups_allowed=card_top_ups_allowed
    )
    lock_self_funder(session, person, card)
    budget = lock_budget(session, person, today)
    items = {item.id: item for item in basket_of(session, person)}
    keys = {item_id: basket_item_key(item_id) for item_id in item_ids}
    earlier = {
        order.placement_key: order
        for order in session.scalars(select(Order).where(Order.placement_key.in_(keys.values())))
    }
    to_place: list[BasketItem] = []
    for item_id in item_ids:
        if keys[item_id] in earlier or items.get(item_id) in to_place:
            continue
        if item_id not in items:
            raise InvalidOrder(
                "Your basket has changed since you looked at it. Check it and try again.",
                fields={"basket": "Your basket has changed: check it and try again"},
            )
        to_place.append(items[item_id])
    placed: dict[uuid.UUID, Order] = {}
    if to_place:
        # Under the locks: a consent withdrawn or ended since the page was shown refuses it.
        consent = on_behalf.check_may_order(session, by, person)
        lines = _quote_items(
            session,
            person,
            to_place,
            budget=budget,
            today=today,
            splits=splits or {},
            plan_rule=plan_rule,
            card=card,
            cycles_ahead=cycles_ahead,
        )
        refused = _refusals(
            session, person, lines, approval=on_behalf.needs_approval(by, person, consent)
        )
        if refused:
            raise BasketRefused(refused)
        with ledger.savepoint(session):
            quotes: list[Quote] = []
            for line in lines:
                assert line.quote is not None  # every item was priced
                # The first item makes a new self-funder's account; the rest are placed in it.
                first = quotes[0].budget if quotes else None
                quotes.append(
                    replace(line.quote, budget=first)
                    if first is not None
                    else with_account(session, line.quote, today)
                )
            budget = quotes[0].budget
            refuse_if_closed(session, budget)
            money = MoneyLeft.of(session, budget)
            for line, priced in zip(lines, quotes, strict=True):
                placed[line.item.id] = _write_order(
                    session,
                    priced,
                    by=by,
                    placement_key=keys[line.item.id],
                    money=money,
                    consent=consent,
                )
                session.delete(line.item)
            session.flush()
    return [earlier.get(keys[item_id]) or placed[item_id] for item_id in item_ids]


def _refusals(
    session: Session, person: Person, lines: Sequence[BasketLine], *, approval: bool
) -> list[tuple[BasketItem, ledger.LedgerError]]:
    """Each item that cannot be bought and why, in basket order: its quote's refusal, or (when
    `approval` is needed) that the person has not approved it on a shortlist."""
    refused: list[tuple[BasketItem, ledger.LedgerError]] = []
    for line in lines:
        if line.refusal is not None:
            refused.append((line.item, line.refusal))
        elif approval:
            try:
                on_behalf.check_approved(session, person, line.item.service)
            except on_behalf.NotApproved as refusal:
                refused.append((line.item, refusal))
    return refused
