"""Random sequences of place, accept, decline, cancel, record, confirm, query and correct a
delivery, raise and settle an invoice, and time passing, over one budget, driven against the
real rules and a plain in-memory model side by side (Hypothesis stateful testing).

The model knows each order's status, each cycle's state and deliveries, and so what the
budget should show: committed is what held and invoiced cycles hold, spent is what settled
invoices billed. After every step:

- every order's status, cycle's state, delivery's status and invoice's amount match the model;
- the budget's committed, spent and available equal the model's;
- allocated = committed + spent + available + returned for each stream;
- no cycle's deliveries add up to more than it ordered, and no invoice to more than its
  cycle's commitment;
- verify_ledger and check_orders report nothing for the example's own accounts and orders;
and at the end of each example (its teardown), verify_ledger and check_orders report nothing
for the whole database. Nothing is emptied between examples, so checking the whole database
after every step grew with every example (most of the run's time); a step that spoils
another example's rows (or an account they share) still fails its own example.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import FunderPot, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount, LedgerError, verify_ledger
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import Delivery, Invoice, Order, OrderStatus, ScheduleKind
from marketplace.orders.schedule import WEEKDAYS, Schedule, cycles
from marketplace.orders.verify import check_orders
from marketplace.people.models import Person
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers.models import InvoiceCycle
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World

BUDGET_PENCE = {
    StreamKind.COUNCIL: 600_00,
    StreamKind.NHS: 200_00,
    StreamKind.CLIENT_CONTRIBUTION: 100_00,
}
LAST_DAY = date(2026, 12, 31)  # orders placed up to here still end inside the budget period
MAX_ORDERS = 4

PROFILE = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@dataclass
class ModelDelivery:
    id: uuid.UUID
    day: date
    units: int
    status: str = "recorded"


@dataclass
class ModelCycle:
    number: int
    starts_on: date
    ends_on: date
    units: int
    amount: int
    state: str = "held"
    deliveries: list[ModelDelivery] = field(default_factory=list)
    invoice_id: uuid.UUID | None = None
    invoice_status: str | None = None

    @property
    def recorded(self) -> int:
        return sum(d.units for d in self.deliveries)

    @property
    def billed(self) -> int:
        return self.recorded * HOURLY_PENCE


@dataclass
class ModelOrder:
    id: uuid.UUID
    schedule: Schedule
    cycles: list[ModelCycle]
    status: str = "placed"
    cancelled_from: date | None = None

    @property
    def open(self) -> bool:
        return self.status in ("accepted", "in_progress")

    def visits(self, cycle: ModelCycle) -> list[date]:
        """The cycle's visits still due: none from the day the order was cut short."""
        return [
            day
            for day in self.schedule.occasions()
            if cycle.starts_on <= day <= cycle.ends_on
            and (self.cancelled_from is None or day < self.cancelled_from)
        ]

    def deliverable(self, cycle: ModelCycle) -> int:
        if self.cancelled_from is None or cycle.ends_on < self.cancelled_from:
            return cycle.units
        return len(self.visits(cycle)) * self.schedule.units_per_occasion

    def cycle_on(self, day: date) -> ModelCycle | None:
        return next((c for c in self.cycles if c.starts_on <= day <= c.ends_on), None)

    def complete_if_done(self) -> None:
        if self.open and all(c.state in ("settled", "released") for c in self.cycles):
            self.status = "completed"

    def release_held(self, cycles: list[ModelCycle] | None = None) -> None:
        for cycle in self.cycles if cycles is None else cycles:
            if cycle.state == "held":
                cycle.state = "released"


