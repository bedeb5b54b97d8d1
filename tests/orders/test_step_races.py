"""Order steps sent at the same moment (issue 12, items 1 and 2): each request in its own
thread, app context, session and connection, committing at its end as a request does, or in
a process of its own through the provider's pages.

Two steps that conflict (each would refuse the other once it had happened) must end with
exactly one winner; the loser is refused with `invalid_transition`, writes nothing and tells
nobody. Two steps that can both happen in one order (a query answered by a confirmation) may
both win only as that order would have it. Either way `flask ledger verify` agrees.
On SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import gc
import multiprocessing
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.ledger import LedgerError
from marketplace.notifications.models import Notification
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import (
    Delivery,
    Invoice,
    Order,
    OrderCycle,
    OrderEvent,
    OrderStatus,
)
from marketplace.orders.schedule import Schedule
from providers.models import InvoiceCycle, TaxonomyTerm
from tests.ledger.threads import engine_options
from tests.orders.fixtures import TODAY, World

OK, REFUSED = "ok", "invalid_transition"
FIRST_VISIT, SECOND_VISIT = date(2026, 6, 8), date(2026, 6, 11)
AFTER = date(2026, 7, 6)  # the default schedule's last visit was on 2 July


@dataclass(frozen=True)
class Ids:
    order: uuid.UUID
    staff: uuid.UUID
    citizen: uuid.UUID
    officer: uuid.UUID
    delivery: uuid.UUID | None = None
    invoice: uuid.UUID | None = None


def _order(ids: Ids) -> Order:
    return db.session.get_one(Order, ids.order)


def _user(user_id: uuid.UUID) -> User:
    return db.session.get_one(User, user_id)


def _delivery(ids: Ids) -> Delivery:
    assert ids.delivery is not None
    return db.session.get_one(Delivery, ids.delivery)


def _record(ids: Ids, day: date) -> None:
    deliveries.record_delivery(
        db.session, _order(ids), by=_user(ids.staff), delivered_on=day, units=2, today=AFTER
    )


def _invoice(ids: Ids) -> None:
    order = _order(ids)
    invoicing.raise_invoice(db.session, order, order.cycles[0], by=_user(ids.staff), today=AFTER)


def _settle(ids: Ids) -> None:
    assert ids.invoice is not None
    invoice = db.session.get_one(Invoice, ids.invoice)
    invoicing.settle_invoice(db.session, invoice, by=_user(ids.officer))


# Each step: the request that makes it, what its notification's title says (None: it tells
# nobody) and the kind of the event it puts on the order's timeline.
STEPS: dict[str, tuple[Callable[[Ids], object], str | None, str]] = {
    "accept": (
        lambda ids: life.accept(db.session, _order(ids), by=_user(ids.staff)),
        "accepted",
        "accept",
    ),
    "decline": (
        lambda ids: life.decline(db.session, _order(ids), by=_user(ids.staff), reason="No one"),
        "declined",
        "decline",
    ),
    "cancel": (
        lambda ids: life.cancel(db.session, _order(ids), by=_user(ids.citizen), today=TODAY),
        "cancelled",
        "cancel",
    ),
    "approve": (
        lambda ids: life.approve(db.session, _order(ids), by=_user(ids.officer)),
        "was approved",
        "approve",
    ),
    "refuse": (
        lambda ids: life.refuse(db.session, _order(ids), by=_user(ids.officer), reason="No"),
        "not approved",
        "refuse",
    ),
    "record_next": (
        lambda ids: _record(ids, SECOND_VISIT),
        "delivery to confirm",
        "delivery_recorded",
    ),
    "confirm": (
        lambda ids: deliveries.confirm_delivery(db.session, _delivery(ids), by=_user(ids.citizen)),
        None,
        "delivery_confirmed",
    ),
    "query": (
        lambda ids: deliveries.query_delivery(
            db.session, _delivery(ids), by=_user(ids.citizen), reason="Nobody came"
        ),
        "was queried",
        "delivery_queried",
    ),
    "correct": (
        lambda ids: deliveries.correct_delivery(
            db.session, _delivery(ids), by=_user(ids.staff), units=1
        ),
        "corrected delivery",
        "delivery_corrected",
    ),
    "invoice": (_invoice, "raised", "invoice_raised"),
    "settle": (_settle, "has been paid", "invoice_settled"),
}


def race(app: Flask, steps: list[str], ids: Ids) -> list[str]:
    """Start the steps together, each a request of its own; each answers "ok" or the code it
    was refused with."""
    barrier = threading.Barrier(len(steps))

    def run(name: str) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                STEPS[name][0](ids)
                db.session.commit()
            except LedgerError as refused:
                db.session.rollback()
                return refused.code
            except BaseException:
                db.session.rollback()
                raise
            return OK

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


# What each order is before the race.


def _placed(world: World, schedule: Schedule | None = None, **options: Any) -> Order:
    order = checkout.place_order(
        db.session,
        world.person,
        world.service,
        schedule or world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="race",
        **options,
    )
    db.session.commit()
    return order


def _awaiting(world: World) -> Ids:
    # A day centre is outside the person's plan, and the council decides on such orders.
    world.service.taxonomy_terms = [
        db.session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres")).one()
    ]
    db.session.commit()
    order = _placed(world, plan_rule="approval")
    assert order.status is OrderStatus.AWAITING_APPROVAL
    return _ids(world, order)


def _delivered(world: World) -> Ids:
    order = _placed(world)
    life.accept(db.session, order, by=world.staff)
    delivery = deliveries.record_delivery(
        db.session, order, by=world.staff, delivered_on=FIRST_VISIT, units=2, today=AFTER
    )
    db.session.commit()
    return _ids(world, order, delivery=delivery.id)


def _invoiced(world: World) -> Ids:
    ids = _delivered(world)
    order = db.session.get_one(Order, ids.order)
    invoice = invoicing.raise_invoice(
        db.session, order, order.cycles[0], by=world.staff, today=AFTER
    )
    db.session.commit()
    return _ids(world, order, delivery=ids.delivery, invoice=invoice.id)


def _ids(world: World, order: Order, **more: Any) -> Ids:
    return Ids(order.id, world.staff.id, world.citizen.id, world.officer.id, **more)


SETUPS: dict[str, Callable[[World], Ids]] = {
    "placed": lambda world: _ids(world, _placed(world)),
    "awaiting": _awaiting,
    "delivered": _delivered,
    "invoiced": _invoiced,
}

# (setup, step, step): one of the two wins, the other is refused.
CONFLICTS = [
    ("placed", "accept", "decline"),
    ("placed", "decline", "cancel"),
    ("placed", "accept", "accept"),
    ("placed", "decline", "decline"),
    ("placed", "cancel", "cancel"),
    ("awaiting", "approve", "refuse"),
    ("awaiting", "refuse", "cancel"),
    ("awaiting", "approve", "approve"),
    ("awaiting", "refuse", "refuse"),
    ("delivered", "record_next", "record_next"),  # the same visit twice
    ("delivered", "confirm", "confirm"),
    ("delivered", "query", "query"),
    ("delivered", "invoice", "invoice"),
    ("invoiced", "settle", "settle"),
    ("invoiced", "settle", "query"),
]
# (setup, first, then): both win if `first` goes first; if `then` goes first, `first` is
# refused (a cancelled order cannot be accepted; a delivery on an invoiced period cannot be
# recorded; a confirmed delivery cannot be queried or corrected; a paid one cannot be changed).
ORDERED = [
    ("placed", "accept", "cancel"),
    ("awaiting", "approve", "cancel"),
    ("delivered", "record_next", "invoice"),
    ("delivered", "query", "confirm"),
    ("delivered", "correct", "confirm"),
    ("invoiced", "correct", "settle"),
]


def _new_notifications(since: int) -> list[tuple[uuid.UUID, str]]:
    rows = db.session.execute(
        select(Notification.user_id, Notification.title).order_by(Notification.created_at)
    ).all()
    return [(row[0], row[1]) for row in rows[since:]]


def _new_event_kinds(since: int) -> list[str]:
    kinds = db.session.scalars(
        select(OrderEvent.kind).order_by(OrderEvent.happened_at, OrderEvent.id)
    ).all()
    return list(kinds[since:])


def _check_race(
    make_app: Callable[..., Flask], world: World, setup: str, steps: list[str]
) -> list[str]:
    ids = SETUPS[setup](world)
    events_before = db.session.scalar(select(func.count()).select_from(OrderEvent)) or 0
    notified_before = db.session.scalar(select(func.count()).select_from(Notification)) or 0
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(len(steps)))

    outcomes = race(racers, steps, ids)

    assert set(outcomes) <= {OK, REFUSED}, outcomes
    db.session.expire_all()
    winners = [name for name, outcome in zip(steps, outcomes, strict=True) if outcome == OK]
    losers = [name for name, outcome in zip(steps, outcomes, strict=True) if outcome != OK]
    # The losers wrote nothing to the timeline: only the winners' steps are on it.
    kinds = {STEPS[name][2] for name in steps}
    written = Counter(kind for kind in _new_event_kinds(events_before) if kind in kinds)
    assert written == Counter(STEPS[name][2] for name in winners), (outcomes, written)
    # ... and told nobody anything: nothing is said twice, nor what only a loser would say.
    told = _new_notifications(notified_before)
    assert len(told) == len(set(told)), told
    said = {STEPS[name][1] for name in winners}
    for name in losers:
        title = STEPS[name][1]
        if title is not None and title not in said:
            assert not any(title in text for _, text in told), (name, told)
    result = racers.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    return outcomes


@pytest.mark.parametrize(("setup", "one", "other"), CONFLICTS)
def test_two_conflicting_steps_at_once_one_wins(
    make_app: Callable[..., Flask], world: World, setup: str, one: str, other: str
) -> None:
    outcomes = _check_race(make_app, world, setup, [one, other])

    assert sorted(outcomes) == [REFUSED, OK]


@pytest.mark.parametrize(("setup", "first", "then"), ORDERED)
def test_two_steps_at_once_both_win_only_in_the_order_that_allows_it(
    make_app: Callable[..., Flask], world: World, setup: str, first: str, then: str
) -> None:
    outcomes = _check_race(make_app, world, setup, [first, then])

    assert outcomes in ([OK, OK], [REFUSED, OK])


def test_accept_decline_and_cancel_at_once_leave_one_story(
    make_app: Callable[..., Flask], world: World
) -> None:
    outcomes = _check_race(make_app, world, "placed", ["accept", "decline", "cancel", "decline"])

    won = Counter(outcomes)[OK]
    order = db.session.scalars(select(Order)).one()
    # Accept then cancel may both happen; anything else has one winner.
    if order.status is OrderStatus.CANCELLED and won == 2:
        assert outcomes[0] == OK
        assert outcomes[2] == OK
    else:
        assert won == 1


def test_deliveries_at_once_never_exceed_what_the_period_holds(
    make_app: Callable[..., Flask], world: World
) -> None:
    # One hour on each of four weekdays, a week per invoice: room for 4 hours in the first
    # period. Four providers' clerks each record 2 hours on a different visit: two fit.
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    order = _placed(world, world.schedule(units=1, weeks=1, days=("MO", "TU", "WE", "TH")))
    life.accept(db.session, order, by=world.staff)
    db.session.commit()
    ids = _ids(world, order)
    days = [date(2026, 6, 8 + n) for n in range(4)]
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(len(days)))
    barrier = threading.Barrier(len(days))

    def record(day: date) -> str:
        with racers.app_context():
            barrier.wait(timeout=30)
            try:
                deliveries.record_delivery(
                    db.session,
                    _order(ids),
                    by=_user(ids.staff),
                    delivered_on=day,
                    units=2,
                    today=AFTER,
                )
                db.session.commit()
            except LedgerError as refused:
                db.session.rollback()
                return refused.code
            return OK

    with ThreadPoolExecutor(max_workers=len(days)) as pool:
        outcomes = list(pool.map(record, days))

    assert sorted(outcomes) == [OK, OK, "validation_error", "validation_error"]
    db.session.expire_all()
    recorded = db.session.scalar(select(func.sum(Delivery.units)))
    cycle = db.session.scalars(select(OrderCycle).where(OrderCycle.number == 1)).one()
    assert recorded == cycle.units == 4
    result = racers.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


# Through two processes, each with its own app, as two servers on one database would be.


def _provider_page_step(
    url: str, instance: str, email: str, path: str, form: dict[str, str], barrier: Any, out: Any
) -> None:
    """In a process of its own: sign in to the provider's pages, wait for the other process,
    then post the step; put the answer's status on `out`. Forked from the test's process,
    which has the app imported (a fresh interpreter spent 3 s of CPU importing it), and with
    an app, engine and connections of its own; the collector leaves what was inherited alone
    and the child ends by `os._exit`, so the test's objects are never finalised here."""
    gc.freeze()
    from marketplace import create_app
    from tests.conftest import PASSWORD, RequestClient, test_settings

    app = create_app(test_settings(url, Path(instance)))
    app.test_client_class = RequestClient
    client = app.test_client()
    signed_in = client.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert signed_in.status_code == 302
    barrier.wait(timeout=60)
    answer = client.post(path, data=form)
    out.put((path.rsplit("/", 1)[-1], answer.status_code))
    with app.app_context():
        db.engine.dispose()


