"""Outcome-based orders' pages (OUTCOMES, issue 18): the person pays for outcomes, the provider
records a week (the safety questions asked), the person confirms or queries it, and a council
officer sets the safety checks. Flask test client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.orders import checkout, outcomes
from marketplace.orders.models import Order, OrderPricing, OutcomeStatus
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World, assert_ledger_verifies
from tests.packages import test_outcomes as base
from tests.packages.test_outcomes import AFTER, DAY_CENTRE, DRESSED, MEAL, WEEKS

weekly = base.weekly
order = base.order


@pytest.fixture
def on_today() -> Iterator[None]:
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=UTC)):
        yield


@pytest.fixture
def after_the_weeks() -> Iterator[None]:
    with time_machine.travel(datetime(AFTER.year, AFTER.month, AFTER.day, 10, tzinfo=UTC)):
        yield


def _week_form(**overrides: str) -> dict[str, str]:
    form = {f"achieved-{key}": "yes" for key in (DRESSED, DAY_CENTRE, MEAL)}
    form |= {"safety-medication:08:00": "yes", "safety-medication:18:00": "yes"}
    form |= {"safety-out_of_bed": "yes"}
    return form | overrides


@pytest.mark.usefixtures("on_today")
def test_the_person_pays_for_outcomes_from_their_plan(
    client: FlaskClient, session: Session, weekly: World
) -> None:
    sign_in(client, weekly.citizen)
    add = client.get(f"/my/services/{weekly.service.id}/order")
    assert "pay for outcomes" in add.get_data(as_text=True)
    path = f"/my/services/{weekly.service.id}/outcomes"
    page = client.get(path)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Go to the day centre twice a week" in text
    assert "£200 a week" in text

    empty = client.post(path, data={"key": "outcomes:one", "length": "weeks", "weeks": "4"})
    assert empty.status_code == 400
    assert "There is a problem" in empty.get_data(as_text=True)
    assert "Select at least one outcome" in empty.get_data(as_text=True)

    placed = client.post(
        path,
        data={
            "key": "outcomes:one",
            "outcomes": [DRESSED, MEAL],
            "starts_on": ["8", "6", "2026"],
            "length": "weeks",
            "weeks": "4",
        },
    )
    assert placed.status_code == 302, placed.get_data(as_text=True)
    session.expire_all()
    order = session.query(Order).filter_by(placement_key="outcomes:one").one()
    assert order.pricing is OrderPricing.OUTCOMES
    assert [o["key"] for o in order.outcomes] == [DRESSED, MEAL]
    assert order.total_pence == 4 * base.WEEKLY_PENCE
    assert "Paid for outcomes" in client.get(placed.location).get_data(as_text=True)
    assert_ledger_verifies(session)


@pytest.mark.usefixtures("on_today")
def test_a_service_not_sold_by_the_week_has_no_outcomes_page(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, world.citizen)
    assert client.get(f"/my/services/{world.service.id}/outcomes").status_code == 404


@pytest.mark.usefixtures("after_the_weeks")
def test_the_provider_records_a_week_answering_the_safety_questions(
    client: FlaskClient, session: Session, world: World, order: Order
) -> None:
    sign_in(client, world.staff)
    page = client.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "Paid for outcomes" in page
    assert "Medication given at 08:00" in page
    assert "Record a delivery" not in page
    assert "This order is paid for outcomes: record each week" in page
    path = f"/provider/orders/{order.id}/outcomes/{WEEKS[0].isoformat()}"
    form_page = client.get(path).get_data(as_text=True)
    assert "Medication given at 18:00 every day?" in form_page

    missing = client.post(path, data=_week_form(**{f"achieved-{MEAL}": "no"}))
    text = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert "There is a problem" in text
    assert f'href="#note-{MEAL}"' in text
    assert "Say why it was not achieved" in text

    saved = client.post(
        path, data=_week_form(**{f"achieved-{MEAL}": "no", f"note-{MEAL}": "Ate out"})
    )
    assert saved.status_code == 302
    session.expire_all()
    records = outcomes.records_of(session, order)
    assert {(r.outcome_key, r.achieved) for r in records} == {
        (DRESSED, True),
        (DAY_CENTRE, True),
        (MEAL, False),
    }
    # A week to come, or a day that starts no week, is not there.
    assert client.get(f"/provider/orders/{order.id}/outcomes/2026-06-09").status_code == 404
    assert client.get(f"/provider/orders/{order.id}/outcomes/not-a-day").status_code == 404


@pytest.mark.usefixtures("after_the_weeks")
def test_the_person_confirms_a_week_or_queries_an_outcome(
    client: FlaskClient, session: Session, world: World, order: Order
) -> None:
    base._record(session, world, order, WEEKS[0])
    base._record(
        session,
        world,
        order,
        WEEKS[1],
        missed=(DRESSED,),
        safety={**base.ALL_SAFE, "medication:18:00": False},
    )
    sign_in(client, world.citizen)
    page = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "What the provider recorded" in page
    assert "Was unwell" in page
    assert "The provider has not recorded any deliveries yet" not in page
    assert "safety checks were not met this week:</strong> medication at 18:00." in page

    confirmed = client.post(f"/my/orders/{order.id}/outcomes/{WEEKS[0].isoformat()}/confirm")
    assert confirmed.status_code == 302
    again = client.post(f"/my/orders/{order.id}/outcomes/{WEEKS[0].isoformat()}/confirm")
    assert again.status_code == 400
    assert "nothing to confirm" in again.get_data(as_text=True)

    record = next(
        r
        for r in outcomes.records_of(session, order)
        if r.week_starting == WEEKS[1] and r.outcome_key == MEAL
    )
    query = f"/my/orders/{order.id}/outcomes/{record.id}/query"
    assert client.get(query).status_code == 200
    assert client.post(query, data={"reason": ""}).status_code == 400
    assert client.post(query, data={"reason": "No hot meal on Friday"}).status_code == 302
    session.expire_all()
    assert record.status is OutcomeStatus.QUERIED
    # The provider cannot use the person's pages.
    client.post("/sign-out")
    sign_in(client, world.staff)
    assert client.get(query).status_code == 403


@pytest.mark.usefixtures("on_today")
def test_an_officer_sets_the_safety_checks(
    client: FlaskClient, session: Session, weekly: World
) -> None:
    order = base._place(session, weekly)
    path = f"/council/orders/{order.id}/safety"
    sign_in(client, weekly.citizen)
    assert client.get(path).status_code == 403
    client.post("/sign-out")
    sign_in(client, weekly.officer)
    assert "Set the safety checks" in client.get(f"/council/orders/{order.id}").get_data(
        as_text=True
    )
    bad = client.post(path, data={"medication_times": "8am", "not_in_bed_after": ""})
    assert bad.status_code == 400
    assert "There is a problem" in bad.get_data(as_text=True)
    good = client.post(path, data={"medication_times": "08:00, 20:00", "not_in_bed_after": "9:30"})
    assert good.status_code == 302
    session.expire_all()
    assert order.safety == {"medication_times": ["08:00", "20:00"], "not_in_bed_after": "09:30"}


@pytest.mark.usefixtures("after_the_weeks")
def test_an_order_paid_by_the_unit_has_no_week_to_record(
    client: FlaskClient, session: Session, world: World
) -> None:
    unit_order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="units",
    )
    session.commit()
    sign_in(client, world.staff)
    assert (
        client.get(f"/provider/orders/{unit_order.id}/outcomes/{WEEKS[0].isoformat()}").status_code
        == 404
    )
