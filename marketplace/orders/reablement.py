"""Reablement first (issue 18): a period of free care, started by a council officer with a
provider and paid from a funder's reablement pot, never from the person's budget; at its end
the officer records the outcome.

An episode's order is a package (no end date, `funding=REABLEMENT`, no budget) that the
provider is commissioned for by the council: it is ACCEPTED at once, the provider is not asked.
The pot pays whole invoicing cycles: every cycle that starts on or before the episode's last
day is held from the pot when the episode starts (so a pot without the money refuses the
episode at once, never half way through), and a cycle that starts after it waits for the
officer's outcome (`packages._payer`). Care is free to the person to the end of the last
cycle the pot pays (`free_until`); with weekly invoicing from the start day, that is the
episode's last day.

At the end: no ongoing care needed ends the package (`cancelled_from` the day after the
episode, later cycles released, completed once its bills are settled); ongoing care turns the
same order into a chargeable package with the same provider: paid from the person's budget
from the next cycle on, every cycle already held after the episode held again from the
budget (`cycle_money.rework_cycle`), the next ones made by the daily job. All or nothing.

Rules only: flushes, never commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.models import (
    BudgetStatus,
    FunderKind,
    FunderPot,
    PersonalBudget,
    PotPurpose,
)
from marketplace.formatting import pounds
from marketplace.ledger.errors import LedgerError
from marketplace.ledger.transactions import dialect_name
from marketplace.notifications.models import NotificationKind
from marketplace.orders import cycle_money, events, life, package_terms, packages, variations
from marketplace.orders.checkout import category_codes_of, new_reference
from marketplace.orders.errors import InvalidOrder, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderCycle,
    OrderFunding,
    OrderStatus,
    ReablementEpisode,
    ReablementOutcome,
    ScheduleKind,
)
from marketplace.orders.schedule import Schedule, validation_problems
from marketplace.people.models import Person
from marketplace.types import Session, utcnow
from providers.models import (
    Organisation,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)

# How long an episode may run unless the council configures otherwise (REABLEMENT_MAX_WEEKS).
DEFAULT_MAX_WEEKS = 6
# An episode's order's placement key starts with this (what tells an order began as one).
PLACEMENT_PREFIX = "reablement:"
# Hertfordshire's target: half of all episodes end with no ongoing care needed.
TARGET_SHARE = 0.5


class ReablementError(LedgerError):
    """A reablement step refused, with a message for the officer."""

    code = "reablement_error"


def _officer(by: User) -> None:
    if by.role is not Role.COUNCIL_OFFICER:
        raise NotYours("Only a council officer can start or end reablement")


def reablement_pots(session: Session, on: date | None = None) -> list[FunderPot]:
    """Every reablement pot (of the council or an NHS funder), the latest year first; with
    `on`, only those of the financial year containing that day."""
    query = (
        select(FunderPot)
        .where(FunderPot.purpose == PotPurpose.REABLEMENT)
        .options(selectinload(FunderPot.funder))
        .order_by(FunderPot.financial_year.desc())
    )
    if on is not None:
        year = on.year if on.month >= 4 else on.year - 1
        query = query.where(FunderPot.financial_year == year)
    return list(session.scalars(query))


def planned_end(starts_on: date, weeks: int) -> date:
    """The last day of an episode of `weeks` weeks from `starts_on`."""
    return starts_on + timedelta(days=7 * weeks - 1)


def start_episode(
    session: Session,
    *,
    person: Person,
    service: Service,
    pot: FunderPot,
    starts_on: date,
    weeks: int,
    units_per_occasion: int,
    days: list[str] | tuple[str, ...],
    by: User,
    today: date,
    max_weeks: int = DEFAULT_MAX_WEEKS,
) -> ReablementEpisode:
    """Start a reablement episode: a package order with the service's provider, free to the
    person, every cycle to the episode's end held from `pot` now.

    Raises NotYours (not a council officer), InvalidOrder (bad schedule, with `fields`),
    ReablementError (not a reablement pot, a service that cannot be commissioned, the person
    already in an episode) and ReablementError with `shortfall_pence` when the pot cannot
    cover the episode (nothing recorded)."""
    _officer(by)
    problems = validation_problems(
        Schedule(ScheduleKind.RECURRING, starts_on, units_per_occasion, weeks, tuple(days)),
        today=today,
    )
    if isinstance(weeks, int) and not 1 <= weeks <= max_weeks:
        problems["weeks"] = f"Enter a number of weeks between 1 and {max_weeks}"
    if problems:
        raise InvalidOrder("Check the details of the reablement", fields=problems)
    if pot.purpose is not PotPurpose.REABLEMENT or pot.funder.kind not in (
        FunderKind.COUNCIL,
        FunderKind.NHS,
    ):
        raise ReablementError(f"{pot.label} is not a reablement pot", pot_id=str(pot.id))
    if not service.is_public or service.price_unit is PriceUnit.FREE:
        raise ReablementError(f"{service.name} cannot be commissioned for reablement")
    _lock_person(session, person)
    current = current_episode(session, person)
    if current is not None:
        raise ReablementError(
            f"{person.full_name} is already in reablement ({current.reference})",
            episode=current.reference,
        )
    organisation = service.organisation
    order = Order(
        id=uuid.uuid4(),
        reference=new_reference("ORD"),
        placement_key=f"{PLACEMENT_PREFIX}{uuid.uuid4()}",
        person_id=person.id,
        budget_id=None,
        funding=OrderFunding.REABLEMENT,
        service_id=service.id,
        organisation_id=organisation.id,
        placed_by_id=by.id,
        # Commissioned by the council: the provider agreed when the council asked it.
        status=OrderStatus.ACCEPTED,
        service_name=service.name,
        unit_price_pence=service.price_pence,
        price_unit=service.price_unit,
        category_codes=sorted(category_codes_of(session, service)),
        schedule_kind=ScheduleKind.RECURRING,
        units_per_occasion=units_per_occasion,
        starts_on=starts_on,
        ends_on=None,
        weeks=None,
        days=list(days),
        total_pence=0,
        card_pence=0,
        invoice_cycle=organisation.invoice_cycle,
        notice_days=organisation.notice_days,
    )
    episode = ReablementEpisode(
        reference=new_reference("REA"),
        person_id=person.id,
        organisation_id=organisation.id,
        order_id=order.id,
        pot_id=pot.id,
        started_by_id=by.id,
        starts_on=starts_on,
        max_weeks=weeks,
        ends_on=planned_end(starts_on, weeks),
    )
    try:
        with ledger.savepoint(session):
            session.add(order)
            session.flush()
            session.add(package_terms.first_terms(order))
            session.add(episode)
            session.flush()
            _hold_episode(session, order, episode, pot)
    except ledger.InsufficientFunds as short:
        available = ledger.balance(session, pot.account_id).available
        raise ReablementError(
            f"{pot.label} has {pounds(max(0, available))} left; this reablement needs "
            f"{pounds(max(0, available) + short.shortfall_pence)}",
            shortfall_pence=short.shortfall_pence,
        ) from short
    events.record(
        session,
        order,
        "reablement_started",
        by=by,
        to_status=OrderStatus.ACCEPTED,
        episode=episode.reference,
        pot=pot.label,
        ends_on=episode.ends_on.isoformat(),
    )
    until = free_until(order, episode)
    events.tell_person(
        session,
        order,
        NotificationKind.REABLEMENT_STARTED,
        f"Reablement with {organisation.name} from {starts_on:%-d %B %Y}: free to you until "
        f"{until:%-d %B %Y}",
    )
    events.tell_provider(
        session,
        order,
        NotificationKind.REABLEMENT_STARTED,
        f"Reablement {episode.reference} for {person.full_name} from {starts_on:%-d %B %Y} "
        f"(order {order.reference}), paid by {pot.funder.name}",
    )
    return episode


def _lock_person(session: Session, person: Person) -> None:
    """Hold the person's row until the transaction ends, so two officers starting reablement
    for them at once queue, and the second finds the first's episode (SQLite: the IMMEDIATE
    transaction; PostgreSQL: SELECT ... FOR UPDATE)."""
    ledger.begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(select(Person.id).where(Person.id == person.id).with_for_update()).all()


def _hold_episode(
    session: Session, order: Order, episode: ReablementEpisode, pot: FunderPot
) -> None:
    """Every cycle starting on or before the episode's last day, held from the pot."""
    number = 1
    while True:
        cost = package_terms.cycle_cost(order, number)
        if cost.starts_on > episode.ends_on:
            break
        cycle = OrderCycle(
            order_id=order.id,
            pot_id=pot.id,
            number=number,
            starts_on=cost.starts_on,
            ends_on=cost.ends_on,
            units=cost.units,
            amount_pence=cost.amount_pence,
            commitment_key=f"order:{order.id}:cycle:{number}",
            split={},
        )
        session.add(cycle)
        session.flush()
        cycle_money.hold_cycle(session, order, cycle)
        order.total_pence += cycle.amount_pence
        number += 1
    session.flush()


