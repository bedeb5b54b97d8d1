"""The demo's pot lines (issue 19, RECON): after the budgets step, the ICB's pot has its two
lines, the reconciliation reports each line's plan against what its person was allocated and
finds Grace's held care under continuing healthcare; the ledger verifies; a second run adds
nothing."""

from __future__ import annotations

from datetime import date

import time_machine
from flask import Flask
from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets.figures import budget_figures, pot_figures
from marketplace.budgets.models import PersonalBudget, PotPurpose
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.verify import check_budgets
from marketplace.console import reconciliation as recon
from marketplace.demo import seed
from marketplace.demo.budgets_seed import ICB, seed_budgets
from marketplace.demo.console_reconciliation import HELD_PENCE, seed_reconciliation
from marketplace.demo.data.county import demo_organisations
from marketplace.extensions import db
from marketplace.orders import reablement
from tests.conftest import DemoCounty
from tests.demo.test_budgets_seed import PROVIDERS
from tests.test_statements_per_page import DEMO_DAY

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


def test_the_whole_demo_reconciles_with_ledger_verify(app: Flask, demo_county: DemoCounty) -> None:
    """The demo county (every step) and its pot lines: `flask ledger verify` passes, and for
    each of the demo's financial years every budgets pot's figures on the reconciliation (its
    own and its streams') are the budgets' own pot figures, the reablement pots' their balances,
    and every person's are their budgets' pages'."""
    seeded = demo_county.restore(DEMO_DAY)
    with time_machine.travel(seeded.finished_at, tick=True):  # just after the seed
        seed_reconciliation(db.session, DEMO_DAY.date())
        db.session.commit()
        verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
        assert verified.exit_code == 0, verified.output
        assert "ledger verify: OK" in verified.output
        budgets = db.session.scalars(select(PersonalBudget)).all()
        years = sorted({financial_year_of(b.starts_on) for b in budgets})
        assert years
        checked = []
        for year in years:
            found = recon.reconcile(db.session, recon.Period.financial_year(year))
            for pot in found.pots:
                if pot.financial_year != year:
                    continue
                if pot.purpose is PotPurpose.REABLEMENT:
                    [(_, figures)] = [(p, f) for p, f in found.reablement() if p.id == pot.id]
                    use = reablement.pots_use(db.session, [pot])[pot.id]
                    assert figures["committed_pence"] == use["held"]
                    assert figures["spent_pence"] == use["paid"]
                    continue
                expected = pot_figures(db.session, pot)
                own = found.pot_totals(pot=pot.id)
                assert own["given_pence"] == expected.given_pence
                assert own["unallocated_pence"] == expected.unallocated_pence
                checked.append((pot.label, expected.streams.spent_pence))
                streams = found.totals(recon.Scope(pot=str(pot.id)))
                for figure, _ in recon.FIGURES:
                    assert streams[figure] == getattr(expected.streams, figure), (pot.label, figure)
            people = {row.key: row for row in found.people(recon.Scope())}
            in_year = [b for b in budgets if found.period.since <= b.ends_on
                       and b.starts_on <= found.period.until]  # fmt: skip
            by_person: dict[str, dict[str, int]] = {}
            for budget in in_year:
                total = budget_figures(db.session, budget).total
                mine = by_person.setdefault(str(budget.person_id), {})
                for figure, _ in recon.FIGURES:
                    mine[figure] = mine.get(figure, 0) + getattr(total, figure)
            for person_id, figures in by_person.items():
                for figure, pence in figures.items():
                    assert people[person_id][figure] == pence, (person_id, figure)
        # The council's and the ICB's pots, with money spent from them.
        assert len(checked) >= 2
        assert any(spent for _, spent in checked)
