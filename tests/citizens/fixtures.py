"""Fixtures (a pytest plugin, see tests/conftest.py): a citizen with a budget from two funders'
pots, the pots, a provider's payee account, and the citizen signed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.models import FunderPot, PersonalBudget, StreamKind
from marketplace.extensions import db
from marketplace.ledger import LedgerAccount
from tests.citizens.helpers import funded_pots, give_budget
from tests.conftest import sign_in


@pytest.fixture
def pots(app: Flask) -> dict[StreamKind, FunderPot]:
    return funded_pots()


@pytest.fixture
def citizen(make_user: Callable[..., User], reference_data: None) -> User:
    """A citizen's account (a User) with a person of their own: what `citizen` means in every
    folder (a signed-in client of one is `citizen_client`)."""
    return make_user(Role.CITIZEN)


@pytest.fixture
def budget(citizen: User, pots: dict[StreamKind, FunderPot]) -> PersonalBudget:
    return give_budget(
        citizen.person, pots, council=13_000_00, nhs=2_600_00, client_contribution=1_300_00
    )


@pytest.fixture
def provider_payee(app: Flask) -> LedgerAccount:
    account = funders.payee_account(db.session, code="organisation:demo", name="Home Help Ltd")
    db.session.commit()
    return account


@pytest.fixture
def citizen_client(client: FlaskClient, citizen: User) -> FlaskClient:
    sign_in(client, citizen)
    return client