def free_until(order: Order, episode: ReablementEpisode) -> date:
    """The last day care is free to the person: the end of the last cycle the pot pays (the
    cycle in which the episode's last day falls)."""
    number = package_terms.cycle_number_on(order, episode.ends_on)
    return package_terms.cycle_dates(order, number)[1]


def current_episode(session: Session, person: Person) -> ReablementEpisode | None:
    """The person's episode still waiting for its outcome, if any."""
    return session.scalar(
        select(ReablementEpisode).where(
            ReablementEpisode.person_id == person.id, ReablementEpisode.outcome.is_(None)
        )
    )


def episode_of_order(session: Session, order: Order) -> ReablementEpisode | None:
    """The episode whose order this is (None for any other order)."""
    return session.scalar(select(ReablementEpisode).where(ReablementEpisode.order_id == order.id))


def episodes_of(session: Session, person: Person) -> list[ReablementEpisode]:
    """The person's episodes, the latest first."""
    return list(
        session.scalars(
            select(ReablementEpisode)
            .where(ReablementEpisode.person_id == person.id)
            .order_by(ReablementEpisode.starts_on.desc(), ReablementEpisode.created_at.desc())
        )
    )


def episode_by_reference(session: Session, reference: str) -> ReablementEpisode | None:
    return session.scalar(
        select(ReablementEpisode).where(ReablementEpisode.reference == reference.upper())
    )


