"""Changing and resetting passwords: single-use, expiring links; other sessions signed out."""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from typing import Any

import argon2._password_hasher as argon2_hasher
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts import passwords, service
from marketplace.accounts.models import PasswordResetToken, User
from marketplace.accounts.passwords import needs_rehash, verify_password
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from tests.conftest import PASSWORD, links_in_outbox, sign_in

NEW_PASSWORD = "marble kestrel saucepan"


def _path(link: str) -> str:
    return link.split("marketplace.test", 1)[1]


def _reset_link(app: Flask, client: FlaskClient, user: User) -> str:
    assert client.post("/forgotten-password", data={"email": user.email}).status_code == 302
    return _path(links_in_outbox(app, user.email)[-1])


def _new_password(client: FlaskClient, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"password": password, "confirm": password})


def test_reset_by_emailed_link_signs_in_with_the_new_password(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    assert client.get(path).status_code == 200
    response = _new_password(client, path)
    assert response.status_code == 302
    assert response.location == "/my/"
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD)


def test_unknown_email_gets_the_same_answer_and_no_email(app: Flask, client: FlaskClient) -> None:
    response = client.post("/forgotten-password", data={"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response.location == "/forgotten-password/check-your-email"
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []


def test_a_reset_link_works_once(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    assert _new_password(client, path).status_code == 302
    again = _new_password(app.test_client(), path, "another good passphrase here")
    assert again.status_code == 400
    assert "This link cannot be used" in again.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)


def test_using_one_link_spends_every_earlier_link(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    first = _reset_link(app, client, user)
    second = _reset_link(app, client, user)
    assert _new_password(client, second).status_code == 302
    assert client.get(first).status_code == 400


def test_an_expired_link_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    lifetime = app.config["PASSWORD_RESET_MAX_AGE_SECONDS"]
    with time_machine.travel(time_machine_now_plus(lifetime + 1), tick=False):
        response = _new_password(client, path)
    assert response.status_code == 400
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def time_machine_now_plus(seconds: int) -> float:
    return time.time() + seconds


def test_a_link_for_one_account_cannot_reset_another(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    victim = make_user(Role.CITIZEN)
    attacker = make_user(Role.CITIZEN)
    attackers_path = _reset_link(app, client, attacker)
    token = attackers_path.rsplit("/", 1)[1]
    response = _new_password(client, f"/reset-password/{victim.id}/{token}")
    assert response.status_code == 400
    db.session.refresh(victim)
    assert verify_password(victim.password_hash, PASSWORD)


def test_a_tampered_token_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    assert client.get(path[:-2] + "xx").status_code == 400


def test_tokens_are_stored_only_as_hashes(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    token = _reset_link(app, client, user).rsplit("/", 1)[1]
    stored = db.session.scalar(select(PasswordResetToken))
    assert token not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_a_weak_new_password_is_refused_and_the_link_still_works(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    response = _new_password(client, path, "password1")
    assert response.status_code == 400
    assert "Password" in response.get_data(as_text=True)
    assert _new_password(client, path).status_code == 302


def test_mismatched_confirmation_is_refused(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    path = _reset_link(app, client, user)
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": "different"})
    assert response.status_code == 400
    assert "The passwords do not match" in response.get_data(as_text=True)


def test_change_password_signs_out_other_sessions(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(here, user)
    sign_in(elsewhere, user)
    response = here.post(
        "/account/change-password",
        data={"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/account").status_code == 200
    assert elsewhere.get("/account").status_code == 302
    subjects = [m.subject for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])]
    assert "Your password has been changed" in subjects


def test_change_password_needs_the_current_one(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    sign_in(client, user)
    response = client.post(
        "/account/change-password",
        data={"current_password": "wrong" * 3, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 400
    assert "Your current password is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert verify_password(user.password_hash, PASSWORD)


def test_an_old_hash_is_upgraded_at_sign_in(app: Flask, make_user: Callable[..., User]) -> None:
    from argon2 import PasswordHasher

    user = make_user(Role.CITIZEN)
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1).hash(PASSWORD)
    db.session.commit()
    assert service.authenticate(user.email, PASSWORD) is user
    assert not needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, PASSWORD)


def test_importing_hashes_nothing_and_configuring_makes_the_decoy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The decoy hash (what an unknown email is verified against) is made when the hashing is
    configured at start-up, not by every process that imports the module (0.1 s and 64 MiB at
    the default cost); once made, verifying an unknown email hashes nothing more."""
    hashed: list[int] = []
    real_hash_secret = argon2_hasher.hash_secret

    def counting_hash_secret(*args: Any, **kwargs: Any) -> bytes:
        hashed.append(1)
        return real_hash_secret(*args, **kwargs)

    # Put back after the test: the module's hasher and decoy as the app configured them.
    monkeypatch.setattr(passwords, "_hasher", passwords._hasher)
    monkeypatch.setattr(passwords, "_decoy_hash", passwords._decoy_hash)
    monkeypatch.setattr(argon2_hasher, "hash_secret", counting_hash_secret)

    importlib.reload(passwords)
    assert hashed == []

    passwords.configure_hashing(time_cost=1, memory_kib=8192, parallelism=1)
    assert len(hashed) == 1
    assert not passwords.verify_password(None, "decoy password that is never anyone's")
    assert len(hashed) == 1
