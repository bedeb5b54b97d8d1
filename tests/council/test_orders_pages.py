"""The council's order pages over HTTP: every order with filters and pages, an order outside
the support plan approved or not, and settling invoices (a held one refused, changing
nothing). Citizens and providers cannot reach them.

The clock is set to Monday 6 July 2026 (London): the orders placed here (from 8 June) have
had their first four weeks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import InvoiceStatus, Order, OrderStatus
from marketplace.orders.queries import PAGE_SIZE
from providers.models import TaxonomyTerm
from tests.conftest import sign_in
from tests.orders.fixtures import (
    AFTER_THE_SCHEDULE,
    HOURLY_PENCE,
    OCCASIONS,
    TODAY,
    World,
    assert_ledger_verifies,
)

NOW = AFTER_THE_SCHEDULE
pytestmark = pytest.mark.usefixtures("after_the_schedule")


@pytest.fixture
def council(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.officer)
    return client


def place(session: Session, world: World, key: str, **options: object) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        options.pop("schedule", None) or world.schedule(),  # type: ignore[arg-type]
        by=world.citizen,
        today=TODAY,
        placement_key=key,
        **options,  # type: ignore[arg-type]
    )
    session.commit()
    return order


def _references(response_text: str, orders: list[Order]) -> list[str]:
    return [order.reference for order in orders if order.reference in response_text]


def test_all_orders_with_filters(
    session: Session,
    world: World,
    council: FlaskClient,
    make_organisation,
    make_listing,
) -> None:
    with time_machine.travel(datetime(2026, 6, 1, 9, tzinfo=UTC)):
        early = place(session, world, "early")
    accepted = place(session, world, "accepted")
    life.accept(session, accepted, by=world.staff)
    elsewhere = make_organisation("Lea Valley Care")
    world.service = make_listing(elsewhere, name="Sitting service", price_pence=HOURLY_PENCE)
    other = place(session, world, "other", schedule=world.schedule(weeks=None))
    session.commit()
    everything = [early, accepted, other]

    page = council.get("/council/orders")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert _references(text, everything) == [early.reference, accepted.reference, other.reference]
    assert "All orders: 3" in text

    text = council.get("/council/orders?status=accepted").get_data(as_text=True)
    assert _references(text, everything) == [accepted.reference]
    text = council.get(f"/council/orders?provider={elsewhere.id}").get_data(as_text=True)
    assert _references(text, everything) == [other.reference]
    text = council.get(f"/council/orders?reference={early.reference.lower()}").get_data(
        as_text=True
    )
    assert _references(text, everything) == [early.reference]
    # Placed on or after 2 June: not the early one (placed on 1 June).
    text = council.get("/council/orders?placed_from=2&placed_from=6&placed_from=2026").get_data(
        as_text=True
    )
    assert _references(text, everything) == [accepted.reference, other.reference]
    text = council.get(
        "/council/orders?placed_to=1&placed_to=6&placed_to=2026&status=placed"
    ).get_data(as_text=True)
    assert _references(text, everything) == [early.reference]
    assert "Orders matching the filters: 1" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("placed_from=31&placed_from=2&placed_from=2026", "must be a real date"),
        ("placed_from=1&placed_from=6", "must include a day, month and year"),
        (
            "placed_from=2&placed_from=6&placed_from=2026&placed_to=1&placed_to=6&placed_to=2026",
            "must be the same as or after the start",
        ),
        ("status=lost", "Status: choose from the list"),
        ("provider=not-an-id", "Provider: choose from the list"),
    ],
)
def test_bad_filters_answer_400_with_a_message(
    council: FlaskClient, query: str, message: str
) -> None:
    response = council.get(f"/council/orders?{query}")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text
    assert "govuk-error-summary" in text


FIRST = date(2026, 6, 8)  # a Monday after TODAY


def test_orders_come_in_pages(
    session: Session,
    world: World,
    council: FlaskClient,
) -> None:
    # An hour each, in weeks of their own: within the support plan's weekly amount.
    placed = [
        place(
            session,
            world,
            f"order-{n}",
            schedule=world.schedule(units=1, weeks=None, starts_on=FIRST + timedelta(weeks=n)),
        )
        for n in range(PAGE_SIZE + 1)
    ]

    first = council.get("/council/orders?status=placed").get_data(as_text=True)
    second = council.get("/council/orders?status=placed&page=2").get_data(as_text=True)
    assert len(_references(first, placed)) == PAGE_SIZE
    assert len(_references(second, placed)) == 1
    assert set(_references(first, placed)).isdisjoint(_references(second, placed))
    # The pages keep the filters.
    assert "status=placed&amp;page=2" in first or "page=2&amp;status=placed" in first


@pytest.fixture
def outside_plan(session: Session, world: World) -> Order:
    day_centres = session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    world.service.taxonomy_terms = [day_centres]
    session.commit()
    order = place(session, world, "outside", plan_rule="approval")
    assert order.status is OrderStatus.AWAITING_APPROVAL
    return order


def test_an_order_outside_the_plan_is_approved(
    session: Session,
    world: World,
    council: FlaskClient,
    outside_plan: Order,
) -> None:
    page = council.get(f"/council/orders/{outside_plan.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Approve this order" in text
    assert "outside the support plan" in text  # the timeline's first step

    assert council.post(f"/council/orders/{outside_plan.id}/approve").status_code == 302
    session.expire_all()
    assert outside_plan.status is OrderStatus.PLACED
    # Approving it again is refused and changes nothing.
    again = council.post(f"/council/orders/{outside_plan.id}/approve")
    assert again.status_code == 400
    assert "cannot be approved" in again.get_data(as_text=True)
    session.expire_all()
    assert outside_plan.status is OrderStatus.PLACED
    assert [e.kind for e in outside_plan.events] == ["placed", "approve"]


def test_an_order_outside_the_plan_is_refused_with_a_reason(
    session: Session,
    world: World,
    council: FlaskClient,
    outside_plan: Order,
) -> None:
    assert budget_figures(session, world.budget).total.committed_pence == outside_plan.total_pence

    response = council.post(f"/council/orders/{outside_plan.id}/refuse", data={"refuse-reason": ""})
    assert response.status_code == 400
    assert "Enter why the order is not approved" in response.get_data(as_text=True)
    session.expire_all()
    assert outside_plan.status is OrderStatus.AWAITING_APPROVAL

    response = council.post(
        f"/council/orders/{outside_plan.id}/refuse",
        data={"refuse-reason": "A day centre is not in the plan: talk to your social worker"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert outside_plan.status is OrderStatus.CANCELLED
    assert budget_figures(session, world.budget).total.committed_pence == 0
    text = council.get(f"/council/orders/{outside_plan.id}").get_data(as_text=True)
    assert "Not approved by the council" in text
    assert "A day centre is not in the plan" in text
    assert_ledger_verifies(session)


def _invoiced(session: Session, world: World, *, query: bool) -> Order:
    order = place(session, world, "invoiced")
    life.accept(session, order, by=world.staff)
    recorded = [
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=NOW.date()
        )
        for day in OCCASIONS[:-1]
    ]
    if query:
        deliveries.query_delivery(
            session, recorded[1], by=world.citizen, reason="The carer did not come"
        )
    invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=NOW.date())
    session.commit()
    return order


def test_a_held_invoice_cannot_be_settled(
    session: Session,
    world: World,
    council: FlaskClient,
) -> None:
    order = _invoiced(session, world, query=True)
    (invoice,) = order.invoices
    before = budget_figures(session, world.budget).total

    text = council.get("/council/invoices").get_data(as_text=True)
    assert invoice.reference in text
    assert "Held" in text
    assert "A delivery on it is queried" in text

    response = council.post(f"/council/invoices/{invoice.id}/settle")
    assert response.status_code == 400
    assert "This invoice is held: a delivery on it is queried" in response.get_data(as_text=True)
    session.expire_all()
    assert invoice.status is InvoiceStatus.RAISED
    after = budget_figures(session, world.budget).total
    assert (after.spent_pence, after.committed_pence) == (
        before.spent_pence,
        before.committed_pence,
    )


def test_settling_from_the_invoices_page(
    session: Session,
    world: World,
    council: FlaskClient,
) -> None:
    order = _invoiced(session, world, query=False)
    (invoice,) = order.invoices
    assert invoice.amount_pence == 14 * HOURLY_PENCE
    before = budget_figures(session, world.budget).total

    text = council.get("/council/invoices").get_data(as_text=True)
    assert f'Settle<span class="govuk-visually-hidden"> {invoice.reference}' in text
    assert council.post(f"/council/invoices/{invoice.id}/settle").status_code == 302
    session.expire_all()
    after = budget_figures(session, world.budget).total
    assert invoice.status is InvoiceStatus.SETTLED
    assert after.spent_pence - before.spent_pence == 14 * HOURLY_PENCE
    assert before.committed_pence - after.committed_pence == order.total_pence
    assert after.available_pence - before.available_pence == 2 * HOURLY_PENCE
    # Paid: no longer to settle; settling again is refused.
    text = council.get("/council/invoices").get_data(as_text=True)
    assert f"Invoice {invoice.reference} is paid: £364 to Chiltern Home Care" in text
    assert "There are no invoices to pay" in text
    again = council.post(f"/council/invoices/{invoice.id}/settle")
    assert again.status_code == 400
    assert "already paid" in again.get_data(as_text=True)
    assert_ledger_verifies(session)


def test_citizens_and_providers_cannot_reach_the_council_pages(
    app: Flask,
    session: Session,
    world: World,
) -> None:
    order = _invoiced(session, world, query=False)
    for user in (world.citizen, world.staff):
        client = app.test_client()
        sign_in(client, user)
        for path in (
            "/council/orders",
            f"/council/orders/{order.id}",
            "/council/invoices",
        ):
            assert client.get(path).status_code == 403, path
        for path in (
            f"/council/orders/{order.id}/approve",
            f"/council/invoices/{order.invoices[0].id}/settle",
        ):
            assert client.post(path).status_code == 403, path
    session.expire_all()
    assert order.invoices[0].status is InvoiceStatus.RAISED


def test_a_refused_order_says_refused_by_the_council_with_its_reason_not_cancelled(
    app: Flask, session: Session, world: World, council: FlaskClient, outside_plan: Order
) -> None:
    reason = "A day centre is not in the plan: talk to your social worker"
    life.refuse(session, outside_plan, by=world.officer, reason=reason)
    session.commit()
    citizen = app.test_client()
    sign_in(citizen, world.citizen)

    pages = {
        "council's order": council.get(f"/council/orders/{outside_plan.id}"),
        "council's list": council.get("/council/orders"),
        "citizen's order": citizen.get(f"/my/orders/{outside_plan.id}"),
        "citizen's list": citizen.get("/my/orders"),
    }

    for name, page in pages.items():
        assert page.status_code == 200, name
        text = page.get_data(as_text=True)
        assert '<strong class="govuk-tag govuk-tag--red">Refused by the council</strong>' in text, (
            name
        )
        assert ">Cancelled</strong>" not in text, name
    for name in ("council's order", "citizen's order"):
        text = pages[name].get_data(as_text=True)
        assert "Why the council refused it" in text, name
        assert reason in text, name
