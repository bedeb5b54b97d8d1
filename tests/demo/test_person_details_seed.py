"""`flask seed-demo` gives the demo citizens addresses and contact details, so the demo home
care provider's order page shows where Dorothy lives, and how to get in only on her orders
being delivered."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from marketplace.demo.data.county import demo_users
from marketplace.demo.orders_seed import PROVIDER_EMAIL, seed_orders
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.people.models import Person
from tests.demo.test_orders_seed import TODAY, _prerequisites


def test_the_demo_provider_sees_dorothys_address_and_gets_in_only_while_delivering(
    app: Flask,
) -> None:
    _prerequisites()
    seed_orders(TODAY)
    db.session.commit()
    dorothy = db.session.scalar(select(Person).where(Person.full_name == "Dorothy Pearce"))
    orders = {
        order.status: order
        for order in db.session.scalars(select(Order).where(Order.person_id == dorothy.id))
    }
    provider = next(user for user in demo_users() if user.email == PROVIDER_EMAIL)
    client = app.test_client()
    signed_in = client.post(
        "/sign-in", data={"email": provider.email, "password": provider.password}
    )
    assert signed_in.status_code == 302

    for status, gets_in in (
        (OrderStatus.PLACED, False),
        (OrderStatus.ACCEPTED, True),
        (OrderStatus.IN_PROGRESS, True),
        (OrderStatus.CANCELLED, False),
    ):
        page = client.get(f"/provider/orders/{orders[status].id}").get_data(as_text=True)
        assert "14 Orchard Way<br>Stevenage<br>Hertfordshire<br>SG1 4QT" in page, status
        assert "Hard of hearing" in page
        assert ("Key safe on the wall" in page) is gets_in, status
