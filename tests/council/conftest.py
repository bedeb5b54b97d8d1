"""An officer signed in, and the citizens' fixtures (pots, a citizen and their budget)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from tests.citizens.conftest import (  # noqa: F401  (fixtures)
    budget,
    citizen,
    pots,
    provider_payee,
)
from tests.conftest import sign_in


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


@pytest.fixture
def officer_client(client: FlaskClient, officer: User) -> FlaskClient:
    sign_in(client, officer)
    return client