def end_episode(
    session: Session,
    episode: ReablementEpisode,
    *,
    outcome: ReablementOutcome,
    by: User,
    note: str,
    today: date,
    budget: PersonalBudget | None = None,
) -> bool:
    """Record the episode's outcome. It ends today (or on its planned last day, if that has
    passed). NO_ONGOING_NEED: the package ends after that day. ONGOING_CARE: the same order
    goes on as a chargeable package paid from `budget` (the person's open budget for the
    cycle after the episode, found when not given), every cycle already held after the
    episode's free care held again from it.

    Recording the same outcome again changes nothing (returns False); a different one is
    refused. Raises NotYours, ReablementError (no open budget, the budget closed or not
    enough released in it: nothing changes). Returns True when it recorded the outcome."""
    _officer(by)
    order = episode.order
    lock_order(session, order)
    session.refresh(episode)
    if episode.outcome is not None:
        if episode.outcome is outcome:
            return False
        raise ReablementError(
            f"The outcome of {episode.reference} was recorded already: "
            f"{episode.outcome.label.lower()}",
            outcome=episode.outcome.value,
        )
    ended_on = max(episode.starts_on, min(today, episode.ends_on))
    # The order was stopped already (the person cancelled it, or the provider declined):
    # the outcome is recorded, its money was settled by that step.
    stopped = not order.status.is_open or order.cancelled_from is not None
    if stopped and order.cancelled_from is not None:
        ended_on = max(episode.starts_on, min(ended_on, order.cancelled_from - timedelta(days=1)))
    note = (note or "").strip()
    if outcome is ReablementOutcome.ONGOING_CARE:
        if stopped:
            raise ReablementError(
                f"Order {order.reference} was cancelled, so the care cannot carry on with it: "
                "record no ongoing care needed here, and order ongoing care in the usual way",
                status=order.status.value,
            )
        _continue_chargeable(session, order, episode, ended_on, by=by, budget=budget)
        episode.ends_on = ended_on
        # Its next cycles now, as the daily job would (a late outcome: those missed since).
        packages.roll_package(session, order, today)
    elif not stopped:
        _end_package(session, order, ended_on)
    episode.ends_on = ended_on
    episode.ended_on = ended_on
    episode.outcome = outcome
    episode.outcome_note = note
    episode.outcome_by_id = by.id
    episode.outcome_at = utcnow()
    events.record(
        session,
        order,
        "reablement_ended",
        by=by,
        reason=note,
        episode=episode.reference,
        outcome=outcome.value,
        ended_on=ended_on.isoformat(),
    )
    until = free_until(order, episode)
    if outcome is ReablementOutcome.ONGOING_CARE:
        to_person = (
            f"Your reablement has ended. Your care with {order.organisation.name} carries on, "
            f"paid from your personal budget from {until + timedelta(days=1):%-d %B %Y}"
        )
        to_provider = (
            f"Reablement {episode.reference} ended: order {order.reference} carries on as "
            f"ongoing care from {until + timedelta(days=1):%-d %B %Y}"
        )
    else:
        to_person = (
            f"Your reablement has ended: no ongoing care is needed. The last visits are up "
            f"to {ended_on:%-d %B %Y}"
        )
        to_provider = (
            f"Reablement {episode.reference} ended: no ongoing care needed. Order "
            f"{order.reference} ends after {ended_on:%-d %B %Y}"
        )
    events.tell_person(session, order, NotificationKind.REABLEMENT_ENDED, to_person)
    events.tell_provider(session, order, NotificationKind.REABLEMENT_ENDED, to_provider)
    session.flush()
    return True


