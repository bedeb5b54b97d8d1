"""RECON (issue 19, item 2): reconciliation from funder to person to penny. On a varied ledger
(allocations, releases, orders held and posted, card money, revisions, returns at close, a
reablement pot, an ISF): every figure of every table equals the sum of the ledger transfers
its drill-down lists; the totals are the figures `flask ledger verify` checks (each stream's,
each pot's); a person's figures are their own budget page's; the pot's lines report their
plan against what was allocated; over and under spending, and commitments with no delivery."""

from __future__ import annotations

import random
from datetime import date, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.figures import budget_figures, figures_of, pot_figures, stream_figures
from marketplace.budgets.models import (
    FunderKind,
    FundingStream,
    PaymentFrequency,
    PersonalBudget,
    StreamKind,
)
from marketplace.budgets.spending import release, reserve, spend
from marketplace.budgets.verify import check_budgets
from marketplace.console import reconciliation as recon
from marketplace.console.reconciliation import Period, Scope
from marketplace.ledger import Transfer
from marketplace.orders import reablement
from marketplace.orders.verify import check_orders
from marketplace.payments.verify import check_card_payments
from marketplace.people.models import Person
from tests.console.reconciliation_fixtures import Varied, period_world, varied

__all__ = ["period_world", "varied"]

YEAR = Period.financial_year(2026)
FIGURE_NAMES = [name for name, _ in recon.FIGURES]


def _verify(session: Session) -> None:
    """What `flask ledger verify` checks finds nothing."""
    report = ledger.verify_ledger(session)
    assert report.ok, report.problems
    assert check_budgets(session)[0] == []
    assert check_orders(session)[0] == []
    assert check_card_payments(session)[0] == []


def _drilled(found: recon.Reconciliation, row: recon.Row) -> None:
    """Every figure of the row is the sum of the transfers its drill-down lists."""
    for figure in FIGURE_NAMES:
        lines = found.movements(row.scope, figure)
        if figure == "available_pence":
            total = sum(line.movement.available_pence for line in lines)
        else:
            total = sum(line.movement.amount_pence for line in lines)
        assert total == row[figure], (row.label, figure)
        assert all(isinstance(line.movement.transfer, Transfer) for line in lines)


def test_every_figure_is_the_sum_of_the_transfers_behind_it(
    session: Session, varied: Varied
) -> None:
    _verify(session)
    found = recon.reconcile(session, YEAR)
    tables = [
        found.funders(),
        found.localities(),
        found.providers(),
        found.people(Scope()),
        *(found.pot_line_rows(pot) for pot in found.pots if pot.purpose.value == "budgets"),
        *(found.streams_of(person.id) for person in varied.people.values()),
    ]
    assert all(tables)
    for table in tables:
        for row in table:
            _drilled(found, row)
    # The funders' rows add up to everything; so do the people's and the localities'.
    everything = found.totals()
    for table in (found.funders(), found.people(Scope()), found.localities()):
        for figure in FIGURE_NAMES:
            assert sum(row[figure] for row in table) == everything[figure]


def test_the_totals_are_what_ledger_verify_checks(
    app: Flask, session: Session, varied: Varied
) -> None:
    verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    found = recon.reconcile(session, YEAR)
    streams = session.query(FundingStream).all()
    by_stream = stream_figures(session, streams)
    for stream in streams:
        mine = found.totals(Scope(stream=str(stream.id)))
        expected = by_stream[stream.id]
        for figure in FIGURE_NAMES:
            assert mine[figure] == getattr(expected, figure), (stream.kind, figure)
        # The stream's own balances, as verify recomputes them from the transfers.
        assert mine["available_pence"] == ledger.balance(session, stream.account_id).available
        assert mine["allocated_pence"] + mine["scheduled_pence"] == stream.amount_pence
    for pot in (varied.council_pot, varied.nhs_pot):
        own = found.pot_totals(pot=pot.id)
        of_pot = pot_figures(session, pot)
        assert own["given_pence"] == of_pot.given_pence
        assert own["unallocated_pence"] == of_pot.unallocated_pence
        assert own["unallocated_pence"] == ledger.balance(session, pot.account_id).posted
        streams_of_pot = found.totals(Scope(pot=str(pot.id)))
        for figure in FIGURE_NAMES:
            assert streams_of_pot[figure] == getattr(of_pot.streams, figure)
    # The reablement pot: given, held and paid as its own balance says.
    [(pot, figures)] = found.reablement()
    use = reablement.pots_use(session, [pot])[pot.id]
    assert figures["given_pence"] == use["given"] == 2_000_00
    assert figures["committed_pence"] == use["held"] > 0
    assert figures["spent_pence"] == use["paid"]
    assert figures["available_pence"] == use["left"]
    # By person: Cyril's episode is all of the reablement pot's care.
    [cyril] = found.reablement_people(pot.id)
    assert cyril.label == "Cyril Marsh, Chiltern Home Care"
    assert cyril["committed_pence"] == use["held"]
    assert cyril["spent_pence"] == use["paid"]
    for figure in ("given_pence", "committed_pence", "spent_pence", "available_pence"):
        pot_lines = found.pot_movements(figure, pot=pot.id)
        key = "available_pence" if figure == "available_pence" else None
        total = sum(
            line.movement.available_pence if key else line.movement.amount_pence
            for line in pot_lines
        )
        assert total == figures[figure]


