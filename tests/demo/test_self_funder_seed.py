"""The demo's self-funder: a citizen with a person record and no personal budget, so that
`make run` shows someone who pays for their care by card (docs/payments.md, "Paying")."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import service as accounts
from marketplace.budgets.own_funds import is_self_funder
from marketplace.budgets.queries import budgets_of
from marketplace.extensions import db
from tests.conftest import DemoCounty

SELF_FUNDER = "selffunder@demo.example.org"


def test_the_demo_has_a_self_funder_with_a_person_and_no_budget(
    app: Flask, demo_county: DemoCounty
) -> None:
    seeded = demo_county.restore()

    user = accounts.user_by_email(SELF_FUNDER)
    assert user is not None
    assert SELF_FUNDER in "\n".join(seeded.lines)  # among the sign-ins `flask seed-demo` prints
    person = user.person
    assert person is not None
    assert budgets_of(db.session, person) == []
    assert is_self_funder(db.session, person)