def _end_package(session: Session, order: Order, ended_on: date) -> None:
    """No ongoing need: nothing from the day after the episode; later cycles released."""
    stops = ended_on + timedelta(days=1)
    order.cancelled_from = stops
    variations.lapse_pending(session, order, by=None, why="the reablement ended")
    packages.resolve_shortfalls(session, order, packages.Resolution.ENDED, starting_from=stops)
    for cycle in order.cycles:
        if cycle.starts_on >= stops and cycle.state is CycleState.HELD:
            life.release_cycle(session, order, cycle, why="reablement-ended")
    session.flush()
    life.complete_if_done(session, order, by=None)


def _continue_chargeable(
    session: Session,
    order: Order,
    episode: ReablementEpisode,
    ended_on: date,
    *,
    by: User,
    budget: PersonalBudget | None,
) -> None:
    """Ongoing care: the order's later cycles held again from the person's budget."""
    last_free = package_terms.cycle_dates(order, package_terms.cycle_number_on(order, ended_on))[1]
    first_chargeable = last_free + timedelta(days=1)
    if budget is None:
        budget = budget_for(session, order.person_id, first_chargeable)
    if budget is None or budget.status is not BudgetStatus.OPEN:
        raise ReablementError(
            f"{order.person.full_name} has no open personal budget for "
            f"{first_chargeable:%-d %B %Y}: set one up before recording ongoing care",
            person_id=str(order.person_id),
        )
    if budget.person_id != order.person_id:
        raise ReablementError("That budget is someone else's")
    later = [
        cycle
        for cycle in order.cycles
        if cycle.starts_on >= first_chargeable and cycle.state is CycleState.HELD
    ]
    outside = [
        cycle for cycle in later if not budget.starts_on <= cycle.starts_on <= budget.ends_on
    ]
    if outside:
        # The pot holds whole cycles ahead; one in the next budget period cannot be held from
        # that budget before its money is released (docs/packages.md, Reablement: known limits).
        raise ReablementError(
            f"The budget from {budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y} does "
            f"not cover the care from {outside[0].starts_on:%-d %B %Y}, already held from the "
            f"reablement pot: record the outcome once the next budget period has begun",
            starts_on=outside[0].starts_on.isoformat(),
        )
    try:
        with ledger.savepoint(session):
            for cycle in later:
                cost = package_terms.cycle_cost(order, cycle.number)
                cycle_money.rework_cycle(
                    session,
                    order,
                    cycle,
                    units=cost.units,
                    amount_pence=cost.amount_pence,
                    budget=budget,
                )
            order.funding = OrderFunding.BUDGET
            order.budget_id = budget.id
            session.flush()
    except ledger.InsufficientFunds as short:
        session.expire(order, ["funding", "budget_id", "budget"])
        raise ReablementError(
            f"{order.person.full_name}'s budget has not enough released to pay for the care "
            f"from {first_chargeable:%-d %B %Y}: it is {pounds(short.shortfall_pence)} short",
            shortfall_pence=short.shortfall_pence,
        ) from short
    except BudgetClosed as closed:
        session.expire(order, ["funding", "budget_id", "budget"])
        raise ReablementError(
            f"{order.person.full_name}'s budget for that period is closed"
        ) from closed
    session.expire(order, ["budget"])


def budget_for(session: Session, person_id: uuid.UUID, day: date) -> PersonalBudget | None:
    """The person's open budget whose period contains `day`, if any."""
    return session.scalar(
        select(PersonalBudget)
        .where(
            PersonalBudget.person_id == person_id,
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.starts_on <= day,
            PersonalBudget.ends_on >= day,
        )
        .order_by(PersonalBudget.created_at.desc())
        .limit(1)
    )


# The report -----------------------------------------------------------------------------


@dataclass
class Tally:
    """Episodes ended, and how many of them with no ongoing care needed."""

    ended: int = 0
    no_ongoing_need: int = 0

    @property
    def ongoing_care(self) -> int:
        return self.ended - self.no_ongoing_need

    @property
    def share(self) -> float | None:
        """The share with no ongoing need (None when none ended)."""
        return self.no_ongoing_need / self.ended if self.ended else None

    @property
    def percent(self) -> str:
        share = self.share
        return "none ended" if share is None else f"{round(share * 100)}%"

    @property
    def meets_target(self) -> bool | None:
        share = self.share
        return None if share is None else share >= TARGET_SHARE

    def add(self, outcome: ReablementOutcome) -> None:
        self.ended += 1
        if outcome is ReablementOutcome.NO_ONGOING_NEED:
            self.no_ongoing_need += 1


