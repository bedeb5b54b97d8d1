"""Payment runs (issue 19, PAYRUNS): a run pays each provider the settled, unpaid invoices'
money, a line per invoice per payer, each line a ledger transfer out of the provider's payee
account; never twice, whether two runs are made at once or one confirmation is sent twice;
a cancelled run makes its invoices payable again; ledger verify passes after every step."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.budgets.allocations import revise_stream
from marketplace.budgets.models import StreamKind
from marketplace.extensions import db
from marketplace.finance import export_lines, payment_runs
from marketplace.finance.models import PaymentRun, PaymentRunStatus, RemittanceLine
from marketplace.finance.verify import check_payment_runs
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout, deliveries, invoicing
from marketplace.orders.models import InvoiceStatus
from marketplace.payments import service
from marketplace.types import utcnow
from providers.models import InvoiceCycle, Organisation, Service
from tests.finance.payruns import (
    INVOICED_ON,
    Second,
    assert_all_verifies,
    delivered,
    make,
    make_second,
    name_nhs_line,
    settle,
)
from tests.ledger.threads import engine_options
from tests.orders.fixtures import TODAY, World

# 16 hours at £26 (the first provider): £300 from the contribution (drawn first), £116 NHS.
FIRST = 416_00
# 16 hours at £30 (the second provider): the NHS stream's £884 left covers it.
SECOND = 480_00


@pytest.fixture
def second(
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
    make_listing: Callable[..., Service],
) -> Second:
    return make_second(make_organisation, make_user, make_listing)


def _paid_lines(session: Session) -> list[tuple[str, str, str, str, int]]:
    rows = session.execute(
        select(RemittanceLine)
        .join(RemittanceLine.remittance)
        .order_by(RemittanceLine.remittance_id, RemittanceLine.position)
    ).scalars()
    return [
        (
            line.remittance.organisation.name,
            line.invoice.reference,
            line.payer_code.split(":")[0],
            line.funder_name,
            line.amount_pence,
        )
        for line in rows
    ]


def _posted(session: Session, code: str) -> int:
    account = session.scalar(select(ledger.LedgerAccount).where(ledger.LedgerAccount.code == code))
    return 0 if account is None else account.credits_posted - account.debits_posted


def test_a_run_pays_exactly_the_settled_unpaid_invoices_split_per_payer(
    session: Session, world: World, second: Second
) -> None:
    name_nhs_line(session, world)
    paid = settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    other = settle(session, world, delivered(session, world, second.service, second.staff, key="b"))
    raised = delivered(session, world, world.service, world.staff, key="c")
    queried = delivered(session, world, second.service, second.staff, key="d")
    deliveries.query_delivery(
        session, queried.deliveries[0], by=world.citizen, reason="Nobody came that day"
    )
    session.commit()
    with pytest.raises(Exception, match="queried"):
        invoicing.settle_invoice(session, queried, by=world.officer)
    session.rollback()
    assert raised.status is InvoiceStatus.RAISED
    assert queried.status is InvoiceStatus.RAISED
    assert_all_verifies(session)

    preview = payment_runs.preview_run(
        session, settled_until=utcnow(), cost_centres={"own": "OWN-9", "council": "ASC-1"}
    )
    assert [(p.organisation.name, p.total_pence) for p in preview.providers] == [
        ("Abbey Care Services", SECOND),
        ("Chiltern Home Care", FIRST),
    ]
    run = make(session, world.officer, own="OWN-9", council="ASC-1")

    assert run.reference == "PR-00001"
    assert run.status is PaymentRunStatus.MADE
    assert run.total_pence == FIRST + SECOND == preview.total_pence
    assert [r.reference for r in run.remittances] == ["PR-00001-001", "PR-00001-002"]
    assert sorted(_paid_lines(session)) == sorted(
        [
            (
                "Abbey Care Services",
                other.reference,
                "pot",
                "Hertfordshire and West Essex ICB",
                SECOND,
            ),
            ("Chiltern Home Care", paid.reference, "own", "Person's own money", 300_00),
            (
                "Chiltern Home Care",
                paid.reference,
                "pot",
                "Hertfordshire and West Essex ICB",
                116_00,
            ),
        ]
    )
    centres = {
        (line.invoice_id, line.payer_code.split(":")[0]): line.cost_centre
        for line in session.scalars(select(RemittanceLine))
    }
    assert centres[(paid.id, "own")] == "OWN-9"  # the council's setting for own money
    assert centres[(paid.id, "pot")] == "CHC-01"  # the stream's pot line's own cost centre
    assert centres[(other.id, "pot")] == "CHC-01"  # the same NHS stream paid the second
    # Totals equal the ledger: out of the payee accounts, into the paid-out accounts.
    assert _posted(session, f"paid:organisation:{world.provider.id}") == FIRST
    assert _posted(session, f"paid:organisation:{second.provider.id}") == SECOND
    assert _posted(session, f"payee:organisation:{world.provider.id}") == 0
    assert session.scalar(select(func.sum(RemittanceLine.amount_pence))) == run.total_pence
    assert_all_verifies(session)

    # Nothing more is due: a second preview is empty and a run is refused in words.
    again = payment_runs.preview_run(session, settled_until=utcnow())
    assert again.providers == []
    with pytest.raises(payment_runs.NothingToPay):
        payment_runs.make_run(
            session,
            settled_until=again.settled_until,
            fingerprint=again.fingerprint,
            by=world.officer,
        )
    session.rollback()

    # Settling the raised invoice later makes it due in the next run, alone.
    settle(session, world, raised)
    next_run = make(session, world.officer)
    assert next_run.reference == "PR-00002"
    assert {line.invoice_id for r in next_run.remittances for line in r.lines} == {raised.id}
    assert_all_verifies(session)


def test_two_lines_of_one_pot_are_two_lines_with_their_own_cost_centres_and_the_export_reads_them(
    session: Session, world: World
) -> None:
    """Payer codes 'pot:<pot>:<line>' (a stream naming its pot's line) are read by the finance
    export as their funder's kind."""
    name_nhs_line(session, world)
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    run = make(session, world.officer)
    lines = export_lines.export_lines(session, None, utcnow() + timedelta(seconds=5))
    sources = {
        (line.payer.source, line.payer.cost_centre)
        for line in lines
        if line.line_type is export_lines.LineType.PAYMENT
    }
    assert sources == {("nhs", "CHC-01"), ("own", "")}
    assert run.total_pence == FIRST


def _card_paid_invoice(session: Session, world: World) -> tuple[int, int]:
    """A budget left with £100 council and £100 contribution; the order's last £216 paid by
    card; weekly invoices. The second week's invoice: £96 from the council, £8 by card."""
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    for stream in world.budget.streams:
        revise_stream(
            session,
            stream,
            amount_pence=0 if stream.kind is StreamKind.NHS else 100_00,
            reason="For the test: a budget that falls short",
            key=f"shrink:{stream.id}",
        )
    session.commit()
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="card-order",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    session.commit()
    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    service.payment_succeeded(
        session,
        intent_id="pi_test_card",
        amount_pence=payment.amount_pence,
        currency="gbp",
        metadata={"card_payment_id": str(payment.id)},
    )
    session.commit()
    from marketplace.orders import life

    life.accept(session, order, by=world.staff)
    cycle = order.cycles[1]
    for day in (cycle.starts_on, cycle.starts_on + timedelta(days=3)):
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, note="", today=INVOICED_ON
        )
    invoice = invoicing.raise_invoice(session, order, cycle, by=world.staff, today=INVOICED_ON)
    settle(session, world, invoice)
    return order.card_share_of(cycle), invoice.amount_pence


