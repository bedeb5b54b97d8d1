"""A budget reduced below what its ongoing packages need over the rest of the period (issue
18, PERIODS): allowed (the council decides), but the revise page warns first, naming the
packages and the shortfall; once reduced, the daily job flags the cycle it cannot cover."""

from __future__ import annotations

import html
from datetime import timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.budgets.models import PersonalBudget, StreamRevision
from marketplace.orders import forecast as outlook
from marketplace.orders.models import PackageShortfall
from marketplace.orders.packages import roll_packages
from tests.conftest import sign_in
from tests.packages.period_fixtures import (
    PACKAGE_STARTS,
    WEEKLY_PENCE,
    PeriodWorld,
    assert_ledger_verifies,
    period_world,
)

__all__ = ["period_world"]

TODAY = PACKAGE_STARTS
# £500 for the period; the package holds £104 now and needs £208 more (cycles 2 and 3): at
# £300 the budget is £12 short, at £350 it is not.
COUNCIL_PENCE = 500_00


def _budget_with_a_package(session: Session, world: PeriodWorld) -> PersonalBudget:
    budget = world.first_budget(council=COUNCIL_PENCE)
    world.package(session, today=TODAY)
    return budget


def test_a_decrease_below_the_packages_needs_is_named(
    session: Session, period_world: PeriodWorld
) -> None:
    budget = _budget_with_a_package(session, period_world)
    stream = budget.streams[0]

    short = outlook.shortfall_after_revision(session, stream, 300_00, TODAY)

    assert short is not None
    assert short.short_pence == 12_00
    (package,) = short.packages
    assert package.to_come_pence == 2 * WEEKLY_PENCE
    assert short.names == (
        f"{package.order.service_name} ({package.order.reference}), £208 still to be set aside"
    )
    assert outlook.shortfall_after_revision(session, stream, 350_00, TODAY) is None
    assert outlook.shortfall_after_revision(session, stream, 600_00, TODAY) is None


def test_the_revise_page_warns_then_reduces_it_anyway_and_the_job_flags_the_cycle(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    budget = _budget_with_a_package(session, world)
    stream = budget.streams[0]
    path = f"/council/people/{world.person.id}/budgets/{budget.id}/streams/{stream.id}/revise"
    data = {"amount": "300", "reason": "Reassessed", "key": "3f3c4c62-7d0a-4a4b-9f36-3f6b0b7f2a10"}

    with time_machine.travel(TODAY + timedelta(hours=10)):
        sign_in(client, world.officer)
        warned = client.post(path, data=data)
        text = " ".join(html.unescape(warned.get_data(as_text=True)).split())
        session.refresh(stream)
        assert warned.status_code == 200
        assert "At £300, this budget would be £12 short of what ongoing care needs by " in text
        assert "30 September 2026" in text
        assert "£208 still to be set aside; it carries on after the period" in text
        assert "Reduce it anyway" in text
        assert stream.amount_pence == COUNCIL_PENCE
        assert session.scalar(select(StreamRevision.id)) is None

        done = client.post(path, data={**data, "accept_shortfall": "yes"})
        assert done.status_code == 302
        followed = client.get(done.headers["Location"])
        assert "Ongoing care is £12 short" in html.unescape(followed.get_data(as_text=True))

    session.expire_all()
    assert stream.amount_pence == 300_00
    # Cycle 2 is still covered (£196 left); a week later cycle 3 is not (£92), and is flagged.
    assert len(roll_packages(session, TODAY).held) == 1
    report = roll_packages(session, TODAY + timedelta(days=7))
    session.commit()
    (flag,) = session.scalars(select(PackageShortfall)).all()
    assert flag in report.flagged
    assert flag.cycle_starts_on == TODAY + timedelta(days=14)
    assert flag.needed_pence == WEEKLY_PENCE
    assert flag.available_pence == 92_00
    assert_ledger_verifies(session)


def test_a_decrease_that_leaves_enough_is_not_warned(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    budget = _budget_with_a_package(session, world)
    stream = budget.streams[0]
    path = f"/council/people/{world.person.id}/budgets/{budget.id}/streams/{stream.id}/revise"

    with time_machine.travel(TODAY + timedelta(hours=10)):
        sign_in(client, world.officer)
        done = client.post(
            path,
            data={
                "amount": "350",
                "reason": "Reassessed",
                "key": "5f3c4c62-7d0a-4a4b-9f36-3f6b0b7f2a10",
            },
        )

    assert done.status_code == 302
    session.expire_all()
    assert stream.amount_pence == 350_00
