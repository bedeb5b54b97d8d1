"""Signed-in sessions kept on the server (issue 12, item 7): signing out ends every copy of
the cookie, a password change ends every session of the account, sessions expire after an
idle and an absolute time, and signed-in pages are never cached."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts import sessions
from marketplace.accounts.models import SignInSession, User
from marketplace.accounts.tokens import token_hash
from marketplace.extensions import db
from tests.conftest import PASSWORD, sign_in

NEW_PASSWORD = "quartz lantern meadow otter"
SIGNED_OUT_FOR_SAFETY = "You have been signed out to keep your account safe"
MORNING = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie, as taken before a sign-out."""
    cookie = client.get_cookie("session", domain=app.config["SERVER_NAME"])
    assert cookie is not None
    other = app.test_client()
    other.set_cookie("session", cookie.value, domain=cookie.domain)
    return other


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/account")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture
def morning() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


def test_a_copy_of_the_cookie_is_signed_out_with_it(
    app: Flask, client: FlaskClient, citizen: User
) -> None:
    sign_in(client, citizen)
    copy = copy_of(client, app)
    assert signed_in(copy)
    client.post("/sign-out")
    assert not signed_in(copy)
    assert not signed_in(client)


def test_a_copy_cannot_use_the_api_after_sign_out(
    app: Flask, client: FlaskClient, citizen: User
) -> None:
    sign_in(client, citizen)
    copy = copy_of(client, app)
    no_such_order = f"/api/v1/orders/{uuid.uuid4()}"
    assert copy.get(no_such_order).status_code == 404  # signed in: looked for, not found
    client.post("/sign-out")
    assert copy.get(no_such_order).status_code == 401


def test_signing_out_ends_only_this_browsers_session(
    app: Flask, client: FlaskClient, citizen: User
) -> None:
    other_computer = app.test_client()
    sign_in(client, citizen)
    sign_in(other_computer, citizen)
    client.post("/sign-out")
    assert signed_in(other_computer)


def test_a_password_change_ends_every_other_session(
    app: Flask, client: FlaskClient, citizen: User
) -> None:
    other_computer = app.test_client()
    sign_in(client, citizen)
    sign_in(other_computer, citizen)
    copy = copy_of(client, app)
    response = client.post(
        "/account/change-password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert signed_in(client)
    assert not signed_in(copy)
    assert not signed_in(other_computer)
    db.session.expire_all()
    open_records = select(func.count()).where(
        SignInSession.user_id == citizen.id, SignInSession.ended_at.is_(None)
    )
    assert db.session.scalar(open_records) == 1


def test_a_session_ends_after_thirty_idle_minutes(
    client: FlaskClient, citizen: User, morning: time_machine.Coordinates
) -> None:
    sign_in(client, citizen)
    for _ in range(3):  # in use every 29 minutes: still signed in after 87
        morning.shift(timedelta(minutes=29))
        assert signed_in(client)
    morning.shift(timedelta(minutes=30))
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in")
    assert SIGNED_OUT_FOR_SAFETY in client.get("/sign-in").get_data(as_text=True)
    morning.shift(timedelta(minutes=-1))
    assert not signed_in(client), "an expired session stays ended"


def test_a_session_ends_twelve_hours_after_sign_in_however_busy(
    client: FlaskClient, citizen: User, morning: time_machine.Coordinates
) -> None:
    sign_in(client, citizen)
    for _ in range(11 * 60 // 20):
        morning.shift(timedelta(minutes=20))
        assert signed_in(client)
    morning.shift(timedelta(hours=12) - timedelta(minutes=11 * 60 // 20 * 20))
    assert not signed_in(client)


def test_the_limits_are_configurable(
    make_app: Callable[..., Flask], citizen: User, morning: time_machine.Coordinates
) -> None:
    app = make_app(
        SESSION_IDLE_TIMEOUT=timedelta(minutes=5), SESSION_ABSOLUTE_TIMEOUT=timedelta(hours=1)
    )
    with app.app_context():
        client = app.test_client()
        sign_in(client, citizen)
        morning.shift(timedelta(minutes=4))
        assert signed_in(client)
        morning.shift(timedelta(minutes=6))
        assert not signed_in(client)


def test_signed_in_pages_are_never_cached(client: FlaskClient, citizen: User) -> None:
    assert "no-store" not in client.get("/sign-in").headers.get("Cache-Control", "")
    sign_in(client, citizen)
    for path in ("/account", "/my/", "/notifications", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_prune_forgets_sessions_that_cannot_be_used_again(
    app: Flask, citizen: User, morning: time_machine.Coordinates
) -> None:
    limits = sessions.SessionLimits(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    ended = sessions.open_session(citizen)
    sessions.end_session(ended)
    sessions.open_session(citizen)  # idle for 31 minutes by then
    morning.shift(timedelta(minutes=20))
    current = sessions.open_session(citizen)
    db.session.commit()
    morning.shift(timedelta(minutes=11))
    assert sessions.prune(limits) == 2
    db.session.commit()
    remaining = db.session.scalars(select(SignInSession)).all()
    assert [record.token_hash for record in remaining] == [token_hash(current)]


def test_the_daily_job_prunes_sessions(app: Flask, citizen: User) -> None:
    sessions.end_session(sessions.open_session(citizen))
    db.session.commit()
    runner = app.test_cli_runner()
    assert "Forgot 1 sign-in session." in runner.invoke(args=["accounts", "prune-sessions"]).output
    assert "Forgot 0 " in runner.invoke(args=["accounts", "prune-sessions"]).output
