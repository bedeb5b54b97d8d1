"""The money side of card payments, without Stripe: the rules take the facts Stripe gave.

A budget holder whose budget falls short pays the rest by card (where the council allows
it); a self-funder pays the whole order by card into a self-funded account. Until Stripe says
the payment succeeded the order awaits payment: its budget streams' part held, its card share
not, the provider not told. Stripe's word is taken once, whatever order it comes in and
however often; a payment that cannot be used is flagged or owed back, never credited.
After every step the ledger, the budgets, the orders and the card payments verify.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask, render_template_string
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.allocations import revise_stream
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import StreamKind
from marketplace.budgets.own_funds import is_self_funded
from marketplace.budgets.queries import budgets_of
from marketplace.budgets.statement import budget_statement
from marketplace.budgets.verify import check_budgets
from marketplace.ledger import InsufficientFunds, Transfer, verify_ledger
from marketplace.notifications.models import Notification
from marketplace.orders import basket, checkout, life
from marketplace.orders.models import CycleState, Order, OrderStatus
from marketplace.orders.queries import inbox_counts, orders_of_organisation
from marketplace.orders.verify import check_orders
from marketplace.payments import service
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.service import Result
from marketplace.payments.verify import check_card_payments
from marketplace.people.models import Person
from marketplace.types import Session as AnySession
from providers.models import InvoiceCycle, TaxonomyTerm
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World

# The default schedule: 2 hours on Mondays and Thursdays for 4 weeks, £26 an hour.
TOTAL = 16 * HOURLY_PENCE  # £416
BUDGET_PART = 200_00  # what the shrunken budget has
CARD_PART = TOTAL - BUDGET_PART
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def assert_all_verifies(session: AnySession) -> None:
    report = verify_ledger(session)
    assert report.ok, report.problems
    assert check_budgets(session)[0] == []
    assert check_orders(session)[0] == []
    assert check_card_payments(session)[0] == []


def _shrink_budget(session: AnySession, world: World) -> None:
    """Leave the budget £200: £100 council, £100 contribution, nothing from the NHS."""
    for stream in world.budget.streams:
        revise_stream(
            session,
            stream,
            amount_pence=0 if stream.kind is StreamKind.NHS else 100_00,
            reason="For the test: a budget that falls short",
            key=f"shrink:{stream.id}",
        )
    session.commit()


def _place(
    session: Session, world: World, *, pay_by_card: bool, card_top_ups_allowed: bool
) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="card-order",
        pay_by_card=pay_by_card,
        card_top_ups_allowed=card_top_ups_allowed,
    )
    session.commit()
    return order


def _succeed(session: Session, payment: CardPayment, **changes: object) -> service.PaymentOutcome:
    facts: dict[str, object] = {
        "intent_id": payment.stripe_payment_intent_id or "pi_test_1",
        "amount_pence": payment.amount_pence,
        "currency": "gbp",
        "metadata": {"card_payment_id": str(payment.id)},
    }
    facts.update(changes)
    outcome = service.payment_succeeded(session, **facts)  # type: ignore[arg-type]
    session.commit()
    return outcome


def _told(session: Session, user: User) -> list[str]:
    return list(session.scalars(select(Notification.title).where(Notification.user_id == user.id)))


def _transfers(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Transfer)) or 0


@pytest.fixture
def short(session: Session, world: World) -> World:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY  # the card's share is the last weeks'
    _shrink_budget(session, world)
    return world


def test_a_budget_holder_pays_the_shortfall_by_card_once_stripe_confirms(
    session: Session, short: World
) -> None:
    world = short
    order = _place(session, world, pay_by_card=True, card_top_ups_allowed=True)

    # Awaiting payment: the budget's £200 held, the card's £216 not; the provider knows nothing.
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.card_pence == CARD_PART
    assert budget_figures(session, world.budget).total.committed_pence == BUDGET_PART
    assert orders_of_organisation(session, world.provider.id, tab="new") == []
    assert sum(inbox_counts(session, world.provider.id, TODAY).values()) == 0
    assert _told(session, world.staff) == []
    # Budget streams first, the card last: the last weeks are the card's.
    week = 4 * HOURLY_PENCE
    assert [order.card_share_of(cycle) for cycle in order.cycles] == [
        0,
        2 * week - BUDGET_PART,
        week,
        week,
    ]
    assert_all_verifies(session)

    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    assert (payment.amount_pence, payment.currency) == (CARD_PART, "gbp")
    assert payment.idempotency_key == f"card-payment-{payment.id}"
    assert service.start_order_payment(session, order, by=world.citizen).id == payment.id
    service.record_intent(session, payment, intent_id="pi_shortfall", status="requires_action")
    session.commit()
    assert payment.status is CardPaymentStatus.REQUIRES_ACTION

    outcome = _succeed(session, payment)

    assert outcome.result is Result.CREDITED
    session.refresh(order)
    assert order.status is OrderStatus.PLACED
    assert budget_figures(session, world.budget).total.committed_pence == TOTAL
    own = next(s for s in world.budget.streams if s.kind is StreamKind.OWN_FUNDS)
    assert own.amount_pence == CARD_PART  # allocated only what the card brought in
    assert _told(session, world.staff) == [f"New order {order.reference}"]
    assert orders_of_organisation(session, world.provider.id, tab="new") == [order]
    lines = budget_statement(session, world.budget).lines
    assert [line.what for line in lines if line.stream.id == own.id][:1] == ["Paid in by card"]
    assert_all_verifies(session)

    # Stripe says it again, ten times: nothing changes.
    transfers = _transfers(session)
    for _ in range(10):
        assert _succeed(session, payment).result is Result.ALREADY
    assert _transfers(session) == transfers
    assert _told(session, world.staff) == [f"New order {order.reference}"]
    assert_all_verifies(session)


def test_without_the_councils_leave_a_shortfall_is_not_paid_by_card(
    session: Session, short: World
) -> None:
    with pytest.raises(InsufficientFunds):
        _place(session, short, pay_by_card=True, card_top_ups_allowed=False)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_budget_that_covers_the_order_takes_nothing_by_card(
    session: Session, world: World
) -> None:
    order = _place(session, world, pay_by_card=True, card_top_ups_allowed=True)

    assert (order.status, order.card_pence) == (OrderStatus.PLACED, 0)
    assert all(s.kind is not StreamKind.OWN_FUNDS for s in world.budget.streams)
    assert_all_verifies(session)


@pytest.fixture
def self_funder(session: Session, world: World, make_user: Callable[..., User]) -> User:
    person = Person(full_name="Arthur Penrose")
    session.add(person)
    session.flush()
    user = make_user(Role.CITIZEN)
    user.person_id = person.id
    session.commit()
    return user


def test_a_self_funder_pays_the_whole_order_into_a_self_funded_account(
    session: Session, world: World, self_funder: User
) -> None:
    person = session.get_one(Person, self_funder.person_id)
    with pytest.raises(checkout.InvalidOrder):
        checkout.place_order(
            session,
            person,
            world.service,
            world.schedule(),
            by=self_funder,
            today=TODAY,
            placement_key="no-card",
        )
    session.rollback()

    order = checkout.place_order(
        session,
        person,
        world.service,
        world.schedule(),
        by=self_funder,
        today=TODAY,
        placement_key="self-funded",
        pay_by_card=True,
    )
    session.commit()

    assert (order.status, order.card_pence, order.total_pence) == (
        OrderStatus.AWAITING_PAYMENT,
        TOTAL,
        TOTAL,
    )
    [account] = budgets_of(session, person)
    assert is_self_funded(account)
    assert order.budget_id == account.id
    assert budget_figures(session, account).total.committed_pence == 0
    assert_all_verifies(session)

    payment = service.start_order_payment(session, order, by=self_funder)
    session.commit()
    assert _succeed(session, payment, intent_id="pi_self").result is Result.CREDITED

    session.refresh(order)
    assert order.status is OrderStatus.PLACED
    figures = budget_figures(session, account).total
    assert (figures.allocated_pence, figures.committed_pence) == (TOTAL, TOTAL)
    assert [line.what for line in budget_statement(session, account).lines] == [
        "Paid in by card",
        *["Money set aside for a purchase"] * len(order.cycles),
    ]
    assert_all_verifies(session)

    # The next purchase is made in the same account.
    second = checkout.place_order(
        session,
        person,
        world.service,
        world.schedule(weeks=None),
        by=self_funder,
        today=TODAY,
        placement_key="self-funded-2",
        pay_by_card=True,
    )
    session.commit()
    assert second.budget_id == account.id
    assert len(budgets_of(session, person)) == 1


def test_a_basket_checked_out_by_a_self_funder_is_one_account_and_one_payment_each(
    session: Session, world: World, self_funder: User
) -> None:
    person = session.get_one(Person, self_funder.person_id)
    items = [
        basket.add_to_basket(session, person, world.service, schedule, by=self_funder, today=TODAY)
        for schedule in (world.schedule(), world.schedule(weeks=None, units=3))
    ]
    session.commit()

    orders = checkout.check_out(
        session, person, [item.id for item in items], by=self_funder, today=TODAY, pay_by_card=True
    )
    session.commit()

    assert [o.status for o in orders] == [OrderStatus.AWAITING_PAYMENT] * 2
    assert [o.card_pence for o in orders] == [TOTAL, 3 * HOURLY_PENCE]
    assert len(budgets_of(session, person)) == 1
    assert_all_verifies(session)


def _awaiting(session: Session, world: World) -> tuple[Order, CardPayment]:
    order = _place(session, world, pay_by_card=True, card_top_ups_allowed=True)
    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    return order, payment


def test_success_before_our_intent_id_is_stored_is_found_by_metadata(
    session: Session, short: World
) -> None:
    _order, payment = _awaiting(session, short)
    assert payment.stripe_payment_intent_id is None

    assert _succeed(session, payment, intent_id="pi_early").result is Result.CREDITED
    assert payment.stripe_payment_intent_id == "pi_early"
    # Our own record of the intent, arriving after, changes nothing.
    service.record_intent(session, payment, intent_id="pi_early", status="processing")
    assert payment.status is CardPaymentStatus.SUCCEEDED
    # Metadata naming our payment for another intent is not taken as ours.
    other = service.payment_succeeded(
        session,
        intent_id="pi_other",
        amount_pence=CARD_PART,
        currency="gbp",
        metadata={"card_payment_id": str(payment.id)},
    )
    assert other.result is Result.NOT_FOUND
    assert_all_verifies(session)


def test_a_failure_after_the_success_changes_nothing_and_a_failure_first_leaves_it_payable(
    session: Session, short: World
) -> None:
    order, payment = _awaiting(session, short)
    failed = service.payment_failed(
        session,
        intent_id="pi_1",
        reason="Your card was declined.",
        metadata={"card_payment_id": str(payment.id)},
    )
    session.commit()
    assert failed.result is Result.FAILED
    session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert_all_verifies(session)

    # Payable later: a new payment, with its own key.
    again = service.start_order_payment(session, order, by=short.citizen)
    session.commit()
    assert again.id != payment.id
    assert again.amount_pence == CARD_PART
    assert _succeed(session, again, intent_id="pi_2").result is Result.CREDITED

    late = service.payment_failed(
        session, intent_id="pi_2", reason="late", metadata={"card_payment_id": str(again.id)}
    )
    assert late.result is Result.ALREADY
    assert again.status is CardPaymentStatus.SUCCEEDED
    session.refresh(order)
    assert order.status is OrderStatus.PLACED
    assert_all_verifies(session)


@pytest.mark.parametrize(("amount", "currency"), [(CARD_PART - 1, "gbp"), (CARD_PART, "eur")])
def test_an_amount_or_currency_other_than_ours_is_flagged_not_credited(
    session: Session, short: World, amount: int, currency: str
) -> None:
    order, payment = _awaiting(session, short)
    transfers = _transfers(session)

    outcome = _succeed(session, payment, amount_pence=amount, currency=currency)

    assert outcome.result is Result.MISMATCHED
    assert (payment.status, payment.received_amount_pence, payment.received_currency) == (
        CardPaymentStatus.MISMATCHED,
        amount,
        currency,
    )
    assert _transfers(session) == transfers
    session.refresh(order)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert _succeed(session, payment).result is Result.ALREADY
    assert_all_verifies(session)


def test_a_payment_for_an_order_cancelled_meanwhile_is_owed_back(
    session: Session, short: World
) -> None:
    order, payment = _awaiting(session, short)
    service.cancel_unpaid_order(session, order, by=short.citizen, today=TODAY)
    session.commit()
    assert order.status is OrderStatus.CANCELLED
    assert payment.status is CardPaymentStatus.CANCELLED
    assert budget_figures(session, short.budget).total.committed_pence == 0
    transfers = _transfers(session)

    outcome = _succeed(session, payment, intent_id="pi_late")

    assert outcome.result is Result.REFUND_DUE
    assert (payment.status, payment.refund_due_pence) == (CardPaymentStatus.REFUND_DUE, CARD_PART)
    assert _transfers(session) == transfers
    # The provider never saw it, before or after.
    assert _told(session, short.staff) == []
    assert orders_of_organisation(session, short.provider.id, tab="closed") == []
    assert_all_verifies(session)


def test_orders_unpaid_too_long_are_cancelled_and_the_person_told(
    session: Session, short: World
) -> None:
    order, payment = _awaiting(session, short)
    placed_at = order.placed_at

    assert service.expire_unpaid_orders(session, now=placed_at + timedelta(minutes=59)) == []
    expired = service.expire_unpaid_orders(session, now=placed_at + timedelta(minutes=61))
    session.commit()

    assert expired == [order]
    assert order.status is OrderStatus.CANCELLED
    assert all(cycle.state is CycleState.RELEASED for cycle in order.cycles)
    assert payment.status is CardPaymentStatus.CANCELLED
    assert budget_figures(session, short.budget).total.committed_pence == 0
    assert _told(session, short.citizen) == [
        f"Order {order.reference} was cancelled: it was not paid in time"
    ]
    assert _told(session, short.staff) == []
    assert service.expire_unpaid_orders(session, now=placed_at + timedelta(days=1)) == []
    assert_all_verifies(session)


def test_the_expiry_command_uses_the_setting(app: Flask, session: Session, short: World) -> None:
    order, _ = _awaiting(session, short)
    app.config["PAYMENT_EXPIRY_MINUTES"] = 5
    runner = app.test_cli_runner()

    result = runner.invoke(args=["payments", "expire", "--now", "2099-01-01T00:00:00"])

    assert result.exit_code == 0, result.output
    assert f"Cancelled 1 order awaiting payment: {order.reference}" in result.output
    session.expire_all()
    assert session.get_one(Order, order.id).status is OrderStatus.CANCELLED
    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 card payments" in verified.output


def test_ledger_verify_names_a_clearing_account_that_disagrees_with_the_payments(
    session: Session, short: World
) -> None:
    _, payment = _awaiting(session, short)
    _succeed(session, payment)
    assert_all_verifies(session)

    payment.amount_pence += 1  # the record says more than the ledger received
    session.flush()
    problems, _ = check_card_payments(session)
    assert any("credited £216, not £216.01" in p for p in problems)
    assert any(p.startswith("Stripe clearing account: £216 paid into budgets") for p in problems)
    session.rollback()

    payment.status = CardPaymentStatus.FAILED  # credited, but recorded as not
    session.flush()
    problems, _ = check_card_payments(session)
    assert any("not credited but names card-payment:" in p for p in problems)
    assert any("for no confirmed card payment" in p for p in problems)
    session.rollback()


def test_an_order_with_a_card_share_is_checked_against_its_money(
    session: Session, short: World
) -> None:
    order, _ = _awaiting(session, short)
    order.card_pence = 0  # the card share forgotten: the held money no longer adds up
    session.flush()
    problems, _ = check_orders(session)
    assert any("awaiting payment but has no card share" in p for p in problems)
    assert any("commitment of" in p for p in problems)
    session.rollback()


def test_the_timeline_says_what_the_payment_did(app: Flask, session: Session, short: World) -> None:
    order, payment = _awaiting(session, short)
    _succeed(session, payment)
    session.refresh(order)
    page = "{% from 'macros/orders.html' import event_text %}"
    page += "{% for event in events %}{{ event_text(event) }}|{% endfor %}"

    with app.test_request_context():
        text = render_template_string(page, events=order.events)

    assert text == "Order placed: £216 to pay by card|Paid by card: sent to the provider|"


def test_a_budget_holder_tops_up_their_own_funds_where_the_council_allows(
    session: Session, world: World
) -> None:
    with pytest.raises(checkout.InvalidOrder):
        service.start_top_up(
            session,
            world.person,
            amount_pence=50_00,
            by=world.citizen,
            today=TODAY,
            top_ups_allowed=False,
        )
    payment = service.start_top_up(
        session,
        world.person,
        amount_pence=50_00,
        by=world.citizen,
        today=TODAY,
        top_ups_allowed=True,
    )
    session.commit()
    assert payment.metadata_for_stripe["order_reference"] == "top-up"
    before = budget_figures(session, world.budget).total.available_pence

    outcome = _succeed(session, payment, intent_id="pi_top_up", now=NOW)

    assert outcome.result is Result.CREDITED
    assert budget_figures(session, world.budget).total.available_pence == before + 50_00
    own = next(s for s in world.budget.streams if s.kind is StreamKind.OWN_FUNDS)
    lines = [line for line in budget_statement(session, world.budget).lines if line.stream == own]
    assert [(line.what, line.description, line.in_pence) for line in lines] == [
        ("Paid in by card", "Top-up by card", 50_00)
    ]
    assert _succeed(session, payment, intent_id="pi_top_up", now=NOW).result is Result.ALREADY
    assert_all_verifies(session)


def test_a_top_up_with_no_open_budget_to_go_into_is_owed_back(
    session: Session, world: World
) -> None:
    payment = service.start_top_up(
        session,
        world.person,
        amount_pence=50_00,
        by=world.citizen,
        today=TODAY,
        top_ups_allowed=True,
    )
    session.commit()
    after_the_period = datetime(2027, 5, 1, 10, 0, tzinfo=UTC)

    outcome = _succeed(session, payment, intent_id="pi_late_top_up", now=after_the_period)

    assert outcome.result is Result.REFUND_DUE
    assert payment.refund_due_pence == 50_00
    assert_all_verifies(session)


def test_payments_left_waiting_by_a_cancellation_elsewhere_are_stopped(
    session: Session, short: World
) -> None:
    order, payment = _awaiting(session, short)
    life.cancel(session, order, by=short.citizen, today=TODAY)  # the order page's own cancel
    session.commit()
    assert payment.status is CardPaymentStatus.CREATED

    assert service.stop_stale_payments(session) == [payment]
    session.commit()
    assert payment.status is CardPaymentStatus.CANCELLED
    assert service.stop_stale_payments(session) == []
    assert _succeed(session, payment, intent_id="pi_after").result is Result.REFUND_DUE
    assert_all_verifies(session)


def test_an_order_outside_the_plan_goes_to_the_council_once_paid(
    session: Session, short: World
) -> None:
    day_centres = session.scalars(select(TaxonomyTerm).where(TaxonomyTerm.code == "day-centres"))
    short.service.taxonomy_terms = [day_centres.one()]
    session.commit()
    order = checkout.place_order(
        session,
        short.person,
        short.service,
        short.schedule(),
        by=short.citizen,
        today=TODAY,
        placement_key="outside-the-plan",
        plan_rule="approval",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(session, order, by=short.citizen)
    session.commit()
    assert order.status is OrderStatus.AWAITING_PAYMENT
    told_before = _told(session, short.officer)  # the plan's own approval, earlier

    assert _succeed(session, payment).result is Result.CREDITED

    session.refresh(order)
    assert order.status is OrderStatus.AWAITING_APPROVAL
    assert _told(session, short.officer) == [
        *told_before,
        f"Order {order.reference} is outside a support plan and needs approval",
    ]
    assert _told(session, short.staff) == []
    assert budget_figures(session, short.budget).total.committed_pence == TOTAL
    assert_all_verifies(session)


def test_the_checkouts_quote_shows_the_card_share_last_and_records_nothing(
    session: Session, short: World, self_funder: User
) -> None:
    item = basket.add_to_basket(
        session, short.person, short.service, short.schedule(), by=short.citizen, today=TODAY
    )
    session.commit()
    card = checkout.card_terms(session, short.person, pay_by_card=True, top_ups_allowed=True)

    [line] = checkout.quote_basket(session, short.person, [item], today=TODAY, card=card)

    assert line.quote is not None
    assert [(s.stream.kind, s.pence) for s in line.quote.shares] == [
        (StreamKind.CLIENT_CONTRIBUTION, 100_00),
        (StreamKind.COUNCIL, 100_00),
    ]
    assert (line.quote.budget_pence, line.quote.card_pence) == (BUDGET_PART, CARD_PART)

    person = session.get_one(Person, self_funder.person_id)
    item = basket.add_to_basket(
        session, person, short.service, short.schedule(), by=self_funder, today=TODAY
    )
    session.commit()
    card = checkout.card_terms(session, person, pay_by_card=True, top_ups_allowed=False)
    assert card == checkout.CardTerms(self_funded=True)

    [line] = checkout.quote_basket(session, person, [item], today=TODAY, card=card)

    assert line.quote is not None
    assert (line.quote.shares, line.quote.card_pence) == ([], TOTAL)
    assert not session.new  # the account it was priced against is not made
    assert budgets_of(session, person) == []
