"""Packages through the API (PACKAGES, issue 18): a recurring schedule with
`until_further_notice: true` and no `weeks` places an open-ended package, whose JSON has no
`ends_on` and holds only its first invoicing period; the wrong combinations are refused by
field."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.budgets.models import PersonalBudget
from marketplace.orders import packages
from marketplace.orders.models import Order
from tests.api.conftest import Clock
from tests.api.integration_helpers import matches
from tests.api.test_orders_api import ORDERS, client_for, new_order
from tests.orders.fixtures import HOURLY_PENCE, World, assert_ledger_verifies

ONGOING = {
    "kind": "recurring",
    "starts_on": "2026-06-08",
    "units_per_occasion": 2,
    "days": ["MO", "TH"],
    "until_further_notice": True,
}


@pytest.fixture
def person_client(app: Flask, world: World, clock: Clock) -> FlaskClient:
    return clock.keep_signed_in(client_for(app, world.citizen), world.citizen)


def test_an_order_until_further_notice_is_a_package(
    session: Session, world: World, person_client: FlaskClient, document: dict[str, Any]
) -> None:
    response = person_client.post(ORDERS, json=new_order(world, ONGOING))

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    matches(document, "Order", body)
    assert body["schedule"]["ends_on"] is None
    assert body["schedule"]["weeks"] is None
    assert body["schedule"]["until_further_notice"] is True
    assert "until further notice" in body["schedule"]["description"]
    # Only the first four-weekly period is held: eight visits of two hours.
    assert [cycle["number"] for cycle in body["cycles"]] == [1]
    assert body["total_pence"] == 16 * HOURLY_PENCE
    order = session.get(Order, uuid.UUID(body["id"]))
    assert order is not None
    assert order.open_ended
    assert_ledger_verifies(session)


def test_a_fixed_order_says_it_is_not_until_further_notice(
    world: World, person_client: FlaskClient
) -> None:
    schedule = {**ONGOING, "until_further_notice": False, "weeks": 2}
    body = person_client.post(ORDERS, json=new_order(world, schedule)).get_json()
    assert body["schedule"]["until_further_notice"] is False
    assert body["schedule"]["ends_on"] == "2026-06-18"


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        ({**ONGOING, "weeks": 4}, "schedule.weeks"),
        ({**ONGOING, "until_further_notice": "yes"}, "schedule.until_further_notice"),
        ({**ONGOING, "until_further_notice": False}, "schedule.weeks"),
        (
            {
                "kind": "one_off",
                "starts_on": "2026-06-08",
                "units_per_occasion": 2,
                "until_further_notice": True,
            },
            "schedule.until_further_notice",
        ),
    ],
)
def test_until_further_notice_with_weeks_or_once_is_refused_by_field(
    world: World, person_client: FlaskClient, schedule: dict[str, Any], field: str
) -> None:
    response = person_client.post(ORDERS, json=new_order(world, schedule))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["details"]["fields"]


def test_a_package_carried_into_the_next_budget_shows_the_streams_that_pay_each_cycle(
    app: Flask,
    session: Session,
    world: World,
    make_budget: Callable[..., PersonalBudget],
    person_client: FlaskClient,
) -> None:
    """The world's budget ends on 5 July here; the next one pays the package after it."""
    world.budget.ends_on = date(2026, 7, 5)
    session.commit()
    following = make_budget(council=500_00, starts_on=date(2026, 7, 6), today=date(2026, 7, 6))
    body = person_client.post(ORDERS, json=new_order(world, ONGOING)).get_json()
    order = session.get(Order, uuid.UUID(body["id"]))
    assert order is not None
    packages.roll_packages(session, date(2026, 7, 6))
    session.commit()
    assert [cycle.budget_id for cycle in order.cycles] == [world.budget.id, following.id]

    read = person_client.get(body["links"]["self"]).get_json()

    for cycle in read["cycles"]:
        assert sum(share["pence"] for share in cycle["split"]) == cycle["amount_pence"]
    new_stream = following.streams[0]
    assert read["cycles"][1]["split"] == [
        {"stream_id": str(new_stream.id), "kind": "council", "pence": 16 * HOURLY_PENCE}
    ]
    assert sum(share["pence"] for share in read["paid_by_stream"]) == read["total_pence"]
    assert_ledger_verifies(session)