@dataclass
class ReablementReport:
    since: date
    until: date
    total: Tally = field(default_factory=Tally)
    # By provider's name, and by month (the first of the month), each in order.
    by_provider: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[date, Tally] = field(default_factory=dict)
    still_running: int = 0


def reablement_report(session: Session, since: date, until: date) -> ReablementReport:
    """Episodes that ended from `since` to `until` (inclusive, by the day they ended), how
    many with no ongoing care needed, in all, by provider and by month; and how many started
    by `until` are still waiting for their outcome."""
    report = ReablementReport(since, until)
    ended = session.scalars(
        select(ReablementEpisode)
        .where(
            ReablementEpisode.outcome.is_not(None),
            ReablementEpisode.ended_on >= since,
            ReablementEpisode.ended_on <= until,
        )
        .options(selectinload(ReablementEpisode.organisation))
        .order_by(ReablementEpisode.ended_on)
    ).all()
    providers: dict[str, Tally] = {}
    months: dict[date, Tally] = {}
    for episode in ended:
        assert episode.outcome is not None
        assert episode.ended_on is not None
        report.total.add(episode.outcome)
        providers.setdefault(episode.organisation.name, Tally()).add(episode.outcome)
        months.setdefault(episode.ended_on.replace(day=1), Tally()).add(episode.outcome)
    report.by_provider = dict(sorted(providers.items()))
    report.by_month = dict(sorted(months.items()))
    report.still_running = len(
        session.scalars(
            select(ReablementEpisode.id).where(
                ReablementEpisode.outcome.is_(None), ReablementEpisode.starts_on <= until
            )
        ).all()
    )
    return report


def pot_use(session: Session, pot: FunderPot) -> dict[str, int]:
    """A reablement pot's money: given, held for episodes' care not yet billed, paid to
    providers, and left (available)."""
    return _use(ledger.balance(session, pot.account_id))


def pots_use(session: Session, pots: Sequence[FunderPot]) -> dict[uuid.UUID, dict[str, int]]:
    """`pot_use` of each pot, by pot id, read in one statement for them all (a page listing
    the pots asks once, not once a pot)."""
    found = ledger.balances(session, [pot.account_id for pot in pots]) if pots else {}
    return {pot.id: _use(found[pot.account_id]) for pot in pots}


def _use(balance: ledger.Balance) -> dict[str, int]:
    return {
        "given": balance.credits_posted,
        "held": balance.debits_pending,
        "paid": balance.debits_posted,
        "left": balance.available,
    }


def commissionable_services(session: Session) -> list[Service]:
    """Every service a reablement episode may be given by: published by an approved provider,
    not free; by provider, then name."""
    services = session.scalars(
        select(Service)
        .join(Organisation, Service.organisation_id == Organisation.id)
        .where(
            Service.status == ServiceStatus.PUBLISHED,
            Organisation.status == OrganisationStatus.APPROVED,
            Service.price_unit != PriceUnit.FREE,
        )
        .order_by(Organisation.name, Service.name)
        .options(selectinload(Service.organisation))
    )
    return list(services)


def running_episodes(session: Session) -> list[ReablementEpisode]:
    """Every episode still waiting for its outcome, the soonest to end first."""
    return list(
        session.scalars(
            select(ReablementEpisode)
            .where(ReablementEpisode.outcome.is_(None))
            .order_by(ReablementEpisode.ends_on, ReablementEpisode.reference)
            .options(
                selectinload(ReablementEpisode.person),
                selectinload(ReablementEpisode.organisation),
            )
        )
    )


@dataclass(frozen=True)
class OrderNote:
    """What an order's pages say about the reablement it is (or began as)."""

    episode: ReablementEpisode
    free_until: date
    funder_name: str

    @property
    def running(self) -> bool:
        return self.episode.outcome is None

    @property
    def chargeable_from(self) -> date | None:
        """The first day the person's budget pays (ongoing care after reablement)."""
        if self.episode.outcome is ReablementOutcome.ONGOING_CARE:
            return self.free_until + timedelta(days=1)
        return None


def order_note(session: Session, order: Order) -> OrderNote | None:
    """The reablement an order is, or began as (None for any other order)."""
    if not order.placement_key.startswith(PLACEMENT_PREFIX):
        return None  # no episode placed it: no query on every other order's page
    episode = episode_of_order(session, order)
    if episode is None:
        return None
    return OrderNote(episode, free_until(order, episode), episode.pot.funder.name)