def test_card_money_is_paid_too_as_its_own_line(session: Session, world: World) -> None:
    card, total = _card_paid_invoice(session, world)
    assert card == 8_00
    assert total == 104_00
    assert_all_verifies(session)
    run = make(session, world.officer, card="CARD-7")
    lines = {line.payer_code.split(":")[0]: line for r in run.remittances for line in r.lines}
    # The first week took the contribution's £100 and £4 of the council's: this one is the
    # council's £96 and the card's £8.
    assert set(lines) == {"card", "pot"}
    assert lines["pot"].amount_pence == 96_00
    assert (lines["card"].funder_name, lines["card"].amount_pence) == ("Card payment", card)
    assert lines["card"].cost_centre == "CARD-7"
    assert sum(line.amount_pence for line in lines.values()) == total == run.total_pence
    assert_all_verifies(session)


def test_the_same_confirmation_sent_twice_pays_once(session: Session, world: World) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    until = utcnow()
    preview = payment_runs.preview_run(session, settled_until=until)
    run = payment_runs.make_run(
        session, settled_until=until, fingerprint=preview.fingerprint, by=world.officer
    )
    session.commit()
    transfers = session.scalar(select(func.count()).select_from(ledger.Transfer))
    with pytest.raises(payment_runs.AlreadyMade) as made:
        payment_runs.make_run(
            session, settled_until=until, fingerprint=preview.fingerprint, by=world.officer
        )
    session.rollback()
    assert made.value.run.id == run.id
    assert session.scalar(select(func.count()).select_from(ledger.Transfer)) == transfers
    assert session.scalar(select(func.count()).select_from(PaymentRun)) == 1
    assert_all_verifies(session)


