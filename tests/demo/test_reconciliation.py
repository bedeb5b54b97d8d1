"""`flask seed-demo`'s history reconciles: every payment on a citizen's statement is a paid
invoice in the provider's portal, and what each provider's portal says it was paid is what
the citizens' statements say they paid it (issue 13, item 6)."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict

from flask import Flask
from sqlalchemy import select

from marketplace.budgets.models import FunderPot, PersonalBudget, PotPurpose
from marketplace.budgets.rules import TransferCode
from marketplace.budgets.statement import budget_statement
from marketplace.demo.data.county import demo_users
from marketplace.demo.orders_seed import seed_orders
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.ledger import Transfer, TransferKind
from marketplace.orders.checkout import organisation_payee
from marketplace.orders.models import Invoice, InvoiceStatus, OrderCycle
from providers.models import Organisation
from tests.conftest import DemoCounty
from tests.demo.test_orders_seed import TODAY, _prerequisites

PAID_IN_TOTAL = re.compile(r"Paid to you in total\s*</dt>\s*<dd[^>]*>\s*([^<]+?)\s*</dd>")


def _statement_payments() -> dict[uuid.UUID, int]:
    """Pence paid on every citizen's statement, by the invoice each payment settles; fails
    on a payment that settles no paid invoice of the provider it was paid to."""
    by_invoice: dict[uuid.UUID, int] = defaultdict(int)
    for budget in db.session.scalars(select(PersonalBudget)):
        for line in budget_statement(db.session, budget).lines:
            if line.code != TransferCode.COMMITMENT or line.kind is not TransferKind.POST:
                continue
            assert line.out_pence > 0, line
            transfer = db.session.get(Transfer, line.transfer_id)
            cycle = db.session.scalar(
                select(OrderCycle).where(OrderCycle.commitment_key == transfer.pending.reference)
            )
            assert cycle is not None, f"{line.description}: a payment for no order"
            invoice = db.session.scalar(select(Invoice).where(Invoice.cycle_id == cycle.id))
            assert invoice is not None, f"{line.description}: a payment with no invoice"
            assert invoice.status is InvoiceStatus.SETTLED
            payee = organisation_payee(db.session, invoice.order.organisation)
            assert transfer.credit_account_id == payee.id, "paid to someone else"
            by_invoice[invoice.id] += line.out_pence
    return by_invoice


def _pot_payments() -> dict[uuid.UUID, int]:
    """Pence paid straight from the funders' reablement pots (issue 18: free to the person, on
    no statement of theirs), by the invoice each payment settles."""
    by_invoice: dict[uuid.UUID, int] = defaultdict(int)
    pots = db.session.scalars(select(FunderPot).where(FunderPot.purpose == PotPurpose.REABLEMENT))
    for pot in pots:
        for transfer in db.session.scalars(
            select(Transfer).where(
                Transfer.kind == TransferKind.POST, Transfer.debit_account_id == pot.account_id
            )
        ):
            cycle = db.session.scalar(
                select(OrderCycle).where(OrderCycle.commitment_key == transfer.pending.reference)
            )
            assert cycle is not None, f"{transfer.idempotency_key}: a payment for no order"
            assert cycle.pot_id == pot.id, "paid from a pot that does not pay the cycle"
            invoice = db.session.scalar(select(Invoice).where(Invoice.cycle_id == cycle.id))
            assert invoice is not None, f"{transfer.idempotency_key}: a payment with no invoice"
            assert invoice.status is InvoiceStatus.SETTLED
            by_invoice[invoice.id] += transfer.amount_pence
    return by_invoice


def _portal_paid(app: Flask, email: str, password: str) -> int:
    """The "Paid to you in total" figure on the provider's invoices page, in pence."""
    client = app.test_client()
    signed_in = client.post("/sign-in", data={"email": email, "password": password})
    assert signed_in.status_code == 302
    page = client.get("/provider/invoices")
    assert page.status_code == 200
    (shown,) = PAID_IN_TOTAL.findall(page.get_data(as_text=True))
    pounds_part, _, pence_part = shown.removeprefix("£").replace(",", "").partition(".")
    return int(pounds_part) * 100 + int(pence_part or 0)


def assert_statements_reconcile_with_portals(app: Flask) -> int:
    """Every statement payment is one paid invoice, in full; every paid invoice is on a
    statement, or paid from a reablement pot; and each demo provider's portal shows what the
    statements and the pots paid it. Returns the pence paid in all."""
    payments = _statement_payments()
    from_pots = _pot_payments()
    assert set(payments).isdisjoint(from_pots)
    payments.update(from_pots)
    paid = db.session.scalars(
        select(Invoice).where(Invoice.status == InvoiceStatus.SETTLED, Invoice.amount_pence > 0)
    ).all()
    assert {invoice.id: invoice.amount_pence for invoice in paid} == dict(payments)
    by_organisation: dict[uuid.UUID, int] = defaultdict(int)
    for invoice in paid:
        by_organisation[invoice.organisation_id] += invoice.amount_pence
    for user in demo_users():
        if user.organisation is None:
            continue
        organisation = db.session.scalars(
            select(Organisation).where(Organisation.name == user.organisation)
        ).first()
        if organisation is None:
            continue
        shown = _portal_paid(app, user.email, user.password)
        assert shown == by_organisation.pop(organisation.id, 0), (
            f"{organisation.name}'s portal says {pounds(shown)} paid"
        )
    assert by_organisation == {}, "paid invoices of providers with no demo sign-in"
    return sum(payments.values())


def test_every_payment_on_the_demo_statement_is_an_invoice_in_a_portal(app: Flask) -> None:
    _prerequisites()
    seed_orders(TODAY)
    db.session.commit()

    paid = assert_statements_reconcile_with_portals(app)

    # The history is there to reconcile: months of it, to all three demo providers.
    assert paid > 3_000_00
    paid_to = {
        invoice.order.organisation.name
        for invoice in db.session.scalars(
            select(Invoice).where(Invoice.status == InvoiceStatus.SETTLED)
        )
    }
    assert paid_to == {
        "Chiltern Home Care",
        "Lea Valley Day Centre",
        "Bluebell Homecare Stevenage",
    }


def test_the_whole_demo_reconciles(app: Flask, demo_county: DemoCounty) -> None:
    demo_county.restore()  # what `flask seed-demo` commits

    assert_statements_reconcile_with_portals(app)
