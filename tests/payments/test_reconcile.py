"""Reconciliation against localstripe (real HTTP through the SDK): a clean run finds nothing;
each deliberately broken link is found as exactly that mismatch, once; a payment Stripe took
that never reached the ledger is repaired once; the command's report, CSV and exit code; and
council finance's page."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.rules import TransferCode
from marketplace.extensions import db
from marketplace.ledger import Transfer
from marketplace.orders import life
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import refunds, service
from marketplace.payments.gateway import Charge, ListedIntent, StripeGateway
from marketplace.payments.gateway import Refund as StripeRefund
from marketplace.payments.mismatches import (
    MismatchError,
    MismatchKind,
    PaymentMismatch,
    resolve_mismatch,
)
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.reconcile import CSV_HEADER, NO_LONGER_FOUND, reconcile
from marketplace.payments_setup import EXTENSION
from marketplace.types import utcnow
from tests.conftest import sign_in
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import World
from tests.payments.conftest import SECRET_KEY, LocalStripe
from tests.payments.test_card_money import (
    _awaiting,
    _shrink_budget,
    assert_all_verifies,
)

NOW = datetime(2026, 12, 3, 23, 0, tzinfo=UTC)


def _intent_for(
    session: Session,
    gateway: StripeGateway,
    payment: CardPayment,
    *,
    amount_pence: int | None = None,
) -> str:
    """Pay the payment at localstripe with a card that needs no 3-D Secure; our record knows
    the intent (as the payment page would), Stripe's word not yet taken."""
    intent = gateway.create_payment_intent(
        amount_pence=amount_pence or payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "succeeded"
    service.record_intent(session, payment, intent_id=intent.id, status=intent.status)
    session.commit()
    return intent.id


def _paid(session: Session, world: World, gateway: StripeGateway) -> tuple[Order, CardPayment]:
    """An order whose card share was paid at localstripe and credited (as the webhook does)."""
    _shrink_budget(session, world)
    order, payment = _awaiting(session, world)
    intent_id = _intent_for(session, gateway, payment)
    outcome = service.payment_succeeded(
        session,
        intent_id=intent_id,
        amount_pence=payment.amount_pence,
        currency="gbp",
        metadata=payment.metadata_for_stripe,
    )
    assert outcome.result is service.Result.CREDITED
    session.commit()
    return order, payment


def _run(session: Session, gateway: StripeGateway, **options: object):  # type: ignore[no-untyped-def]
    report = reconcile(session, gateway, since=options.get("since"), now=NOW)  # type: ignore[arg-type]
    session.commit()
    return report


def _stored(session: Session) -> list[PaymentMismatch]:
    return list(session.scalars(select(PaymentMismatch)))


def _card_transfers(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.code == TransferCode.CARD_PAYMENT.value)
        )
        or 0
    )


def _sdk(localstripe: LocalStripe) -> stripe.StripeClient:
    """Stripe's own SDK, to do at localstripe what our code never would."""
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url})