def test_a_stale_preview_is_refused_with_the_new_one(session: Session, world: World) -> None:
    first = settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    until = utcnow() + timedelta(minutes=1)
    preview = payment_runs.preview_run(session, settled_until=until)
    make(session, world.officer, until=until - timedelta(seconds=30))  # another officer's run
    with pytest.raises(payment_runs.PreviewChanged) as changed:
        payment_runs.make_run(
            session, settled_until=until, fingerprint=preview.fingerprint, by=world.officer
        )
    session.rollback()
    assert changed.value.preview.providers == []
    assert first.id in {line.invoice_id for line in session.scalars(select(RemittanceLine))}
    assert session.scalar(select(func.count()).select_from(RemittanceLine)) == 2


def test_cancelling_a_run_reverses_it_keeps_its_lines_and_makes_the_invoices_payable_again(
    session: Session, world: World
) -> None:
    invoice = settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    run = make(session, world.officer)
    with pytest.raises(payment_runs.PaymentRunError):
        payment_runs.cancel_run(session, run, by=world.officer, reason="  ")
    payment_runs.cancel_run(session, run, by=world.officer, reason="Wrong bank file date")
    session.commit()
    assert run.status is PaymentRunStatus.CANCELLED
    assert run.cancel_reason == "Wrong bank file date"
    lines = session.scalars(select(RemittanceLine)).all()
    assert len(lines) == 2
    assert all(line.reversal_transfer_id for line in lines)
    reversal = session.get(ledger.Transfer, lines[0].reversal_transfer_id)
    assert reversal is not None
    assert "Wrong bank file date" in (reversal.reason or "")
    assert _posted(session, f"paid:organisation:{world.provider.id}") == 0
    assert _posted(session, f"payee:organisation:{world.provider.id}") == FIRST
    assert_all_verifies(session)
    with pytest.raises(payment_runs.NotCancellable):
        payment_runs.cancel_run(session, run, by=world.officer, reason="Again")
    session.rollback()

    # Payable again: the next run pays it, under new keys.
    again = make(session, world.officer)
    assert again.total_pence == FIRST
    assert {line.invoice_id for r in again.remittances for line in r.lines} == {invoice.id}
    keys = {
        t.idempotency_key
        for t in session.scalars(
            select(ledger.Transfer).where(ledger.Transfer.code == payment_runs.PAYMENT_CODE)
        )
    }
    payments = sorted(k.rsplit(":", 1)[1] for k in keys if k.startswith("payment:"))
    assert payments == ["0", "0", "1", "1"]  # two shares, each paid, cancelled, paid again
    assert len([k for k in keys if k.startswith("payment-cancel:")]) == 2
    assert _posted(session, f"paid:organisation:{world.provider.id}") == FIRST
    assert_all_verifies(session)


