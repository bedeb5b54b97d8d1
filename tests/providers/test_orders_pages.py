"""The provider's order pages over HTTP: the inbox, accepting and declining, recording and
correcting deliveries, raising invoices, and the invoices page. Every refusal answers 400 and
changes nothing; another organisation's order is a 404.

The clock is set to Monday 6 July 2026 (London), after the first four weeks of the orders
placed here (2 hours on Mondays and Thursdays from 8 June, invoiced every 4 weeks).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderEvent,
    OrderStatus,
)
from providers.models import InvoiceCycle, TaxonomyTerm
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


def place(session: Session, world: World, key: str = "order-1", **options: object) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
        **options,  # type: ignore[arg-type]
    )
    session.commit()
    return order


@pytest.fixture
def staff_client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.staff)
    return client


@pytest.fixture
def officer_client(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.officer)
    return client


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def _delivery(day: date, units: int | str, note: str = "") -> dict[str, object]:
    return {
        "delivery-delivered_on": [str(day.day), str(day.month), str(day.year)],
        "delivery-units": str(units),
        "delivery-note": note,
    }


def _accepted(session: Session, world: World) -> Order:
    order = place(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


def test_the_inbox_shows_each_tab_with_its_count(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    new = place(session, world, "new")
    accepted = place(session, world, "accepted")
    life.accept(session, accepted, by=world.staff)
    session.commit()

    page = staff_client.get("/provider/orders")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "New (1)" in text
    assert "Accepted (1)" in text
    assert "To invoice (1)" in text
    assert new.reference in text
    assert accepted.reference not in text
    assert world.person.full_name in text
    # In the navigation, "Orders" is the current page, not also "Your organisation".
    assert text.count("govuk-service-navigation__item--active") == 1
    assert 'href="/provider/orders" aria-current="true"' in text

    text = staff_client.get("/provider/orders?tab=accepted").get_data(as_text=True)
    assert accepted.reference in text
    assert new.reference not in text
    # The accepted order's first four weeks have ended: it is due to be invoiced.
    text = staff_client.get("/provider/orders?tab=to_invoice").get_data(as_text=True)
    assert accepted.reference in text
    assert new.reference not in text
    text = staff_client.get("/provider/orders?tab=closed").get_data(as_text=True)
    assert "There are no orders here" in text
    # An unknown tab is the first one, not an error.
    assert new.reference in staff_client.get("/provider/orders?tab=nope").get_data(as_text=True)


def test_the_order_page_shows_what_is_needed_to_deliver_it(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    world.person.postcode = "SG1 1AA"
    order = place(session, world)

    page = staff_client.get(f"/provider/orders/{order.id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for shown in (
        order.reference,
        "£26 per hour",
        "£416",
        "SG1 1AA",
        "7 days",
        "Accept this order",
    ):
        assert shown in text
    assert "Order placed" in text  # the timeline


def test_accepting_twice_is_refused_and_changes_nothing(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = place(session, world)

    response = staff_client.post(f"/provider/orders/{order.id}/accept")
    assert response.status_code == 302
    session.expire_all()
    assert order.status is OrderStatus.ACCEPTED
    events = _count(session, OrderEvent)

    again = staff_client.post(f"/provider/orders/{order.id}/accept")
    assert again.status_code == 400
    assert "An order that is accepted cannot be accepted" in again.get_data(as_text=True)
    assert "govuk-error-summary" in again.get_data(as_text=True)
    assert _count(session, OrderEvent) == events
    assert order.status is OrderStatus.ACCEPTED


def test_declining_needs_a_reason_and_releases_the_money(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = place(session, world)
    committed = budget_figures(session, world.budget).total.committed_pence
    assert committed == order.total_pence

    response = staff_client.post(
        f"/provider/orders/{order.id}/decline", data={"decline-reason": " "}
    )
    assert response.status_code == 400
    assert "Enter why you are declining this order" in response.get_data(as_text=True)
    session.expire_all()
    assert order.status is OrderStatus.PLACED

    response = staff_client.post(
        f"/provider/orders/{order.id}/decline",
        data={"decline-reason": "We have no carers free in Stevenage in June"},
    )
    assert response.status_code == 302
    session.expire_all()
    assert order.status is OrderStatus.DECLINED
    assert order.events[-1].reason == "We have no carers free in Stevenage in June"
    assert budget_figures(session, world.budget).total.committed_pence == 0
    assert_ledger_verifies(session)


def test_another_organisations_order_is_not_found_and_nothing_is_recorded(
    app: Flask,
    session: Session,
    world: World,
) -> None:
    order = _accepted(session, world)
    other = app.test_client()
    sign_in(other, world.other_staff)

    assert other.get(f"/provider/orders/{order.id}").status_code == 404
    assert other.post(f"/provider/orders/{order.id}/accept").status_code == 404
    response = other.post(
        f"/provider/orders/{order.id}/deliveries", data=_delivery(OCCASIONS[0], 2)
    )
    assert response.status_code == 404
    assert (
        other.post(f"/provider/orders/{order.id}/cycles/{order.cycles[0].id}/invoice").status_code
        == 404
    )
    assert _count(session, Delivery) == 0
    assert _count(session, Invoice) == 0
    assert order.reference not in other.get("/provider/orders?tab=accepted").get_data(as_text=True)


def test_a_period_of_another_order_through_this_orders_address_is_not_found(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    other = place(session, world, "other")
    life.accept(session, other, by=world.staff)
    session.commit()

    response = staff_client.post(f"/provider/orders/{other.id}/cycles/{order.cycles[0].id}/invoice")
    assert response.status_code == 404
    assert _count(session, Invoice) == 0


def test_recording_deliveries_including_a_missed_visit(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    response = staff_client.post(
        f"/provider/orders/{order.id}/deliveries",
        data=_delivery(OCCASIONS[0], 2, "Washed, dressed"),
    )
    assert response.status_code == 302
    response = staff_client.post(
        f"/provider/orders/{order.id}/deliveries",
        data=_delivery(OCCASIONS[1], 0, "Missed: she was at her daughter's"),
    )
    assert response.status_code == 302

    session.expire_all()
    assert [(d.delivered_on, d.units) for d in order.deliveries] == [
        (OCCASIONS[0], 2),
        (OCCASIONS[1], 0),
    ]
    assert order.status is OrderStatus.IN_PROGRESS
    text = staff_client.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "Missed: she was at her daughter&#39;s" in text
    assert "Delivery recorded for 8 June 2026: 2 hours" in text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_delivery(OCCASIONS[0], "1.5"), "Hours delivered must be a whole number"),
        (_delivery(OCCASIONS[0], "-1"), "Hours delivered must be a whole number"),
        (_delivery(OCCASIONS[0], "17"), "16 or fewer"),
        (_delivery(OCCASIONS[0], ""), "Enter hours delivered"),
        ({"delivery-units": "2", "delivery-delivered_on": ["8", "6"]}, "must include a day"),
        (_delivery(date(2026, 7, 7), 2), "today or in the past"),
        (_delivery(date(2026, 5, 4), 2), "The date must be between"),
    ],
)
def test_bad_deliveries_are_refused_with_a_message(
    session: Session,
    world: World,
    staff_client: FlaskClient,
    data: dict[str, object],
    message: str,
) -> None:
    order = _accepted(session, world)
    response = staff_client.post(f"/provider/orders/{order.id}/deliveries", data=data)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert message in text
    assert "govuk-error-summary" in text
    assert _count(session, Delivery) == 0
    assert order.status is OrderStatus.ACCEPTED


def test_more_than_was_ordered_is_refused(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    # The whole period's 16 hours on one day (the rules cap the period, not the day) ...
    assert (
        staff_client.post(
            f"/provider/orders/{order.id}/deliveries", data=_delivery(OCCASIONS[0], 16)
        ).status_code
        == 302
    )
    # ... leave nothing more to record in it.
    response = staff_client.post(
        f"/provider/orders/{order.id}/deliveries", data=_delivery(OCCASIONS[1], 1)
    )
    assert response.status_code == 400
    assert "Only 0 more can be recorded for this period" in response.get_data(as_text=True)
    assert _count(session, Delivery) == 1


def _deliver_all_but_one(session: Session, world: World, order: Order) -> list[Delivery]:
    recorded = [
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=NOW.date()
        )
        for day in OCCASIONS[:-1]
    ]
    recorded.append(
        deliveries.record_delivery(
            session,
            order,
            by=world.staff,
            delivered_on=OCCASIONS[-1],
            units=0,
            note="Missed",
            today=NOW.date(),
        )
    )
    session.commit()
    return recorded


def test_raising_an_invoice_then_settling_it_spends_exactly_what_was_delivered(
    session: Session,
    world: World,
    staff_client: FlaskClient,
    officer_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    _deliver_all_but_one(session, world, order)
    before = budget_figures(session, world.budget).total

    page = staff_client.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "Raise invoice" in page
    response = staff_client.post(f"/provider/orders/{order.id}/cycles/{order.cycles[0].id}/invoice")
    assert response.status_code == 302
    session.expire_all()
    (invoice,) = order.invoices
    assert invoice.amount_pence == 14 * HOURLY_PENCE
    assert invoice.status is InvoiceStatus.RAISED

    text = staff_client.get("/provider/invoices").get_data(as_text=True)
    assert invoice.reference in text
    assert "£364" in text
    # Raising it again is refused: the period is invoiced.
    again = staff_client.post(f"/provider/orders/{order.id}/cycles/{order.cycles[0].id}/invoice")
    assert again.status_code == 400
    assert "already been invoiced" in again.get_data(as_text=True)
    assert _count(session, Invoice) == 1

    response = officer_client.post(f"/council/invoices/{invoice.id}/settle")
    assert response.status_code == 302
    session.expire_all()
    after = budget_figures(session, world.budget).total
    assert invoice.status is InvoiceStatus.SETTLED
    assert invoice.settled_by_id == world.officer.id
    assert after.spent_pence == before.spent_pence + 14 * HOURLY_PENCE
    assert after.committed_pence == before.committed_pence - order.total_pence
    assert after.available_pence == before.available_pence + 2 * HOURLY_PENCE
    assert order.status is OrderStatus.COMPLETED

    text = staff_client.get("/provider/invoices").get_data(as_text=True)
    assert "Paid to you in total" in text
    assert "£364" in text
    assert_ledger_verifies(session)


def test_a_period_not_yet_over_cannot_be_invoiced(
    app: Flask,
    session: Session,
    world: World,
) -> None:
    order = _accepted(session, world)
    # On 20 June, within the first period (its last visit is on Thursday 2 July).
    with time_machine.travel(datetime(2026, 6, 20, 11, tzinfo=UTC)):
        client = app.test_client()
        sign_in(client, world.staff)
        page = client.get(f"/provider/orders/{order.id}")
        assert page.status_code == 200
        assert "Raise invoice" not in page.get_data(as_text=True)
        response = client.post(f"/provider/orders/{order.id}/cycles/{order.cycles[0].id}/invoice")
    assert response.status_code == 400
    assert "last visit is on 2 July 2026" in response.get_data(as_text=True)
    assert _count(session, Invoice) == 0


def test_a_queried_delivery_is_shown_and_corrected_from_the_page(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    recorded = _deliver_all_but_one(session, world, order)
    deliveries.query_delivery(
        session, recorded[2], by=world.citizen, reason="The carer only stayed one hour"
    )
    session.commit()

    text = staff_client.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "The carer only stayed one hour" in text
    assert "Correct this delivery" in text

    prefix = f"correct-{recorded[2].id.hex[:8]}"
    url = f"/provider/orders/{order.id}/deliveries/{recorded[2].id}/correct"
    # Correcting it to more than the period allows is refused.
    response = staff_client.post(url, data={f"{prefix}-units": "5"})
    assert response.status_code == 400
    assert "No more than 4 can be recorded for this period" in response.get_data(as_text=True)

    response = staff_client.post(
        url, data={f"{prefix}-units": "1", f"{prefix}-note": "Yes: one hour that day"}
    )
    assert response.status_code == 302
    session.expire_all()
    assert recorded[2].units == 1
    assert recorded[2].status is DeliveryStatus.RECORDED
    assert recorded[2].note == "Yes: one hour that day"

    # A delivery of another order through this order's address is not found.
    other = place(session, world, "other")
    life.accept(session, other, by=world.staff)
    session.commit()
    response = staff_client.post(
        f"/provider/orders/{other.id}/deliveries/{recorded[2].id}/correct",
        data={f"{prefix}-units": "0"},
    )
    assert response.status_code == 404


def test_the_invoices_page_shows_held_invoices(
    session: Session,
    world: World,
    staff_client: FlaskClient,
) -> None:
    order = _accepted(session, world)
    recorded = _deliver_all_but_one(session, world, order)
    deliveries.query_delivery(session, recorded[0], by=world.citizen, reason="Nobody came")
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=NOW.date()
    )
    session.commit()

    text = staff_client.get("/provider/invoices").get_data(as_text=True)
    assert invoice.reference in text
    assert "Held: a delivery is queried" in text
    assert order.cycles[0].state is CycleState.INVOICED


def test_the_organisation_sets_its_invoice_cycle_and_notice(
    session: Session,
    world: World,
    staff_client: FlaskClient,
    reference_data: None,
) -> None:
    page = staff_client.get("/provider/organisation").get_data(as_text=True)
    assert "How often do you invoice?" in page
    form = {
        "name": world.provider.name,
        "description": "Visiting carers.",
        "email": "office@chiltern.example.org",
        "areas": ["stevenage"],
        "invoice_cycle": "weekly",
        "notice_days": "14",
    }
    response = staff_client.post("/provider/organisation", data={**form, "notice_days": "-1"})
    assert response.status_code == 400
    assert "Enter a notice period from 0 to 90 days" in response.get_data(as_text=True)

    response = staff_client.post("/provider/organisation", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    session.expire_all()
    assert world.provider.invoice_cycle is InvoiceCycle.WEEKLY
    assert world.provider.notice_days == 14
    # New orders take the new terms; orders already placed keep theirs.
    order = place(session, world, "weekly")
    assert order.invoice_cycle is InvoiceCycle.WEEKLY
    assert order.notice_days == 14


def test_an_order_the_council_is_deciding_on_is_not_the_providers_yet(
    app: Flask,
    session: Session,
    world: World,
) -> None:
    world.service.taxonomy_terms = [
        session.scalar(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    ]
    session.commit()
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="outside-the-plan",
        plan_rule="approval",
    )
    session.commit()
    client = app.test_client()
    sign_in(client, world.staff)

    assert client.get(f"/provider/orders/{order.id}").status_code == 404
    assert client.post(f"/provider/orders/{order.id}/accept").status_code == 404
    assert order.reference not in client.get("/provider/orders?tab=new").get_data(as_text=True)
