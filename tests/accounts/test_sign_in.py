"""Signing in and out: one message for every failure, a fresh session, safe redirects."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import wait_in_words
from tests.conftest import PASSWORD, sign_in

FAILED = "Enter a correct email address and password"


@pytest.mark.parametrize(
    ("role", "home"),
    [
        (Role.CITIZEN, "/my/"),
        (Role.PROVIDER_STAFF, "/provider/"),
        (Role.BROKER, "/broker/"),
        (Role.COUNCIL_OFFICER, "/council/"),
        (Role.ADMIN, "/admin/users"),
    ],
)
def test_each_role_lands_on_its_own_page(
    client: FlaskClient, make_user: Callable[..., User], role: Role, home: str
) -> None:
    user = make_user(role)
    response = client.post("/sign-in", data={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == home
    assert client.get(home).status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    wrong_password = client.post("/sign-in", data={"email": user.email, "password": "nope" * 4})
    unknown_email = client.post(
        "/sign-in", data={"email": "nobody@example.org", "password": "nope" * 4}
    )
    assert wrong_password.status_code == unknown_email.status_code == 400
    for response in (wrong_password, unknown_email):
        page = response.get_data(as_text=True)
        assert FAILED in page
        assert "govuk-error-summary" in page
    assert client.get("/account").status_code == 302


def test_a_deactivated_account_cannot_sign_in(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    user.active = False
    db.session.commit()
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert FAILED in response.get_data(as_text=True)


def test_sign_in_starts_a_fresh_session(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    sign_in(client, user)
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after["_user_id"] == user.login_id


def test_anonymous_user_is_sent_to_sign_in_and_back(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    response = client.get("/account")
    assert response.status_code == 302
    assert response.location == "/sign-in?next=%2Faccount"
    response = client.post(
        "/sign-in?next=%2Faccount", data={"email": user.email, "password": PASSWORD}
    )
    assert response.location == "/account"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example.com/",
        "//evil.example.com/",
        "/\\evil.example.com",
        "\\\\evil.example.com",
        "javascript:alert(1)",
        "evil.example.com",
    ],
)
def test_next_never_leads_to_another_site(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user(Role.CITIZEN)
    response = client.post(
        "/sign-in", query_string={"next": target}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.location == "/my/"


def test_sign_out_is_a_post_and_ends_the_session(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    sign_in(client, make_user(Role.CITIZEN))
    assert client.get("/sign-out").status_code == 405
    assert client.get("/account").status_code == 200
    response = client.post("/sign-out")
    assert response.location == "/sign-in"
    assert "You have signed out" in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("limits", "wait"),
    [
        ("3 per minute", "Wait 1 minute, then try again."),
        ("3 per hour", "Wait 1 hour, then try again."),
        ("3 per 20 minutes", "Wait 20 minutes, then try again."),
        # Both limits broken at once: the longer wait is the one that holds.
        ("3 per minute; 3 per hour", "Wait 1 hour, then try again."),
    ],
)
def test_the_limit_page_says_how_long_the_configured_limit_lasts(
    make_app: Callable[..., Flask], limits: str, wait: str
) -> None:
    """The wait is the broken limit's own window (it said "a few minutes" for a limit that
    lasts up to an hour). A test run takes far less than a minute, so the whole window is
    still to run."""
    app = make_app(
        RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT=limits, SIGN_IN_ACCOUNT_RATE_LIMIT="100/hour"
    )
    with app.app_context():
        client = app.test_client()
        for _ in range(3):
            client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
        limited = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
        assert limited.status_code == 429
        page = limited.get_data(as_text=True)
        assert wait in page
        assert "a few minutes" not in page
        # The header a program reads says the same wait as the page.
        assert f"Wait {wait_in_words(int(limited.headers['Retry-After']))}," in page


def test_sign_in_is_rate_limited_with_a_clear_page(make_app: Callable[..., Flask]) -> None:
    app = make_app(RATELIMIT_ENABLED=True, SIGN_IN_RATE_LIMIT="3 per minute")
    with app.app_context():
        client = app.test_client()
        for _ in range(3):
            response = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
            assert response.status_code == 400
        limited = client.post("/sign-in", data={"email": "a@example.org", "password": "x"})
        assert limited.status_code == 429
        assert "Too many attempts" in limited.get_data(as_text=True)
        assert "Retry-After" in limited.headers
        assert client.get("/sign-in").status_code == 200, "only attempts are limited"