def test_a_clean_run_finds_nothing_and_stores_nothing(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    _paid(session, world, gateway)

    report = _run(session, gateway)

    assert report.clean
    assert report.found == report.new == report.repaired == []
    assert report.checked["intents"] == 1
    assert report.checked["charges"] == 1
    assert report.checked["balance_transactions"] == 1
    assert report.checked["payments"] == 1
    assert _stored(session) == []
    assert_all_verifies(session)


def test_a_deleted_transfer_is_paid_at_stripe_but_not_in_the_ledger_once(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    _order, payment = _paid(session, world, gateway)
    session.execute(delete(Transfer).where(Transfer.idempotency_key == payment.transfer_key))
    session.commit()

    first = _run(session, gateway)
    second = _run(session, gateway)

    assert [(m.kind, m.card_payment_id) for m in first.unresolved] == [
        (MismatchKind.PAID_NOT_IN_LEDGER, payment.id)
    ]
    (mismatch,) = first.unresolved
    assert mismatch.stripe_object_id == payment.stripe_payment_intent_id
    assert mismatch.stripe_amount_pence == payment.amount_pence
    assert mismatch.transfer_key == payment.transfer_key
    assert not mismatch.repaired  # our record says it was credited: a person has to look
    assert second.new == []
    assert second.unresolved == [mismatch]
    assert len(_stored(session)) == 1
    assert _card_transfers(session) == 0


@pytest.mark.parametrize("extra", ["charge", "intent"])
def test_money_taken_at_stripe_with_no_record_here_is_found(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe, extra: str
) -> None:
    _paid(session, world, gateway)
    made: stripe.Charge | stripe.PaymentIntent
    if extra == "charge":
        made = _sdk(localstripe).v1.charges.create(
            params={"amount": 12_34, "currency": "gbp", "source": "pm_card_visa"}
        )
    else:
        made = _sdk(localstripe).v1.payment_intents.create(
            params={
                "amount": 12_34,
                "currency": "gbp",
                "payment_method": "pm_card_visa",
                "confirm": True,
            }
        )

    report = _run(session, gateway)
    _run(session, gateway)

    assert [(m.kind, m.stripe_object_id, m.stripe_amount_pence) for m in report.unresolved] == [
        (MismatchKind.PAID_NOT_IN_LEDGER, made.id, 12_34)
    ]
    assert report.unresolved[0].card_payment_id is None
    assert len(_stored(session)) == 1


def test_a_second_intent_for_a_paid_payment_is_found_on_that_payment(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    """Charged twice for one payment (a second intent carrying its metadata): the money is
    not ours to credit again, and finance sees which payment and order it was for."""
    _order, payment = _paid(session, world, gateway)
    _run(session, gateway)
    second = _sdk(localstripe).v1.payment_intents.create(
        params={
            "amount": payment.amount_pence,
            "currency": "gbp",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "metadata": payment.metadata_for_stripe,
        }
    )

    report = _run(session, gateway)

    assert [
        (m.kind, m.card_payment_id, m.stripe_object_id, m.stripe_amount_pence)
        for m in report.unresolved
    ] == [(MismatchKind.PAID_NOT_IN_LEDGER, payment.id, second.id, payment.amount_pence)]
    assert payment.stripe_payment_intent_id in report.unresolved[0].detail
    assert _card_transfers(session) == 1


def test_an_amount_other_than_ours_at_stripe_is_found_not_credited(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    _shrink_budget(session, world)
    order, payment = _awaiting(session, world)
    intent_id = _intent_for(session, gateway, payment, amount_pence=payment.amount_pence + 100)

    report = _run(session, gateway)
    _run(session, gateway)

    assert [
        (m.kind, m.card_payment_id, m.stripe_amount_pence, m.our_amount_pence)
        for m in report.unresolved
    ] == [
        (
            MismatchKind.AMOUNTS_DIFFER,
            payment.id,
            payment.amount_pence + 100,
            payment.amount_pence,
        )
    ]
    assert report.unresolved[0].stripe_object_id == intent_id
    assert len(_stored(session)) == 1
    session.refresh(payment)
    assert payment.status is CardPaymentStatus.CREATED  # not credited
    assert session.get_one(Order, order.id).status is OrderStatus.AWAITING_PAYMENT
    assert _card_transfers(session) == 0


def test_a_payment_credited_here_that_stripe_never_took_is_found(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    _shrink_budget(session, world)
    _order, payment = _awaiting(session, world)
    service.payment_succeeded(
        session,
        intent_id="pi_nowhere",
        amount_pence=payment.amount_pence,
        currency="gbp",
        metadata=payment.metadata_for_stripe,
    )
    session.commit()

    report = _run(session, gateway)

    assert [(m.kind, m.card_payment_id, m.our_amount_pence) for m in report.unresolved] == [
        (MismatchKind.IN_LEDGER_NOT_AT_STRIPE, payment.id, payment.amount_pence)
    ]
    assert "no PaymentIntent pi_nowhere" in report.unresolved[0].detail


def test_a_refund_made_at_stripe_but_not_recorded_here_is_found(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    _order, payment = _paid(session, world, gateway)
    assert payment.stripe_payment_intent_id is not None
    gateway.refund(
        intent_id=payment.stripe_payment_intent_id, amount_pence=5_00, idempotency_key="by-hand"
    )

    report = _run(session, gateway)
    _run(session, gateway)

    assert [
        (m.kind, m.card_payment_id, m.stripe_amount_pence, m.our_amount_pence)
        for m in report.unresolved
    ] == [(MismatchKind.REFUNDED_NOT_HERE, payment.id, 5_00, 0)]
    assert report.checked["refunds"] == 1
    assert len(_stored(session)) == 1


def test_refunds_made_through_our_refund_job_agree_with_stripe(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    """The refund job's refunds (asked of localstripe, recorded on its word) are no mismatch:
    neither while owed, nor once made."""
    order, payment = _paid(session, world, gateway)
    life.decline(session, order, by=world.staff, reason="No carers that week")
    session.commit()
    assert _run(session, gateway).clean  # owed, not yet asked of Stripe: nothing refunded

    issued = refunds.issue_owed_refunds(session, gateway, now=utcnow(), commit=session.commit)

    assert len(issued.confirmed) == 1
    session.refresh(payment)
    assert payment.refunded_pence == payment.amount_pence
    report = _run(session, gateway)
    assert [m.detail for m in report.unresolved] == []
    assert report.checked["refunds"] == 1
    assert_all_verifies(session)


def test_a_payment_stripe_took_that_never_reached_the_ledger_is_repaired_once(
    session: Session, world: World, gateway: StripeGateway
) -> None:
    """The server was killed between Stripe's answer and our commit, and the webhook lost."""
    _shrink_budget(session, world)
    order, payment = _awaiting(session, world)
    _intent_for(session, gateway, payment)
    assert _card_transfers(session) == 0

    first = _run(session, gateway)
    second = _run(session, gateway)

    assert first.clean
    assert second.clean
    (repair,) = first.repaired
    assert repair.kind is MismatchKind.PAID_NOT_IN_LEDGER
    assert repair.repaired
    assert repair.resolved_at == NOW
    assert repair.resolver_name == "Reconciliation"
    assert repair.card_payment_id == payment.id
    assert second.new == second.repaired == []
    assert _stored(session) == [repair]
    assert _card_transfers(session) == 1  # one credit, not two
    session.refresh(payment)
    assert payment.status is CardPaymentStatus.SUCCEEDED
    assert session.get_one(Order, order.id).status is OrderStatus.PLACED
    assert_all_verifies(session)


def test_since_leaves_out_what_was_made_before(
    session: Session, world: World, gateway: StripeGateway, localstripe: LocalStripe
) -> None:
    _paid(session, world, gateway)
    _sdk(localstripe).v1.charges.create(
        params={"amount": 12_34, "currency": "gbp", "source": "pm_card_visa"}
    )

    report = _run(session, gateway, since=datetime.now(UTC) + timedelta(days=1))

    assert report.clean
    assert report.checked["charges"] == report.checked["intents"] == 0


def test_a_full_run_closes_what_it_no_longer_finds_and_finance_resolves_the_rest(
    session: Session, world: World, gateway: StripeGateway, make_user: Callable[..., User]
) -> None:
    _order, payment = _paid(session, world, gateway)
    stale = PaymentMismatch(
        key="amounts_differ:old",
        kind=MismatchKind.AMOUNTS_DIFFER,
        detail="Found before and put right since",
        found_at=NOW - timedelta(days=1),
    )
    session.add(stale)
    session.commit()
    report = _run(session, gateway)
    assert report.closed == [stale]
    assert stale.resolution == NO_LONGER_FOUND
    assert report.clean

    session.execute(delete(Transfer).where(Transfer.idempotency_key == payment.transfer_key))
    session.commit()
    (mismatch,) = _run(session, gateway).unresolved
    officer = make_user(Role.COUNCIL_OFFICER)
    with pytest.raises(MismatchError):
        resolve_mismatch(session, mismatch, by=officer, reason="  ", now=NOW)
    resolve_mismatch(session, mismatch, by=officer, reason="Ledger corrected by hand", now=NOW)
    session.commit()
    with pytest.raises(MismatchError):
        resolve_mismatch(session, mismatch, by=officer, reason="Again", now=NOW)

    again = _run(session, gateway)
    assert again.new == []
    assert again.clean
    assert (mismatch.resolved_by_id, mismatch.resolution) == (
        officer.id,
        "Ledger corrected by hand",
    )


# The command line.


def test_the_command_reports_writes_csv_and_exits_non_zero_while_unresolved(
    app: Flask,
    session: Session,
    world: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
    tmp_path: Path,
) -> None:
    app.extensions[EXTENSION] = gateway
    _paid(session, world, gateway)
    runner = app.test_cli_runner()

    clean = runner.invoke(args=["payments", "reconcile"])
    assert clean.exit_code == 0, clean.output
    assert "0 new, 0 unresolved" in clean.output

    charge = _sdk(localstripe).v1.charges.create(
        params={"amount": 12_34, "currency": "gbp", "source": "pm_card_visa"}
    )
    out = tmp_path / "mismatches.csv"
    broken = runner.invoke(args=["payments", "reconcile", "--csv", str(out)])
    assert broken.exit_code == 1, broken.output
    assert "1 new, 1 unresolved" in broken.output
    assert "Paid at Stripe but not in the ledger: 1" in broken.output
    assert "In the ledger but not at Stripe: 0" in broken.output
    assert charge.id in broken.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 2
    row = dict(zip(CSV_HEADER, rows[1], strict=True))
    assert (row["kind"], row["stripe_object_id"], row["stripe_amount"], row["our_amount"]) == (
        "paid_not_in_ledger",
        charge.id,
        "12.34",
        "",
    )

    again = runner.invoke(args=["payments", "reconcile", "--since", "2026-01-01"])
    assert again.exit_code == 1
    assert "0 new, 1 unresolved" in again.output


def test_the_command_exits_2_when_stripe_is_not_set_up(app: Flask) -> None:
    app.extensions[EXTENSION] = None

    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])

    assert result.exit_code == 2
    assert "Stripe could not be read" in result.output


def test_the_command_exits_2_when_stripe_is_down(app: Flask, session: Session) -> None:
    app.extensions[EXTENSION] = StripeGateway(
        SECRET_KEY,
        api_base="http://127.0.0.1:9",  # the discard port: nothing listens
        connect_timeout_seconds=0.5,
        max_network_retries=0,
        allowed_payment_method_types=None,
    )

    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])

    assert result.exit_code == 2, result.output
    assert _stored(session) == []


# Council finance's page.


@pytest.fixture
def mismatch(session: Session, world: World, gateway: StripeGateway) -> PaymentMismatch:
    _order, payment = _paid(session, world, gateway)
    session.execute(delete(Transfer).where(Transfer.idempotency_key == payment.transfer_key))
    session.commit()
    (found,) = _run(session, gateway).unresolved
    return found


def test_finance_sees_mismatches_by_kind_downloads_them_and_resolves_one(
    client: FlaskClient, session: Session, world: World, mismatch: PaymentMismatch
) -> None:
    sign_in(client, world.officer)
    page = client.get("/council/payments")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Paid at Stripe but not in the ledger (1)" in text
    assert "Amounts differ (0)" in text
    assert f"/council/orders/{mismatch.card_payment.order_id}" in text  # type: ignore[union-attr]

    download = client.get("/council/payments/mismatches.csv")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[1][0] == "paid_not_in_ledger"
    assert rows[1][2] == str(mismatch.card_payment_id)

    address = f"/council/payments/mismatches/{mismatch.id}"
    detail = client.get(address)
    assert detail.status_code == 200
    # The person is a link to their page, not its markup shown as text.
    person_page = f'href="/council/people/{world.person.id}"'
    assert person_page in detail.get_data(as_text=True)
    assert "&lt;a class" not in detail.get_data(as_text=True)
    empty = client.post(address, data={"reason": "  "})
    assert empty.status_code == 400
    assert "Enter how the mismatch was resolved" in empty.get_data(as_text=True)

    done = client.post(address, data={"reason": "Credited by hand after checking Stripe"})
    assert done.status_code == 302
    session.expire_all()
    resolved = session.get_one(PaymentMismatch, mismatch.id)
    assert resolved.resolved_by_id == world.officer.id
    assert resolved.resolution == "Credited by hand after checking Stripe"
    assert resolved.resolved_at is not None
    assert "There are no unresolved mismatches" in client.get("/council/payments").get_data(
        as_text=True
    )
    shown = client.get(address).get_data(as_text=True)
    assert world.officer.full_name in shown
    assert "Mark as resolved" not in shown
    assert client.post(address, data={"reason": "Again"}).status_code == 400


@pytest.mark.parametrize("who", ["citizen", "staff"])
def test_citizens_and_providers_may_not_see_the_finance_page(
    client: FlaskClient, world: World, mismatch: PaymentMismatch, who: str
) -> None:
    sign_in(client, getattr(world, who))
    for address in (
        "/council/payments",
        "/council/payments/mismatches.csv",
        f"/council/payments/mismatches/{mismatch.id}",
    ):
        assert client.get(address).status_code == 403
    assert (
        client.post(
            f"/council/payments/mismatches/{mismatch.id}", data={"reason": "Mine"}
        ).status_code
        == 403
    )


# Stripe's answers that localstripe cannot give, from a stand-in for the gateway.


class _Stripe:
    """Stands in for the gateway with lists given by the test."""

    def __init__(
        self, intents: list[ListedIntent], refunds: list[StripeRefund] | None = None
    ) -> None:
        self.intents, self.refunds = intents, refunds or []

    def list_payment_intents(self, *, created_from: datetime | None = None) -> list[ListedIntent]:
        return list(self.intents)

    def list_charges(self, *, created_from: datetime | None = None) -> list[Charge]:
        return [intent.charge for intent in self.intents if intent.charge is not None]

    def list_refunds(self, *, created_from: datetime | None = None) -> list[StripeRefund]:
        return list(self.refunds)

    def list_balance_transactions(self, *, created_from: datetime | None = None) -> list[object]:
        return []

    def find_payment_intent(self, intent_id: str) -> ListedIntent | None:
        return None


def _listed(payment: CardPayment, *, refunded_pence: int = 0) -> ListedIntent:
    assert payment.stripe_payment_intent_id is not None
    charge = Charge(
        id="ch_stub",
        status="succeeded",
        amount_pence=payment.amount_pence,
        currency="gbp",
        refunded_pence=refunded_pence,
        intent_id=payment.stripe_payment_intent_id,
        balance_transaction_id=None,
        created=NOW,
        metadata={},
    )
    return ListedIntent(
        id=payment.stripe_payment_intent_id,
        status="succeeded",
        amount_pence=payment.amount_pence,
        currency="gbp",
        metadata=payment.metadata_for_stripe,
        created=NOW,
        charge=charge,
    )


def test_a_refund_stripe_has_not_finished_is_not_yet_refunded(
    session: Session, world: World
) -> None:
    """Stripe counts a pending refund in its charge's amount_refunded; we record a refund when
    it succeeds. A refund still pending is no mismatch; once it succeeds at Stripe it is."""
    _shrink_budget(session, world)
    _order, payment = _awaiting(session, world)
    service.payment_succeeded(
        session,
        intent_id="pi_stub",
        amount_pence=payment.amount_pence,
        currency="gbp",
        metadata=payment.metadata_for_stripe,
    )
    session.commit()

    def refund(status: str) -> StripeRefund:
        return StripeRefund(
            id="re_stub",
            status=status,
            amount_pence=5_00,
            currency="gbp",
            charge_id="ch_stub",
            intent_id="pi_stub",
            created=NOW,
        )

    pending = _Stripe([_listed(payment, refunded_pence=5_00)], [refund("pending")])
    assert _run(session, pending).clean  # type: ignore[arg-type]
    succeeded = _Stripe([_listed(payment, refunded_pence=5_00)], [refund("succeeded")])
    assert [m.kind for m in _run(session, succeeded).unresolved] == [  # type: ignore[arg-type]
        MismatchKind.REFUNDED_NOT_HERE
    ]


RUNS = 3


@pytest.mark.parametrize("with_repair", [False, True])
def test_runs_at_once_store_each_mismatch_once_and_repair_once(
    session: Session,
    world: World,
    gateway: StripeGateway,
    localstripe: LocalStripe,
    make_app: Callable[..., Flask],
    with_repair: bool,
) -> None:
    """Two schedulers (or a scheduler and a person) start the command together."""
    if with_repair:  # paid at Stripe, the webhook lost: to repair
        _shrink_budget(session, world)
        _order, payment = _awaiting(session, world)
        _intent_for(session, gateway, payment)
    _sdk(localstripe).v1.charges.create(
        params={"amount": 12_34, "currency": "gbp", "source": "pm_card_visa"}
    )
    workers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(RUNS))

    def run(_number: int) -> None:
        reconcile(db.session, gateway, since=None, now=NOW)

    assert run_together(workers, RUNS, run) == ["ok"] * RUNS

    session.expire_all()
    assert sorted((m.kind, m.repaired) for m in _stored(session)) == [
        (MismatchKind.PAID_NOT_IN_LEDGER, False),
        *([(MismatchKind.PAID_NOT_IN_LEDGER, True)] if with_repair else []),
    ]
    assert _card_transfers(session) == (1 if with_repair else 0)
    assert_all_verifies(session)