def test_accept_and_decline_from_two_servers_at_once_one_wins(
    app: Flask, world: World, database_url: str, tmp_path: Path
) -> None:
    order = _placed(world)
    order_id = order.id
    base = f"/provider/orders/{order_id}"
    email = world.staff.email
    # No connection to the database is open in this process as it forks (SQLite's lock state
    # of a file is per process, and a child must not inherit one in use).
    db.session.close()
    db.engine.dispose()
    fork = multiprocessing.get_context("fork")
    barrier, out = fork.Barrier(2), fork.Queue()
    servers = [
        fork.Process(
            target=_provider_page_step,
            args=(database_url, str(tmp_path / f"server-{n}"), email, path, form, barrier, out),
        )
        for n, (path, form) in enumerate(
            [(f"{base}/accept", {}), (f"{base}/decline", {"decline-reason": "No carers free"})]
        )
    ]
    for server in servers:
        server.start()
    answers = dict(out.get(timeout=120) for _ in servers)
    for server in servers:
        server.join(timeout=60)
        assert server.exitcode == 0

    # A step that won redirects to the order; the one refused shows the order page with the
    # refusal (400), having changed nothing.
    assert sorted(answers.values()) == [302, 400], answers
    order = db.session.get_one(Order, order_id)
    won = "accept" if answers["accept"] == 302 else "decline"
    assert order.status is (OrderStatus.ACCEPTED if won == "accept" else OrderStatus.DECLINED)
    assert [event.kind for event in order.events] == ["placed", won]
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
