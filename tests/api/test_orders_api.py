"""Orders through the API: each endpoint's success and each of its error codes, retries with
an Idempotency-Key that create nothing, a provider kept to its own orders, the same figures as
the budget page (`budget_figures`), and responses that match the OpenAPI document."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import StreamKind
from marketplace.ledger.models import Transfer
from marketplace.orders import invoicing
from marketplace.orders.models import Delivery, Order, OrderStatus
from providers.models import CapacityStatus, TaxonomyTerm
from tests.api.conftest import Clock
from tests.api.integration_helpers import bearer, error_of, matches, new_token
from tests.conftest import PASSWORD, sign_in
from tests.ledger.threads import engine_options
from tests.orders.fixtures import (
    CONTRIBUTION_PENCE,
    HOURLY_PENCE,
    TODAY,
    World,
    assert_ledger_verifies,
)

ORDERS = "/api/v1/orders"
# Four weeks of two hours on Mondays and Thursdays from 8 June 2026: 16 hours.
RECURRING = {
    "kind": "recurring",
    "starts_on": "2026-06-08",
    "units_per_occasion": 2,
    "weeks": 4,
    "days": ["MO", "TH"],
}
RECURRING_PENCE = 16 * HOURLY_PENCE


def client_for(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


@pytest.fixture
def citizen_client(app: Flask, world: World, clock: Clock) -> FlaskClient:
    return clock.keep_signed_in(client_for(app, world.citizen), world.citizen)


@pytest.fixture
def staff_client(app: Flask, world: World, clock: Clock) -> FlaskClient:
    return clock.keep_signed_in(client_for(app, world.staff), world.staff)


def new_order(
    ordering: World, schedule: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    """A request body for the world's person and service (the recurring schedule unless
    another is given)."""
    return {
        "service_id": str(ordering.service.id),
        "person_id": str(ordering.person.id),
        "schedule": schedule or RECURRING,
        **more,
    }


def place(client: FlaskClient, ordering: World, **options: Any) -> dict[str, Any]:
    response = client.post(ORDERS, json=new_order(ordering, **options))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def count(session: Session, model: type[Any]) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def by_kind(session: Session, world: World) -> dict[StreamKind, Any]:
    session.expire_all()
    return {
        stream.kind: figures for stream, figures in budget_figures(session, world.budget).streams
    }


# Placing and reading --------------------------------------------------------------------


def test_a_citizen_places_an_order_from_their_budget_and_reads_it(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    document: dict[str, Any],
) -> None:
    response = citizen_client.post(
        ORDERS, json=new_order(world), headers={"Idempotency-Key": str(uuid.uuid4())}
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    matches(document, "Order", body)
    assert response.headers["Location"] == f"{ORDERS}/{body['id']}"
    assert body["status"] == "placed"
    assert body["reference"].startswith("ORD-")
    assert body["service"]["name"] == world.service.name
    assert body["service"]["unit_price_pence"] == HOURLY_PENCE
    assert body["schedule"]["ends_on"] == "2026-07-02"
    assert (body["total_units"], body["total_pence"]) == (16, RECURRING_PENCE)
    assert sum(cycle["amount_pence"] for cycle in body["cycles"]) == RECURRING_PENCE
    assert [event["kind"] for event in body["events"]] == ["placed"]
    assert body["events"][0]["actor_role"] == "citizen"
    assert set(body["links"]) == {"self", "cancel", "accept", "decline"}

    # The page's figures: the client contribution is drawn first, the next streams in draw
    # order pay the rest, and what the order says each stream holds is what the budget page
    # shows as committed.
    figures = by_kind(session, world)
    assert figures[StreamKind.CLIENT_CONTRIBUTION].committed_pence == CONTRIBUTION_PENCE
    assert sum(each.committed_pence for each in figures.values()) == RECURRING_PENCE
    held = {share["kind"]: share["pence"] for share in body["paid_by_stream"]}
    assert held == {
        kind.value: each.committed_pence for kind, each in figures.items() if each.committed_pence
    }
    assert body["paid_by_stream"][0]["kind"] == "client_contribution"
    for cycle in body["cycles"]:
        assert sum(share["pence"] for share in cycle["split"]) == cycle["amount_pence"]

    read = citizen_client.get(body["links"]["self"])
    assert read.status_code == 200
    assert read.get_json() == body
    assert_ledger_verifies(session)


def test_an_officer_session_places_an_order_for_the_person(
    app: Flask,
    session: Session,
    world: World,
    clock: Clock,
) -> None:
    officer = client_for(app, world.officer)
    one_off = {"kind": "one_off", "starts_on": "2026-06-08", "units_per_occasion": 2}
    body = place(officer, world, schedule=one_off)
    assert body["status"] == "placed"
    assert body["schedule"]["days"] == []
    assert body["total_pence"] == 2 * HOURLY_PENCE
    assert body["events"][0]["actor_role"] == "council_officer"
    stored = session.get(Order, uuid.UUID(body["id"]))
    assert stored.placed_by_id == world.officer.id


def test_a_chosen_split_is_used(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
) -> None:
    council = next(s for s in world.budget.streams if s.kind is StreamKind.COUNCIL)
    body = place(citizen_client, world, split={str(council.id): RECURRING_PENCE})
    assert body["paid_by_stream"] == [
        {"stream_id": str(council.id), "kind": "council", "pence": RECURRING_PENCE}
    ]
    assert by_kind(session, world)[StreamKind.CLIENT_CONTRIBUTION].committed_pence == 0


def test_a_token_reads_orders_its_role_may_see_but_cannot_change_them(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
) -> None:
    body = place(citizen_client, world)
    officer = bearer(new_token(Role.COUNCIL_OFFICER))
    assert (
        citizen_client.get(f"{ORDERS}/{body['id']}", headers=officer).get_json()["id"] == body["id"]
    )

    refused = citizen_client.post(ORDERS, json=new_order(world), headers=officer)
    assert refused.status_code == 403
    assert error_of(refused) == "forbidden"
    assert refused.get_json()["details"]["reason"] == "token_cannot_change_orders"
    cancel = citizen_client.post(f"{ORDERS}/{body['id']}/cancel", headers=officer)
    assert cancel.status_code == 403
    # A provider's token belongs to no organisation, so it is no order's provider.
    provider = bearer(new_token(Role.PROVIDER_STAFF))
    assert citizen_client.get(f"{ORDERS}/{body['id']}", headers=provider).status_code == 403
    assert citizen_client.post(f"{ORDERS}/{body['id']}/accept", headers=provider).status_code == 403
    assert count(session, Order) == 1
    assert session.get(Order, uuid.UUID(body["id"])).status is OrderStatus.PLACED


def test_without_a_session_or_token_the_answer_is_401(
    app: Flask,
    world: World,
    clock: Clock,
) -> None:
    anonymous = app.test_client()
    response = anonymous.post(ORDERS, json=new_order(world))
    assert response.status_code == 401
    assert error_of(response) == "unauthorized"


# Idempotency ------------------------------------------------------------------------------


def test_a_retried_order_returns_the_first_and_creates_nothing(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = citizen_client.post(ORDERS, json=new_order(world), headers=key)
    assert first.status_code == 201
    transfers = count(session, Transfer)
    figures = by_kind(session, world)

    again = citizen_client.post(ORDERS, json=new_order(world), headers=key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert count(session, Order) == 1
    assert count(session, Transfer) == transfers
    assert by_kind(session, world) == figures

    # Without a key, each request is a new order.
    citizen_client.post(ORDERS, json=new_order(world))
    assert count(session, Order) == 2
    assert_ledger_verifies(session)


THREADS = 6


def test_identical_orders_at_once_place_one_order(
    make_app: Callable[..., Flask],
    session: Session,
    world: World,
    clock: Clock,
) -> None:
    """A client that retries before the first answer came: one order, one set of holds (each
    request on its own connection, on SQLite and PostgreSQL alike)."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))
    signed_in = client_for(app, world.citizen)
    cookie = signed_in.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    barrier = threading.Barrier(THREADS)
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    asked = new_order(world)

    def post(_number: int) -> tuple[int, str]:
        client = app.test_client()
        client.set_cookie("session", cookie.value, domain=cookie.domain)
        barrier.wait(timeout=30)
        response = client.post(ORDERS, json=asked, headers=key)
        body = response.get_json()
        return response.status_code, body.get("id", body.get("error"))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(post, range(THREADS)))

    assert {status for status, _ in outcomes} == {201}, outcomes
    assert len({order_id for _, order_id in outcomes}) == 1
    assert count(session, Order) == 1
    assert sum(each.committed_pence for each in by_kind(session, world).values()) == (
        RECURRING_PENCE
    )
    assert_ledger_verifies(session)


