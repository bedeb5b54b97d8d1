"""The demo's pot lines (issue 19, RECON): after the budgets step, the ICB's pot has its two
lines, the reconciliation reports each line's plan against what its person was allocated and
finds Grace's held care under continuing healthcare; the ledger verifies; a second run adds
nothing."""

from __future__ import annotations

from datetime import date

from flask import Flask

from marketplace import ledger
from marketplace.budgets.verify import check_budgets
from marketplace.console import reconciliation as recon
from marketplace.demo import seed
from marketplace.demo.budgets_seed import ICB, seed_budgets
from marketplace.demo.console_reconciliation import HELD_PENCE, seed_reconciliation
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from tests.demo.test_budgets_seed import PROVIDERS

TODAY = date(2026, 11, 24)


def test_the_demo_nhs_pot_has_lines_that_reconcile(app: Flask) -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()
    seed_budgets(TODAY)
    first = seed_reconciliation(db.session, TODAY)
    db.session.commit()
    assert [(t.kind, len(t.created)) for t in first.tallies] == [
        ("pot lines", 2),
        ("people", 2),
        ("personal budgets", 2),
    ]
    assert ledger.verify_ledger(db.session).ok
    assert check_budgets(db.session)[0] == []

    found = recon.reconcile(db.session, recon.Period.financial_year(2026))
    [pot] = [p for p in found.pots if p.funder.name == ICB and p.purpose.value == "budgets"]
    rows = {row.label: row for row in found.pot_line_rows(pot)}
    chc = rows["Continuing healthcare"]
    assert chc.extra["planned_pence"] == 1_500_000_00
    assert chc.extra["whole_pence"] == 9_100_00
    assert chc["committed_pence"] == HELD_PENCE
    assert rows["Section 117 aftercare"].extra["whole_pence"] == 5_200_00
    people = {row.label for row in found.people(chc.scope)}
    assert people == {"Grace Whitfield"}
    areas = {row.label for row in found.localities(chc.scope)}
    assert areas == {"Stevenage"}

    again = seed_reconciliation(db.session, TODAY)
    db.session.commit()
    assert [(t.kind, len(t.created), t.existing) for t in again.tallies] == [
        ("pot lines", 0, 2),
        ("people", 0, 2),
        ("personal budgets", 0, 2),
    ]