def test_a_sent_run_cannot_be_cancelled_and_its_providers_are_told(
    session: Session, world: World
) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    run = make(session, world.officer)
    payment_runs.mark_sent(session, run, by=world.officer)
    session.commit()
    told = session.scalars(
        select(Notification).where(Notification.kind == NotificationKind.REMITTANCE_ISSUED)
    ).all()
    assert [(n.user_id, n.link) for n in told] == [
        (world.staff.id, "/provider/remittances/PR-00001-001")
    ]
    assert "£" not in told[0].title + told[0].body  # amounts stay behind the sign-in
    with pytest.raises(payment_runs.NotCancellable):
        payment_runs.cancel_run(session, run, by=world.officer, reason="Too late")
    with pytest.raises(payment_runs.NotSendable):
        payment_runs.mark_sent(session, run, by=world.officer)
    session.rollback()
    assert_all_verifies(session)


def test_verify_names_money_paid_out_with_no_remittance_line_and_a_share_paid_twice(
    app: Flask, session: Session, world: World
) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    run = make(session, world.officer)
    verified = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 payment runs" in verified.output
    payee = session.scalar(
        select(ledger.LedgerAccount).where(
            ledger.LedgerAccount.code == f"payee:organisation:{world.provider.id}"
        )
    )
    paid = payment_runs.paid_account(session, world.provider)
    assert payee is not None
    ledger.transfer(
        session, key="by-hand", debit=payee, credit=paid, amount_pence=5_00, code="provider_payment"
    )
    session.commit()
    problems, runs = check_payment_runs(session)
    assert runs == 1
    assert any("for no remittance line" in p for p in problems)
    assert any(p.endswith("more than it received") for p in problems)
    assert run.total_pence == FIRST
    failed = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert failed.exit_code == 1
    assert "for no remittance line" in failed.output


def _race(app: Flask, count: int, request: Callable[[int], object]) -> list[str]:
    """Run `request` in `count` threads at once, each its own session and connection; each
    answers "ok" or the refusal's class name."""
    barrier = threading.Barrier(count)
    answers: list[str] = [""] * count

    def run(number: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                request(number)
                db.session.commit()
                answers[number] = "ok"
            except payment_runs.PaymentRunError as refused:
                db.session.rollback()
                answers[number] = type(refused).__name__
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_two_runs_at_once_pay_once(
    make_app: Callable[..., Flask], session: Session, world: World
) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    officer_id = world.officer.id
    # Two officers, each with a preview of their own (a second apart): the same invoices.
    base = utcnow() + timedelta(seconds=1)
    previews = [
        payment_runs.preview_run(session, settled_until=base + timedelta(seconds=n))
        for n in range(2)
    ]
    assert previews[0].fingerprint != previews[1].fingerprint
    session.rollback()
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def confirm(number: int) -> None:
        payment_runs.make_run(
            db.session,
            settled_until=previews[number].settled_until,
            fingerprint=previews[number].fingerprint,
            by=db.session.get_one(User, officer_id),
        )

    answers = _race(app, 2, confirm)
    assert sorted(answers) == ["PreviewChanged", "ok"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PaymentRun)) == 1
        assert db.session.scalar(select(func.sum(RemittanceLine.amount_pence))) == FIRST
        assert_all_verifies(db.session())


def test_one_confirmation_sent_twice_at_once_pays_once(
    make_app: Callable[..., Flask], session: Session, world: World
) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    officer_id = world.officer.id
    until = utcnow() + timedelta(seconds=1)
    preview = payment_runs.preview_run(session, settled_until=until)
    session.rollback()
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def confirm(_: int) -> None:
        payment_runs.make_run(
            db.session,
            settled_until=until,
            fingerprint=preview.fingerprint,
            by=db.session.get_one(User, officer_id),
        )

    assert sorted(_race(app, 2, confirm)) == ["AlreadyMade", "ok"]
    with app.app_context():
        assert db.session.scalar(select(func.sum(RemittanceLine.amount_pence))) == FIRST
        assert_all_verifies(db.session())


def test_the_payment_run_command_pays_once_and_a_dry_run_records_nothing(
    app: Flask, session: Session, world: World
) -> None:
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    runner = app.test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(args=["finance", "payment-run", *args])
        assert result.exit_code == 0, result.output
        return result.output

    refused = runner.invoke(args=["finance", "payment-run", "--by", world.staff.email])
    assert refused.exit_code == 1
    assert "not an officer who may pay providers" in refused.output
    dry = run("--by", world.officer.email, "--dry-run")
    assert "Chiltern Home Care: 1 invoices, £416" in dry
    assert "nothing recorded" in dry
    assert session.scalar(select(func.count()).select_from(PaymentRun)) == 0
    made = run("--by", world.officer.email)
    assert "payment run PR-00001: 1 providers, £416; not sent yet" in made
    assert "no settled invoice is waiting" in run("--by", world.officer.email)
    session.expire_all()
    assert session.scalar(select(func.sum(RemittanceLine.amount_pence))) == FIRST
    assert_all_verifies(session)