def test_the_same_key_for_a_different_order_is_a_conflict(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    document: dict[str, Any],
) -> None:
    key = {"Idempotency-Key": "order-1"}
    assert citizen_client.post(ORDERS, json=new_order(world), headers=key).status_code == 201
    transfers = count(session, Transfer)
    other = citizen_client.post(
        ORDERS, json=new_order(world, {**RECURRING, "units_per_occasion": 1}), headers=key
    )
    assert other.status_code == 409
    assert error_of(other) == "conflict"
    matches(document, "Error", other.get_json())
    assert count(session, Order) == 1
    assert count(session, Transfer) == transfers


def test_a_retried_delivery_is_recorded_once(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    clock: Clock,
) -> None:
    body = place(citizen_client, world)
    staff_client.post(f"{ORDERS}/{body['id']}/accept", headers={"Idempotency-Key": "accept-1"})
    # A retried accept answers what it answered first, not invalid_transition.
    replay = staff_client.post(
        f"{ORDERS}/{body['id']}/accept", headers={"Idempotency-Key": "accept-1"}
    )
    assert replay.status_code == 200
    assert replay.get_json()["status"] == "accepted"
    clock.today = date(2026, 6, 8)
    key = {"Idempotency-Key": "delivery-2026-06-08"}
    delivery = {"delivered_on": "2026-06-08", "units": 2, "note": "Washed and dressed"}
    first = staff_client.post(f"{ORDERS}/{body['id']}/deliveries", json=delivery, headers=key)
    again = staff_client.post(f"{ORDERS}/{body['id']}/deliveries", json=delivery, headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert count(session, Delivery) == 1
    # A week on, the key is forgotten (kept 24 hours): the same accept is a new request.
    late = staff_client.post(
        f"{ORDERS}/{body['id']}/accept", headers={"Idempotency-Key": "accept-1"}
    )
    assert late.status_code == 409
    assert late.get_json()["error"] == "invalid_transition"


# The provider's side ----------------------------------------------------------------------


def test_the_provider_accepts_records_deliveries_and_the_order_shows_its_invoice(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    clock: Clock,
    document: dict[str, Any],
) -> None:
    one_off = {"kind": "one_off", "starts_on": TODAY.isoformat(), "units_per_occasion": 2}
    body = place(citizen_client, world, schedule=one_off)
    accepted = staff_client.post(f"{ORDERS}/{body['id']}/accept")
    assert accepted.status_code == 200
    matches(document, "Order", accepted.get_json())
    assert accepted.get_json()["status"] == "accepted"
    assert "deliveries" in accepted.get_json()["links"]

    recorded = staff_client.post(
        f"{ORDERS}/{body['id']}/deliveries",
        json={"delivered_on": TODAY.isoformat(), "units": 2, "note": "Morning visit"},
    )
    assert recorded.status_code == 201, recorded.get_json()
    matches(document, "OrderDelivery", recorded.get_json())
    assert recorded.headers["Location"] == f"{ORDERS}/{body['id']}"
    assert (recorded.get_json()["units"], recorded.get_json()["status"]) == (2, "recorded")

    order = session.get(Order, uuid.UUID(body["id"]))
    invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=TODAY)
    session.commit()

    read = citizen_client.get(f"{ORDERS}/{body['id']}").get_json()
    matches(document, "Order", read)
    assert read["status"] == "in_progress"
    assert [d["note"] for d in read["deliveries"]] == ["Morning visit"]
    assert [(i["amount_pence"], i["status"]) for i in read["invoices"]] == [
        (2 * HOURLY_PENCE, "raised")
    ]
    assert read["deliveries"][0]["invoice_id"] == read["invoices"][0]["id"]
    kinds = [event["kind"] for event in read["events"]]
    assert kinds[:2] == ["placed", "accept"]
    assert "delivery_recorded" in kinds
    # The provider reads it too.
    assert staff_client.get(f"{ORDERS}/{body['id']}").get_json()["id"] == body["id"]
    assert_ledger_verifies(session)


