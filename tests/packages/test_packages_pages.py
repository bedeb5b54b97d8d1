"""The package on the citizen's ordering pages and on both order pages (PACKAGES, issue 18):
"until further notice" on the order form, the basket and checkout; the person's, the
provider's and the council's order pages show the package as ongoing, its next period and any
shortfall."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.allocations import release_due_instalments
from marketplace.budgets.models import FunderPot, PaymentFrequency, StreamKind
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.orders import events, life, packages
from marketplace.orders.models import Order, PackageShortfall
from tests.citizens import test_orders_pages as pages
from tests.citizens.helpers import give_budget
from tests.conftest import sign_in

shop = pages.shop
Shop = pages.Shop
WEEKLY = 2 * 2 * pages.HOURLY_PENCE


def _ongoing(client: FlaskClient, shop: Shop, **fields: object) -> TestResponse:
    data = pages.schedule_form(weeks="", **fields)  # type: ignore[arg-type]
    data["how_long"] = "ongoing"
    return client.post(f"/my/services/{shop.service.id}/order", data=data)


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def test_the_cost_of_an_ongoing_order_says_until_further_notice(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    response = _ongoing(citizen_client, shop, action="check")
    page = _text(response)

    assert response.status_code == 200, page
    assert "until further notice" in page
    assert "Until further notice" in page  # the choice on the form
    assert "Set aside now" in page
    assert pounds(WEEKLY) in page
    assert pages.basket_items(shop) == []


def test_a_number_of_weeks_still_needs_the_weeks(citizen_client: FlaskClient, shop: Shop) -> None:
    data = pages.schedule_form(weeks="")
    data["how_long"] = "weeks"
    response = citizen_client.post(f"/my/services/{shop.service.id}/order", data=data)
    assert response.status_code == 400
    assert "Enter how many weeks" in _text(response)
    assert pages.basket_items(shop) == []


def test_an_ongoing_order_goes_through_the_basket_and_checkout_as_a_package(
    citizen_client: FlaskClient, shop: Shop
) -> None:
    assert _ongoing(citizen_client, shop).status_code == 302
    (item,) = pages.basket_items(shop)
    assert (item.weeks, item.days) == (None, ["MO", "TH"])
    basket = _text(citizen_client.get("/my/basket"))
    assert "until further notice" in basket
    checkout_page = _text(citizen_client.get("/my/checkout"))
    assert "for the first period" in checkout_page
    assert "Each later period's money is set aside" in checkout_page
    assert "Choose a different split" not in checkout_page

    assert pages.check_out(citizen_client, shop).status_code == 302
    (order,) = pages.orders_of(shop)
    assert order.open_ended
    assert order.total_pence == order.cycles[0].amount_pence
    assert [t.sequence for t in order.terms] == [1]

    page = _text(citizen_client.get(f"/my/orders/{order.id}"))
    assert "Ongoing care" in page
    assert "until further notice" in page
    assert "Next period" in page
    assert f"2: {(order.starts_on + timedelta(days=order.invoice_cycle.days)):%-d %B}" in page
    assert "Budget for" in page


def test_the_council_sets_how_many_periods_ahead_a_new_package_holds(
    app: Flask, citizen_client: FlaskClient, shop: Shop
) -> None:
    app.config["PACKAGE_CYCLES_AHEAD"] = 2
    assert _ongoing(citizen_client, shop).status_code == 302
    assert pages.check_out(citizen_client, shop).status_code == 302

    (order,) = pages.orders_of(shop)
    assert order.cycles_ahead == 2
    assert [cycle.number for cycle in order.cycles] == [1, 2]
    assert order.total_pence == sum(cycle.amount_pence for cycle in order.cycles)


def test_a_shortfall_is_a_warning_on_every_order_page(
    app: Flask, citizen_client: FlaskClient, shop: Shop, make_user: Callable[..., User]
) -> None:
    assert _ongoing(citizen_client, shop).status_code == 302
    assert pages.check_out(citizen_client, shop).status_code == 302
    (order,) = pages.orders_of(shop)
    life.accept(db.session, order, by=shop.staff)
    flag_day = order.starts_on + timedelta(days=7)
    db.session.add(
        PackageShortfall(
            order_id=order.id,
            cycle_starts_on=flag_day,
            needed_pence=WEEKLY,
            available_pence=40_00,
        )
    )
    # The job's steps, as it records them on the timeline.
    events.record(
        db.session,
        order,
        "shortfall",
        by=None,
        reason=packages.NOT_ENOUGH,
        cycle_starts_on=flag_day.isoformat(),
        needed_pence=WEEKLY,
        available_pence=40_00,
    )
    events.record(
        db.session, order, "carried", by=None, budget_starts_on=flag_day.isoformat(), cycle=2
    )
    db.session.commit()

    page = _text(citizen_client.get(f"/my/orders/{order.id}"))
    assert f"The period from {flag_day:%-d %B %Y} is not paid for yet: it needs" in page
    assert f"Carried on into the budget from {flag_day:%-d %B %Y}, without a new order" in page
    assert f"The care from {flag_day:%-d %B %Y} is not paid for yet" in page
    assert f"needs {pounds(WEEKLY)}" in page
    assert "Ask the council to review your budget" in page

    staff_client = app.test_client()
    sign_in(staff_client, shop.staff)
    provider_page = _text(staff_client.get(f"/provider/orders/{order.id}"))
    assert "Ongoing care" in provider_page
    assert f"The money for the care from {flag_day:%-d %B %Y}" in provider_page

    officer_client = app.test_client()
    sign_in(officer_client, make_user(Role.COUNCIL_OFFICER))
    council_page = _text(officer_client.get(f"/council/orders/{order.id}"))
    assert f"The period from {flag_day:%-d %B %Y} is not paid for: it needs" in council_page
    assert "Review " in council_page
    assert "Budget for" in council_page


def test_a_fixed_order_shows_no_package(citizen_client: FlaskClient, shop: Shop) -> None:
    order: Order = pages.place_order(citizen_client, shop)
    page = _text(citizen_client.get(f"/my/orders/{order.id}"))
    assert "Ongoing care" not in page


def test_who_pays_names_each_budget_a_carried_package_draws_on(
    citizen_client: FlaskClient, shop: Shop, pots: dict[StreamKind, FunderPot]
) -> None:
    assert _ongoing(citizen_client, shop).status_code == 302
    assert pages.check_out(citizen_client, shop).status_code == 302
    (order,) = pages.orders_of(shop)
    # The period ends with the first invoicing period; the next budget pays the second.
    second_starts = order.cycles[0].ends_on + timedelta(days=1)
    shop.budget.ends_on = order.cycles[0].ends_on
    db.session.commit()
    give_budget(
        shop.citizen.person,
        pots,
        frequency=PaymentFrequency.ANNUAL,
        starts_on=second_starts,
        council=1_000_00,
    )
    release_due_instalments(db.session, second_starts)
    packages.roll_packages(db.session, second_starts)
    db.session.commit()
    # A period ahead: the second and third periods, from the new budget.
    assert [c.budget_id == shop.budget.id for c in order.cycles] == [True, False, False]

    page = _text(citizen_client.get(f"/my/orders/{order.id}"))

    assert f"Council (budget from {second_starts:%-d %B %Y})" in page
    assert ">Other<" not in page
