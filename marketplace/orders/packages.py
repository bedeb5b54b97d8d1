"""Open-ended packages (issue 18): care ordered "until further notice", paid cycle by cycle.

A package is a recurring order with no end date (`Order.open_ended`). Placing it holds only
its first `cycles_ahead` invoicing cycles (checkout, through `place_package`); after that the
daily job (`roll_packages`, run after the budgets' instalments are released) makes each next
cycle as it comes within `cycles_ahead` cycles of today and holds its money from the budget
whose period contains the cycle's first day. So a package carries over into the person's next
budget without being ordered again, and never holds more than a budget has released.

A cycle its payer cannot cover (no budget for its period, the budget closed, or not enough
released, nor due to be released by the cycle's start) is never skipped: the job stops at it,
and from `SHORTFALL_NOTICE_DAYS` before its start flags it (`PackageShortfall`), telling the
person, whoever holds their consent, the council and the provider what they can do. Each day
the job tries again; when the money is there the cycle is held and the flag resolved. Run
twice, or days late, it catches up every missed cycle and holds each once (the order's lock,
then each cycle's unique number and commitment key).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets import spending
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.models import BudgetStatus, FunderPot, PersonalBudget
from marketplace.formatting import pounds
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    council_officers,
    notify,
    recipients_for_organisation,
    recipients_for_person,
)
from marketplace.orders import checkout, cycle_money, events
from marketplace.orders.errors import InvalidOrder
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    Order,
    OrderCycle,
    OrderFunding,
    OrderStatus,
    PackageShortfall,
    ReablementEpisode,
    ScheduleKind,
)
from marketplace.orders.package_terms import (
    CycleCost,
    cycle_cost,
    cycle_dates,
    cycle_number_on,
)
from marketplace.orders.schedule import Schedule
from marketplace.people import consents
from marketplace.people.models import Person
from marketplace.people.plans import DEFAULT_OUT_OF_PLAN_RULE, OutOfPlanRule
from marketplace.types import Session, utcnow
from providers.models import Service

# How many days before a cycle starts its shortfall is flagged (config
# PACKAGE_SHORTFALL_NOTICE_DAYS).
SHORTFALL_NOTICE_DAYS = 7
# How many invoicing cycles a new package holds ahead (Order.cycles_ahead): one, unless asked.
DEFAULT_CYCLES_AHEAD = 1
MAX_CYCLES_AHEAD = 4
# The orders whose cycles go on being made: sent to the provider and not ended.
ROLLING = (OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
# Why a cycle cannot be held, as the person reads it ("... needs £X, but <why>").
CLOSED = "the budget for that period is closed"
NOT_ENOUGH = "there is not enough money in the budget for it"


class Resolution:
    """How a shortfall flag ended (`PackageShortfall.resolution`)."""

    COVERED = "covered"  # the cycle was held after all
    VARIED = "varied"  # a variation brought the cycle within the budget
    CANCELLED = "cancelled"  # the package was cancelled before the cycle
    ENDED = "ended"


def place_package(
    session: Session,
    person: Person,
    service: Service,
    schedule: Schedule,
    *,
    by: User,
    today: date,
    placement_key: str,
    cycles_ahead: int = DEFAULT_CYCLES_AHEAD,
    plan_rule: OutOfPlanRule | str = DEFAULT_OUT_OF_PLAN_RULE,
) -> Order:
    """Place an open-ended package (a recurring `schedule` with no weeks): checkout holds its
    first `cycles_ahead` cycles from the person's current budget (its total is their sum) and
    writes its first terms; `roll_packages` makes the rest. Raises what
    `checkout.place_order` raises, and InvalidOrder for a schedule that is not open-ended."""
    if not schedule.open_ended:
        raise InvalidOrder(
            "A package is a weekly order until further notice",
            fields={"weeks": "Choose 'until further notice' for an ongoing package"},
        )
    return checkout.place_order(
        session,
        person,
        service,
        schedule,
        by=by,
        today=today,
        placement_key=placement_key,
        plan_rule=plan_rule,
        cycles_ahead=cycles_ahead,
    )


@dataclass
class RollReport:
    """What one run of the job did: cycles held (and to which budget packages carried over),
    shortfalls flagged and resolved, and cycles still waiting for money due before they
    start (tried again tomorrow, not flagged)."""

    held: list[OrderCycle] = field(default_factory=list)
    carried: list[tuple[Order, uuid.UUID]] = field(default_factory=list)
    flagged: list[PackageShortfall] = field(default_factory=list)
    resolved: list[PackageShortfall] = field(default_factory=list)
    waiting: int = 0
    # Packages the job could not roll, by reference, with what the rules said: the others
    # are rolled all the same, and these are tried again on the next run.
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def held_pence(self) -> int:
        return sum(cycle.amount_pence for cycle in self.held)

    def counts(self) -> tuple[int, int, int, int, int]:
        return (
            len(self.held),
            len(self.carried),
            len(self.flagged),
            len(self.resolved),
            self.waiting,
        )

    def undo_to(self, counts: tuple[int, int, int, int, int]) -> None:
        """Forget what was reported since `counts` (its steps were rolled back)."""
        held, carried, flagged, resolved, self.waiting = counts
        del self.held[held:], self.carried[carried:]
        del self.flagged[flagged:], self.resolved[resolved:]


def open_packages(session: Session) -> list[uuid.UUID]:
    """The ids of every package whose cycles go on being made, in id order (the order the job
    takes their locks in, so two runs at once queue rather than deadlock)."""
    return list(
        session.scalars(
            select(Order.id)
            .where(
                Order.ends_on.is_(None),
                Order.schedule_kind == ScheduleKind.RECURRING,
                Order.status.in_(ROLLING),
            )
            .order_by(Order.id)
        )
    )


def roll_packages(
    session: Session, today: date, *, notice_days: int = SHORTFALL_NOTICE_DAYS
) -> RollReport:
    """Make and hold every package's cycles that have come within its `cycles_ahead` cycles
    of `today`, each from the budget whose period contains its first day; flag each cycle
    that cannot be covered from `notice_days` before it starts; resolve the flags of those
    covered now. Safe to run twice, late, or twice at once. Flushes, never commits."""
    report = RollReport()
    for order_id in open_packages(session):
        order = session.get(Order, order_id)
        if order is None:
            continue
        before = report.counts()
        try:
            with ledger.savepoint(session):
                roll_package(session, order, today, notice_days=notice_days, report=report)
        except ledger.LedgerError as refusal:
            # One package's fault (money held under its key by something else, say) must not
            # stop every other package's care being paid for: its steps are undone.
            session.expire_all()
            report.undo_to(before)
            report.failed.append((order.reference, refusal.message))
    return report


def roll_package(
    session: Session,
    order: Order,
    today: date,
    *,
    notice_days: int = SHORTFALL_NOTICE_DAYS,
    report: RollReport | None = None,
) -> RollReport:
    """`roll_packages` for one package, under its lock."""
    report = report if report is not None else RollReport()
    lock_order(session, order)
    if order.status not in ROLLING or not order.open_ended:
        return report
    horizon = today + timedelta(days=order.cycles_ahead * order.invoice_cycle.days)
    number = max((cycle.number for cycle in order.cycles), default=0) + 1
    while True:
        starts_on, _ = cycle_dates(order, number)
        if starts_on > horizon:
            break
        if order.cancelled_from is not None and starts_on >= order.cancelled_from:
            break
        if not _make_cycle(session, order, number, today, notice_days, report):
            break
        number += 1
    return report


@dataclass(frozen=True)
class _Payer:
    budget: PersonalBudget | None = None
    pot: FunderPot | None = None
    # Why there is none to hold from (the person reads it).
    missing: str = ""


def _payer(session: Session, order: Order, starts_on: date) -> _Payer | None:
    """Who pays the cycle starting `starts_on`: the person's budget whose period contains
    that day (a reablement package: its episode's pot). None: not to be made yet (a
    reablement cycle after the episode's planned end waits for the officer's outcome)."""
    if order.funding is OrderFunding.REABLEMENT:
        episode = session.scalar(
            select(ReablementEpisode).where(ReablementEpisode.order_id == order.id)
        )
        if episode is None:
            return _Payer(missing="no reablement pot pays for it")
        if starts_on > episode.ends_on:
            return None
        return _Payer(pot=episode.pot)
    budget = session.scalar(
        select(PersonalBudget)
        .where(
            PersonalBudget.person_id == order.person_id,
            PersonalBudget.starts_on <= starts_on,
            PersonalBudget.ends_on >= starts_on,
        )
        .order_by(
            (PersonalBudget.status == BudgetStatus.OPEN).desc(), PersonalBudget.created_at.desc()
        )
        .limit(1)
    )
    if budget is None:
        return _Payer(missing=f"there is no budget yet for the period from {starts_on:%-d %B %Y}")
    if budget.status is not BudgetStatus.OPEN:
        return _Payer(missing=CLOSED)
    return _Payer(budget=budget)


def _make_cycle(
    session: Session,
    order: Order,
    number: int,
    today: date,
    notice_days: int,
    report: RollReport,
) -> bool:
    """Make cycle `number` and hold its money, or (when it cannot be covered) leave it unmade,
    flagging it when it starts within `notice_days`. Returns whether it was made."""
    cost = cycle_cost(order, number)
    payer = _payer(session, order, cost.starts_on)
    if payer is None:
        return False
    if payer.budget is None and payer.pot is None:
        _short(session, order, cost, 0, payer.missing, today, notice_days, report)
        return False
    previous = max(order.cycles, key=lambda cycle: cycle.number, default=None)
    cycle = OrderCycle(
        order_id=order.id,
        budget_id=payer.budget.id if payer.budget is not None else None,
        pot_id=payer.pot.id if payer.pot is not None else None,
        number=number,
        starts_on=cost.starts_on,
        ends_on=cost.ends_on,
        units=cost.units,
        amount_pence=cost.amount_pence,
        commitment_key=f"order:{order.id}:cycle:{number}",
        split={},
    )
    try:
        with ledger.savepoint(session):
            session.add(cycle)
            session.flush()
            cycle_money.hold_cycle(session, order, cycle)
            order.total_pence += cycle.amount_pence
            session.flush()
    except BudgetClosed:
        session.expire(order)
        _short(session, order, cost, 0, CLOSED, today, notice_days, report)
        return False
    except ledger.InsufficientFunds:
        session.expire(order)
        assert payer.budget is not None or payer.pot is not None
        coming = _coming_by(session, order, payer, cost.starts_on)
        if coming >= cost.amount_pence:
            # The instalment that pays for it is due by its start: the job holds it then, and
            # any flag raised before the money was there (a new budget, a raise) is resolved.
            report.waiting += 1
            _resolve(session, order, cost.starts_on, Resolution.COVERED, report)
            return False
        _short(session, order, cost, coming, NOT_ENOUGH, today, notice_days, report)
        return False
    # The collection was loaded (above) before the cycle was added: keep it current.
    order.cycles.append(cycle)
    report.held.append(cycle)
    _resolve(session, order, cost.starts_on, Resolution.COVERED, report)
    if (
        payer.budget is not None
        and previous is not None
        and previous.budget_id is not None
        and previous.budget_id != payer.budget.id
    ):
        _tell_carried(session, order, payer.budget, cycle)
        report.carried.append((order, payer.budget.id))
    return True


def _coming_by(session: Session, order: Order, payer: _Payer, day: date) -> int:
    """What the payer could put to the cycle by `day`: what its streams that may pay for the
    order's categories have available now, and their instalments due by then (a pot: what it
    has available)."""
    if payer.pot is not None:
        balance = ledger.balances(session, [payer.pot.account_id])[payer.pot.account_id]
        return max(0, balance.available)
    assert payer.budget is not None
    codes = order.category_codes or ()
    streams = [stream for stream in payer.budget.streams if stream.allows(codes)]
    available: Mapping[uuid.UUID, int] = spending.available_by_stream(session, payer.budget)
    now = sum(max(0, available.get(stream.id, 0)) for stream in streams)
    due = sum(
        instalment.amount_pence
        for stream in streams
        for instalment in stream.instalments
        if not instalment.released and instalment.due_on <= day
    )
    return now + due


def _short(
    session: Session,
    order: Order,
    cost: CycleCost,
    available_pence: int,
    why: str,
    today: date,
    notice_days: int,
    report: RollReport,
) -> None:
    """Flag the cycle starting `starts_on` once it is within `notice_days` of starting (and
    tell everyone, once); an open flag's figures are brought up to date."""
    starts_on, needed_pence = cost.starts_on, cost.amount_pence
    if (starts_on - today).days > notice_days:
        report.waiting += 1
        return
    flag = session.scalar(
        select(PackageShortfall).where(
            PackageShortfall.order_id == order.id, PackageShortfall.cycle_starts_on == starts_on
        )
    )
    if flag is not None and flag.resolved_at is None:
        flag.needed_pence, flag.available_pence = needed_pence, available_pence
        session.flush()
        return
    if flag is None:
        flag = PackageShortfall(order_id=order.id, cycle_starts_on=starts_on)
        session.add(flag)
    flag.needed_pence, flag.available_pence = needed_pence, available_pence
    flag.flagged_at, flag.resolved_at, flag.resolution = utcnow(), None, None
    session.flush()
    events.record(
        session,
        order,
        "shortfall",
        by=None,
        reason=why,
        cycle_starts_on=starts_on.isoformat(),
        needed_pence=needed_pence,
        available_pence=available_pence,
    )
    _tell_shortfall(session, order, flag, why)
    report.flagged.append(flag)


