"""The layout makes the service navigation once a page, from the user itself.

Every template rendered runs the context processors, and a form field drawn by
govuk-frontend-wtf is a template of its own: the navigation used to be made by a context
processor for each of them, from the `current_user` proxy (resolved again at each of its
thirty-odd reads). The layout now asks for it once, with the user Flask-Login put in the
template's context."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask, template_rendered
from flask.testing import FlaskClient
from werkzeug.local import LocalProxy

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from tests.conftest import sign_in


@pytest.fixture
def made(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[tuple[type, object]]:
    """Whom the navigation was made for (the type of what it was given, and its id), one
    entry a call."""
    users: list[tuple[type, object]] = []
    navigation_for = app.jinja_env.globals["navigation_for"]

    def counting(user: object) -> object:
        users.append((type(user), getattr(user, "id", None)))
        return navigation_for(user)  # type: ignore[operator]

    monkeypatch.setitem(app.jinja_env.globals, "navigation_for", counting)
    return users


@pytest.fixture
def rendered(app: Flask) -> Iterator[list[str]]:
    """The names of the templates rendered, one entry a render."""
    names: list[str] = []

    def record(_sender: Flask, template: object, **_extra: object) -> None:
        names.append(str(getattr(template, "name", "")))

    with template_rendered.connected_to(record, app):
        yield names


def test_a_form_page_makes_its_navigation_once_for_a_visitor(
    client: FlaskClient, made: list[tuple[type, object]], rendered: list[str]
) -> None:
    page = client.get("/sign-up")

    assert page.status_code == 200
    assert len(rendered) > 3, rendered  # the page and its fields: each ran the processors
    assert len(made) == 1
    assert not issubclass(made[0][0], LocalProxy)
    assert 'href="/sign-in"' in page.get_data(as_text=True)


def test_a_signed_in_page_makes_its_navigation_once_for_the_user(
    client: FlaskClient,
    make_user: Callable[..., User],
    made: list[tuple[type, object]],
    rendered: list[str],
) -> None:
    user = make_user(Role.CITIZEN)
    sign_in(client, user)
    made.clear()
    rendered.clear()

    page = client.get("/account/change-password")

    assert page.status_code == 200
    assert len(rendered) > 3, rendered
    assert made == [(User, user.id)]
    assert "Notifications (0)" in page.get_data(as_text=True)