def test_declining_releases_the_money(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
) -> None:
    body = place(citizen_client, world)
    no_reason = staff_client.post(f"{ORDERS}/{body['id']}/decline", json={})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["details"]["fields"]

    declined = staff_client.post(
        f"{ORDERS}/{body['id']}/decline", json={"reason": "No carers free"}
    )
    assert declined.status_code == 200
    assert declined.get_json()["status"] == "declined"
    assert declined.get_json()["events"][-1]["reason"] == "No carers free"
    assert set(declined.get_json()["links"]) == {"self"}
    assert all(each.committed_pence == 0 for each in by_kind(session, world).values())
    assert_ledger_verifies(session)


def test_accepting_twice_is_an_invalid_transition(
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    document: dict[str, Any],
) -> None:
    body = place(citizen_client, world)
    assert staff_client.post(f"{ORDERS}/{body['id']}/accept").status_code == 200
    again = staff_client.post(f"{ORDERS}/{body['id']}/accept")
    assert again.status_code == 409
    assert error_of(again) == "invalid_transition"
    assert again.get_json()["details"]["status"] == "accepted"
    matches(document, "Error", again.get_json())


def test_another_providers_staff_cannot_touch_the_order(
    app: Flask,
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    clock: Clock,
) -> None:
    body = place(citizen_client, world, schedule={**RECURRING, "starts_on": TODAY.isoformat()})
    staff_client.post(f"{ORDERS}/{body['id']}/accept")
    other = client_for(app, world.other_staff)
    path = f"{ORDERS}/{body['id']}"
    delivery = {"delivered_on": TODAY.isoformat(), "units": 2}
    for response in (
        other.get(path),
        other.post(f"{path}/deliveries", json=delivery),
        other.post(f"{path}/decline", json={"reason": "Not ours"}),
        other.post(f"{path}/cancel"),
    ):
        assert response.status_code == 403
        assert error_of(response) == "forbidden"
    assert count(session, Delivery) == 0
    assert session.get(Order, uuid.UUID(body["id"])).status is OrderStatus.ACCEPTED
    # Nor can the person accept their own order, or record its deliveries.
    assert citizen_client.post(f"{path}/accept").status_code == 403
    assert citizen_client.post(f"{path}/deliveries", json=delivery).status_code == 403
    assert count(session, Delivery) == 0


