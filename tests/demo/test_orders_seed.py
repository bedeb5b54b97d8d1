"""`flask seed-demo`'s orders: Dorothy's orders from the demo home care provider in her town,
some in every state, with a past, made once, emailing nobody, and a ledger that verifies."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.statement import budget_statement
from marketplace.demo import seed
from marketplace.demo.budgets_seed import seed_budgets
from marketplace.demo.data.county import demo_organisations, demo_users
from marketplace.demo.orders_seed import (
    DAY_CENTRE,
    HOME_CARE,
    PROVIDER,
    PROVIDER_EMAIL,
    WASHING,
    seed_orders,
)
from marketplace.extensions import db
from marketplace.ledger import Transfer, verify_ledger
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification
from marketplace.orders.models import (
    CycleState,
    DeliveryStatus,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from marketplace.orders.verify import check_orders
from marketplace.people.models import Person
from marketplace.people.plans import PurchaseCheck, purchase_check, with_parents
from marketplace.types import utcnow
from providers.models import CapacityStatus, Service
from tests.conftest import DemoCounty

TODAY = date(2026, 11, 24)
PROVIDERS = {"Chiltern Home Care", "Lea Valley Day Centre", PROVIDER, "Herts Independent Brokerage"}


def _prerequisites() -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()
    seed_budgets(TODAY)


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _listing() -> Service:
    return db.session.scalars(select(Service).where(Service.name == WASHING)).one()


def test_the_demo_citizen_has_orders_in_every_state_with_a_past_once(app: Flask) -> None:
    # The council takes top-ups by card, so one order waits for its card payment.
    app.config["CARD_TOP_UPS_ALLOWED"] = True
    _prerequisites()
    listing = _listing()
    capacity = (listing.capacity_status, listing.capacity_free, listing.earliest_start)
    db.session.commit()

    report = seed_orders(TODAY)
    db.session.commit()

    every_order = db.session.scalars(select(Order).order_by(Order.placed_at)).all()
    assert [(t.kind, len(t.created)) for t in report.tallies] == [("orders", len(every_order))]
    assert {order.organisation.name for order in every_order} == {
        HOME_CARE,
        DAY_CENTRE,
        PROVIDER,
    }
    orders = [order for order in every_order if order.organisation.name == PROVIDER]
    assert {order.status for order in orders} == set(OrderStatus)
    (unpaid,) = [o for o in orders if o.status is OrderStatus.AWAITING_PAYMENT]
    assert unpaid.card_pence == 20_00
    in_progress = [o for o in orders if o.status is OrderStatus.IN_PROGRESS]
    assert any(
        d.status is DeliveryStatus.QUERIED and d.query_reason
        for o in in_progress
        for d in o.deliveries
    )
    (cut_short,) = [o for o in orders if o.cancelled_from is not None]
    assert {c.state for c in cut_short.cycles} >= {CycleState.SETTLED, CycleState.RELEASED}
    (completed,) = [o for o in orders if o.status is OrderStatus.COMPLETED]
    assert [i.status for i in completed.invoices] == [InvoiceStatus.SETTLED]
    assert any(d.units == 0 and d.note for d in completed.deliveries)  # the missed visit
    (declined,) = [o for o in orders if o.status is OrderStatus.DECLINED]
    assert declined.events[-1].reason

    # It all happened in the past weeks, in order, each order's events after it was placed.
    now = utcnow()
    assert orders[0].placed_at.date() < TODAY - timedelta(days=50)
    assert every_order[0].placed_at.date() == date(2026, 4, 2)  # the day after the budget began
    for order in every_order:
        moments = [event.happened_at for event in order.events]
        assert moments == sorted(moments)
        assert order.placed_at == moments[0] <= now
        assert all(d.recorded_at.date() == d.delivered_on for d in order.deliveries)
    order_transfers = db.session.scalars(
        select(Transfer).where(Transfer.reference.like("order:%"))
    ).all()
    assert order_transfers
    assert min(t.created_at for t in order_transfers) < now - timedelta(days=50)
    # Old news is read; nobody was emailed about history.
    unread = db.session.scalars(select(Notification).where(Notification.read_at.is_(None))).all()
    assert all(n.created_at > now - timedelta(days=3) for n in unread)
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []
    # The listing itself was not changed by placing orders "as it was then".
    listing = _listing()
    assert (listing.capacity_status, listing.capacity_free, listing.earliest_start) == capacity

    # The budget shows the orders, and everything verifies.
    budget = orders[0].budget
    figures = budget_figures(db.session, budget)
    assert all(stream.balanced for _, stream in figures.streams)
    held = sum(
        c.amount_pence
        for o in orders
        for c in o.cycles
        if c.state in (CycleState.HELD, CycleState.INVOICED)
    )
    assert held <= figures.total.committed_pence
    # The budget paid exactly what the providers invoiced and were paid.
    assert figures.total.spent_pence == sum(
        i.amount_pence for o in every_order for i in o.invoices if i.status is InvoiceStatus.SETTLED
    )
    assert verify_ledger(db.session).ok
    assert check_orders(db.session)[0] == []
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output

    # A second run creates nothing.
    transfers, events = _count(Transfer), _count(OrderEvent)
    again = seed_orders(TODAY)
    db.session.commit()
    assert again.created_count == 0
    assert again.existing_count == len(every_order)
    assert (_count(Order), _count(Transfer), _count(OrderEvent)) == (
        len(every_order),
        transfers,
        events,
    )


def test_every_four_weeks_the_budget_bought_day_centre_sessions_and_home_care(
    app: Flask,
) -> None:
    _prerequisites()

    seed_orders(TODAY)
    db.session.commit()

    orders = db.session.scalars(select(Order).order_by(Order.starts_on)).all()
    day_centre = [o for o in orders if o.organisation.name == DAY_CENTRE]
    home_care = [o for o in orders if o.organisation.name == HOME_CARE]
    # Ordered the day after each instalment up to 11 November: nine four weeks.
    assert len(day_centre) == 9
    assert all(o.days == ["TH"] and o.weeks == 4 for o in day_centre)
    (closed,) = [o for o in day_centre if o.status is OrderStatus.DECLINED]
    assert "repairs" in closed.events[-1].reason
    assert closed.cycles[0].state is CycleState.RELEASED
    assert day_centre[-1].status is OrderStatus.IN_PROGRESS  # the four weeks under way
    assert all(o.status is OrderStatus.COMPLETED for o in day_centre[:-1] if o is not closed)
    # Chiltern's home care until she moved to Bluebell, every four weeks of it paid.
    assert len(home_care) == 6
    assert home_care[-1].ends_on < min(
        o.placed_at.date() for o in orders if o.organisation.name == PROVIDER
    )
    assert all(o.status is OrderStatus.COMPLETED for o in home_care)
    (partly,) = [o for o in home_care if o.invoices[0].amount_pence < o.total_pence]
    assert [d.note for d in partly.deliveries if d.units == 0] == [
        "Visit missed: Mrs Pearce was kept in the Lister overnight after a fall.",
        "Visit missed: Mrs Pearce was still in the Lister. Home on Saturday.",
    ]
    assert partly.invoices[0].amount_pence == partly.total_pence - 2 * 2 * 30_20
    # Every visit delivered was confirmed by Dorothy the next morning, and every invoice paid.
    for order in home_care + day_centre[:-1]:
        assert all(d.status is DeliveryStatus.CONFIRMED for d in order.deliveries)
        assert all(i.status is InvoiceStatus.SETTLED for i in order.invoices)
    lines = budget_statement(db.session, orders[0].budget).lines
    assert {line.what for line in lines} == {
        "Instalment",
        "Money set aside for a purchase",
        "Paid",
        "Paid in part; the rest released",
        "Money set aside, released",
    }


def test_the_demo_provider_serves_the_demo_citizen_and_can_sign_in(app: Flask) -> None:
    _prerequisites()
    db.session.commit()

    provider = next(u for u in demo_users() if u.email == PROVIDER_EMAIL)
    user = accounts.authenticate(provider.email, provider.password)
    assert user is not None
    assert user.organisation.name == PROVIDER
    dorothy = db.session.scalar(select(Person).where(Person.full_name == "Dorothy Pearce"))
    assert dorothy.postcode.startswith("SG1")  # Stevenage
    listing = _listing()
    assert listing.organisation.name == PROVIDER
    assert listing.is_public
    assert listing.accepts_personal_budgets
    assert listing.capacity_status is CapacityStatus.ACCEPTING
    assert "stevenage" in {place.code for place in listing.localities}
    codes = with_parents(db.session, [term.code for term in listing.taxonomy_terms])
    assert purchase_check(db.session, dorothy, codes, rule="approval") is PurchaseCheck.ALLOWED


def test_the_whole_command_seeds_orders_and_verifies(app: Flask, demo_county: DemoCounty) -> None:
    runner = app.test_cli_runner()
    demo_county.restore()  # the whole seed, as the command's first run commits it
    orders = _count(Order)
    assert orders >= len(OrderStatus)
    assert runner.invoke(args=["ledger", "verify"]).exit_code == 0

    second = runner.invoke(args=["seed-demo", "--quiet"])
    assert second.exit_code == 0, second.output
    assert "0 created" in second.output
    assert _count(Order) == orders
