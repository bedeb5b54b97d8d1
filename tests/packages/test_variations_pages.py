"""Changes to a package on the pages (VARIATIONS, issue 18): the person asks for more hours
on their order page, the provider accepts on its own, the council agrees on its queue; the
provider's new price shows the notice date and is refused sooner; declining needs a reason.
Flask test client; `flask ledger verify` after each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders.models import Order, PackageVariation, VariationState
from tests.conftest import sign_in
from tests.orders.fixtures import World, assert_ledger_verifies
from tests.packages.variation_fixtures import TODAY, WEEKLY_PENCE, make_package


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=UTC)):
        yield


def _date(prefix: str, day: int, month: int = 6, year: int = 2026) -> dict[str, list[str]]:
    return {prefix: [str(day), str(month), str(year)]}


def _only_variation(session: Session) -> PackageVariation:
    session.expire_all()
    return session.scalars(select(PackageVariation)).one()


def test_asked_by_the_person_accepted_by_the_provider_agreed_by_the_council(
    app: Flask, client: FlaskClient, session: Session, world: World
) -> None:
    order = make_package(session, world)
    sign_in(client, world.citizen)
    page = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "Changes to this care" in page
    assert "Now: 2 hours each time on Monday and Thursday, £26 an hour." in page
    path = f"/my/orders/{order.id}/changes/new/hours"
    assert client.get(path).status_code == 200

    missing = client.post(path, data={"units_per_occasion": "3", "days": ["MO", "TH"]})
    assert missing.status_code == 400
    assert "Enter the date the change starts" in missing.get_data(as_text=True)
    asked = client.post(
        path,
        data={"units_per_occasion": "3", "days": ["MO", "TH"], **_date("effective_from", 8)},
    )
    assert asked.status_code == 302, asked.get_data(as_text=True)
    variation = _only_variation(session)
    assert variation.state is VariationState.PROPOSED
    assert variation.units_per_occasion == 3
    assert variation.days is None
    # The person cannot accept their own request.
    own = client.post(f"/my/orders/{order.id}/changes/{variation.id}/accept")
    assert own.status_code == 404

    provider = app.test_client()
    sign_in(provider, world.staff)
    on_order = provider.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "3 hours each time, from 8 June 2026" in on_order
    assert "See and answer this change" in on_order
    accepted = provider.post(f"/provider/orders/{order.id}/changes/{variation.id}/accept")
    assert accepted.status_code == 302
    assert _only_variation(session).state is VariationState.AWAITING_COUNCIL

    officer = app.test_client()
    sign_in(officer, world.officer)
    dashboard = officer.get("/council/").get_data(as_text=True)
    assert "Changes to packages waiting for the council" in dashboard
    queue = officer.get("/council/variations").get_data(as_text=True)
    assert order.reference in queue
    assert "£104" in queue
    assert "£156" in queue
    no_choice = officer.post(f"/council/variations/{variation.id}", data={})
    assert no_choice.status_code == 400
    on_order = officer.get(f"/council/orders/{order.id}").get_data(as_text=True)
    assert "3 hours each time, from 8 June 2026: waiting for the council" in on_order
    agreed = officer.post(f"/council/variations/{variation.id}", data={"decision": "agree"})
    assert agreed.status_code == 302

    assert _only_variation(session).state is VariationState.ACCEPTED
    timeline = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "Change proposed: 3 hours each time, from 8 June 2026" in timeline
    assert "Change agreed by the council: 3 hours each time, from 8 June 2026" in timeline
    order = session.get_one(Order, order.id)
    assert [cycle.amount_pence for cycle in order.cycles] == [WEEKLY_PENCE, 156_00, 156_00]
    assert_ledger_verifies(session)


def test_a_new_price_shows_its_notice_and_is_refused_sooner(
    client: FlaskClient, session: Session, world: World
) -> None:
    order = make_package(session, world)
    sign_in(client, world.staff)
    path = f"/provider/orders/{order.id}/changes/new/price"
    form = client.get(path).get_data(as_text=True)
    assert "can start on 15 June 2026 at the earliest" in form

    too_soon = client.post(path, data={"unit_price_pence": "28.00", **_date("effective_from", 8)})
    assert too_soon.status_code == 400
    text = too_soon.get_data(as_text=True)
    assert "There is a problem" in text
    assert "A new price needs 14 days&#39; notice" in text
    assert session.scalars(select(PackageVariation)).all() == []

    in_time = client.post(path, data={"unit_price_pence": "28.00", **_date("effective_from", 15)})
    assert in_time.status_code == 302
    assert _only_variation(session).unit_price_pence == 28_00
    assert_ledger_verifies(session)


def test_declining_a_proposal_needs_a_reason(
    app: Flask, client: FlaskClient, session: Session, world: World
) -> None:
    order = make_package(session, world)
    provider = app.test_client()
    sign_in(provider, world.staff)
    proposed = provider.post(
        f"/provider/orders/{order.id}/changes/new/pause", data=_date("effective_from", 8)
    )
    assert proposed.status_code == 302, proposed.get_data(as_text=True)
    variation = _only_variation(session)

    sign_in(client, world.citizen)
    page = client.get(f"/my/orders/{order.id}/changes/{variation.id}").get_data(as_text=True)
    assert "Pause from 8 June 2026" in page
    assert "Accept the change" in page
    path = f"/my/orders/{order.id}/changes/{variation.id}/decline"
    empty = client.post(path, data={"reason": ""})
    assert empty.status_code == 400
    assert "Enter why you are declining this change" in empty.get_data(as_text=True)
    declined = client.post(path, data={"reason": "I am not going into hospital after all"})
    assert declined.status_code == 302

    assert _only_variation(session).state is VariationState.DECLINED
    assert_ledger_verifies(session)


def test_after_a_pause_is_agreed_the_pages_offer_a_restart(
    app: Flask, client: FlaskClient, session: Session, world: World
) -> None:
    order = make_package(session, world)
    sign_in(client, world.citizen)
    asked = client.post(
        f"/my/orders/{order.id}/changes/new/pause",
        data={**_date("effective_from", 8), "reason": "Hospital stay"},
    )
    assert asked.status_code == 302, asked.get_data(as_text=True)
    variation = _only_variation(session)
    provider = app.test_client()
    sign_in(provider, world.staff)
    assert (
        provider.post(f"/provider/orders/{order.id}/changes/{variation.id}/accept").status_code
        == 302
    )

    page = client.get(f"/my/orders/{order.id}").get_data(as_text=True)
    assert "Pause from 8 June 2026: agreed" in page
    assert "Restart the care after a pause" in page
    assert "Ask for more or fewer hours" not in page
    on_order = provider.get(f"/provider/orders/{order.id}").get_data(as_text=True)
    assert "Restart the care after a pause" in on_order
    restart = client.post(
        f"/my/orders/{order.id}/changes/new/restart", data=_date("effective_from", 22)
    )
    assert restart.status_code == 302, restart.get_data(as_text=True)
    session.expire_all()
    order = session.get_one(Order, order.id)
    assert [cycle.amount_pence for cycle in order.cycles] == [WEEKLY_PENCE, 0, 0]
    assert_ledger_verifies(session)