def _tell_shortfall(session: Session, order: Order, flag: PackageShortfall, why: str) -> None:
    """Tell the person (and whoever holds a live consent of theirs), the council and the
    provider, each with what they can do."""
    when = f"{flag.cycle_starts_on:%-d %B %Y}"
    needed = pounds(flag.needed_pence)
    title = f"Order {order.reference}: the care from {when} is not paid for yet"
    person_body = (
        f"Your {order.service_name} from {when} needs {needed}, but {why}. Nothing has been "
        "stopped. You can ask the council to review your budget, ask to change the package "
        "(fewer hours or other days), or cancel it. We will try again every day and tell you "
        "when it is paid for."
    )
    notify(
        session,
        recipients_for_person(session, order.person_id) + _consent_holders(session, order),
        NotificationKind.PACKAGE_SHORTFALL,
        title=title,
        body=person_body,
        order_id=order.id,
    )
    notify(
        session,
        council_officers(session),
        NotificationKind.PACKAGE_SHORTFALL,
        title=f"{title} ({needed} needed)",
        body=(
            f"{why.capitalize()}. Review the person's budget (a new budget for the period, or "
            "more money in this one), or agree a change to the package with them."
        ),
        order_id=order.id,
    )
    notify(
        session,
        recipients_for_organisation(session, order.organisation_id),
        NotificationKind.PACKAGE_SHORTFALL,
        title=title,
        body=(
            f"The money for the care from {when} ({needed}) is not held yet: {why}. The person "
            "and the council have been told. Keep to the package as agreed; if it is not paid "
            "for by then, talk to the person or the council before the visits."
        ),
        order_id=order.id,
    )


