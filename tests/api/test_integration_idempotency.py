"""Idempotency-Key on the integration API: a retry answers the first response and creates
nothing; the same key for another request is a conflict; failures are not kept; two identical
requests at once create one person (SQLite and PostgreSQL, each request on its own connection)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts.roles import Role
from marketplace.api.idempotency import IdempotencyRecord
from marketplace.budgets.models import PersonalBudget, StreamKind
from marketplace.extensions import db
from marketplace.people.models import Person
from tests.api.integration_helpers import bearer, error_of, new_token
from tests.citizens.helpers import YEAR_END, YEAR_START, funded_pots
from tests.ledger.threads import engine_options

PEOPLE = "/api/v1/people"


def _people() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Person))


@pytest.fixture
def officer(app: Flask) -> str:
    return new_token(Role.COUNCIL_OFFICER)


def test_a_retry_replays_the_first_response_and_creates_nothing(
    client: FlaskClient, officer: str
) -> None:
    headers = bearer(officer, **{"Idempotency-Key": "a3f1c2d4-0001"})
    first = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
    again = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert _people() == 1


def test_the_same_key_for_another_request_is_a_conflict(client: FlaskClient, officer: str) -> None:
    headers = bearer(officer, **{"Idempotency-Key": "key-1"})
    assert client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers).status_code == 201
    other = client.post(PEOPLE, json={"full_name": "Bob Hart"}, headers=headers)
    assert other.status_code == 409
    assert error_of(other) == "conflict"
    assert other.get_json()["details"]["reason"] == "idempotency_key_reused"
    assert _people() == 1


def test_keys_belong_to_their_principal(client: FlaskClient, officer: str) -> None:
    second = new_token(Role.COUNCIL_OFFICER, name="Second system")
    for secret in (officer, second):
        response = client.post(
            PEOPLE,
            json={"full_name": "Ann Lee"},
            headers=bearer(secret, **{"Idempotency-Key": "k"}),
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    assert _people() == 2


def test_a_failed_request_is_not_kept_and_can_be_retried(client: FlaskClient, officer: str) -> None:
    headers = bearer(officer, **{"Idempotency-Key": "retry-me"})
    assert client.post(PEOPLE, json={"full_name": ""}, headers=headers).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0
    fixed = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed.headers
    assert _people() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "with space", "caf\u00e9"])
def test_a_bad_key_is_a_validation_error(client: FlaskClient, officer: str, key: str) -> None:
    response = client.post(
        PEOPLE, json={"full_name": "Ann Lee"}, headers=bearer(officer, **{"Idempotency-Key": key})
    )
    assert response.status_code == 422
    assert error_of(response) == "validation_error"
    assert _people() == 0


def test_a_key_of_255_characters_is_fine(client: FlaskClient, officer: str) -> None:
    headers = bearer(officer, **{"Idempotency-Key": "k" * 255})
    assert client.post(PEOPLE, json={"full_name": "Ann"}, headers=headers).status_code == 201
    assert client.post(PEOPLE, json={"full_name": "Ann"}, headers=headers).status_code == 201
    assert _people() == 1


def test_patch_and_budget_posts_are_idempotent(client: FlaskClient, officer: str) -> None:
    pots = funded_pots()
    person = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=bearer(officer)).get_json()
    patch = bearer(officer, **{"Idempotency-Key": "patch-1"})
    first = client.patch(f"{PEOPLE}/{person['id']}", json={"phone": "01438 737400"}, headers=patch)
    again = client.patch(f"{PEOPLE}/{person['id']}", json={"phone": "01438 737400"}, headers=patch)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()

    body = {
        "starts_on": YEAR_START.isoformat(),
        "ends_on": YEAR_END.isoformat(),
        "frequency": "monthly",
        "streams": [
            {
                "kind": "council",
                "amount_pence": 1_200_00,
                "pot_id": str(pots[StreamKind.COUNCIL].id),
            }
        ],
    }
    post = bearer(officer, **{"Idempotency-Key": "budget-1"})
    made = client.post(f"{PEOPLE}/{person['id']}/budgets", json=body, headers=post)
    replayed = client.post(f"{PEOPLE}/{person['id']}/budgets", json=body, headers=post)
    assert made.status_code == replayed.status_code == 201
    assert replayed.get_json()["id"] == made.get_json()["id"]
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert db.session.scalar(select(func.count()).select_from(PersonalBudget)) == 1


THREADS = 8


def test_identical_requests_at_once_create_one_person(make_app: Callable[..., Flask]) -> None:
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))
    with app.app_context():
        secret = new_token(Role.COUNCIL_OFFICER)
        # Use the token once, so the requests below need not record its last use.
        app.test_client().get(f"{PEOPLE}/{uuid.uuid4()}", headers=bearer(secret))
    barrier = threading.Barrier(THREADS)
    headers = bearer(secret, **{"Idempotency-Key": f"race-{uuid.uuid4()}"})

    def post(_number: int) -> tuple[int, str, bool]:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
        body = response.get_json()
        return (
            response.status_code,
            body.get("id", body.get("error")),
            ("Idempotent-Replayed" in response.headers),
        )

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(post, range(THREADS)))

    assert {status for status, _, _ in outcomes} == {201}, outcomes
    assert len({person_id for _, person_id, _ in outcomes}) == 1
    assert sum(not replayed for _, _, replayed in outcomes) == 1
    with app.app_context():
        assert _people() == 1
        assert db.session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_a_key_is_kept_for_a_day_and_then_starts_a_new_request(
    client: FlaskClient, officer: str
) -> None:
    headers = bearer(officer, **{"Idempotency-Key": "kept-a-day"})
    used = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    with time_machine.travel(used, tick=False):
        assert (
            client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers).status_code == 201
        )
    with time_machine.travel(used + timedelta(hours=23, minutes=59), tick=False):
        again = client.post(PEOPLE, json={"full_name": "Ann Lee"}, headers=headers)
        assert again.headers["Idempotent-Replayed"] == "true"
        other = client.post(PEOPLE, json={"full_name": "Bob Hart"}, headers=headers)
        assert other.status_code == 409
    assert _people() == 1
    with time_machine.travel(used + timedelta(hours=24, minutes=1), tick=False):
        later = client.post(PEOPLE, json={"full_name": "Bob Hart"}, headers=headers)
        assert later.status_code == 201
        assert "Idempotent-Replayed" not in later.headers
        retried = client.post(PEOPLE, json={"full_name": "Bob Hart"}, headers=headers)
        assert retried.headers["Idempotent-Replayed"] == "true"
        assert retried.get_json() == later.get_json()
    assert _people() == 2
    db.session.expire_all()
    kept = db.session.scalars(select(IdempotencyRecord)).all()
    assert [(r.key, r.response_status) for r in kept] == [("kept-a-day", 201)]


def test_the_daily_job_forgets_keys_older_than_a_day(app: Flask, officer: str) -> None:
    client = app.test_client()
    used = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    for hours, key in ((0, "old-1"), (1, "old-2"), (30, "fresh")):
        with time_machine.travel(used + timedelta(hours=hours), tick=False):
            response = client.post(
                PEOPLE,
                json={"full_name": f"Person {key}"},
                headers=bearer(officer, **{"Idempotency-Key": key}),
            )
            assert response.status_code == 201
    runner = app.test_cli_runner()
    with time_machine.travel(used + timedelta(hours=25, minutes=30), tick=False):
        result = runner.invoke(args=["api", "prune-idempotency-keys"])
        assert result.exit_code == 0, result.output
        assert "Forgot 2 Idempotency-Keys older than 24 hours." in result.output
        assert "Forgot 0 " in runner.invoke(args=["api", "prune-idempotency-keys"]).output
    db.session.expire_all()
    assert [r.key for r in db.session.scalars(select(IdempotencyRecord))] == ["fresh"]
    assert _people() == 3  # forgetting a key undoes nothing it did