class OrdersMachine(RuleBasedStateMachine):
    """One fresh person and budget per example, on the provider and listing of `world`."""

    world: World
    pots: dict[StreamKind, FunderPot]
    make_user: Callable[..., User]

    def __init__(self) -> None:
        super().__init__()
        self.session: Session = db.session
        self.session.rollback()
        world = self.world
        world.provider.invoice_cycle = InvoiceCycle.FOUR_WEEKLY
        opened_before = set(self.session.scalars(select(LedgerAccount.id)))
        self.person = Person(full_name="Edith Marsh")
        self.session.add(self.person)
        self.session.flush()
        self.citizen = self.make_user(Role.CITIZEN)
        self.citizen.person_id = self.person.id
        self.budget: PersonalBudget = create_budget(
            self.session,
            person=self.person,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
            frequency=PaymentFrequency.ANNUAL,
            streams=[
                StreamSpec(kind, pence, pot=self.pots.get(kind))
                for kind, pence in BUDGET_PENCE.items()
            ],
            today=date(2026, 4, 1),
        )
        plan = draft_plan(
            self.session,
            self.person,
            by=self.citizen,
            outcomes="To stay at home.",
            # Room for every order the machine places at once: the plan's weekly amount is
            # tested in test_checkout, not here.
            items=[PlanItemSpec("help-at-home", 5_000_00)],
        )
        approve_plan(self.session, plan, by=world.officer)
        self.session.commit()
        # The example's own accounts (its budget's streams', the person's own money), which
        # the ledger's check after each step is narrowed to.
        self.accounts = set(self.session.scalars(select(LedgerAccount.id))) - opened_before
        self.today = TODAY
        self.orders: list[ModelOrder] = []

    # The model's figures -----------------------------------------------------------------

    def committed(self) -> int:
        return sum(
            c.amount for o in self.orders for c in o.cycles if c.state in ("held", "invoiced")
        )

    def spent(self) -> int:
        return sum(c.billed for o in self.orders for c in o.cycles if c.state == "settled")

    def available(self) -> int:
        return sum(BUDGET_PENCE.values()) - self.committed() - self.spent()

    def deliveries(self) -> list[tuple[ModelOrder, ModelCycle, ModelDelivery]]:
        return [(o, c, d) for o in self.orders for c in o.cycles for d in c.deliveries]

    def invoices(self) -> list[tuple[ModelOrder, ModelCycle]]:
        return [(o, c) for o in self.orders for c in o.cycles if c.invoice_id is not None]

    # Helpers -----------------------------------------------------------------------------

    def _ready(self, model: ModelOrder, cycle: ModelCycle) -> bool:
        """Whether the provider may bill the cycle now: the day of its last visit (before the
        order was cut short, if it was) has come, or no visit is left in it."""
        visits = model.visits(cycle)
        return not visits or visits[-1] <= self.today

    def _open(self) -> list[ModelOrder]:
        return [o for o in self.orders if o.open]

    def _mostly(self, *statuses: str) -> list[ModelOrder]:
        """The orders in these statuses, if any (moves on the rest are mostly refusals, which
        other draws try), else every order."""
        return [o for o in self.orders if o.status in statuses] or self.orders

    def _order(self, model: ModelOrder) -> Order:
        return self.session.get_one(Order, model.id)

    def _attempt(self, refusal: str | None, move: Callable[[], object]) -> object:
        """Run the move as a request would: commit if it succeeds, roll back if refused; it
        must be refused with the model's code exactly when the model says so."""
        if refusal is None:
            result = move()
            self.session.commit()
            return result
        with pytest.raises(LedgerError) as refused:
            move()
        self.session.rollback()
        assert refused.value.code == refusal, refused.value.message
        return None

    # Rules -------------------------------------------------------------------------------

    @precondition(lambda self: len(self.orders) < MAX_ORDERS)
    @rule(
        starts_in=st.integers(0, 10),
        one_off=st.booleans(),
        units=st.integers(1, 3),
        weeks=st.integers(1, 6),
        days=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=3, unique=True),
        weekly=st.booleans(),
    )
    def place(
        self,
        starts_in: int,
        one_off: bool,
        units: int,
        weeks: int,
        days: list[str],
        weekly: bool,
    ) -> None:
        starts_on = self.today + timedelta(days=starts_in)
        schedule = (
            Schedule(ScheduleKind.ONE_OFF, starts_on, units)
            if one_off
            else Schedule(ScheduleKind.RECURRING, starts_on, units, weeks, tuple(days))
        )
        self._place(schedule, weekly)

    @initialize(
        units=st.integers(1, 2),
        weeks=st.integers(1, 6),
        days=st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=2, unique=True),
        weekly=st.booleans(),
    )
    def an_accepted_order(self, units: int, weeks: int, days: list[str], weekly: bool) -> None:
        """Every run starts with an order under way, so that the later steps of a life
        (deliveries, invoices) are reached within the run's steps."""
        schedule = Schedule(ScheduleKind.RECURRING, self.today, units, weeks, tuple(days))
        model = self._place(schedule, weekly)
        assert model is not None
        life.accept(self.session, self._order(model), by=self.world.staff)
        self.session.commit()
        model.status = "accepted"

    def _place(self, schedule: Schedule, weekly: bool) -> ModelOrder | None:
        provider = self.world.provider
        provider.invoice_cycle = InvoiceCycle.WEEKLY if weekly else InvoiceCycle.FOUR_WEEKLY
        self.session.commit()
        total = schedule.total_units * HOURLY_PENCE
        refusal = "insufficient_funds" if total > self.available() else None
        order = self._attempt(
            refusal,
            lambda: checkout.place_order(
                self.session,
                self.person,
                self.world.service,
                schedule,
                by=self.citizen,
                today=self.today,
                placement_key=f"machine:{uuid.uuid4()}",
            ),
        )
        if not isinstance(order, Order):
            return None
        plans = cycles(schedule, provider.invoice_cycle.days)
        model = ModelOrder(
            order.id,
            schedule,
            [
                ModelCycle(p.number, p.starts_on, p.ends_on, p.units, p.units * HOURLY_PENCE)
                for p in plans
            ],
        )
        assert order.total_pence == total
        assert [(c.number, c.starts_on, c.ends_on, c.units) for c in order.cycles] == [
            (c.number, c.starts_on, c.ends_on, c.units) for c in model.cycles
        ]
        self.orders.append(model)
        return model

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), any_order=st.booleans())
    def accept(self, data: st.DataObject, any_order: bool) -> None:
        model = data.draw(st.sampled_from(self.orders if any_order else self._mostly("placed")))
        refusal = None if model.status == "placed" else "invalid_transition"
        self._attempt(
            refusal, lambda: life.accept(self.session, self._order(model), by=self.world.staff)
        )
        if refusal is None:
            model.status = "accepted"

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), any_order=st.booleans())
    def decline(self, data: st.DataObject, any_order: bool) -> None:
        model = data.draw(st.sampled_from(self.orders if any_order else self._mostly("placed")))
        refusal = None if model.status == "placed" else "invalid_transition"
        self._attempt(
            refusal,
            lambda: life.decline(
                self.session, self._order(model), by=self.world.staff, reason="No carers free"
            ),
        )
        if refusal is None:
            model.status = "declined"
            model.release_held()

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), any_order=st.booleans())
    def cancel(self, data: st.DataObject, any_order: bool) -> None:
        model = data.draw(
            st.sampled_from(self.orders if any_order else self._open() or self.orders)
        )
        waiting = model.status == "placed"
        effective = self.today if waiting else self.today + timedelta(days=7)
        last_day = (
            model.cancelled_from - timedelta(days=1)
            if model.cancelled_from
            else model.schedule.ends_on
        )
        whole = waiting or (model.status == "accepted" and effective <= model.schedule.starts_on)
        rest = (
            not whole
            and model.open
            and effective > model.schedule.starts_on
            and model.schedule.kind is ScheduleKind.RECURRING
            and effective <= last_day
        )
        refusal = None if whole or rest else "invalid_transition"
        self._attempt(
            refusal,
            lambda: life.cancel(
                self.session, self._order(model), by=self.citizen, today=self.today
            ),
        )
        if whole:
            model.status = "cancelled"
            model.release_held()
        elif rest:
            model.cancelled_from = effective
            model.release_held([c for c in model.cycles if c.starts_on >= effective])
            # Nothing left to bill: the order is done.
            model.complete_if_done()

    @precondition(lambda self: self._open())
    @rule(data=st.data(), units=st.integers(0, 4), any_day=st.sampled_from([False, False, True]))
    def record(self, data: st.DataObject, units: int, any_day: bool) -> None:
        model = data.draw(st.sampled_from(self._open()))
        past = [day for day in model.schedule.occasions() if day <= self.today]
        if any_day:
            day = data.draw(st.dates(model.schedule.starts_on, model.schedule.ends_on))
        else:
            day = data.draw(st.sampled_from(past or model.schedule.occasions()))
        cycle = model.cycle_on(day)
        # In the order the rules check them.
        if not model.open:
            refusal = "invalid_transition"
        elif (
            day > self.today
            or (model.cancelled_from and day >= model.cancelled_from)
            or cycle is None
        ):
            refusal = "validation_error"
        elif day not in model.visits(cycle):
            refusal = "validation_error"  # no visit that day
        elif cycle.state != "held":
            refusal = "invalid_transition"
        elif any(d.day == day for c in model.cycles for d in c.deliveries):
            refusal = "invalid_transition"  # that visit is already recorded
        elif units > model.deliverable(cycle) - cycle.recorded:
            refusal = "validation_error"
        else:
            refusal = None
        delivery = self._attempt(
            refusal,
            lambda: deliveries.record_delivery(
                self.session,
                self._order(model),
                by=self.world.staff,
                delivered_on=day,
                units=units,
                note="",
                today=self.today,
            ),
        )
        if isinstance(delivery, Delivery):
            assert cycle is not None
            cycle.deliveries.append(ModelDelivery(delivery.id, day, units))
            if model.status == "accepted":
                model.status = "in_progress"

    @precondition(lambda self: self.deliveries())
    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        _, cycle, model = data.draw(st.sampled_from(self.deliveries()))
        settled = cycle.invoice_status == "settled"
        refusal = "invalid_transition" if model.status == "confirmed" or settled else None
        self._attempt(
            refusal,
            lambda: deliveries.confirm_delivery(
                self.session, self.session.get_one(Delivery, model.id), by=self.citizen
            ),
        )
        if refusal is None:
            model.status = "confirmed"

    @precondition(lambda self: self.deliveries())
    @rule(data=st.data())
    def query(self, data: st.DataObject) -> None:
        _, cycle, model = data.draw(st.sampled_from(self.deliveries()))
        settled = cycle.invoice_status == "settled"
        refusal = "invalid_transition" if model.status != "recorded" or settled else None
        self._attempt(
            refusal,
            lambda: deliveries.query_delivery(
                self.session,
                self.session.get_one(Delivery, model.id),
                by=self.citizen,
                reason="The carer did not come",
            ),
        )
        if refusal is None:
            model.status = "queried"

    @precondition(lambda self: self.deliveries())
    @rule(data=st.data(), units=st.integers(0, 4))
    def correct(self, data: st.DataObject, units: int) -> None:
        order, cycle, model = data.draw(st.sampled_from(self.deliveries()))
        room = order.deliverable(cycle) - (cycle.recorded - model.units)
        if model.status == "confirmed" or cycle.invoice_status == "settled":
            refusal = "invalid_transition"
        elif units > room:
            refusal = "validation_error"
        else:
            refusal = None
        self._attempt(
            refusal,
            lambda: deliveries.correct_delivery(
                self.session,
                self.session.get_one(Delivery, model.id),
                by=self.world.staff,
                units=units,
                note="Corrected",
            ),
        )
        if refusal is None:
            model.units = units
            model.status = "recorded"

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), any_order=st.booleans())
    def raise_invoice(self, data: st.DataObject, any_order: bool) -> None:
        due = [
            (o, c)
            for o in self._open()
            for c in o.cycles
            if c.state == "held" and self._ready(o, c)
        ]
        if due and not any_order:
            model, cycle = data.draw(st.sampled_from(due))
        else:
            model = data.draw(st.sampled_from(self.orders))
            cycle = data.draw(st.sampled_from(model.cycles))
        ready = self._ready(model, cycle)
        refusal = None if model.open and cycle.state == "held" and ready else "invalid_transition"
        invoice = self._attempt(
            refusal,
            lambda: invoicing.raise_invoice(
                self.session,
                self._order(model),
                self._order(model).cycles[cycle.number - 1],
                by=self.world.staff,
                today=self.today,
            ),
        )
        if not isinstance(invoice, Invoice):
            return
        cycle.invoice_id = invoice.id
        cycle.state, cycle.invoice_status = "invoiced", "raised"
        if all(d.status == "confirmed" for d in cycle.deliveries):
            cycle.state, cycle.invoice_status = "settled", "settled"
            model.complete_if_done()

    @precondition(lambda self: self.invoices())
    @rule(data=st.data())
    def settle(self, data: st.DataObject) -> None:
        model, cycle = data.draw(st.sampled_from(self.invoices()))
        held = any(d.status == "queried" for d in cycle.deliveries)
        refusal = "invalid_transition" if cycle.invoice_status != "raised" or held else None
        self._attempt(
            refusal,
            lambda: invoicing.settle_invoice(
                self.session, self.session.get_one(Invoice, cycle.invoice_id), by=self.world.officer
            ),
        )
        if refusal is None:
            cycle.state, cycle.invoice_status = "settled", "settled"
            model.complete_if_done()

    @rule(days=st.integers(3, 28))
    def time_passes(self, days: int) -> None:
        self.today = min(self.today + timedelta(days=days), LAST_DAY)

    # Invariants --------------------------------------------------------------------------

    @invariant()
    def orders_match_the_model(self) -> None:
        for model in self.orders:
            order = self._order(model)
            assert order.status.value == model.status, order.reference
            assert order.cancelled_from == model.cancelled_from
            assert len(order.cycles) == len(model.cycles)
            for cycle, expected in zip(order.cycles, model.cycles, strict=True):
                assert cycle.state.value == expected.state, (order.reference, cycle.number)
                lines = sorted(
                    (d.id, d.units, d.status.value)
                    for d in order.deliveries
                    if d.cycle_id == cycle.id
                )
                assert lines == sorted((d.id, d.units, d.status) for d in expected.deliveries)
                # Never more delivered than the cycle ordered.
                assert sum(units for _, units, _ in lines) <= cycle.units
            for invoice in order.invoices:
                cycle = next(c for c in model.cycles if c.invoice_id == invoice.id)
                assert invoice.amount_pence == cycle.billed
                assert invoice.status.value == cycle.invoice_status
                # Never billed more than its cycle's commitment.
                assert invoice.amount_pence <= invoice.cycle.amount_pence

    @invariant()
    def the_budget_shows_the_model(self) -> None:
        figures = budget_figures(self.session, self.budget)
        total = figures.total
        assert total.allocated_pence == sum(BUDGET_PENCE.values())
        assert (total.committed_pence, total.spent_pence, total.available_pence) == (
            self.committed(),
            self.spent(),
            self.available(),
        )
        for _, stream in figures.streams:
            assert stream.balanced
            assert stream.available_pence >= 0

    @invariant()
    def the_ledger_and_the_orders_verify(self) -> None:
        """The example's own accounts and every order of its person (the model's and any
        other); the whole database in `teardown`."""
        report = verify_ledger(self.session, self.accounts)
        assert report.ok, report.problems
        own = self.session.scalars(select(Order.id).where(Order.person_id == self.person.id))
        problems, _ = check_orders(self.session, own.all())
        assert problems == []

    def teardown(self) -> None:
        """The whole ledger and every order, once the example has run its steps (or
        Hypothesis has stopped it between two): what the checks after each step leave out,
        the accounts and orders of the world and of the earlier examples, which a step may
        spoil too, and the totals netting to zero."""
        if isinstance(sys.exc_info()[1], Exception):
            return  # a step or a check has failed the example already: report that
        report = verify_ledger(self.session)
        assert report.ok, report.problems
        problems, _ = check_orders(self.session)
        assert problems == []


