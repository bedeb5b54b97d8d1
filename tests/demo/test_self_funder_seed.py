"""The demo's self-funder: a citizen with a person record and no personal budget, so that
`make run` shows someone who pays for their care by card (docs/payments.md, "Paying")."""

from __future__ import annotations

from flask import Flask

from marketplace.accounts import service as accounts
from marketplace.budgets.own_funds import is_self_funder
from marketplace.budgets.queries import budgets_of
from marketplace.extensions import db

SELF_FUNDER = "selffunder@demo.example.org"


def test_the_demo_has_a_self_funder_with_a_person_and_no_budget(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output

    user = accounts.user_by_email(SELF_FUNDER)
    assert user is not None
    assert SELF_FUNDER in result.output  # among the printed sign-ins
    person = user.person
    assert person is not None
    assert budgets_of(db.session, person) == []
    assert is_self_funder(db.session, person)