@pytest.mark.parametrize(
    ("delivery", "field"),
    [
        ({"delivered_on": "2026-06-09", "units": 2}, "delivered_on"),  # in the future
        ({"delivered_on": "2026-06-01", "units": 3}, "units"),  # more than ordered
        ({"delivered_on": "2026-06-01", "units": "2"}, "units"),
        ({"delivered_on": "1 June", "units": 2}, "delivered_on"),
        ({"delivered_on": "2026-06-01", "units": 2, "carer": "Ann"}, "carer"),
    ],
)
def test_a_bad_delivery_is_refused_by_field(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    delivery: dict[str, Any],
    field: str,
) -> None:
    one_off = {"kind": "one_off", "starts_on": TODAY.isoformat(), "units_per_occasion": 2}
    body = place(citizen_client, world, schedule=one_off)
    staff_client.post(f"{ORDERS}/{body['id']}/accept")
    refused = staff_client.post(f"{ORDERS}/{body['id']}/deliveries", json=delivery)
    assert refused.status_code == 422
    assert error_of(refused) == "validation_error"
    assert field in refused.get_json()["details"]["fields"]
    assert count(session, Delivery) == 0


def test_a_delivery_on_an_order_not_yet_accepted_is_an_invalid_transition(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
) -> None:
    body = place(citizen_client, world, schedule={**RECURRING, "starts_on": TODAY.isoformat()})
    refused = staff_client.post(
        f"{ORDERS}/{body['id']}/deliveries", json={"delivered_on": TODAY.isoformat(), "units": 2}
    )
    assert refused.status_code == 409
    assert error_of(refused) == "invalid_transition"
    assert count(session, Delivery) == 0


