"""The person's side and the provider writing on one thread at the same moment: each request
in its own thread, app context, session and connection, committing at its end as a request
does. Whoever wrote last, whose turn it is must follow the last message written (the thread's
lock queues them). On SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.people import questions
from marketplace.people.questions import QuestionThread
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import World

ROUNDS = 6


def _thread(thread_id: uuid.UUID) -> QuestionThread:
    return db.session.get_one(QuestionThread, thread_id)


def test_an_answer_and_a_follow_up_at_once_leave_the_turn_with_the_last_message(
    make_app: Callable[..., Flask], world: World
) -> None:
    thread = questions.ask(
        db.session,
        person=world.person,
        service=world.service,
        by=world.citizen,
        text="Can you come on Saturdays?",
    )
    db.session.commit()
    thread_id, staff_id, citizen_id = thread.id, world.staff.id, world.citizen.id
    racers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def write(number: int) -> None:
        found = _thread(thread_id)
        if number == 0:
            questions.answer(
                db.session, found, by=db.session.get_one(User, staff_id), text="Yes, we can."
            )
        else:
            questions.follow_up(
                db.session, found, by=db.session.get_one(User, citizen_id), text="And Sundays?"
            )

    for _round in range(ROUNDS):
        assert run_together(racers, 2, write) == ["ok", "ok"]
        db.session.expire_all()
        found = _thread(thread_id)
        last = max(found.messages, key=lambda message: message.written_at)
        assert found.waiting_for is not last.side, (found.waiting_for, last.side)
        assert found.last_message_at == last.written_at
    assert len(_thread(thread_id).messages) == 1 + 2 * ROUNDS
