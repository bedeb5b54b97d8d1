"""Administrators read the development mail outbox and the list of accounts."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages, queue_email
from tests.conftest import sign_in


def test_the_outbox_lists_emails_as_links_and_shows_each(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    queue_email("a@example.org", "Hello <there> & welcome", "Open https://example.org/x")
    db.session.commit()
    sign_in(client, make_user(Role.ADMIN))
    page = client.get("/admin/outbox").get_data(as_text=True)
    (message,) = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    assert f'href="/admin/outbox/{message.id}">Hello &lt;there&gt; &amp; welcome</a>' in page
    shown = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert "a@example.org" in shown
    assert '<a href="https://example.org/x"' in shown


def test_the_users_page_lists_every_account(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    citizen = make_user(Role.CITIZEN)
    sign_in(client, admin)
    page = client.get("/admin/users").get_data(as_text=True)
    assert admin.email in page
    assert citizen.email in page
    assert "2 accounts" in page
