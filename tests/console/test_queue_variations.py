"""A change to a package waiting for the council (issue 19, QUEUES): it is in the variations
queue from when the second party accepted it; the officer's decision on the existing page is
logged with that wait, and refusing needs a reason (the error summary, nothing logged)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import time_machine
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.console import queues
from marketplace.console.models import QueueDecision
from marketplace.orders import variations
from marketplace.orders.models import VariationKind, VariationParty, VariationState
from tests.conftest import sign_in
from tests.orders.fixtures import World
from tests.packages.variation_fixtures import TODAY, make_package


@pytest.fixture(autouse=True)
def on_today() -> Iterator[None]:
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, tzinfo=UTC)):
        yield


def test_a_refused_change_is_logged_with_its_wait_and_needs_a_reason(
    app: Flask, session: Session, world: World
) -> None:
    order = make_package(session, world)
    variation = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.SCHEDULE,
        effective_from=date(2026, 6, 8),
        units_per_occasion=3,
        days=["MO", "TH"],
    )
    variations.accept(session, variation, by=world.staff)
    session.commit()
    assert variation.state is VariationState.AWAITING_COUNCIL
    (waiting,) = queues.items(session, queues.QUEUES["variations"], TODAY)
    assert (waiting.subject_id, waiting.label) == (variation.id, order.reference)
    assert waiting.waiting_since == variation.decided_at

    officer = app.test_client()
    sign_in(officer, world.officer)
    page = officer.get("/council/queues/variations").get_data(as_text=True)
    assert f'href="/council/variations/{variation.id}"' in page
    no_reason = officer.post(f"/council/variations/{variation.id}", data={"decision": "refuse"})
    assert no_reason.status_code == 400
    assert "govuk-error-summary" in no_reason.get_data(as_text=True)
    session.rollback()
    assert session.scalars(select(QueueDecision)).all() == []

    # Twenty minutes later (less than a session's idle timeout).
    with time_machine.travel(datetime(TODAY.year, TODAY.month, TODAY.day, 10, 20, tzinfo=UTC)):
        refused = officer.post(
            f"/council/variations/{variation.id}",
            data={"decision": "refuse", "reason": "The plan covers two hours"},
        )
    assert refused.status_code == 302
    assert refused.location == "/council/variations"
    session.rollback()  # a new transaction: what the request committed
    (logged,) = session.scalars(select(QueueDecision)).all()
    assert (logged.queue, logged.subject_id, logged.decision, logged.reason) == (
        "variations",
        variation.id,
        "refused",
        "The plan covers two hours",
    )
    assert logged.waiting_since == variation.decided_at
    assert 19 * 60 < queues.waited(logged) <= 20 * 60
    assert queues.items(session, queues.QUEUES["variations"], TODAY) == []
