"""Sign-in rate limits behind a proxy (issue 12, item 8): the client's address is taken from
X-Forwarded-For only when TRUSTED_PROXY_HOPS says a proxy writes it, and failures are counted
per account as well as per address, so one person's failures never lock out another."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.middleware.proxy_fix import ProxyFix

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.config import ConfigurationError, load_config
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"
WRONG = "not the password at all"


def _app(make_app: Callable[..., Flask], **settings: object) -> Flask:
    defaults: dict[str, object] = {
        "RATELIMIT_ENABLED": True,
        "SIGN_IN_RATE_LIMIT": "3 per minute",
        "SIGN_IN_ACCOUNT_RATE_LIMIT": "100 per minute",
    }
    return make_app(**{**defaults, **settings})


def _through_proxy(app: Flask) -> FlaskClient:
    """A browser whose every request reaches the app from the proxy's address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    return client


def _sign_in(client: FlaskClient, email: str, password: str, forwarded_for: str) -> int:
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def test_one_address_failing_does_not_lock_out_another_user_behind_the_proxy(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    app = _app(make_app, TRUSTED_PROXY_HOPS=1)
    with app.app_context():
        guesser, owner = _through_proxy(app), _through_proxy(app)
        for _ in range(3):
            assert _sign_in(guesser, "someone@example.org", WRONG, "198.51.100.7") == 400
        assert _sign_in(guesser, "someone@example.org", WRONG, "198.51.100.7") == 429
        assert _sign_in(owner, user.email, PASSWORD, "203.0.113.9") == 302


def test_without_trusted_hops_every_client_of_the_proxy_shares_its_address(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    """The default (0 hops): X-Forwarded-For is not honoured, so a client cannot pick an
    address of its own to escape the limit. (The README says to set the hops behind a
    proxy.)"""
    user = make_user(Role.CITIZEN)
    app = _app(make_app)
    with app.app_context():
        guesser, owner = _through_proxy(app), _through_proxy(app)
        for number in range(3):
            assert _sign_in(guesser, "someone@example.org", WRONG, f"198.51.100.{number}") == 400
        assert _sign_in(guesser, "someone@example.org", WRONG, "198.51.100.99") == 429
        assert _sign_in(owner, user.email, PASSWORD, "203.0.113.9") == 429


def test_addresses_a_client_writes_before_the_proxys_are_ignored(
    make_app: Callable[..., Flask],
) -> None:
    app = _app(make_app, TRUSTED_PROXY_HOPS=1)
    with app.app_context():
        guesser = _through_proxy(app)
        for number in range(3):
            chain = f"192.0.2.{number}, 198.51.100.7"  # the proxy appended the last one
            assert _sign_in(guesser, "someone@example.org", WRONG, chain) == 400
        assert _sign_in(guesser, "someone@example.org", WRONG, "192.0.2.50, 198.51.100.7") == 429


def test_failures_on_one_account_are_limited_from_any_address(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    victim, bystander = make_user(Role.CITIZEN), make_user(Role.CITIZEN)
    app = _app(
        make_app,
        TRUSTED_PROXY_HOPS=1,
        SIGN_IN_RATE_LIMIT="100 per minute",
        SIGN_IN_ACCOUNT_RATE_LIMIT="3 per minute",
    )
    with app.app_context():
        client = _through_proxy(app)
        spellings = [victim.email, victim.email.upper(), f"  {victim.email} "]
        for number, email in enumerate(spellings):
            assert _sign_in(client, email, WRONG, f"198.51.100.{number}") == 400
        assert _sign_in(client, victim.email, PASSWORD, "198.51.100.50") == 429
        assert _sign_in(client, bystander.email, PASSWORD, "198.51.100.50") == 302


def test_signing_in_successfully_does_not_count_against_the_account(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    user = make_user(Role.CITIZEN)
    app = _app(
        make_app, SIGN_IN_RATE_LIMIT="100 per minute", SIGN_IN_ACCOUNT_RATE_LIMIT="2 per minute"
    )
    with app.app_context():
        for _ in range(4):
            assert _sign_in(app.test_client(), user.email, PASSWORD, "") == 302


def test_the_proxy_is_trusted_for_address_and_scheme_but_never_host(
    make_app: Callable[..., Flask],
) -> None:
    assert not isinstance(make_app().wsgi_app, ProxyFix)
    wrapped = make_app(TRUSTED_PROXY_HOPS=2).wsgi_app
    assert isinstance(wrapped, ProxyFix)
    assert (wrapped.x_for, wrapped.x_proto, wrapped.x_host, wrapped.x_port) == (2, 2, 0, 0)


def test_a_negative_number_of_hops_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXY_HOPS"):
        load_config(tmp_path, {"ENVIRONMENT": "testing", "TRUSTED_PROXY_HOPS": -1})
