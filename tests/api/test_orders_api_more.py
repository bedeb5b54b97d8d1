"""The rest of an order's life through the API, as on the pages: the council approves or
refuses an order outside the support plan and settles invoices, the person confirms or queries
deliveries, the provider corrects them and invoices a cycle; each refusal with the pages'
codes, retries with an Idempotency-Key changing nothing, and the whole flow from order to
settled invoice ending with the budget's figures and `flask ledger verify`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import api_tokens as tokens
from marketplace.accounts.models import User
from marketplace.budgets.figures import budget_figures
from marketplace.extensions import db
from marketplace.ledger.models import Transfer
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
)
from providers.models import TaxonomyTerm
from tests.api.conftest import Clock
from tests.api.integration_helpers import bearer, error_of, matches
from tests.conftest import sign_in
from tests.orders.fixtures import (
    HOURLY_PENCE,
    TODAY,
    World,
    assert_ledger_verifies,
)

ORDERS = "/api/v1/orders"
# One week from Monday 1 June 2026: two hours on the Monday and on the Thursday.
ONE_WEEK = {
    "kind": "recurring",
    "starts_on": TODAY.isoformat(),
    "units_per_occasion": 2,
    "weeks": 1,
    "days": ["MO", "TH"],
}


def token_for(user: User) -> dict[str, str]:
    """A token the user made to act for themselves."""
    _row, secret = tokens.create_token(
        db.session, name=f"For {user.email}", role=user.role, user=user, created_by=user
    )
    db.session.commit()
    return bearer(secret)


@dataclass
class Parties:
    """Who acts: the citizen's session, the officer's and the provider's tokens."""

    citizen: FlaskClient
    officer: dict[str, str]
    provider: dict[str, str]


@pytest.fixture
def parties(app: Flask, world: World, clock: Clock) -> Parties:
    citizen = app.test_client()
    sign_in(citizen, world.citizen)
    clock.keep_signed_in(citizen, world.citizen)
    return Parties(citizen, token_for(world.officer), token_for(world.staff))