def _consent_holders(session: Session, order: Order) -> list[User]:
    """Whoever holds a live consent of the person's: their broker or attorney hears of a
    shortfall too."""
    person = session.get(Person, order.person_id)
    if person is None:
        return []
    holders: list[User] = []
    for consent in consents.consents_of(session, person):
        if consents.state_of(consent) is consents.ConsentState.LIVE:
            holders += consents.grantee_users(session, consent)
    return holders


def _resolve(
    session: Session,
    order: Order,
    starts_on: date | None,
    resolution: str,
    report: RollReport,
    *,
    starting_from: date | None = None,
) -> None:
    """Resolve the open flag of the cycle starting `starts_on` (None: every open flag of the
    order's, or those of cycles starting on or after `starting_from`)."""
    query = select(PackageShortfall).where(
        PackageShortfall.order_id == order.id, PackageShortfall.resolved_at.is_(None)
    )
    if starts_on is not None:
        query = query.where(PackageShortfall.cycle_starts_on == starts_on)
    if starting_from is not None:
        query = query.where(PackageShortfall.cycle_starts_on >= starting_from)
    for flag in session.scalars(query):
        flag.resolved_at, flag.resolution = utcnow(), resolution
        report.resolved.append(flag)
        events.record(
            session,
            order,
            "shortfall_resolved",
            by=None,
            cycle_starts_on=flag.cycle_starts_on.isoformat(),
            resolution=resolution,
        )
        if resolution == Resolution.COVERED:
            title = (
                f"Order {order.reference}: the care from "
                f"{flag.cycle_starts_on:%-d %B %Y} is covered by the budget now"
            )
            events.tell_person(session, order, NotificationKind.PACKAGE_SHORTFALL, title)
            events.tell_provider(session, order, NotificationKind.PACKAGE_SHORTFALL, title)
    session.flush()