# Cancelling -------------------------------------------------------------------------------


def test_the_person_cancels_before_it_starts_and_the_money_comes_back(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    document: dict[str, Any],
) -> None:
    body = place(citizen_client, world)
    cancelled = citizen_client.post(f"{ORDERS}/{body['id']}/cancel", json={"reason": "Moving away"})
    assert cancelled.status_code == 200
    matches(document, "Order", cancelled.get_json())
    assert cancelled.get_json()["status"] == "cancelled"
    assert {cycle["state"] for cycle in cancelled.get_json()["cycles"]} == {"released"}
    assert all(each.committed_pence == 0 for each in by_kind(session, world).values())

    again = citizen_client.post(f"{ORDERS}/{body['id']}/cancel")
    assert again.status_code == 409
    assert error_of(again) == "invalid_transition"
    assert_ledger_verifies(session)


def test_the_remaining_weeks_are_cancelled_after_the_providers_notice(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    staff_client: FlaskClient,
    clock: Clock,
) -> None:
    world.provider.notice_days = 7
    session.commit()
    body = place(citizen_client, world, schedule={**RECURRING, "weeks": 12})
    staff_client.post(f"{ORDERS}/{body['id']}/accept")
    clock.today = date(2026, 6, 10)
    cancelled = citizen_client.post(f"{ORDERS}/{body['id']}/cancel").get_json()
    assert cancelled["status"] == "accepted"
    assert cancelled["cancelled_from"] == (clock.today + timedelta(days=7)).isoformat()
    assert cancelled["events"][-1]["kind"] == "cancel_rest"
    held = sum(c["amount_pence"] for c in cancelled["cycles"] if c["state"] == "held")
    assert sum(each.committed_pence for each in by_kind(session, world).values()) == held
    assert held < body["total_pence"]
    assert_ledger_verifies(session)


# Refusals when placing --------------------------------------------------------------------


def test_not_enough_money_creates_nothing_and_says_what_is_short(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    document: dict[str, Any],
) -> None:
    big = {**RECURRING, "units_per_occasion": 8, "days": ["MO", "TU", "WE", "TH", "FR"]}
    transfers = count(session, Transfer)
    refused = citizen_client.post(ORDERS, json=new_order(world, {**big, "weeks": 12}))
    assert refused.status_code == 409
    assert error_of(refused) == "insufficient_funds"
    matches(document, "Error", refused.get_json())
    details = refused.get_json()["details"]
    total = 8 * 5 * 12 * HOURLY_PENCE
    assert details["requested_pence"] == total
    # Every stream of this budget may pay for personal care: short by the total less them all.
    available = sum(each.available_pence for each in by_kind(session, world).values())
    assert details["shortfall_pence"] == total - available
    assert details["available_pence"] == available
    assert count(session, Order) == 0
    assert count(session, Transfer) == transfers


def test_outside_the_support_plan_is_refused_when_the_council_says_so(
    app: Flask,
    session: Session,
    world: World,
    citizen_client: FlaskClient,
) -> None:
    app.config["OUT_OF_PLAN_PURCHASES"] = "refuse"
    world.service.taxonomy_terms = list(
        session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    )
    session.commit()
    refused = citizen_client.post(ORDERS, json=new_order(world))
    assert refused.status_code == 422
    assert error_of(refused) == "outside_support_plan"
    assert count(session, Order) == 0