def count(model: type[Any]) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def place(client: FlaskClient, ordering: World, headers: dict[str, str] | None = None) -> str:
    response = client.post(
        ORDERS,
        json={
            "service_id": str(ordering.service.id),
            "person_id": str(ordering.person.id),
            "schedule": ONE_WEEK,
        },
        headers=headers or {},
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def deliver(
    client: FlaskClient, order_id: str, provider: dict[str, str], day: str, units: int = 2
) -> str:
    response = client.post(
        f"{ORDERS}/{order_id}/deliveries",
        json={"delivered_on": day, "units": units},
        headers=provider,
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def accepted_with_a_delivery(world: World, parties: Parties) -> tuple[str, str]:
    """An order placed by the officer, accepted, with Monday's two hours recorded."""
    client = parties.citizen
    order_id = place(client, world, parties.officer)
    assert client.post(f"{ORDERS}/{order_id}/accept", headers=parties.provider).status_code == 200
    return order_id, deliver(client, order_id, parties.provider, "2026-06-01")


def figures(session: Session, world: World) -> tuple[int, int]:
    """The budget page's committed and spent, in total."""
    session.expire_all()
    shown = budget_figures(session, world.budget)
    streams = [each for _stream, each in shown.streams]
    return sum(f.committed_pence for f in streams), sum(f.spent_pence for f in streams)


# Approving and refusing -------------------------------------------------------------------


@pytest.fixture
def outside_plan(session: Session, world: World) -> None:
    """The listing is a day centre, which the person's plan does not cover, and the council
    asks for approval of such orders."""
    world.service.taxonomy_terms = list(
        session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    )
    session.commit()


def test_an_officer_approves_an_order_outside_the_plan(
    app: Flask,
    session: Session,
    world: World,
    parties: Parties,
    outside_plan: None,
    document: dict[str, Any],
) -> None:
    app.config["OUT_OF_PLAN_PURCHASES"] = "approval"
    client = parties.citizen
    order_id = place(client, world)
    read = client.get(f"{ORDERS}/{order_id}").get_json()
    assert read["status"] == "awaiting_approval"
    assert {"approve", "refuse"} <= set(read["links"])

    for refused in (
        client.post(f"{ORDERS}/{order_id}/approve"),  # the citizen
        client.post(f"{ORDERS}/{order_id}/approve", headers=parties.provider),
    ):
        assert refused.status_code == 403
        assert error_of(refused) == "forbidden"

    key = {"Idempotency-Key": str(uuid.uuid4())}
    approved = client.post(
        f"{ORDERS}/{order_id}/approve",
        json={"reason": "Agreed at review"},
        headers={**parties.officer, **key},
    )
    assert approved.status_code == 200, approved.get_json()
    matches(document, "Order", approved.get_json())
    assert approved.get_json()["status"] == "placed"
    assert approved.get_json()["events"][-1]["actor_role"] == "council_officer"
    assert approved.get_json()["events"][-1]["reason"] == "Agreed at review"
    replay = client.post(
        f"{ORDERS}/{order_id}/approve",
        json={"reason": "Agreed at review"},
        headers={**parties.officer, **key},
    )
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json() == approved.get_json()

    twice = client.post(f"{ORDERS}/{order_id}/approve", headers=parties.officer)
    assert twice.status_code == 409
    assert error_of(twice) == "invalid_transition"
    assert twice.get_json()["details"]["status"] == "placed"
    stored = session.get(Order, uuid.UUID(order_id))
    assert stored.events[-1].actor_id == world.officer.id
    assert_ledger_verifies(session)


def test_an_officer_refuses_with_a_reason_and_the_money_comes_back(
    app: Flask,
    session: Session,
    world: World,
    parties: Parties,
    outside_plan: None,
) -> None:
    app.config["OUT_OF_PLAN_PURCHASES"] = "approval"
    client = parties.citizen
    order_id = place(client, world)
    assert figures(session, world) == (4 * HOURLY_PENCE, 0)

    no_reason = client.post(f"{ORDERS}/{order_id}/refuse", json={}, headers=parties.officer)
    assert no_reason.status_code == 422
    assert error_of(no_reason) == "validation_error"
    assert "reason" in no_reason.get_json()["details"]["fields"]

    refused = client.post(
        f"{ORDERS}/{order_id}/refuse",
        json={"reason": "A day centre is not in the plan"},
        headers=parties.officer,
    )
    assert refused.status_code == 200, refused.get_json()
    assert refused.get_json()["status"] == "cancelled"
    assert set(refused.get_json()["links"]) == {"self"}
    assert figures(session, world) == (0, 0)
    assert_ledger_verifies(session)


def test_approving_an_order_that_needs_no_approval_is_an_invalid_transition(
    session: Session,
    world: World,
    parties: Parties,
) -> None:
    order_id = place(parties.citizen, world)
    refused = parties.citizen.post(
        f"{ORDERS}/{order_id}/refuse", json={"reason": "No"}, headers=parties.officer
    )
    assert refused.status_code == 409
    assert error_of(refused) == "invalid_transition"
    assert session.get(Order, uuid.UUID(order_id)).status is OrderStatus.PLACED


# Confirming, querying and correcting deliveries -------------------------------------------


def test_the_person_queries_the_provider_corrects_and_the_person_confirms(
    session: Session,
    world: World,
    parties: Parties,
    document: dict[str, Any],
) -> None:
    client = parties.citizen
    order_id, delivery_id = accepted_with_a_delivery(world, parties)
    path = f"{ORDERS}/{order_id}/deliveries/{delivery_id}"

    # Only the person (or an officer) confirms or queries; only the provider corrects.
    assert client.post(f"{path}/confirm", headers=parties.provider).status_code == 403
    assert client.post(f"{path}/correct", json={"units": 1}).status_code == 403

    no_reason = client.post(f"{path}/query", json={"reason": "  "})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["details"]["fields"]
    queried = client.post(f"{path}/query", json={"reason": "The carer stayed one hour"})
    assert queried.status_code == 200, queried.get_json()
    matches(document, "OrderDelivery", queried.get_json())
    assert (queried.get_json()["status"], queried.get_json()["query_reason"]) == (
        "queried",
        "The carer stayed one hour",
    )
    assert client.post(f"{path}/query", json={"reason": "Again"}).status_code == 409

    # The week ordered four hours: five cannot be right.
    too_many = client.post(f"{path}/correct", json={"units": 5}, headers=parties.provider)
    assert too_many.status_code == 422
    assert "units" in too_many.get_json()["details"]["fields"]
    not_a_number = client.post(f"{path}/correct", json={"units": "one"}, headers=parties.provider)
    assert not_a_number.status_code == 422
    corrected = client.post(
        f"{path}/correct", json={"units": 1, "note": "One hour"}, headers=parties.provider
    )
    assert corrected.status_code == 200, corrected.get_json()
    assert (corrected.get_json()["units"], corrected.get_json()["status"]) == (1, "recorded")
    assert corrected.get_json()["note"] == "One hour"

    confirmed = client.post(f"{path}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.get_json()["status"] == "confirmed"
    again = client.post(f"{path}/confirm")
    assert again.status_code == 409
    assert error_of(again) == "invalid_transition"
    # A confirmed delivery cannot be corrected any more.
    late = client.post(f"{path}/correct", json={"units": 2}, headers=parties.provider)
    assert late.status_code == 409

    kinds = [e["kind"] for e in client.get(f"{ORDERS}/{order_id}").get_json()["events"]]
    assert kinds[-3:] == ["delivery_queried", "delivery_corrected", "delivery_confirmed"]
    stored = session.get(Delivery, uuid.UUID(delivery_id))
    assert (stored.units, stored.status) == (1, DeliveryStatus.CONFIRMED)


def test_an_unknown_delivery_or_another_orders_is_not_found(
    world: World,
    parties: Parties,
) -> None:
    client = parties.citizen
    order_id, delivery_id = accepted_with_a_delivery(world, parties)
    other_order = place(client, world, parties.officer)
    for path in (
        f"{ORDERS}/{order_id}/deliveries/{uuid.uuid4()}/confirm",
        f"{ORDERS}/{order_id}/deliveries/not-a-uuid/confirm",
        f"{ORDERS}/{other_order}/deliveries/{delivery_id}/confirm",
    ):
        response = client.post(path)
        assert response.status_code == 404
        assert error_of(response) == "not_found"


# Invoices ---------------------------------------------------------------------------------


def test_a_cycle_is_invoiced_once_over_and_a_queried_line_holds_the_invoice(
    session: Session,
    world: World,
    parties: Parties,
    clock: Clock,
    document: dict[str, Any],
) -> None:
    client = parties.citizen
    order_id, delivery_id = accepted_with_a_delivery(world, parties)
    invoice_path = f"{ORDERS}/{order_id}/cycles/1/invoice"

    early = client.post(invoice_path, headers=parties.provider)
    assert early.status_code == 409
    assert error_of(early) == "invalid_transition"
    assert (
        client.post(f"{ORDERS}/{order_id}/cycles/9/invoice", headers=parties.provider).status_code
        == 404
    )
    assert client.post(invoice_path).status_code == 403  # the citizen
    assert client.post(invoice_path, headers=parties.officer).status_code == 403

    clock.today = date(2026, 6, 8)  # the week is over; Thursday was missed
    client.post(
        f"{ORDERS}/{order_id}/deliveries/{delivery_id}/query",
        json={"reason": "Nobody came"},
    )
    key = {"Idempotency-Key": "invoice-1"}
    raised = client.post(invoice_path, headers={**parties.provider, **key})
    assert raised.status_code == 201, raised.get_json()
    matches(document, "OrderInvoice", raised.get_json())
    invoice = raised.get_json()
    assert (invoice["amount_pence"], invoice["status"], invoice["order_id"]) == (
        2 * HOURLY_PENCE,
        "raised",
        order_id,
    )
    replay = client.post(invoice_path, headers={**parties.provider, **key})
    assert replay.get_json() == invoice
    assert count(Invoice) == 1

    settle = f"/api/v1/invoices/{invoice['id']}/settle"
    assert client.post(settle).status_code == 403  # the citizen
    assert client.post(settle, headers=parties.provider).status_code == 403
    assert (
        client.post(f"/api/v1/invoices/{uuid.uuid4()}/settle", headers=parties.officer).status_code
        == 404
    )
    transfers = count(Transfer)
    held = client.post(settle, headers=parties.officer)
    assert held.status_code == 409
    assert error_of(held) == "invalid_transition"
    assert count(Transfer) == transfers
    assert session.get(Invoice, uuid.UUID(invoice["id"])).status is InvoiceStatus.RAISED
    assert_ledger_verifies(session)


# The whole flow ---------------------------------------------------------------------------


def test_the_whole_flow_through_the_api(
    app: Flask,
    session: Session,
    world: World,
    parties: Parties,
    clock: Clock,
    document: dict[str, Any],
) -> None:
    """Placed by the officer's system, accepted and delivered by the provider's, one visit
    confirmed by the person, invoiced by the provider and settled by the officer: the budget
    spends what was delivered and gets the rest back."""
    client = parties.citizen
    order_id = place(client, world, parties.officer)
    assert session.get(Order, uuid.UUID(order_id)).placed_by_id == world.officer.id
    assert figures(session, world) == (4 * HOURLY_PENCE, 0)

    assert client.post(f"{ORDERS}/{order_id}/accept", headers=parties.provider).status_code == 200
    monday = deliver(client, order_id, parties.provider, "2026-06-01", units=2)
    clock.today = date(2026, 6, 4)
    deliver(client, order_id, parties.provider, "2026-06-04", units=1)  # a short visit

    confirmed = client.post(f"{ORDERS}/{order_id}/deliveries/{monday}/confirm")
    assert confirmed.status_code == 200, confirmed.get_json()

    clock.today = date(2026, 6, 8)
    raised = client.post(f"{ORDERS}/{order_id}/cycles/1/invoice", headers=parties.provider)
    assert raised.status_code == 201, raised.get_json()
    invoice = raised.get_json()
    assert (invoice["amount_pence"], invoice["status"]) == (3 * HOURLY_PENCE, "raised")

    settled = client.post(
        f"/api/v1/invoices/{invoice['id']}/settle",
        headers={**parties.officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert settled.status_code == 200, settled.get_json()
    matches(document, "OrderInvoice", settled.get_json())
    assert settled.get_json()["status"] == "settled"
    assert settled.get_json()["settled_at"] is not None
    twice = client.post(f"/api/v1/invoices/{invoice['id']}/settle", headers=parties.officer)
    assert twice.status_code == 409

    order = client.get(f"{ORDERS}/{order_id}").get_json()
    matches(document, "Order", order)
    assert order["status"] == "completed"
    assert [cycle["state"] for cycle in order["cycles"]] == [CycleState.SETTLED.value]
    settled_event = next(e for e in order["events"] if e["kind"] == "invoice_settled")
    assert settled_event["actor_role"] == "council_officer"
    stored = session.get(Invoice, uuid.UUID(invoice["id"]))
    assert (stored.raised_by_id, stored.settled_by_id) == (world.staff.id, world.officer.id)

    # What was delivered is spent; the hour not delivered is back in the budget.
    assert figures(session, world) == (0, 3 * HOURLY_PENCE)
    budget = client.get(f"/api/v1/people/{world.person.id}/budget").get_json()
    assert budget["total"]["spent_pence"] == 3 * HOURLY_PENCE
    assert budget["total"]["committed_pence"] == 0
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert_ledger_verifies(session)