def test_a_persons_figures_are_their_budget_pages(session: Session, varied: Varied) -> None:
    found = recon.reconcile(session, YEAR)
    rows = {row.key: row for row in found.people(Scope())}
    for name, budget in varied.budgets.items():
        person = varied.people[name]
        page = budget_figures(session, budget).total
        mine = rows[str(person.id)]
        for figure in FIGURE_NAMES:
            assert mine[figure] == getattr(page, figure), (name, figure)
    # The varied ledger has every kind of figure somewhere.
    everything = found.totals()
    for figure in FIGURE_NAMES:
        assert everything[figure] != 0 or figure == "carried_forward_pence", figure


def test_the_pots_lines_report_their_plan_against_what_was_allocated(
    session: Session, varied: Varied
) -> None:
    found = recon.reconcile(session, YEAR)
    rows = {row.label: row for row in found.pot_line_rows(varied.nhs_pot)}
    chc, s117 = rows["Continuing healthcare"], rows["Section 117 aftercare"]
    assert chc.extra["planned_pence"] == 3_000_00
    assert chc.extra["cost_centre"] == "CHC01"
    # Bea's NHS stream: £1,500 revised up to £1,600 then down to £1,400.
    assert chc.extra["whole_pence"] == 1_400_00
    assert chc.extra["difference_pence"] == 1_400_00 - 3_000_00
    # Cyril's £500 of section 117 money, his period closed: what was not spent went back.
    assert s117["returned_pence"] > 0
    assert s117.scope == Scope(funder=str(varied.nhs_pot.funder_id), pot=str(varied.nhs_pot.id),
                               line=str(varied.s117.id))  # fmt: skip
    funders_rows = {row.label: row for row in found.funders()}
    assert next(iter(funders_rows)) == "Hertfordshire County Council"
    assert list(funders_rows)[-1] == recon.OWN_MONEY_NAME
    nhs = funders_rows[varied.nhs_pot.funder.name]
    assert nhs["given_pence"] == 500_000_00


def test_localities_and_providers(session: Session, varied: Varied) -> None:
    found = recon.reconcile(session, YEAR)
    areas = {row.label for row in found.localities()}
    assert recon.NO_AREA in areas  # Cyril has no postcode
    assert len(areas) >= 2
    [provider] = found.providers()
    assert provider.label == "Chiltern Home Care"
    # Bea's £300 and Cyril's £120 purchases, Margaret's first cycle; the £80 ISF.
    assert provider["spent_pence"] >= 300_00 + 120_00
    assert provider["isf_pence"] == 80_00 - 50_00
    assert provider["committed_pence"] > 0
    _drilled(found, provider)


def test_a_period_outside_the_budgets_finds_none_of_them(session: Session, varied: Varied) -> None:
    found = recon.reconcile(session, Period.financial_year(2024))
    assert found.lines == []
    assert found.people(Scope()) == []


def test_over_and_under_spending_against_the_point_in_the_period(
    session: Session, council_pot: object, make_budget: object
) -> None:
    pot = council_pot
    payee = funders.payee_account(session, code="home-help", name="Home Help")
    people = [Person(full_name=name) for name in ("Over Spent", "Under Spent", "On Track")]
    session.add_all(people)
    session.commit()
    budgets = [
        create_budget(
            session,
            person=person,
            starts_on=date(2026, 4, 1),
            ends_on=date(2027, 3, 31),
            frequency=PaymentFrequency.ANNUAL,
            streams=[StreamSpec(StreamKind.COUNCIL, 3_650_00, pot=pot)],  # type: ignore[arg-type]
            today=date(2026, 4, 1),
        )
        for person in people
    ]
    # By 30 September (183 of 365 days) about £1,830 is expected; the tolerance is 10%, £365.
    for budget, pence in zip(budgets, (2_500_00, 1_000_00, 1_800_00), strict=True):
        spend(
            session,
            reserve(
                session,
                budget,
                amount_pence=pence,
                category_codes={"meals"},
                payee=payee,
                key=f"p:{budget.id}",
            ),
            key=f"s:{budget.id}",
        )
    session.commit()
    found = recon.reconcile(session, YEAR)
    flagged = recon.pace(found, today=date(2026, 9, 30), tolerance_percent=10)
    assert [(p.person_name, p.verdict) for p in flagged] == [
        ("Over Spent", "Over"),
        ("Under Spent", "Under"),
    ]
    over = flagged[0]
    assert over.expected_pence == 3_650_00 * 183 // 365
    assert over.used_pence == 2_500_00
    # A wider tolerance flags nobody.
    assert recon.pace(found, today=date(2026, 9, 30), tolerance_percent=30) == []


