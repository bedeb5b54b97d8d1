"""Changes to a package (issue 18, VARIATIONS): proposed by one party, accepted by the other,
agreed by the council where it pays for a rise; only cycles from the change's day are held
again, per occasion, and `flask ledger verify` agrees after each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.accounts.roles import Role
from marketplace.ledger import InsufficientFunds
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import cycle_money, variation_terms, variations
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.models import (
    CycleState,
    Order,
    PackageVariation,
    VariationKind,
    VariationParty,
    VariationState,
)
from tests.orders.fixtures import World, assert_ledger_verifies
from tests.packages.variation_fixtures import NOTICE_DAYS, TODAY, WEEKLY_PENCE, make_package

THURSDAY = date(2026, 6, 4)  # inside cycle 1 (1 to 7 June)
HOUR = 26_00


def _amounts(order: Order) -> list[int]:
    return [cycle.amount_pence for cycle in order.cycles]


def _assert_money_follows(session: Session, order: Order) -> None:
    """Each held cycle holds exactly its amount, the order's total is their sum, the books
    balance."""
    session.expire_all()
    for cycle in order.cycles:
        if cycle.state is CycleState.HELD:
            live = cycle_money.commitment_of(session, order, cycle)
            held = sum(part.transfer.amount_pence for part in live.parts) if live else 0
            assert held == cycle.amount_pence, cycle.number
    assert order.total_pence == sum(_amounts(order))
    assert_ledger_verifies(session)


def _kinds(session: Session, user_id: object) -> list[NotificationKind]:
    return list(
        session.scalars(select(Notification.kind).where(Notification.user_id == user_id)).all()
    )


def _more_hours(session: Session, world: World, order: Order) -> PackageVariation:
    return variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.SCHEDULE,
        effective_from=THURSDAY,
        units_per_occasion=3,
        reason="My knee is worse",
        today=TODAY,
    )


def test_more_hours_proposed_by_the_person_accepted_by_the_provider_agreed_by_the_council(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    assert _amounts(order) == [WEEKLY_PENCE] * 3

    variation = _more_hours(session, world, order)
    session.commit()
    assert NotificationKind.VARIATION_PROPOSED in _kinds(session, world.staff.id)
    # The person cannot accept their own side's proposal.
    assert not can(world.citizen, "decide_variation", variation)
    with pytest.raises(NotYours):
        variations.accept(session, variation, by=world.citizen, today=TODAY)
    session.rollback()

    variations.accept(session, variation, by=world.staff, today=TODAY)
    session.commit()
    # The council pays (a council stream) and the week costs more: it decides.
    assert variation.state is VariationState.AWAITING_COUNCIL
    assert list(variations.awaiting_council(session)) == [variation]
    assert _amounts(order) == [WEEKLY_PENCE] * 3
    assert NotificationKind.VARIATION_COUNCIL in _kinds(session, world.officer.id)

    variations.council_decide(session, variation, by=world.officer, agree=True, today=TODAY)
    session.commit()

    assert variation.state is VariationState.ACCEPTED
    assert [(t.sequence, t.units_per_occasion) for t in order.terms] == [(1, 2), (2, 3)]
    # Cycle 1 straddles Thursday: Monday at 2 hours, Thursday at 3; the later cycles 3 and 3.
    assert _amounts(order) == [(2 + 3) * HOUR, 6 * HOUR, 6 * HOUR]
    assert [cycle.units for cycle in order.cycles] == [5, 6, 6]
    _assert_money_follows(session, order)
    kinds = [event.kind for event in order.events]
    assert kinds[-3:] == ["variation_proposed", "variation_accepted", "variation_council_agreed"]
    assert NotificationKind.VARIATION_DECIDED in _kinds(session, world.citizen.id)
    assert NotificationKind.VARIATION_DECIDED in _kinds(session, world.staff.id)


def test_council_refuses_a_rise_and_nothing_changes(session: Session, world: World) -> None:
    order = make_package(session, world)
    variation = _more_hours(session, world, order)
    variations.accept(session, variation, by=world.staff, today=TODAY)
    session.commit()
    with pytest.raises(InvalidOrder):
        variations.council_decide(session, variation, by=world.officer, agree=False, today=TODAY)
    session.rollback()

    variations.council_decide(
        session, variation, by=world.officer, agree=False, reason="Review first", today=TODAY
    )
    session.commit()

    assert variation.state is VariationState.DECLINED
    assert len(order.terms) == 1
    assert _amounts(order) == [WEEKLY_PENCE] * 3
    _assert_money_follows(session, order)


def test_fewer_hours_proposed_by_the_provider_take_effect_when_the_person_accepts(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    variation = variations.propose(
        session,
        order,
        by=world.staff,
        party=VariationParty.PROVIDER,
        kind=VariationKind.SCHEDULE,
        effective_from=date(2026, 6, 8),
        days=["MO"],
        today=TODAY,
    )
    variations.accept(session, variation, by=world.citizen, today=TODAY)
    session.commit()

    # Cheaper: no need for the council. Cycle 1 is before the change and untouched.
    assert variation.state is VariationState.ACCEPTED
    assert _amounts(order) == [WEEKLY_PENCE, 2 * HOUR, 2 * HOUR]
    _assert_money_follows(session, order)


def test_a_price_change_without_the_notice_period_is_refused(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    too_soon = TODAY + timedelta(days=NOTICE_DAYS - 1)

    with pytest.raises(InvalidOrder) as refused:
        variations.propose(
            session,
            order,
            by=world.staff,
            party=VariationParty.PROVIDER,
            kind=VariationKind.PRICE,
            effective_from=too_soon,
            unit_price_pence=28_00,
            today=TODAY,
        )
    assert refused.value.message == (
        "A new price needs 14 days' notice: it can start on 15 June 2026 at the earliest"
    )
    assert refused.value.details["fields"]["effective_from"] == refused.value.message
    session.rollback()
    # Nor may the person's side set a price.
    with pytest.raises(NotYours):
        variations.propose(
            session,
            order,
            by=world.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.PRICE,
            effective_from=date(2026, 6, 18),
            unit_price_pence=20_00,
            today=TODAY,
        )
    session.rollback()
    assert session.scalars(select(PackageVariation)).all() == []
    _assert_money_follows(session, order)


def test_a_price_rise_with_notice_reworks_the_cycles_from_its_day(
    session: Session, world: World
) -> None:
    order = make_package(session, world, cycles=3)
    variation = variations.propose(
        session,
        order,
        by=world.staff,
        party=VariationParty.PROVIDER,
        kind=VariationKind.PRICE,
        effective_from=date(2026, 6, 18),  # Thursday of cycle 3, after 14 days' notice
        unit_price_pence=28_00,
        today=TODAY,
    )
    assert variation_terms.describe(variation) == "New price £28 an hour, from 18 June 2026"
    variations.accept(session, variation, by=world.citizen, today=TODAY)
    assert variation.state is VariationState.AWAITING_COUNCIL
    variations.council_decide(session, variation, by=world.officer, agree=True, today=TODAY)
    session.commit()

    assert _amounts(order) == [WEEKLY_PENCE, WEEKLY_PENCE, 2 * 26_00 + 2 * 28_00]
    _assert_money_follows(session, order)


def test_a_pause_spanning_a_cycle_boundary_holds_nothing_for_its_days(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    # In hospital from Thursday 4 June; home again on Thursday 11 June (cycle 2 is 8 to 14).
    variation = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.PAUSE,
        effective_from=THURSDAY,
        resumes_on=date(2026, 6, 11),
        reason="Hospital stay",
        today=TODAY,
    )
    variations.accept(session, variation, by=world.staff, today=TODAY)
    session.commit()

    assert variation.state is VariationState.ACCEPTED  # costs less: no council needed
    assert [(t.effective_from, t.paused) for t in order.terms] == [
        (date(2026, 6, 1), False),
        (THURSDAY, True),
        (date(2026, 6, 11), False),
    ]
    # Monday 1 June only; Thursday 11 June only; cycle 3 in full.
    assert _amounts(order) == [2 * HOUR, 2 * HOUR, WEEKLY_PENCE]
    _assert_money_follows(session, order)


def test_a_pause_without_an_end_then_a_restart(session: Session, world: World) -> None:
    order = make_package(session, world)
    pause = variations.propose(
        session,
        order,
        by=world.staff,
        party=VariationParty.PROVIDER,
        kind=VariationKind.PAUSE,
        effective_from=date(2026, 6, 8),
        today=TODAY,
    )
    variations.accept(session, pause, by=world.citizen, today=TODAY)
    session.commit()
    assert _amounts(order) == [WEEKLY_PENCE, 0, 0]
    _assert_money_follows(session, order)
    with pytest.raises(InvalidTransition):
        variations.propose(
            session,
            order,
            by=world.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.SCHEDULE,
            effective_from=date(2026, 6, 15),
            units_per_occasion=3,
            today=TODAY,
        )
    session.rollback()

    restart = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.RESUME,
        effective_from=date(2026, 6, 15),
        today=TODAY,
    )
    assert variation_terms.describe(restart) == "Restart from 15 June 2026, as before the pause"
    variations.accept(session, restart, by=world.staff, today=TODAY)
    session.commit()

    # Back to the terms before the pause: not a rise, so the council need not agree.
    assert restart.state is VariationState.ACCEPTED
    assert _amounts(order) == [WEEKLY_PENCE, 0, WEEKLY_PENCE]
    _assert_money_follows(session, order)


def test_a_budget_too_small_for_the_increase_refuses_it_and_nothing_changes(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    # Eight hours every day: £1,456 a week, more than the budget has for three cycles.
    variation = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.SCHEDULE,
        effective_from=THURSDAY,
        units_per_occasion=8,
        days=["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
        today=TODAY,
    )
    variations.accept(session, variation, by=world.staff, today=TODAY)
    session.commit()

    with pytest.raises(InsufficientFunds) as refused:
        variations.council_decide(session, variation, by=world.officer, agree=True, today=TODAY)
    assert refused.value.message.startswith("The budget cannot cover this change: it needs £")
    assert "Nothing has changed" in refused.value.message
    # As the request does on a refusal: nothing of it is kept.
    session.rollback()

    assert variation.state is VariationState.AWAITING_COUNCIL
    assert len(order.terms) == 1
    assert _amounts(order) == [WEEKLY_PENCE] * 3
    _assert_money_follows(session, order)


def test_the_refused_increase_leaves_the_session_as_it_was_without_a_rollback(
    session: Session, world: World
) -> None:
    """The acceptance is all or nothing inside the transaction too: a caller that goes on
    (a command) finds the cycles, terms and total as they were."""
    order = make_package(session, world)
    variation = variations.propose(
        session,
        order,
        by=world.citizen,
        party=VariationParty.PERSON,
        kind=VariationKind.SCHEDULE,
        effective_from=THURSDAY,
        units_per_occasion=8,
        days=["MO", "TU", "WE", "TH", "FR", "SA", "SU"],
        today=TODAY,
    )
    variations.accept(session, variation, by=world.staff, today=TODAY)
    with pytest.raises(InsufficientFunds):
        variations.council_decide(session, variation, by=world.officer, agree=True, today=TODAY)
    session.commit()

    assert len(order.terms) == 1
    assert _amounts(order) == [WEEKLY_PENCE] * 3
    _assert_money_follows(session, order)


def test_a_change_never_starts_in_the_past_nor_inside_an_invoiced_cycle(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    with pytest.raises(InvalidOrder, match="today or in the future"):
        variations.propose(
            session,
            order,
            by=world.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.SCHEDULE,
            effective_from=THURSDAY,
            units_per_occasion=3,
            today=date(2026, 6, 5),
        )
    session.rollback()

    order.cycles[0].state = CycleState.INVOICED  # as if cycle 1 (to 7 June) were billed
    session.flush()
    with pytest.raises(InvalidOrder, match="8 June 2026 at the earliest"):
        variations.propose(
            session,
            order,
            by=world.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.SCHEDULE,
            effective_from=THURSDAY,
            units_per_occasion=3,
            today=date(2026, 6, 2),
        )
    session.rollback()


def test_one_change_waits_at_a_time_and_its_proposer_may_withdraw_it(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    first = _more_hours(session, world, order)
    with pytest.raises(InvalidTransition, match="already waiting"):
        variations.propose(
            session,
            order,
            by=world.staff,
            party=VariationParty.PROVIDER,
            kind=VariationKind.PAUSE,
            effective_from=date(2026, 6, 8),
            today=TODAY,
        )
    with pytest.raises(NotYours):
        variations.withdraw(session, first, by=world.staff)
    variations.withdraw(session, first, by=world.citizen, reason="Feeling better")
    session.commit()

    assert first.state is VariationState.WITHDRAWN
    with pytest.raises(InvalidTransition):
        variations.accept(session, first, by=world.staff, today=TODAY)
    session.rollback()
    _assert_money_follows(session, order)


def test_declining_needs_a_reason_and_tells_the_proposer(session: Session, world: World) -> None:
    order = make_package(session, world)
    variation = _more_hours(session, world, order)
    session.commit()
    with pytest.raises(InvalidOrder):
        variations.decline(session, variation, by=world.staff, reason=" ")
    session.rollback()

    variations.decline(session, variation, by=world.staff, reason="No carers on Thursdays")
    session.commit()

    assert variation.state is VariationState.DECLINED
    assert variation.decision_reason == "No carers on Thursdays"
    assert NotificationKind.VARIATION_DECIDED in _kinds(session, world.citizen.id)
    assert _amounts(order) == [WEEKLY_PENCE] * 3


def test_only_a_package_the_provider_has_accepted_can_be_changed(
    session: Session, world: World
) -> None:
    from marketplace.orders.models import OrderStatus

    order = make_package(session, world, status=OrderStatus.PLACED)
    with pytest.raises(InvalidTransition, match="accepted"):
        _more_hours(session, world, order)
    session.rollback()
    # Someone who is neither party (another provider's staff, an officer) cannot propose.
    order.status = OrderStatus.ACCEPTED
    session.commit()
    for stranger in (world.other_staff, world.officer):
        assert not can(stranger, "propose_variation", order)
        with pytest.raises(NotYours):
            variations.propose(
                session,
                order,
                by=stranger,
                party=VariationParty.PERSON,
                kind=VariationKind.PAUSE,
                effective_from=THURSDAY,
                today=TODAY,
            )
        session.rollback()


def test_after_a_price_change_each_visit_is_billed_at_the_price_of_its_day(
    session: Session, world: World
) -> None:
    from marketplace.orders import deliveries, invoicing

    order = make_package(session, world)
    variation = variations.propose(
        session,
        order,
        by=world.staff,
        party=VariationParty.PROVIDER,
        kind=VariationKind.PRICE,
        effective_from=date(2026, 6, 18),  # the Thursday of cycle 3 (15 to 21 June)
        unit_price_pence=28_00,
        today=TODAY,
    )
    variations.accept(session, variation, by=world.citizen, today=TODAY)
    variations.council_decide(session, variation, by=world.officer, agree=True, today=TODAY)
    session.commit()
    after = date(2026, 6, 22)
    for day in (date(2026, 6, 15), date(2026, 6, 18)):
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, today=after
        )
    session.commit()
    cycle = order.cycles[2]
    invoice = invoicing.raise_invoice(session, order, cycle, by=world.staff, today=after)
    session.commit()

    # Monday at £26 an hour, Thursday at £28: what was held for the cycle, to the penny.
    assert invoice.amount_pence == 2 * 26_00 + 2 * 28_00 == cycle.amount_pence
    assert_ledger_verifies(session)
    for delivery in order.deliveries:
        deliveries.confirm_delivery(session, delivery, by=world.citizen)
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    assert_ledger_verifies(session)


def test_a_broker_proposes_for_the_person_only_under_a_consent_covering_orders(
    session: Session, world: World, make_user: Callable[..., User]
) -> None:
    from tests.brokers.shortlist_fixtures import give_consent

    order = make_package(session, world)
    broker = make_user(Role.BROKER)
    seeing_only = give_consent(world.person, broker=broker, scopes=["see"])
    assert not can(broker, "propose_variation", order)
    with pytest.raises(NotYours):
        variations.propose(
            session,
            order,
            by=broker,
            party=VariationParty.PERSON,
            kind=VariationKind.PAUSE,
            effective_from=THURSDAY,
            today=TODAY,
        )
    session.rollback()
    seeing_only.scopes = ["see", "order"]
    session.commit()
    session.expire(world.person, ["consents"])

    variation = variations.propose(
        session,
        order,
        by=broker,
        party=VariationParty.PERSON,
        kind=VariationKind.PAUSE,
        effective_from=THURSDAY,
        today=TODAY,
    )
    session.commit()

    assert variation.consent_id == seeing_only.id
    # The broker speaks for the person's side: they neither accept it nor may the person.
    assert not can(broker, "decide_variation", variation)
    assert not can(world.citizen, "decide_variation", variation)
    assert can(world.staff, "decide_variation", variation)


def test_a_change_before_the_package_starts_is_refused_in_words(
    session: Session, world: World
) -> None:
    order = make_package(session, world)
    with pytest.raises(InvalidOrder) as refused:
        variations.propose(
            session,
            order,
            by=world.citizen,
            party=VariationParty.PERSON,
            kind=VariationKind.PAUSE,
            effective_from=date(2026, 5, 28),
            today=date(2026, 5, 25),
        )
    assert refused.value.message == (
        "The change can start on 1 June 2026 at the earliest: the care starts then"
    )
    session.rollback()
