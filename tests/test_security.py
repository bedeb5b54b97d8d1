"""Security headers on every response, CSRF on every form, SQLite set up for concurrency."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from marketplace.accounts.models import SignUpRequest, User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    "path", ["/", "/sign-in", "/no-such-page", "/healthz", "/static/manifest.json"]
)
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    response.close()
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script(client: FlaskClient) -> None:
    page = client.get("/sign-in").get_data(as_text=True)
    for tag in page.split("<script")[1:]:
        opening = tag.split(">", 1)[0]
        assert "src=" in opening, f"inline script: <script{opening}>"


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        response = app.test_client().post(
            "/sign-up",
            data={
                "full_name": "A B",
                "email": "a@example.org",
                "password": "lantern orchard pebble",
            },
        )
        assert response.status_code == 400
        assert "your form could not be sent" in response.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(SignUpRequest)) == 0


def test_sign_out_without_a_csrf_token_is_refused(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    app = make_app(WTF_CSRF_ENABLED=True)
    user = make_user(Role.CITIZEN)
    with app.app_context():
        client = app.test_client()
        page = client.get("/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        response = client.post(
            "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        assert client.post("/sign-out").status_code == 400
        assert client.get("/account").status_code == 200


def test_session_cookie_is_http_only_and_same_site(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite settings")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