def test_commitments_with_no_delivery_past_the_providers_terms(
    session: Session, varied: Varied
) -> None:
    package = varied.package
    held = package.cycles[1]  # the second cycle: held, nothing delivered
    terms = package.invoice_cycle.days
    due = held.ends_on + timedelta(days=terms)

    def of_package(today: date) -> list[recon.Overdue]:
        found = recon.overdue_commitments(session, YEAR, today=today)
        return [late for late in found if late.order_id == package.id]

    assert of_package(due) == []
    [late] = of_package(due + timedelta(days=1))
    assert late.order_reference == package.reference
    assert late.held_pence == held.amount_pence
    assert late.days_overdue(due + timedelta(days=1)) == 1
    # The drill-down by its commitment's key lists exactly the held money.
    found = recon.reconcile(session, YEAR)
    lines = found.movements(Scope(reference=late.commitment_key), "committed_pence")
    assert sum(line.movement.amount_pence for line in lines) == late.held_pence
    # The reablement episode's cycles are commitments too (held from its pot, nothing
    # delivered), and the settled first cycle of the package is not among them.
    everything = recon.overdue_commitments(session, YEAR, today=date(2027, 1, 1))
    assert {late.person_name for late in everything} == {"Margaret Okafor", "Cyril Marsh"}
    assert all(late.cycle_number != 1 or late.person_name != "Margaret Okafor"
               for late in everything)  # fmt: skip


def test_bad_periods_are_refused() -> None:
    import pytest

    with pytest.raises(recon.ReconciliationError, match="after the start"):
        Period(date(2026, 5, 1), date(2026, 4, 1))
    with pytest.raises(recon.ReconciliationError, match="from 2000 to 2100"):
        Period.financial_year(1999)
    with pytest.raises(recon.ReconciliationError):
        Scope.from_args({"person": "not-a-uuid"})


def _random_budgets(
    session: Session, rng: random.Random, council_pot: object, nhs_pot: object
) -> list[PersonalBudget]:
    people = [Person(full_name=f"Person {n}") for n in range(6)]
    session.add_all(people)
    session.commit()
    budgets = []
    for person in people:
        specs = [StreamSpec(StreamKind.COUNCIL, rng.randint(100_00, 900_00), pot=council_pot)]  # type: ignore[arg-type]
        if rng.random() < 0.5:
            specs.append(StreamSpec(StreamKind.NHS, rng.randint(100_00, 500_00), pot=nhs_pot))  # type: ignore[arg-type]
        if rng.random() < 0.5:
            specs.append(StreamSpec(StreamKind.CLIENT_CONTRIBUTION, rng.randint(1_00, 90_00)))
        budgets.append(
            create_budget(
                session,
                person=person,
                starts_on=date(2026, 4, 1),
                ends_on=date(2027, 3, 31),
                frequency=rng.choice(list(PaymentFrequency)),
                streams=specs,
                today=date(2026, 8, 1),
            )
        )
    session.commit()
    return budgets


def _random_purchases(
    session: Session, rng: random.Random, budgets: list[PersonalBudget], count: int
) -> None:
    """Purchases held from random budgets; some spent, some released, the rest still held."""
    payee = funders.payee_account(session, code="random", name="Random Care")
    for n in range(count):
        budget = rng.choice(budgets)
        try:
            commitment = reserve(
                session,
                budget,
                amount_pence=rng.randint(1, 60_00),
                category_codes={"personal-care"},
                payee=payee,
                key=f"r{n}",
            )
        except ledger.InsufficientFunds:
            continue
        choice = rng.random()
        if choice < 0.4:
            spend(session, commitment, key=f"s{n}")
        elif choice < 0.6:
            release(session, commitment, key=f"v{n}")
    session.commit()


def test_random_ledgers_reconcile_to_the_penny(
    session: Session, council_pot: object, nhs_pot: object
) -> None:
    """Randomised: many purchases held, spent and released from random budgets; every
    person's and every stream's figures still equal the ledger's, and verify passes."""
    rng = random.Random(19)
    budgets = _random_budgets(session, rng, council_pot, nhs_pot)
    _random_purchases(session, rng, budgets, 40)
    _verify(session)
    found = recon.reconcile(session, YEAR)
    people_rows = {row.key: row for row in found.people(Scope())}
    for budget in budgets:
        page = budget_figures(session, budget).total
        assert all(
            people_rows[str(budget.person_id)][figure] == getattr(page, figure)
            for figure in FIGURE_NAMES
        )
        for stream in budget.streams:
            mine = found.totals(Scope(stream=str(stream.id)))
            expected = figures_of(stream, _touching(session, stream))
            assert all(mine[f] == getattr(expected, f) for f in FIGURE_NAMES)
    for row in found.funders():
        _drilled(found, row)
    council = next(r for r in found.funders() if r.label == council_pot.funder.name)  # type: ignore[attr-defined]
    assert council["given_pence"] == 1_000_000_00
    assert funders.all_funders(session)[0].kind is FunderKind.COUNCIL


def _touching(session: Session, stream: FundingStream) -> list[Transfer]:
    from sqlalchemy import or_, select

    accounts = [stream.account_id, stream.unreleased_account_id]
    return list(
        session.scalars(
            select(Transfer).where(
                or_(
                    Transfer.debit_account_id.in_(accounts),
                    Transfer.credit_account_id.in_(accounts),
                )
            )
        )
    )