def test_the_councils_cost_centres_are_read_from_pairs_and_a_bad_pair_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from marketplace.config import ConfigurationError, _cost_centres

    monkeypatch.setenv("PAYMENT_COST_CENTRES", " council=AC100, card=CC410 ,")
    assert _cost_centres("PAYMENT_COST_CENTRES") == {
        "council": "AC100",
        "nhs": "",
        "reablement": "",
        "own": "",
        "card": "CC410",
    }
    for bad in ("bank=X1", "own=", "nhs=" + "9" * 41):
        monkeypatch.setenv("PAYMENT_COST_CENTRES", bad)
        with pytest.raises(ConfigurationError, match="payer=cost centre pairs"):
            _cost_centres("PAYMENT_COST_CENTRES")


def test_cancelling_and_sending_at_once_do_one_or_the_other(
    make_app: Callable[..., Flask], session: Session, world: World
) -> None:
    """A run is never both cancelled and sent (a provider told of a payment taken back)."""
    settle(session, world, delivered(session, world, world.service, world.staff, key="a"))
    reference = make(session, world.officer).reference
    officer_id = world.officer.id
    session.rollback()
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def act(number: int) -> None:
        run = db.session.scalars(select(PaymentRun).where(PaymentRun.reference == reference)).one()
        officer = db.session.get_one(User, officer_id)
        if number == 0:
            payment_runs.cancel_run(db.session, run, by=officer, reason="Wrong date")
        else:
            payment_runs.mark_sent(db.session, run, by=officer)

    answers = _race(app, 2, act)
    assert sorted(answers) in (["NotCancellable", "ok"], ["NotSendable", "ok"])
    with app.app_context():
        run = db.session.scalars(select(PaymentRun).where(PaymentRun.reference == reference)).one()
        told = db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == NotificationKind.REMITTANCE_ISSUED)
        )
        if run.status is PaymentRunStatus.CANCELLED:
            assert run.sent_at is None
            assert told == 0
        else:
            assert run.sent_at is not None
            assert told == 1
        assert_all_verifies(db.session())


def test_reablement_money_is_paid_from_its_pot_with_the_councils_setting(
    session: Session, world: World
) -> None:
    """A reablement cycle is held straight on the funder's reablement pot: its line names the
    pot, the funder, and the council's reablement cost centre when the funder has none."""
    from datetime import date

    from marketplace.budgets import funders
    from marketplace.budgets.models import PotPurpose
    from marketplace.orders import reablement

    council = next(s.pot for s in world.budget.streams if s.kind is StreamKind.COUNCIL)
    assert council is not None
    pot = funders.open_pot(session, council.funder, 2026, PotPurpose.REABLEMENT)
    funders.fund_pot(session, pot, amount_pence=1_000_00, key="fund:reablement")
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    session.commit()
    episode = reablement.start_episode(
        session,
        person=world.person,
        service=world.service,
        pot=pot,
        starts_on=date(2026, 6, 1),
        weeks=2,  # the second week still held: the episode goes on
        units_per_occasion=2,
        days=["MO", "TH"],
        by=world.officer,
        today=date(2026, 6, 1),
    )
    order = episode.order
    for day in (date(2026, 6, 1), date(2026, 6, 4)):
        deliveries.record_delivery(
            session, order, by=world.staff, delivered_on=day, units=2, note="", today=day
        )
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 6, 8)
    )
    settle(session, world, invoice)
    run = make(session, world.officer, reablement="RB-300", council="ASC-1")
    (line,) = [line for r in run.remittances for line in r.lines]
    assert line.payer_code == f"reablement:{pot.id}"
    assert line.funder_name == council.funder.name
    assert line.cost_centre == "RB-300"
    assert line.amount_pence == invoice.amount_pence == 104_00
    assert_all_verifies(session)
