"""`flask seed-demo`'s ongoing care (issue 18): Dorothy's home care began as free reablement,
went on as a chargeable package with the same provider, carried over from her first, short
budget into her new year's budget without a new order, and was varied to more hours; other
people's packages show the other states a council sees. Made once, by the rules, with a
ledger that verifies."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.budgets import isf
from marketplace.budgets.models import (
    BudgetStatus,
    IndividualServiceFund,
    IsfState,
    PersonalBudget,
    PotPurpose,
)
from marketplace.budgets.verify import check_budgets
from marketplace.demo import seed
from marketplace.demo.budgets_seed import CITIZEN_EMAIL, seed_budgets
from marketplace.demo.data.county import demo_organisations
from marketplace.demo.orders_seed import HOME_CARE, PROVIDER, WASHING, seed_orders
from marketplace.demo.packages_seed import seed_packages
from marketplace.extensions import db
from marketplace.ledger import verify_ledger
from marketplace.orders.models import (
    CycleState,
    Order,
    OrderFunding,
    OrderStatus,
    PackageShortfall,
    ReablementEpisode,
    ReablementOutcome,
    VariationState,
)
from marketplace.orders.verify import check_orders
from providers.models import LeadProvider

TODAY = date(2026, 11, 24)
PROVIDERS = {"Chiltern Home Care", "Lea Valley Day Centre", PROVIDER, "Herts Independent Brokerage"}


def _seeded() -> None:
    seed.seed_taxonomy()
    seed.seed_localities()
    seed.seed_providers([org for org in demo_organisations() if org.name in PROVIDERS])
    seed.seed_users()
    seed_budgets(TODAY)
    seed_orders(TODAY)
    seed_packages(TODAY)
    db.session.commit()


def _verified() -> None:
    assert verify_ledger(db.session).ok
    assert check_budgets(db.session)[0] == []
    assert check_orders(db.session)[0] == []


def test_ongoing_care_in_every_state_once(app: Flask) -> None:
    """One seeding (it takes seconds) read three ways."""
    _seeded()
    dorothy = accounts.user_by_email(CITIZEN_EMAIL).person
    episode = db.session.scalars(
        select(ReablementEpisode).where(ReablementEpisode.person_id == dorothy.id)
    ).one()
    order = episode.order

    # Reablement with Bluebell, ended in ongoing care: the same order goes on, chargeable.
    assert episode.outcome is ReablementOutcome.ONGOING_CARE
    assert order.organisation.name == PROVIDER
    assert order.service_name == WASHING
    assert order.open_ended
    assert order.status is OrderStatus.IN_PROGRESS
    assert order.funding is OrderFunding.BUDGET
    free = [cycle for cycle in order.cycles if cycle.pot_id is not None]
    assert free
    assert {cycle.pot.purpose for cycle in free} == {PotPurpose.REABLEMENT}

    # Paid cycle by cycle by two budgets: the short first one (closed once its cycles were
    # paid, the package running on) and the new year's, which it carried over into.
    budgets = db.session.scalars(
        select(PersonalBudget)
        .where(PersonalBudget.person_id == dorothy.id)
        .order_by(PersonalBudget.starts_on)
    ).all()
    first, current = budgets
    assert first.status is BudgetStatus.CLOSED
    assert current.starts_on == date(2026, 4, 1)
    paid_by = {cycle.budget_id for cycle in order.cycles if cycle.pot_id is None}
    assert paid_by == {first.id, current.id}
    for cycle in order.cycles:
        if cycle.budget_id is not None:
            payer = first if cycle.budget_id == first.id else current
            assert payer.starts_on <= cycle.starts_on <= payer.ends_on
    # Rolling: held only up to a cycle ahead of today, never the whole year.
    held = [cycle for cycle in order.cycles if cycle.state is CycleState.HELD]
    assert held
    assert all(cycle.starts_on <= TODAY + timedelta(days=28) for cycle in held)
    assert all(
        cycle.state is CycleState.SETTLED
        for cycle in order.cycles
        if cycle.ends_on < TODAY - timedelta(days=3)
    )

    # More hours: proposed by Dorothy, accepted by Bluebell, agreed by the council.
    (variation,) = order.variations
    assert variation.state is VariationState.ACCEPTED
    assert [terms.units_per_occasion for terms in order.terms] == [1, 2]
    later = [c for c in order.cycles if c.starts_on >= variation.effective_from]
    assert later
    assert all(c.units % 2 == 0 for c in later)
    _verified()
    _other_packages_in_the_states_a_council_sees()
    _seeding_again_creates_nothing()


def _other_packages_in_the_states_a_council_sees() -> None:
    episodes = {
        episode.person.full_name: episode
        for episode in db.session.scalars(select(ReablementEpisode))
    }
    assert episodes["Arthur Bennett"].outcome is ReablementOutcome.NO_ONGOING_NEED
    assert episodes["Arthur Bennett"].order.status is OrderStatus.COMPLETED
    assert episodes["Margaret Hughes"].outcome is None
    assert episodes["Margaret Hughes"].order.organisation.name == HOME_CARE
    flags = db.session.scalars(select(PackageShortfall)).all()
    assert [(flag.order.person.full_name, flag.resolved_at) for flag in flags] == [
        ("Peter Lawson", None)
    ]
    peter = flags[0].order
    assert [v.state for v in peter.variations] == [VariationState.PROPOSED]
    (fund,) = db.session.scalars(select(IndividualServiceFund)).all()
    assert fund.state is IsfState.AGREED
    assert isf.isf_statement(db.session, fund).balance_pence == 300_00 - 42_50 - 18_00
    (lead,) = db.session.scalars(select(LeadProvider)).all()
    assert (lead.organisation.name, lead.locality.code, lead.category_code) == (
        PROVIDER,
        "stevenage",
        "personal-care",
    )


def _seeding_again_creates_nothing() -> None:
    orders = db.session.scalar(select(func.count()).select_from(Order))

    report = seed_packages(TODAY)
    db.session.commit()

    assert [(t.kind, len(t.created), t.existing) for t in report.tallies] == [
        ("care packages", 0, 4),
        ("people", 0, 3),
        ("funder pots", 0, 3),
        ("personal budgets", 0, 2),
        ("individual service funds", 0, 1),
        ("lead providers", 0, 1),
    ]
    assert db.session.scalar(select(func.count()).select_from(Order)) == orders
    _verified()