def test_a_full_service_is_unavailable(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
) -> None:
    world.service.capacity_status = CapacityStatus.FULL
    session.commit()
    refused = citizen_client.post(ORDERS, json=new_order(world))
    assert refused.status_code == 409
    assert error_of(refused) == "service_unavailable"
    assert refused.get_json()["details"]["capacity_status"] == "full"
    assert count(session, Order) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schedule": {**RECURRING, "units_per_occasion": 0}}, "schedule.units_per_occasion"),
        ({"schedule": {**RECURRING, "units_per_occasion": 2.5}}, "schedule.units_per_occasion"),
        ({"schedule": {**RECURRING, "units_per_occasion": 17}}, "schedule.units_per_occasion"),
        ({"schedule": {**RECURRING, "starts_on": "2026-05-31"}}, "schedule.starts_on"),
        ({"schedule": {**RECURRING, "starts_on": "2027-03-29"}}, "schedule.weeks"),
        ({"schedule": {**RECURRING, "weeks": 0}}, "schedule.weeks"),
        ({"schedule": {**RECURRING, "days": ["XX"]}}, "schedule.days"),
        ({"schedule": {**RECURRING, "days": []}}, "schedule.days"),
        ({"schedule": {**RECURRING, "kind": "weekly"}}, "schedule.kind"),
        ({"schedule": "every monday"}, "schedule"),
        ({"person_id": "someone"}, "person_id"),
        ({"person_id": str(uuid.uuid4())}, "person_id"),
        ({"service_id": str(uuid.uuid4())}, "service_id"),
        ({"quantity": 4}, "quantity"),
        ({"split": {"not-a-stream": 100}}, "split.not-a-stream"),
        ({"split": {str(uuid.uuid4()): RECURRING_PENCE}}, "split"),
    ],
)
def test_a_bad_order_is_refused_by_field(
    session: Session,
    world: World,
    citizen_client: FlaskClient,
    change: dict[str, Any],
    field: str,
) -> None:
    refused = citizen_client.post(ORDERS, json={**new_order(world), **change})
    assert refused.status_code == 422, refused.get_json()
    assert error_of(refused) == "validation_error"
    assert field in refused.get_json()["details"]["fields"]
    assert count(session, Order) == 0


def test_a_body_that_is_not_json_is_refused(world: World, citizen_client: FlaskClient) -> None:
    refused = citizen_client.post(ORDERS, data="service=1", content_type="text/plain")
    assert refused.status_code == 422
    assert "body" in refused.get_json()["details"]["fields"]


def test_ordering_for_someone_else_is_forbidden(
    app: Flask,
    session: Session,
    world: World,
    make_user: Callable[..., User],
    clock: Clock,
) -> None:
    stranger = client_for(app, make_user(Role.CITIZEN))
    refused = stranger.post(ORDERS, json=new_order(world))
    assert refused.status_code == 403
    assert error_of(refused) == "forbidden"
    body = place(client_for(app, world.citizen), world)
    assert stranger.get(f"{ORDERS}/{body['id']}").status_code == 403
    assert stranger.post(f"{ORDERS}/{body['id']}/cancel").status_code == 403
    assert count(session, Order) == 1


@pytest.mark.parametrize("order_id", ["0b5f3c1e-6a7d-4e2f-9c81-3d2a4b6e8f01", "ORD-1234"])
def test_an_unknown_order_is_not_found(
    world: World,
    citizen_client: FlaskClient,
    document: dict[str, Any],
    order_id: str,
) -> None:
    for response in (
        citizen_client.get(f"{ORDERS}/{order_id}"),
        citizen_client.post(f"{ORDERS}/{order_id}/cancel"),
    ):
        assert response.status_code == 404
        assert error_of(response) == "not_found"
        matches(document, "Error", response.get_json())


def test_a_session_write_needs_the_csrf_token(
    make_app: Callable[..., Flask],
    world: World,
    clock: Clock,
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        signed_in = client.post(
            "/sign-in",
            data={"email": world.citizen.email, "password": PASSWORD, "csrf_token": token},
        )
        assert signed_in.status_code == 302
        refused = client.post(ORDERS, json=new_order(world))
        assert refused.status_code == 400
        assert error_of(refused) == "csrf_failed"
        page = client.get("/account/change-password").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        placed = client.post(ORDERS, json=new_order(world), headers={"X-CSRFToken": token})
        assert placed.status_code == 201, placed.get_json()
