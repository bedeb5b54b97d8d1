"""Signing up: an emailed link makes the account; bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts import service
from marketplace.accounts.models import SignUpRequest, User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.people.models import Person
from tests.conftest import links_in_outbox

GOOD = {
    "full_name": "Margaret Okafor",
    "email": "Margaret.Okafor@Example.org",
    "password": "lantern orchard pebble",
}


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _path(link: str) -> str:
    return link.split("marketplace.test", 1)[1]


def test_sign_up_emails_a_link_that_makes_a_citizen_with_a_person_record(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/sign-up", data=GOOD)
    assert response.status_code == 302
    assert response.location == "/sign-up/check-your-email"
    assert "margaret.okafor@example.org" in client.get(response.location).get_data(as_text=True)
    assert _count(User) == 0, "no account until the link is followed"

    (link,) = links_in_outbox(app, "margaret.okafor@example.org")
    assert client.get(_path(link)).status_code == 200
    assert _count(User) == 0, "opening the link (as a mail scanner would) makes nothing"

    response = client.post(_path(link))
    assert response.status_code == 302
    assert response.location == "/my/"
    user = db.session.scalar(select(User))
    assert user.email == "margaret.okafor@example.org"
    assert user.role is Role.CITIZEN
    assert user.person.full_name == "Margaret Okafor"
    assert user.password_hash.startswith("$argon2id$")
    assert "Your care and support" in client.get("/my/").get_data(as_text=True)


def test_a_sign_up_link_works_once(app: Flask, client: FlaskClient) -> None:
    client.post("/sign-up", data=GOOD)
    (link,) = links_in_outbox(app, "margaret.okafor@example.org")
    assert client.post(_path(link)).status_code == 302
    second = app.test_client().post(_path(link))
    assert second.status_code == 400
    assert "This link cannot be used" in second.get_data(as_text=True)
    assert _count(User) == 1


def test_duplicate_email_answers_the_same_and_tells_the_owner(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    existing = make_user(Role.CITIZEN, email="margaret.okafor@example.org")
    response = client.post("/sign-up", data=GOOD)
    assert response.status_code == 302
    assert response.location == "/sign-up/check-your-email"
    assert _count(User) == 1
    assert _count(SignUpRequest) == 0
    (message,) = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == existing.email
    ]
    assert message.subject == "You already have an account"


def test_sign_up_hashes_the_password_whether_or_not_the_address_has_an_account(
    app: Flask, client: FlaskClient, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, item 10: an existing address answered in 17 ms and a new one in 220 ms (the
    argon2 hash), which told who has an account. Both now pay for one hash (and send one
    email, and land on the same page)."""
    hashed: list[str] = []
    real_hash = service.hash_password

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    make_user(Role.CITIZEN, email="margaret.okafor@example.org")
    monkeypatch.setattr(service, "hash_password", counting_hash)
    existing = client.post("/sign-up", data=GOOD)
    assert len(hashed) == 1
    new = client.post("/sign-up", data={**GOOD, "email": "dorothy.pearce@example.org"})
    assert len(hashed) == 2
    assert existing.status_code == new.status_code == 302
    assert existing.location == new.location == "/sign-up/check-your-email"
    recipients = [m.to for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])]
    assert sorted(recipients) == ["dorothy.pearce@example.org", "margaret.okafor@example.org"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"email": "not-an-email"}, "Enter an email address in the correct format"),
        ({"email": ""}, "Enter your email address"),
        ({"email": "a" * 250 + "@example.org"}, "Email address must be 254 characters or fewer"),
        ({"full_name": ""}, "Enter your full name"),
        ({"full_name": "x" * 201}, "Full name must be 200 characters or fewer"),
        ({"password": ""}, "Enter a password"),
        ({"password": "short"}, "Password must be 10 characters or more"),
        ({"password": "p" * 129}, "Password must be 128 characters or fewer"),
        ({"password": "password123"}, "Password is too easy to guess"),
        ({"password": "qwertyuiop"}, "Password is too easy to guess"),
        ({"password": "Margaret Okafor1"}, "Password is too easy to guess"),
    ],
)
def test_bad_sign_up_shows_an_error_summary_and_creates_nothing(
    app: Flask, client: FlaskClient, changes: dict[str, str], message: str
) -> None:
    response = client.post("/sign-up", data={**GOOD, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert "There is a problem" in page
    assert message in page
    assert "<title>Error: " in page
    assert _count(User) == 0
    assert _count(SignUpRequest) == 0
    assert _count(Person) == 0
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []


def test_missing_fields_entirely_are_errors_not_crashes(client: FlaskClient) -> None:
    response = client.post("/sign-up", data={})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for message in ("Enter your full name", "Enter your email address", "Enter a password"):
        assert message in page