def test_random_order_lives_keep_the_budget_and_the_ledger_right(
    world: World,
    council_pot: FunderPot,
    nhs_pot: FunderPot,
    make_user: Callable[..., User],
) -> None:
    OrdersMachine.world = world
    OrdersMachine.pots = {StreamKind.COUNCIL: council_pot, StreamKind.NHS: nhs_pot}
    OrdersMachine.make_user = staticmethod(make_user)  # type: ignore[assignment]
    run_state_machine_as_test(OrdersMachine, settings=PROFILE)


def test_an_order_cut_short_after_its_last_bill_is_completed(
    session: Session, world: World
) -> None:
    """Found by the machine above: the remaining weeks cancelled right after the last billed
    week left the order "in progress" for ever, with nothing left to deliver or invoice."""
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(weeks=3, days=("MO",)),
        by=world.citizen,
        today=TODAY,
        placement_key="cut-short",
    )
    life.accept(session, order, by=world.staff)
    # Monday 8 June: the first visit, confirmed and billed at once (the week is all recorded).
    day = date(2026, 6, 8)
    delivery = deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=day, units=2, today=day
    )
    deliveries.confirm_delivery(session, delivery, by=world.citizen)
    invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=day)
    session.commit()

    # The same day, a week's notice ends the order from the second Monday.
    assert life.cancel(session, order, by=world.citizen, today=day) == date(2026, 6, 15)
    session.commit()

    assert [c.state.value for c in order.cycles] == ["settled", "released", "released"]
    assert order.status is OrderStatus.COMPLETED
    assert order.events[-1].kind == "complete"
    figures = budget_figures(session, world.budget).total
    assert (figures.committed_pence, figures.spent_pence) == (0, 2 * HOURLY_PENCE)
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert check_orders(session)[0] == []
