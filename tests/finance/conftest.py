"""The finance tests' order (one four-weekly cycle of home care held on two payers) and a clock
five minutes on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy.orm import Session

from marketplace.budgets.models import FunderPotLine, StreamKind
from marketplace.orders import checkout, life
from marketplace.orders.models import Order
from marketplace.types import utcnow
from tests.orders.fixtures import TODAY, World


@pytest.fixture
def order(session: Session, world: World) -> Order:
    """16 hours of care over the four weeks from Monday 8 June (one four-weekly cycle, 416.00):
    300.00 held on the person's contribution, 116.00 on the NHS stream, which names the ICB
    pot's 'Continuing healthcare' line."""
    world.person.case_reference = "HCC-100234"
    nhs = next(s for s in world.budget.streams if s.kind is StreamKind.NHS)
    assert nhs.pot is not None
    nhs.pot.funder.cost_centre = "NHS-000"
    line = FunderPotLine(pot=nhs.pot, name="Continuing healthcare", cost_centre="CHC-01")
    session.add(line)
    nhs.pot_line = line
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="order",
    )
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


@pytest.fixture
def later() -> Iterator[None]:
    """The clock five minutes on, as if the care had been ordered a while ago: an export made
    now reads ledger rows at least a minute old."""
    with time_machine.travel(utcnow() + timedelta(minutes=5)):
        yield
