"""The demo's ended, still open budgets (issue 19, CLOSE): after the budgets step, the period
end's preview on the demo officer's page finds them (one carried forward, one returned, one
left open with why), they close, and the ledger verifies; a second run adds nothing."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.budgets.models import BudgetStatus, PersonalBudget
from marketplace.console import period_end
from marketplace.console.models import UnspentRule
from marketplace.console.period_end import Selection
from marketplace.demo import seed
from marketplace.demo.budgets_seed import OFFICER_EMAIL, seed_budgets
from marketplace.demo.console_period_end import PEOPLE, seed_period_end
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from tests.demo.test_budgets_seed import PROVIDERS

TODAY = date(2026, 11, 24)


def test_the_demo_has_ended_periods_to_close_in_bulk(app: Flask) -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()
    seed_budgets(TODAY)
    first = seed_period_end(db.session, TODAY)
    db.session.commit()

    assert [(t.kind, len(t.created)) for t in first.tallies] == [
        ("people", 3),
        ("personal budgets", 4),
    ]
    selection = Selection(TODAY - timedelta(days=1), UnspentRule.CARRY_FORWARD)
    preview = period_end.preview_period_end(db.session, selection)
    assert [p.budget.person.full_name for p in preview.plans] == sorted(PEOPLE)
    dennis, joan, ravi = preview.plans
    assert (joan.carried_pence, joan.returned_pence) == (2_860_00, 0)
    assert (dennis.carried_pence, dennis.returned_pence) == (0, 3_250_00)
    assert ravi.problems == [
        "Council: £45 is still committed (held for Day centre, last week of the period (not yet "
        "invoiced)). Those purchases must be paid or released before the period can close"
    ]
    # The area filter finds Joan by her Stevenage postcode.
    stevenage = next(
        d for d in period_end.districts_to_choose(db.session) if "SG1" in d.postcode_districts
    )
    assert [
        b.person.full_name
        for b in period_end.chosen_budgets(
            db.session, Selection(selection.ended_by, selection.rule, district_code=stevenage.code)
        )
    ] == ["Joan Whitaker"]

    again = seed_period_end(db.session, TODAY)
    assert [(t.kind, len(t.created), t.existing) for t in again.tallies] == [
        ("people", 0, 3),
        ("personal budgets", 0, 4),
    ]
    officer = accounts.user_by_email(OFFICER_EMAIL)
    assert officer is not None
    period_end.confirm_period_end(
        db.session, selection, fingerprint=preview.fingerprint, made_by=officer
    )
    db.session.commit()
    statuses = {
        (b.person.full_name, b.starts_on < TODAY - timedelta(days=30)): b.status
        for b in db.session.scalars(select(PersonalBudget))
        if b.person.full_name in PEOPLE
    }
    assert statuses == {
        ("Joan Whitaker", True): BudgetStatus.CLOSED,
        ("Joan Whitaker", False): BudgetStatus.OPEN,
        ("Dennis Okafor", True): BudgetStatus.CLOSED,
        ("Ravi Patel", True): BudgetStatus.OPEN,
    }
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