def resolve_shortfalls(
    session: Session, order: Order, resolution: str, *, starting_from: date | None = None
) -> int:
    """Resolve the order's open shortfall flags (of the cycles starting on or after
    `starting_from`, when given: the package was cut short from that day; else all of them:
    it was cancelled or ended). Returns how many."""
    report = RollReport()
    _resolve(session, order, None, resolution, report, starting_from=starting_from)
    return len(report.resolved)


def _tell_carried(
    session: Session, order: Order, budget: PersonalBudget, cycle: OrderCycle
) -> None:
    """On the timeline, and to the person, once per budget: the package goes on, paid from
    the next period's budget, without a new order."""
    events.record(
        session,
        order,
        "carried",
        by=None,
        budget_id=str(budget.id),
        cycle=cycle.number,
        budget_starts_on=budget.starts_on.isoformat(),
    )
    events.tell_person(
        session,
        order,
        NotificationKind.PACKAGE_CARRIED,
        f"Order {order.reference} carries on: from {cycle.starts_on:%-d %B %Y} it is paid from "
        f"your budget for {budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y}",
    )


@dataclass(frozen=True)
class PackageView:
    """A package as its pages show it: its cycles so far, the next cycle (its dates and what
    it will cost under the terms), and its open shortfall flags."""

    next_number: int | None
    next_starts_on: date | None
    next_ends_on: date | None
    next_amount_pence: int | None
    shortfalls: list[PackageShortfall]
    current_number: int


def package_view(session: Session, order: Order, today: date) -> PackageView:
    """What the order pages say of a package on `today`."""
    shortfalls = list(
        session.scalars(
            select(PackageShortfall)
            .where(PackageShortfall.order_id == order.id, PackageShortfall.resolved_at.is_(None))
            .order_by(PackageShortfall.cycle_starts_on)
        )
    )
    number = max((cycle.number for cycle in order.cycles), default=0) + 1
    starts_on, ends_on = cycle_dates(order, number)
    ended = order.status not in ROLLING or (
        order.cancelled_from is not None and starts_on >= order.cancelled_from
    )
    if ended:
        return PackageView(None, None, None, None, shortfalls, cycle_number_on(order, today))
    return PackageView(
        number,
        starts_on,
        ends_on,
        cycle_cost(order, number).amount_pence,
        shortfalls,
        cycle_number_on(order, today),
    )
