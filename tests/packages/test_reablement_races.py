"""Reablement steps at the same moment (issue 18, REABLEMENT): two officers recording
different outcomes of one episode, and two starting reablement for one person. Each step a
request of its own (thread, app context, session, connection); on SQLite and PostgreSQL
(TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.budgets.models import FunderPot, PersonalBudget
from marketplace.extensions import db
from marketplace.ledger import LedgerError
from marketplace.orders import reablement
from marketplace.orders.models import (
    CycleState,
    OrderFunding,
    ReablementEpisode,
    ReablementOutcome,
)
from marketplace.people.models import Person
from providers.models import Service
from tests.ledger.threads import engine_options
from tests.orders.fixtures import assert_ledger_verifies
from tests.packages import test_reablement as base
from tests.packages.test_reablement import FIRST_DAY, ReablementWorld

reablement_world = base.reablement_world


def _race(app: Flask, steps: list[Callable[[], object]]) -> list[str]:
    barrier = threading.Barrier(len(steps))

    def run(step: Callable[[], object]) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                step()
                db.session.commit()
            except LedgerError as refused:
                db.session.rollback()
                return refused.code
            except BaseException:
                db.session.rollback()
                raise
            return "ok"

    with ThreadPoolExecutor(max_workers=len(steps)) as pool:
        return list(pool.map(run, steps))


@pytest.mark.parametrize("attempt", range(3))
def test_two_outcomes_recorded_at_once_one_story(
    make_app: Callable[..., Flask],
    session: Session,
    reablement_world: ReablementWorld,
    make_budget: Callable[..., PersonalBudget],
    attempt: int,
) -> None:
    world = reablement_world
    make_budget(council=2_000_00)
    episode = world.start(session)
    episode_id, officer_id = episode.id, world.officer.id
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def record(outcome: ReablementOutcome) -> Callable[[], object]:
        def step() -> None:
            found = db.session.get_one(ReablementEpisode, episode_id)
            reablement.end_episode(
                db.session,
                found,
                outcome=outcome,
                by=db.session.get_one(User, officer_id),
                note="",
                today=date(2026, 6, 17),
            )

        return step

    ongoing, ended = _race(
        racers,
        [record(ReablementOutcome.ONGOING_CARE), record(ReablementOutcome.NO_ONGOING_NEED)],
    )

    assert sorted([ongoing, ended]) == ["ok", "reablement_error"]
    session.expire_all()
    episode = session.get_one(ReablementEpisode, episode_id)
    order = episode.order
    if ongoing == "ok":
        assert episode.outcome is ReablementOutcome.ONGOING_CARE
        assert order.funding is OrderFunding.BUDGET
        assert order.cancelled_from is None
        assert all(c.state is CycleState.HELD for c in order.cycles)
    else:
        assert episode.outcome is ReablementOutcome.NO_ONGOING_NEED
        assert order.funding is OrderFunding.REABLEMENT
        assert order.cancelled_from == date(2026, 6, 18)
        assert [c.state for c in order.cycles][3:] == [CycleState.RELEASED] * 3
    assert [e.kind for e in order.events].count("reablement_ended") == 1
    assert_ledger_verifies(session)


@pytest.mark.parametrize("attempt", range(3))
def test_two_officers_starting_reablement_for_one_person_start_one(
    make_app: Callable[..., Flask],
    session: Session,
    reablement_world: ReablementWorld,
    attempt: int,
) -> None:
    world = reablement_world
    ids = (world.person.id, world.service.id, world.pot.id, world.officer.id)
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def start(ids: tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]) -> Callable[[], object]:
        person_id, service_id, pot_id, officer_id = ids

        def step() -> None:
            reablement.start_episode(
                db.session,
                person=db.session.get_one(Person, person_id),
                service=db.session.get_one(Service, service_id),
                pot=db.session.get_one(FunderPot, pot_id),
                starts_on=FIRST_DAY,
                weeks=6,
                units_per_occasion=2,
                days=["MO", "TH"],
                by=db.session.get_one(User, officer_id),
                today=FIRST_DAY,
            )

        return step

    outcomes = _race(racers, [start(ids), start(ids)])

    assert sorted(outcomes) == ["ok", "reablement_error"]
    session.expire_all()
    assert session.query(ReablementEpisode).count() == 1
    assert_ledger_verifies(session)
