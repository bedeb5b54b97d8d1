"""The citizen's order lists name each order's provider from one read of them all
(`marketplace.orders.queries.with_providers`)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event, select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.orders.queries import with_providers
from tests.conftest import DemoCounty


def test_every_provider_of_the_orders_is_read_in_one_statement(
    app: Flask, demo_county: DemoCounty
) -> None:
    demo_county.restore()
    dorothy = db.session.scalar(select(User).where(User.email == "citizen@demo.example.org"))
    assert dorothy is not None
    person_id = dorothy.person_id
    db.session.expunge_all()
    orders = list(db.session.scalars(select(Order).where(Order.person_id == person_id)))
    expected = {order.id: order.organisation_id for order in orders}
    assert len(set(expected.values())) >= 2, "the demo's citizen buys from several providers"
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with_providers(db.session, orders)
        names = {order.id: order.organisation.name for order in orders}
        ids = {order.id: order.organisation.id for order in orders}
        with_providers(db.session, [])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert ids == expected
    assert all(names.values())
