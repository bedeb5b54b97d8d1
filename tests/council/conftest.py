"""An officer signed in (the citizens' fixtures, pots, a citizen and their budget, are a
plugin: tests/citizens/fixtures.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from tests.conftest import sign_in


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


@pytest.fixture
def officer_client(client: FlaskClient, officer: User) -> FlaskClient:
    sign_in(client, officer)
    return client
